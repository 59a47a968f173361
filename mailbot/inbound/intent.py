"""What a customer's words mean: agreement, defect report, complaint, satisfaction score, language."""
from __future__ import annotations

import re

_AGREE = re.compile(r"^\s*(setuju|saya setuju|agree|i agree)\b", re.IGNORECASE | re.MULTILINE)
_DEFECT = re.compile(
    r"\b(perbaikan|rusak|salah|kosong|tidak bisa dibuka|tidak dapat dibuka|gagal dibuka|corrupt|korup|"
    r"terpotong|hilang|blank|broken|cannot be opened|can't open|wrong file|missing pages?|error)\b",
    re.IGNORECASE)
# "tidak ada yang salah", "no errors": a customer saying all is well is not reporting a defect.
_NO_DEFECT = re.compile(r"\b(tidak ada|tak ada|tidak|bukan|no|not|without)\s+(yang\s+|any\s+)?"
                        r"(salah|rusak|kosong|masalah|kesalahan|error|errors|problems?|issues?|broken)\b",
                        re.IGNORECASE)
_COMPLAINT = re.compile(r"\b(pengaduan|keluhan|komplain|complaint|mengadu)\b", re.IGNORECASE)
_SCORE = re.compile(r"^\s*([1-4])\s*[.)]?\s*$")

_EN = frozenset("the i would like to buy please purchase publication dear thank you and of for".split())
_ID = frozenset("saya ingin membeli mohon dengan terima kasih yang dan untuk publikasi bapak ibu".split())


def agrees(top_text: str) -> bool:
    """SETUJU / AGREE at the start of a line of what the customer wrote."""
    return bool(_AGREE.search(top_text))


def reports_defect(top_text: str) -> bool:
    return bool(_DEFECT.search(_NO_DEFECT.sub(" ", top_text)))


def is_complaint(top_text: str) -> bool:
    return bool(_COMPLAINT.search(top_text))


def satisfaction_score(top_text: str) -> int | None:
    """A reply to the satisfaction question: the first non-blank line is a lone 1-4 ("4", "3.")."""
    for line in top_text.splitlines():
        if line.strip():
            m = _SCORE.match(line)
            return int(m.group(1)) if m else None
    return None


def language(text: str) -> str:
    """'en' when the customer clearly wrote English, else 'id' (the office's language)."""
    words = re.findall(r"[a-z']+", text.lower())
    en = sum(w in _EN for w in words)
    ind = sum(w in _ID for w in words)
    return "en" if en > ind and en >= 3 else "id"
