"""Hints read from a payment proof's text: amount, date, NTPN or reference. Evidence, never payment."""
from __future__ import annotations

import re

_AMOUNT = re.compile(r"\b(?:Rp\.?|IDR)\s*([0-9]{1,3}(?:[.,][0-9]{3})+|[0-9]+)(?:,00)?", re.IGNORECASE)
_NTPN = re.compile(r"\bNTPN\s*[:.]?\s*([0-9A-Z]{16})\b", re.IGNORECASE)
_REF = re.compile(r"\b(?:no\.?\s*ref(?:erensi)?|reference|ref)\s*[:.]?\s*([0-9A-Z]{6,30})\b", re.IGNORECASE)
_DATE = re.compile(r"\b(\d{1,2}[/-]\d{1,2}[/-]\d{2,4}|\d{4}-\d{2}-\d{2}|\d{1,2}\s+(?:jan|feb|mar|apr|mei|may|jun|jul|"
                   r"agu|aug|sep|okt|oct|nov|des|dec)[a-z]*\s+\d{4})\b", re.IGNORECASE)


def read_hints(text: str) -> list[str]:
    """Short lines such as 'nominal Rp125.500', 'tanggal 30/11/2026', 'NTPN 0A1B…'."""
    hints = []
    for label, pattern in (("nominal Rp", _AMOUNT), ("NTPN", _NTPN), ("referensi", _REF), ("tanggal", _DATE)):
        seen = list(dict.fromkeys(m.group(1) for m in pattern.finditer(text)))[:3]
        if seen:
            sep = "" if label.endswith("Rp") else " "
            hints.append(", ".join(f"{label}{sep}{v}" for v in seen))
    return hints


def payment_reference(text: str) -> str:
    """The NTPN read from a proof's text, else its bank reference, else "": the treasurer's book column."""
    for label, pattern in (("NTPN", _NTPN), ("Ref", _REF)):
        found = pattern.search(text)
        if found:
            return f"{label} {found.group(1)}"
    return ""
