"""Document numbers from a pattern and a per-year gap-free sequence number."""
from __future__ import annotations

import string
from datetime import date

_ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")

# Case references are a contract (DESIGN §3, the [PUB-YYYY-NNNN] subject tag): not configurable.
CASE_PATTERN = "PUB-{year}-{seq:04d}"

# The fields a numbering pattern may use.
PATTERN_FIELDS = ("seq", "year", "month", "month_roman")


def format_number(pattern: str, seq: int, on: date) -> str:
    """Fill `pattern` (e.g. "{seq:04d}/INV/1600/{month_roman}/{year}") for sequence `seq` issued `on`."""
    if seq < 1:
        raise ValueError("sequence numbers start at 1")
    return pattern.format(seq=seq, year=on.year, month=on.month, month_roman=_ROMAN[on.month - 1])


def check_pattern(pattern: str) -> None:
    """Raise ValueError unless `pattern` uses only known fields and contains {seq} and {year}.

    Fields are read with the format parser, so an escaped "{{seq}}" (a literal
    text, the same in every number) does not count as {seq}; attribute or index
    access ("{seq.real}", "{year[0]}"), positional fields ("{}") and nested
    specs ("{seq:{year}}") are refused.
    """
    try:
        parsed = [(f, spec) for _, f, spec, _ in string.Formatter().parse(pattern) if f is not None]
        fields = [f for f, _ in parsed]
        if any("{" in (spec or "") for _, spec in parsed):
            raise ValueError("nested fields in a format spec are not allowed")
        unknown = sorted(set(fields) - set(PATTERN_FIELDS))
        if unknown:
            raise ValueError(f"unknown field {{{unknown[0]}}}; use " + ", ".join(f"{{{f}}}" for f in PATTERN_FIELDS))
        format_number(pattern, 1, date(2000, 1, 1))
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise ValueError(f"bad number pattern {pattern!r}: {exc}") from None
    if not {"seq", "year"} <= set(fields):
        raise ValueError(f"number pattern {pattern!r} must contain {{seq}} and {{year}} to be unique per year")
