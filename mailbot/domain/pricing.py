"""Prices from tariff data: integer rupiah, per page, times quantity."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tariff:
    """The tariff in force: the regulation it implements and its per-page rate (rupiah)."""

    regulation: str
    per_page: int
    zero_basis: str = ""   # legal basis of the Rp0 category, printed on zero-value receipts

    def __post_init__(self) -> None:
        if self.per_page < 0:
            raise ValueError("per_page must not be negative")


def line_amount(tariff: Tariff, halaman: int, qty: int) -> int:
    """Amount of one line: pages x rate x copies, in whole rupiah.

    A publication has at least one page: a line of 0 pages would silently cost
    Rp0 on an otherwise paid invoice, so it is refused like a quantity of 0.
    """
    if halaman < 1 or qty < 1:
        raise ValueError("halaman and qty must be >= 1")
    return halaman * tariff.per_page * qty
