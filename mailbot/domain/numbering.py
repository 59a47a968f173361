"""Document numbers from a pattern and a per-year gap-free sequence number."""
from __future__ import annotations

from datetime import date

_ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")

# The fields a numbering pattern may use.
PATTERN_FIELDS = ("seq", "year", "month", "month_roman")


def format_number(pattern: str, seq: int, on: date) -> str:
    """Fill `pattern` (e.g. "{seq:04d}/INV/1600/{month_roman}/{year}") for sequence `seq` issued `on`."""
    if seq < 1:
        raise ValueError("sequence numbers start at 1")
    return pattern.format(seq=seq, year=on.year, month=on.month, month_roman=_ROMAN[on.month - 1])


def check_pattern(pattern: str) -> None:
    """Raise ValueError unless `pattern` uses only known fields and contains {seq} and {year}."""
    try:
        format_number(pattern, 1, date(2000, 1, 1))
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"bad number pattern {pattern!r}: {exc}") from None
    if "{seq" not in pattern or "{year" not in pattern:
        raise ValueError(f"number pattern {pattern!r} must contain {{seq}} and {{year}} to be unique per year")
