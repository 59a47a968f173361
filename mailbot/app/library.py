"""The publication catalog in the database: a checked CSV's entries added or updated in one transaction."""
from __future__ import annotations

from ..adapters import db
from ..catalog import CatalogEntry


def import_catalog(app, entries: list[CatalogEntry]) -> tuple[int, int]:
    """Add new (katalog, tahun) entries and update known ones; returns (added, updated)."""
    added = updated = 0
    with app.sessions.begin() as s:
        for e in entries:
            row = s.get(db.CatalogRow, (e.katalog, e.tahun))
            if row is None:
                s.add(db.CatalogRow(katalog=e.katalog, judul=e.judul, tahun=e.tahun, halaman=e.halaman, file=e.file))
                added += 1
            else:
                row.judul, row.halaman, row.file = e.judul, e.halaman, e.file
                updated += 1
    app.forget_catalog()        # the match index is built again from the new rows
    return added, updated
