"""Subject tags and reply/forward prefixes."""
from __future__ import annotations

import time

import pytest

from mailbot.inbound.correlate import TAG_RE, find_tag, strip_reply_prefixes


@pytest.mark.parametrize("subject,tag", [
    ("[PUB-2026-0042] Permintaan diterima", "PUB-2026-0042"),
    ("Re: AW: [PUB-2026-0042] Tagihan", "PUB-2026-0042"),
    ("RE: Tagihan [PUB-2027-10042]", "PUB-2027-10042"),
    ("re: [pub-2026-0042] kecil semua", "PUB-2026-0042"),
    ("[PUB-2026-0042] dan [PUB-2026-0043]", "PUB-2026-0042"),
    ("PUB-2026-0042 tanpa kurung", None),
    ("[PUB-2026-042] tiga digit", None),
    ("[PUB-26-0042] tahun dua digit", None),
    ("Permintaan data", None),
    ("", None),
])
def test_find_tag(subject, tag):
    assert find_tag(subject) == tag


def test_tag_re_matches_whole_tag():
    assert TAG_RE.search("x [PUB-2026-0042] y").group(0) == "[PUB-2026-0042]"


@pytest.mark.parametrize("subject,stripped", [
    ("Re: [PUB-2026-0042] Tagihan", "[PUB-2026-0042] Tagihan"),
    ("RE: RE: Re: Tagihan", "Tagihan"),
    ("Aw: AW: Sv: Antw: Tagihan", "Tagihan"),
    ("Balas: Bls: Tagihan", "Tagihan"),
    ("Fwd: FW: Fw: TR: WG: RV: Enc: Doorst: Tagihan", "Tagihan"),
    ("Re[2]: Re(3): Tagihan", "Tagihan"),
    ("RE : Re :Tagihan", "Tagihan"),
    ("回复: 转发：Tagihan", "Tagihan"),
    ("  re:fwd:  Tagihan  ", "Tagihan"),
    ("Tagihan: Re: lanjutan", "Tagihan: Re: lanjutan"),
    ("Rekap data", "Rekap data"),
    ("Reuni: data", "Reuni: data"),
    ("Fwdata: x", "Fwdata: x"),
    ("", ""),
])
def test_strip_reply_prefixes(subject, stripped):
    assert strip_reply_prefixes(subject) == stripped


def test_prefix_stripping_is_fast_on_hostile_subjects():
    start = time.perf_counter()
    got = [strip_reply_prefixes("re:" + " " * 50_000 + "x"), strip_reply_prefixes("re: " * 20_000 + "x"),
           strip_reply_prefixes("Re[" + "1" * 50_000)]
    assert time.perf_counter() - start < 1.0
    assert got == ["x", "x", "Re[" + "1" * 50_000]      # an unclosed "Re[" is no prefix: kept whole
