"""inbound/auth.py: which Authentication-Results make a staff mail authenticated (DESIGN §5)."""
from __future__ import annotations

import pytest

from mailbot.inbound.auth import authenticated
from mailbot.inbound.parse import parse_message

OURS = "mx.bps.go.id"
P1 = "petugas1@bps.go.id"


def parsed(*results: str, frm: str = f"Petugas Satu <{P1}>", extra: str = ""):
    """A staff mail whose Authentication-Results headers are `results`, topmost first."""
    head = "".join(f"Authentication-Results: {r}\r\n" for r in results)
    raw = (f"{head}{extra}From: {frm}\r\nTo: diseminasi1600@bps.go.id\r\nSubject: Re: [PUB-2026-0001]\r\n"
           f"Message-ID: <a1@bps.go.id>\r\n\r\nJELAS\r\n")
    return parse_message(raw.encode())


PASSES = {
    "dkim": f"{OURS}; dkim=pass header.d=bps.go.id header.s=sel1",
    "spf": f"{OURS}; spf=pass smtp.mailfrom={P1}",
    "dmarc": f"{OURS}; dmarc=pass header.from=bps.go.id",
    "dkim-by-header-i": f"{OURS}; dkim=pass header.i=@bps.go.id",
    "one-of-several": f"{OURS}; dkim=none; spf=neutral smtp.mailfrom={P1}; dmarc=pass header.from=bps.go.id",
    "comments-and-version": f"{OURS} 1; dkim=pass (2048-bit key; unprotected) header.d=bps.go.id "
                            "header.b=\"AbC+/=\"",
    "authserv-id-case": "MX.BPS.GO.ID; dkim=PASS header.d=BPS.go.id",
    "quoted-value": f"{OURS}; spf=pass smtp.mailfrom=\"petugas1\"@bps.go.id",
}


@pytest.mark.parametrize("header", PASSES.values(), ids=PASSES.keys())
def test_our_pass_for_the_from_domain_is_accepted(header):
    ok, why = authenticated(parsed(header), OURS)
    assert ok, why
    assert why.endswith("=pass")


REFUSED = {
    "no-header": ((), "tidak ada Authentication-Results"),
    "fail": ((f"{OURS}; dkim=fail header.d=bps.go.id; spf=fail smtp.mailfrom={P1}",), "tidak lulus"),
    "neutral-softfail": ((f"{OURS}; dkim=neutral header.d=bps.go.id; spf=softfail smtp.mailfrom={P1}",),
                         "tidak lulus"),
    "no-result": ((f"{OURS}; none",), "tidak lulus"),
    # DESIGN §5: our fail for the From domain refuses, whatever pass stands beside it.
    "pass-beside-fail": ((f"{OURS}; dkim=none; spf=fail smtp.mailfrom={P1}; dmarc=pass header.from=bps.go.id",),
                         "spf=fail"),
    "dkim-pass-beside-softfail": ((f"{OURS}; dkim=pass header.d=bps.go.id; spf=softfail smtp.mailfrom={P1}",),
                                  "spf=softfail"),
    "other-authserv-id": (("evil.example; dkim=pass header.d=bps.go.id",), "bukan dari server kantor"),
    "authserv-id-suffix": ((f"{OURS}.evil.example; dkim=pass header.d=bps.go.id",), "bukan dari server kantor"),
    # The sender can only write headers BELOW the one our server prepends.
    "fake-ours-below-our-fail": ((f"{OURS}; dkim=none; spf=fail smtp.mailfrom={P1}",
                                  f"{OURS}; dkim=pass header.d=bps.go.id"), "tidak lulus"),
    "pass-from-elsewhere-on-top": (("relay.example; dkim=pass header.d=bps.go.id",
                                    f"{OURS}; dkim=fail header.d=bps.go.id"), "bukan dari server kantor"),
    "dkim-other-domain": ((f"{OURS}; dkim=pass header.d=evil.example",), "tidak lulus"),
    "dkim-lookalike-suffix": ((f"{OURS}; dkim=pass header.d=bps.go.id.evil.example",), "tidak lulus"),
    "dkim-lookalike-prefix": ((f"{OURS}; dkim=pass header.d=evilbps.go.id",), "tidak lulus"),
    "dkim-child-of-from": ((f"{OURS}; dkim=pass header.d=mail.bps.go.id.evil.example",), "tidak lulus"),
    "dkim-no-domain": ((f"{OURS}; dkim=pass",), "tidak lulus"),
    "spf-other-domain": ((f"{OURS}; spf=pass smtp.mailfrom=bounce@evil.example",), "tidak lulus"),
    "spf-helo-only": ((f"{OURS}; spf=pass smtp.helo=bps.go.id",), "tidak lulus"),
    "spf-local-part-names-us": ((f"{OURS}; spf=pass smtp.mailfrom=\"{P1}\"@evil.example",), "tidak lulus"),
    "dmarc-other-domain": ((f"{OURS}; dmarc=pass header.from=evil.example",), "tidak lulus"),
    # Attacker-chosen values copied into our header must not forge a result or a property.
    "injected-result-in-quoted-mailfrom": (
        (f"{OURS}; spf=fail smtp.mailfrom=\"x;dkim=pass header.d=bps.go.id ;\"@evil.example",), "tidak lulus"),
    "injected-property-in-quoted-header-i": (
        (f"{OURS}; dkim=pass header.d=evil.example header.i=\"a header.d=bps.go.id b\"@evil.example",),
        "tidak lulus"),
    "injected-property-in-comment": ((f"{OURS}; dkim=pass header.d=evil.example (header.d=bps.go.id )",),
                                     "tidak lulus"),
    "injected-result-in-comment": ((f"{OURS}; dkim=fail (dkim=pass header.d=bps.go.id ;) header.d=bps.go.id",),
                                   "tidak lulus"),
    "property-twice": ((f"{OURS}; dkim=pass header.d=evil.example header.d=bps.go.id",), "tidak lulus"),
    "unbalanced-quote": ((f"{OURS}; spf=fail smtp.mailfrom=\"x; dkim=pass header.d=bps.go.id",), "tidak terbaca"),
}


