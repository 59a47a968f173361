"""A case's files: the softcopy to deliver (SIAP attachments or the library), stored documents, and the
payment proofs with what was read from them."""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import select

from ..adapters import db
from ..inbound import proof
from ..outbound.formatting import format_rupiah
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


# --- payment proofs and their readings ------------------------------------------------------------
def invoice_facts(unit: Unit, doc: db.DocumentRow) -> proof.InvoiceFacts:
    return proof.InvoiceFacts(doc.number, doc.total, doc.issued_on, doc.billing_code,
                              unit.cfg.payment.account_number)


def last_invoice(unit: Unit, row: db.CaseRow) -> db.DocumentRow | None:
    """The current invoice; for an expired case the one that lapsed (a late payment is judged against it)."""
    return unit.current_document(row, "invoice") or unit.session.scalar(
        select(db.DocumentRow).where(db.DocumentRow.case_id == row.id, db.DocumentRow.kind == "invoice")
        .order_by(db.DocumentRow.id.desc()).limit(1))


def proof_views(unit: Unit, row: db.CaseRow, invoice: db.DocumentRow | None) -> list[SimpleNamespace]:
    """Each proof file of the case with what was read from it, the verdict against `invoice` and any
    other case that had the same proof (for the digest and the notices; templates read the fields).
    Where several transfers pay one invoice, each is judged against what the others leave to pay."""
    found = []
    for reading_row, f in db.proof_readings_of(unit.session, row.id):
        reading = proof.Reading.from_json(reading_row.result) if reading_row.status == "done" else None
        found.append((reading_row, f, reading))
    transfers = {proof.transfer_key(r, f.sha256): r.sure("amount") for rr, f, r in found
                 if r is not None and r.sure("amount") is not None and invoice and rr.document_id == invoice.id}
    views = []
    for reading_row, f, reading in found:
        done = reading is not None
        received = reading_row.created_at.astimezone(unit.app.tz).date()
        verdict = None
        if done and invoice:
            facts = invoice_facts(unit, invoice)
            mine = proof.transfer_key(reading, f.sha256)
            others = sum(a for k, a in transfers.items() if k != mine) if mine in transfers else 0
            if others:
                facts = replace(facts, total=facts.total - others)
            verdict = proof.judge(reading, facts, received)
            if others:
                verdict = replace(verdict, notes=verdict.notes + (f"dinilai bersama transfer lain "
                                                                  f"{format_rupiah(others)}",))
        sure = (lambda name: reading.sure(name)) if reading else (lambda name: None)
        when = sure("date")
        views.append(SimpleNamespace(
            name=f.filename, sha256=f.sha256, message_id=reading_row.message_id, pending=not done,
            document_id=reading_row.document_id, reading=reading,
            shown=proof.describe(reading) if reading else "sedang dibaca",
            verdict=verdict, amount=sure("amount"), date=date.fromisoformat(when) if when else None,
            ref=sure("ntpn") or sure("reference") or sure("ntb"),
            unread=reading is not None and reading.method in ("no_ocr", "unreadable", "not_proof"),
            reuse=_reuse(unit, row, f.sha256, reading_row.ref_key) if done else []))
    return views


def _reuse(unit: Unit, row: db.CaseRow, sha256: str, ref_key: str | None) -> list[str]:
    """Other cases with the same proof, at most three named (a file sent to many cases is one warning)."""
    seen = [f"{ref} ({how})" for ref, how in db.seen_elsewhere(unit.session, row.id, sha256, ref_key)]
    return seen if len(seen) <= 3 else seen[:3] + [f"{len(seen) - 3} kasus lain"]


def amount_mismatch(views: list[SimpleNamespace], invoice: db.DocumentRow | None) -> dict | None:
    """When the amounts read surely from the proofs of this invoice clearly differ from its total:
    what they add up to (each transfer once) and the difference; None when they agree or nothing is sure."""
    if invoice is None:
        return None
    mine = [v for v in views if v.reading is not None and v.document_id == invoice.id]
    if any(v.amount == invoice.total for v in mine):
        return None
    paid = proof.paid_total([(v.sha256, v.reading) for v in mine])
    if paid is None or paid == invoice.total:
        return None
    return {"read": paid, "invoice": invoice.total, "short": max(invoice.total - paid, 0),
            "over": max(paid - invoice.total, 0), "several": len({v.sha256 for v in mine if v.amount}) > 1}
