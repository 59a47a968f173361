"""The keyword table (petugas and bendahara) and the reader of the top lines of a staff mail."""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date


class ArgumentError(ValueError):
    """A keyword was recognised but its arguments were not (the message says what was expected)."""


@dataclass(frozen=True)
class Keyword:
    """One row of the table: Indonesian name, English alias, syntax, help text, and who may use it."""

    name: str
    alias: str
    syntax: str
    help: str
    role: str = "petugas"          # petugas or bendahara
    takes_rest: bool = False       # the rest of the mail is its text (BALAS, CATATAN)

    @property
    def spellings(self) -> tuple[str, ...]:
        return (self.name, self.alias) if self.alias != self.name else (self.name,)


KEYWORDS: tuple[Keyword, ...] = (
    Keyword("JELAS", "CLEAR", "JELAS", "permintaan sudah jelas: status new → preparing, jam layanan 10 hari kerja mulai"),
    Keyword("ITEM", "ITEM", "ITEM <katalog atau #n> [x JUMLAH]", "tambah publikasi dari katalog (atau tebakan nomor n)"),
    Keyword("HAPUS", "REMOVE", "HAPUS <baris>", "hapus baris item"),
    Keyword("IDENTITAS OK", "IDENTITY OK", "IDENTITAS OK", "kartu identitas sudah diperiksa dan berlaku"),
    Keyword("SIAP", "READY", "SIAP", "file terlampir menjadi softcopy yang akan dikirim"),
    Keyword("TAGIH", "INVOICE", "TAGIH [BILLING <15 digit> <YYYY-MM-DD>]",
            "buat dan kirim invoice (opsional kode billing SIMPONI dengan tanggal kedaluwarsanya)"),
    Keyword("NOL", "ZERO", "NOL <alasan>", "layanan Rp0 (instansi pemerintah, pendidikan, …)"),
    Keyword("BALAS", "REPLY", "BALAS", "sisa email ini dikirim ke pelanggan", takes_rest=True),
    Keyword("CATATAN", "NOTE", "CATATAN <teks>", "catatan internal, tidak dikirim ke pelanggan", takes_rest=True),
    Keyword("PERBAIKAN", "FIX", "PERBAIKAN", "file terlampir adalah perbaikan, dikirim tanpa biaya"),
    Keyword("TUTUP", "CLOSE", "TUTUP [alasan]", "tutup kasus"),
    Keyword("BATAL", "CANCEL", "BATAL <alasan>", "batalkan kasus"),
    Keyword("STATUS", "STATUS", "STATUS", "balas dengan ringkasan kasus"),
    Keyword("BANTUAN", "HELP", "BANTUAN", "balas dengan daftar kata kunci ini"),
    Keyword("BUKA", "OPEN", "BUKA <alamat email pelanggan>", "buka kasus untuk pelanggan dari live chat"),
    Keyword("SETUJU", "APPROVE", "SETUJU <ref>", "pembayaran diterima: kuitansi dibuat dan softcopy dikirim", role="bendahara"),
    Keyword("TOLAK", "REJECT", "TOLAK <ref> <alasan>", "bukti bayar ditolak: pelanggan diberi tahu alasannya", role="bendahara"),
)

_BY_SPELLING: dict[tuple[str, str], Keyword] = {
    (kw.role, spelling): kw for kw in KEYWORDS for spelling in kw.spellings
}


def keywords_for(role: str) -> tuple[Keyword, ...]:
    return tuple(kw for kw in KEYWORDS if kw.role == role)


@dataclass(frozen=True)
class Line:
    """One recognised keyword line: the keyword, its argument text, and the line as written."""

    keyword: Keyword
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


def _match(line: str, role: str) -> tuple[Keyword, str] | None:
    words = _SPACE.split(line.strip(), maxsplit=2)
    upper = [w.upper().rstrip(":") for w in words]
    if len(upper) >= 2 and (role, f"{upper[0]} {upper[1]}") in _BY_SPELLING:   # two-word keywords first
        return _BY_SPELLING[(role, f"{upper[0]} {upper[1]}")], (words[2] if len(words) > 2 else "")
    kw = _BY_SPELLING.get((role, upper[0]))
    if kw is None:
        return None
    return kw, line.strip()[len(words[0]):].strip()


def nearest(word: str, role: str) -> str | None:
    """The keyword a mistyped word most likely meant, if any is close."""
    names = [s for (r, s) in _BY_SPELLING if r == role]
    hits = difflib.get_close_matches(word.upper(), names, n=1, cutoff=0.7)
    return hits[0] if hits else None


def read_keywords(top_text: str, role: str) -> Reading:
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
        hit = _match(raw, role)
        if hit is None:
            first = _SPACE.split(raw.strip(), maxsplit=1)[0]
            suggestion = nearest(first, role)
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


def parse_billing(args: str) -> tuple[str | None, date | None]:
    """TAGIH args -> (billing code, billing expiry)."""
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


def help_table(role: str) -> str:
    """The BANTUAN/HELP reply and the README table come from here."""
    rows = [f"  {kw.syntax:<44} {kw.alias:<12} {kw.help}" for kw in keywords_for(role)]
    return "\n".join(rows)
