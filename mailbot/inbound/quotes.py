"""Cut a reply down to what the sender wrote: above the quoted history and the signature."""
from __future__ import annotations

import re

_I = re.IGNORECASE

# A line that on its own starts the quoted history, the signature or a forward.
_CUT_LINE = [re.compile(p, _I) for p in (
    r"-{2,}\s*(?:original message|pesan asli|ursprüngliche nachricht|message d'origine|"
    r"mensaje original|forwarded message|pesan yang diteruskan|pesan terusan)\s*-{2,}\s*$",
    r"(?:begin forwarded message|awal pesan yang diteruskan|pesan yang diteruskan)\s*:\s*$",
    r"_{20,}\s*$",                                       # Outlook web / mobile separator
    r"sent from my\s+\S.{0,60}$",                        # Sent from my iPhone / iPad / Galaxy
    r"sent from (?:outlook|yahoo mail|mail for windows|samsung|gmail)\b.{0,60}$",
    r"get outlook for\s+\S.{0,40}$",
    r"dikirim dari (?:iphone|ipad|ponsel|perangkat|yahoo|outlook|mail|samsung|android|gmail)\b.{0,60}$",
    r"kirim dari (?:iphone|ipad|ponsel|perangkat|yahoo|outlook|mail|samsung|android|gmail)\b.{0,60}$",
)]

# Attribution lines "On … wrote:" and their translations: (start, end); one line or wrapped over two.
_ATTRIBUTION = [(re.compile(a, _I), re.compile(b, _I)) for a, b in (
    (r"on\s", r"\bwrote\s*:\s*$"),
    (r"pada\s", r"\bmenulis\s*:\s*$"),
    (r"le\s", r"\ba\s+écrit\s*:\s*$"),
    (r"am\s", r"\bschrieb\b.*:\s*$"),
    (r"el\s", r"\bescribió\s*:\s*$"),
)]

# Outlook's header block: a From line, then within a few lines a date line and a To/Subject line.
_HDR_FROM = re.compile(r"\*?(?:from|dari|von|de)\s*:\*?\s", _I)
_HDR_DATE = re.compile(r"\*?(?:sent|dikirim|terkirim|date|tanggal|gesendet|envoyé)\s*:", _I)
_HDR_TO = re.compile(r"\*?(?:to|kepada|subject|subjek|perihal|an|betreff|à|objet)\s*:", _I)
_HDR_WINDOW = 6


def _is_cut(lines: list[str], i: int) -> bool:
    line = lines[i].strip()
    if lines[i] == "-- " or line.startswith(">"):
        return True
    if not line:
        return False
    if any(p.match(line) for p in _CUT_LINE):
        return True
    if len(line) <= 300:
        for start, end in _ATTRIBUTION:
            if start.match(line):
                if end.search(line):
                    return True
                nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
                if nxt and len(nxt) <= 200 and end.search(nxt):
                    return True
    if _HDR_FROM.match(line):
        window = [ln.strip() for ln in lines[i + 1:i + 1 + _HDR_WINDOW]]
        if any(_HDR_DATE.match(w) for w in window) and any(_HDR_TO.match(w) for w in window):
            return True
    return False


def strip_quote(text: str) -> str:
    """The lines above the first quote, attribution, Outlook header block, separator or signature."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = len(lines)
    for i in range(len(lines)):
        if _is_cut(lines, i):
            cut = i
            break
    return "\n".join(line.rstrip() if line != "-- " else line for line in lines[:cut]).strip("\n")
