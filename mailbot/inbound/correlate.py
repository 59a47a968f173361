"""Case tags in subjects and reply/forward prefixes, for matching a mail to its case."""
from __future__ import annotations

import re

# [PUB-2026-0042]; four or more digits of sequence.
TAG_RE = re.compile(r"\[\s*(PUB-\d{4}-\d{4,})\s*\]", re.IGNORECASE)

# Reply and forward prefixes: Re, Aw, Sv, Antw, Balas, Bls, Fwd, Fw, TR, WG, RV, Enc, Doorst, …,
# with an optional counter (Re[2]:, Re(2):), optional spaces before the colon, full-width colon too.
_PREFIX_WORDS = (
    "re", "aw", "sv", "vs", "antw", "balas", "bls", "fwd", "fw", "tr", "wg", "rv", "enc", "doorst",
    "odp", "ynt",
)
_PREFIX_RE = re.compile(
    r"^(?:\s*(?:(?:" + "|".join(sorted(_PREFIX_WORDS, key=len, reverse=True)) + r")"
    r"(?:\s*[\[(]\d{1,3}[\])])?|回复|回覆|答复|转发|轉寄|转寄)\s*[:：])+\s*",
    re.IGNORECASE,
)


def find_tag(subject: str) -> str | None:
    """The case reference in a subject, e.g. "PUB-2026-0042", or None."""
    found = TAG_RE.search(subject or "")
    return found.group(1).upper() if found else None


def strip_reply_prefixes(subject: str) -> str:
    """The subject without any run of reply/forward prefixes ("Re: AW: Fwd: …")."""
    return _PREFIX_RE.sub("", subject or "", count=1).strip()
