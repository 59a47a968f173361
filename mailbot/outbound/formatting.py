"""Indonesian formatting of money and dates for documents and mail."""

from datetime import date

BULAN = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
)


def thousands(n: int) -> str:
    """1250 → "1.250" (Indonesian: dots between thousands)."""
    return f"{n:,}".replace(",", ".")


def decimal(value: float, spec: str = "g") -> str:
    """1.5 → "1,5" (Indonesian: a comma before the decimals); `spec` as for format(), e.g. ".1f"."""
    return format(value, spec).replace(".", ",")


def format_rupiah(amount: int) -> str:
    """125500 → "Rp125.500" (dots between thousands, no decimals)."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"amount must be an int of rupiah, not {type(amount).__name__}")
    return f"{'-' if amount < 0 else ''}Rp{thousands(abs(amount))}"


def tanggal(d: date) -> str:
    """date(2026, 11, 30) → "30 November 2026"."""
    return f"{d.day} {BULAN[d.month - 1]} {d.year}"
