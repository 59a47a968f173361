"""The reader of the top lines of a staff mail, and the argument parsers of the keywords."""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date
from typing import Iterable, Protocol


class ArgumentError(ValueError):
    """A keyword was recognised but its arguments were not (the message says what was expected)."""


class Spelled(Protocol):
    """What the reader needs of a keyword: its Indonesian name, English alias and whether it takes the rest."""

    name: str
    alias: str
    takes_rest: bool


class Vocabulary:
    """The keywords of one role, by every spelling (the app's keyword registry builds it)."""

    def __init__(self, keywords: Iterable[Spelled]):
        self.by_spelling: dict[str, Spelled] = {}
        for kw in keywords:
            for spelling in dict.fromkeys((kw.name, kw.alias)):
                self.by_spelling[spelling] = kw

    def nearest(self, word: str) -> str | None:
        """The keyword a mistyped word most likely meant, if any is close."""
        hits = difflib.get_close_matches(word.upper(), list(self.by_spelling), n=1, cutoff=0.7)
        return hits[0] if hits else None


@dataclass(frozen=True)
class Line:
    """One recognised keyword line: the keyword, its argument text, and the line as written."""

    keyword: Spelled
    args: str
    raw: str
    rest: str = ""                 # for takes_rest keywords: the text after this line


@dataclass(frozen=True)
class Reading:
    """What was read from the top of a staff mail."""

    lines: tuple[Line, ...] = ()
    not_understood: tuple[tuple[str, str | None], ...] = ()   # (line, nearest keyword or None)
    ignored: tuple[str, ...] = ()


_SPACE = re.compile(r"\s+")


def _match(line: str, vocabulary: Vocabulary) -> tuple[Spelled, str] | None:
    words = _SPACE.split(line.strip(), maxsplit=2)
    upper = [w.upper().rstrip(":") for w in words]
    known = vocabulary.by_spelling
    if len(upper) >= 2 and f"{upper[0]} {upper[1]}" in known:   # two-word keywords first
        return known[f"{upper[0]} {upper[1]}"], (words[2] if len(words) > 2 else "")
    kw = known.get(upper[0])
    if kw is None:
        return None
    return kw, line.strip()[len(words[0]):].strip()


def read_keywords(top_text: str, vocabulary: Vocabulary) -> Reading:
    """Read keyword lines from the top of `top_text` (quote and signature already removed).

    Blank lines are skipped; reading stops at the first line that is not a keyword. That line is
    reported as not understood when it looks like a mistyped keyword, and everything from it on is
    ignored. BALAS/CATATAN take all the text after them, so nothing is read past them.
    """
    lines = top_text.splitlines()
    found: list[Line] = []
    not_understood: list[tuple[str, str | None]] = []
    ignored: list[str] = []
    for n, raw in enumerate(lines):
        if not raw.strip():
            continue
        hit = _match(raw, vocabulary)
        if hit is None:
            first = _SPACE.split(raw.strip(), maxsplit=1)[0]
            suggestion = vocabulary.nearest(first)
            if suggestion or (raw.strip().isupper() and len(raw.strip()) <= 40):
                not_understood.append((raw.strip(), suggestion))
                ignored.extend(line for line in lines[n + 1:] if line.strip())
            else:
                ignored.extend(line for line in lines[n:] if line.strip())
            break
        kw, args = hit
        if kw.takes_rest:
            found.append(Line(kw, args, raw.strip(), rest="\n".join(lines[n + 1:]).strip()))
            break
        found.append(Line(kw, args, raw.strip()))
    return Reading(tuple(found), tuple(not_understood), tuple(ignored))


# --- argument parsers: one per keyword that takes arguments -------------------------------
MAX_QTY = 100          # copies of one publication in one order; more is surely a typing error
_ITEM = re.compile(r"^(#\d+|[0-9][0-9.]*[0-9])(?:\s*[xX×*]\s*(\d+))?$")
_BILLING = re.compile(r"^BILLING\s+(\d{15})(?:\s+(\d{4}-\d{2}-\d{2}))?$", re.IGNORECASE)
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_REF = re.compile(r"^([A-Z0-9]{6,10})(?:\s+(.*))?$", re.IGNORECASE | re.DOTALL)


def parse_item(args: str) -> tuple[str, int]:
    """ITEM args -> (katalog or "#n", qty)."""
    m = _ITEM.match(args.strip())
    if not m:
        raise ArgumentError("format: ITEM <nomor katalog atau #n> [x jumlah], mis. ITEM 1102001.16 x 2")
    qty = int(m.group(2) or 1)
    if not 1 <= qty <= MAX_QTY:
        raise ArgumentError(f"jumlah harus 1 sampai {MAX_QTY}")
    return m.group(1), qty


def parse_line_number(args: str) -> int:
    if not args.strip().isdigit():
        raise ArgumentError("format: HAPUS <nomor baris>, mis. HAPUS 2")
    return int(args.strip())


def parse_billing(args: str, today: date) -> tuple[str | None, date | None]:
    """TAGIH args -> (billing code, billing expiry). A code that expired before `today` (the office's
    date of the mail in hand) is refused: the customer could not pay with it."""
    if not args.strip():
        return None, None
    m = _BILLING.match(args.strip())
    if not m:
        raise ArgumentError("format: TAGIH BILLING <kode billing 15 digit> <YYYY-MM-DD>")
    if not m.group(2):
        # The invoice prints the code's own expiry (it may end before the invoice): never guess it.
        raise ArgumentError("sertakan tanggal kedaluwarsa kode billing dari SIMPONI, "
                            f"mis. TAGIH BILLING {m.group(1)} 2026-12-07")
    try:
        expires = date.fromisoformat(m.group(2))
    except ValueError:
        raise ArgumentError(f"tanggal kedaluwarsa billing tidak valid: {m.group(2)}") from None
    if expires < today:
        raise ArgumentError(f"kode billing {m.group(1)} sudah lewat masa berlakunya ({expires.isoformat()}, "
                            f"hari ini {today.isoformat()}): buat kode billing baru di SIMPONI")
    return m.group(1), expires


def parse_reason(args: str, keyword: str, required: bool = True) -> str:
    if required and not args.strip():
        raise ArgumentError(f"{keyword} memerlukan alasan, mis. {keyword} permintaan dibatalkan pelanggan")
    return args.strip()


def parse_address(args: str) -> str:
    address = args.strip().strip("<>").lower()
    if not _EMAIL.match(address):
        raise ArgumentError("format: BUKA <alamat email pelanggan>, mis. BUKA budi@example.com")
    return address


def parse_ref(args: str, needs_reason: bool) -> tuple[str, str]:
    """SETUJU/TOLAK args -> (token, reason)."""
    m = _REF.match(args.strip())
    if not m:
        raise ArgumentError("format: SETUJU <ref> atau TOLAK <ref> <alasan>, ref seperti P3K7QX")
    reason = (m.group(2) or "").strip()
    if needs_reason and not reason:
        raise ArgumentError("TOLAK memerlukan alasan, mis. TOLAK P3K7QX nominal tidak sesuai")
    return m.group(1).upper(), reason
