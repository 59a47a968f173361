"""Indonesian formatting of money and dates for documents and mail."""

from datetime import date

BULAN = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
)


def format_rupiah(amount: int) -> str:
    """125500 → "Rp125.500" (dots between thousands, no decimals)."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"amount must be an int of rupiah, not {type(amount).__name__}")
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp{abs(amount):,}".replace(",", ".")


def format_number(n: int) -> str:
    """1250 → "1.250"."""
    return f"{n:,}".replace(",", ".")


def tanggal(d: date) -> str:
    """date(2026, 11, 30) → "30 November 2026"."""
    return f"{d.day} {BULAN[d.month - 1]} {d.year}"