@pytest.mark.parametrize("headers, why", REFUSED.values(), ids=REFUSED.keys())
def test_anything_else_is_refused_with_a_reason(headers, why):
    ok, reason = authenticated(parsed(*headers), OURS)
    assert not ok
    assert why in reason


def test_second_from_header_is_refused():
    """DKIM covers the last From header, we read the first: an insider could prepend a petugas."""
    mail = parsed(f"{OURS}; dkim=pass header.d=bps.go.id", frm="staf.umum@bps.go.id", extra=f"From: {P1}\r\n")
    assert mail.from_addr == P1
    ok, why = authenticated(mail, OURS)
    assert not ok and why.startswith("header From tidak tunggal"), why


def test_two_addresses_in_from_are_refused():
    mail = parsed(f"{OURS}; dkim=pass header.d=bps.go.id", frm=f"{P1}, evil@evil.example")
    ok, why = authenticated(mail, OURS)
    assert not ok and why.startswith("header From tidak tunggal"), why


def test_display_name_with_comma_is_one_address():
    for frm in (f'"Satu, Petugas" <{P1}>', f"=?utf-8?q?Satu=2C_Petugas?= <{P1}>"):
        assert authenticated(parsed(f"{OURS}; dkim=pass header.d=bps.go.id", frm=frm), OURS)[0], frm


def test_from_in_a_subdomain_is_aligned_but_not_the_other_way():
    assert authenticated(parsed(f"{OURS}; dkim=pass header.d=bps.go.id", frm="x@sumsel.bps.go.id"), OURS)[0]
    assert not authenticated(parsed(f"{OURS}; dkim=pass header.d=sumsel.bps.go.id"), OURS)[0]


def test_no_authserv_id_configured_trusts_no_header():
    assert authenticated(parsed(f"{OURS}; dkim=pass header.d=bps.go.id"), "") == \
        (False, "tidak ada Authentication-Results dari server kantor")


def test_lone_sender_written_header_with_our_id_cannot_be_told_apart():
    """The limit of the rule, pinned: when our server adds NO header, one the sender wrote with our
    authserv-id is topmost and looks exactly like ours. The deployment must make our MTA prepend
    (and strip foreign copies of) its header, or run with authserv_id = "" — which refuses it."""
    forged_alone = parsed(f"{OURS}; dkim=pass header.d=bps.go.id")
    assert authenticated(forged_alone, OURS)[0]
    assert not authenticated(forged_alone, "")[0]
    # With the assumption met, our header is on top and the same forgery is ignored:
    assert not authenticated(parsed(f"{OURS}; dkim=none; spf=none", f"{OURS}; dkim=pass header.d=bps.go.id"),
                             OURS)[0]


FAIL_OR_NONE = {
    "dkim-fail": ("dkim=fail header.d=bps.go.id", "fail"),
    "spf-fail": (f"spf=fail smtp.mailfrom={P1}", "fail"),
    "spf-softfail": ("spf=softfail smtp.mailfrom=bps.go.id", "fail"),
    "dmarc-fail": ("dmarc=fail header.from=bps.go.id", "fail"),
    "fail-for-another-domain": ("dkim=fail header.d=lists.example.org", "none"),
    "none": ("dkim=none; spf=none smtp.mailfrom=bps.go.id", "none"),
    "neutral": (f"spf=neutral smtp.mailfrom={P1}", "none"),
    "temperror": ("dkim=temperror header.d=bps.go.id", "none"),
    "permerror": ("dkim=permerror header.d=bps.go.id", "none"),
    "pass": ("dkim=pass header.d=bps.go.id", "pass"),
}


@pytest.mark.parametrize("result, expected", FAIL_OR_NONE.values(), ids=FAIL_OR_NONE.keys())
def test_our_verdict_is_pass_fail_or_none(result, expected):
    """DESIGN §5's three cases: our pass vouches, our fail refuses whatever token, nothing of ours
    leaves it to the token."""
    from mailbot.inbound.auth import verdict
    assert verdict(parsed(f"{OURS}; {result}"), OURS).result == expected
