"""A case's files: the softcopy to deliver (SIAP attachments or the library) and stored documents."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from ..adapters import db
from ..outbound.mail import FilePart
from .unit import Unit


def file_meta(unit: Unit, sha: str) -> db.FileRow | None:
    """The newest record of a stored file: its name as last sent to us."""
    return unit.session.scalar(select(db.FileRow).where(db.FileRow.sha256 == sha).order_by(db.FileRow.id.desc())
                               .limit(1))


def stored_parts(unit: Unit, file_ids: tuple[str, ...]) -> tuple[list[FilePart], list[str]]:
    """Stored files by id, under the names they came with; plus the names of those no longer stored."""
    files: list[FilePart] = []
    missing: list[str] = []
    for sha in file_ids:
        meta = file_meta(unit, sha)
        name = meta.filename if meta else f"{sha[:12]}.pdf"
        if unit.app.storage.exists(sha):
            files.append(FilePart(name, unit.app.storage.get(sha), meta.content_type if meta else ""))
        else:
            missing.append(name)
    return files, missing


def deliverable_files(unit: Unit, row: db.CaseRow) -> tuple[list[FilePart], list[str]]:
    """The softcopy to send: SIAP attachments, else the library files of the items; plus what is missing."""
    ids = db.to_case(row).deliverables
    if ids:
        return stored_parts(unit, ids)
    files: list[FilePart] = []
    missing: list[str] = []
    library = Path(unit.cfg.storage.library_dir) if unit.cfg.storage.library_dir else None
    for item in row.items:
        entry = db.catalog_entry(unit.session, item.katalog, judul=item.judul)
        path = library / entry.file if (library and entry and entry.file) else None
        if path and path.is_file():
            files.append(FilePart(path.name, path.read_bytes(), "application/pdf"))
        else:
            missing.append(f"{item.katalog} ({entry.file if entry and entry.file else 'tidak ada di katalog'})")
    return files, missing


def document_pdf(unit: Unit, doc: db.DocumentRow, name: str = "invoice") -> FilePart:
    """The stored PDF of an invoice or receipt (reminders attach the invoice again)."""
    return FilePart(f"{name}-{doc.number.replace('/', '-')}.pdf", unit.app.storage.get(doc.file_sha256),
                    "application/pdf")
