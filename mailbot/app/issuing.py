"""Effect handlers for invoices, receipts and deliveries: number, render, store and send them in the unit."""
from __future__ import annotations

import logging

from ..adapters import db
from ..domain import commands as c
from ..domain import effects as fx
from ..domain.numbering import format_number
from ..outbound.documents import DocLine, InvoiceDocument, Office, ReceiptDocument
from ..outbound.mail import FilePart
from .files import deliverable_files, stored_parts
from .unit import Unit

log = logging.getLogger("mailbot")

# base64 makes attachments about 4/3 larger; leave room for the text part and headers.
_BASE64_GROWTH = 4 / 3
_HEADROOM = 64 * 1024


def office(unit: Unit) -> Office:
    o = unit.cfg.office
    return Office(name=o.name, address=o.address, city=o.city, phone=o.phone, email=o.email or o.service_address,
                  logo_path=o.logo, signatory=o.signatory, signatory_title=o.signatory_title, nip=o.nip)


def _lines(row: db.CaseRow) -> tuple[DocLine, ...]:
    # The rate is the one in force when the line was added (amount = pages x rate x copies), so a
    # tariff change later never makes a document's lines disagree with its total.
    return tuple(DocLine(katalog=i.katalog, judul=i.judul, halaman=i.halaman, qty=i.qty,
                         rate=i.amount // (i.halaman * i.qty), amount=i.amount) for i in row.items)


def _new_document(unit: Unit, row: db.CaseRow, kind: str, pattern: str, total: int, pdf_name: str,
                  render, **fields) -> tuple[db.DocumentRow, FilePart]:
    """Allocate the next gap-free number, render the PDF with it, store both in this transaction."""
    seq = db.next_seq(unit.session, f"{kind}-{unit.today.year}")
    number = format_number(pattern, seq, unit.today)
    rendered = render(number)
    pdf = rendered.pdf
    if not rendered.report.complete:
        _tell_missing_glyphs(unit, row, f"{pdf_name} {number}", rendered.report)
    sha = unit.app.storage.put(pdf)
    doc = db.DocumentRow(case_id=row.id, kind=kind, number=number, year=unit.today.year, seq=seq,
                         issued_on=unit.today, total=total, file_sha256=sha, **fields)
    unit.session.add(doc)
    filename = f"{pdf_name}-{number.replace('/', '-')}.pdf"
    unit.session.add(db.FileRow(case_id=row.id, sha256=sha, filename=filename, content_type="application/pdf",
                                size=len(pdf), role=kind, allowed=True, created_at=unit.now))
    unit.session.flush()
    return doc, FilePart(filename, pdf, "application/pdf")


def _tell_missing_glyphs(unit: Unit, row: db.CaseRow, document: str, report) -> None:
    """The document is made all the same; the case records, and the staff member's transcript says,
    which characters no installed font could draw and which Debian package would."""
    unit.event(row, "glyphs_missing", "system", f"{document}: {report.summary()}")
    parts = []
    for m in report.missing:
        fix = f"pasang paket Debian {' atau '.join(m.debian_packages)}" if m.debian_packages else \
            "belum ada font yang dikenal mailbot"
        parts.append(f"{m.chars} ({m.script}; {fix})")
    unit.notes.append(f"{document}: huruf berikut tidak dapat dicetak dan tampil sebagai {report.replacement}: "
                      + "; ".join(parts) + "; atau salin file font ke storage.font_dir")


def send_invoice(unit: Unit, row: db.CaseRow, effect: fx.SendInvoice, cmd: c.Command) -> None:
    """SendInvoice: void the current invoice, number and render the new one, mail it to the customer."""
    from ..outbound.pdf import render_invoice_with_report   # fpdf2 and the fonts load on the first document
    billing_code, billing_expires = effect.billing_code, effect.billing_expires
    _void(unit, row, "diganti invoice baru")
    pay = unit.cfg.payment

    def render(number: str):
        return render_invoice_with_report(InvoiceDocument(
            office=office(unit), number=number, issued=unit.today, case_ref=row.ref,
            customer_name=row.customer_name or row.customer, customer_address="", customer_email=row.customer,
            lines=_lines(row), total=sum(i.amount for i in row.items), valid_until=row.invoice_expires,
            bank=pay.bank, account_number=pay.account_number, account_name=pay.account_name,
            billing_code=billing_code, billing_expires=billing_expires, regulation=unit.cfg.tariffs.regulation),
            unit.app.templates_dir, font_dir=unit.cfg.storage.font_dir)

    doc, pdf = _new_document(unit, row, "invoice", unit.cfg.numbering.invoice_pattern,
                             sum(i.amount for i in row.items), "invoice", render,
                             valid_until=row.invoice_expires, billing_code=billing_code,
                             billing_expires=billing_expires)
    unit.event(row, "invoice_numbered", "system", doc.number)
    unit.notify(row, "customer", "invoice", attachments=(pdf,), document=doc)


def void_invoice(unit: Unit, row: db.CaseRow, effect: fx.VoidInvoice, cmd: c.Command) -> None:
    """VoidInvoice: the current invoice lapsed unpaid, or the case was cancelled."""
    _void(unit, row, "kedaluwarsa" if isinstance(cmd, c.Expire) else "dibatalkan")


def _void(unit: Unit, row: db.CaseRow, reason: str) -> None:
    doc = unit.current_document(row, "invoice")
    if doc is not None:
        doc.void = True
        doc.void_reason = reason
        unit.event(row, "invoice_void", "system", f"{doc.number}: {reason}")


def _stamped(unit: Unit, row: db.CaseRow, files: list[FilePart]) -> list[FilePart]:
    """With storage.stamp_deliveries, the PDFs sent carry the buyer and invoice in a footer."""
    if not unit.cfg.storage.stamp_deliveries:
        return files
    from ..outbound.stamp import stamp_pdf
    invoice = unit.current_document(row, "invoice")
    text = (f"Softcopy untuk {row.customer_name or row.customer} — {row.ref}"
            + (f" — invoice {invoice.number}" if invoice else "") + f" — {unit.cfg.office.name}")
    return [FilePart(f.filename, stamp_pdf(f.data, text, unit.cfg.storage.font_dir), f.content_type) if f.data.startswith(b"%PDF") else f
            for f in files]


def split_parts(files: list[FilePart], limit_bytes: int) -> list[list[FilePart]]:
    """Pack files into as few mails as fit under `limit_bytes` each (a larger file goes alone)."""
    budget = max(int((limit_bytes - _HEADROOM) / _BASE64_GROWTH), 1)
    parts: list[list[FilePart]] = []
    size = 0
    for f in files:
        if not parts or size + len(f.data) > budget:
            parts.append([])
            size = 0
        parts[-1].append(f)
        size += len(f.data)
    return parts or [[]]


def receipt_and_deliver(unit: Unit, row: db.CaseRow, effect: fx.IssueReceiptAndDeliver, cmd: c.Command) -> None:
    """IssueReceiptAndDeliver: number and render the kuitansi, send it with the softcopy."""
    from ..outbound.pdf import render_receipt_with_report
    invoice = unit.current_document(row, "invoice")
    total = sum(i.amount for i in row.items)

    def render(number: str):
        return render_receipt_with_report(ReceiptDocument(
            office=office(unit), number=number, issued=unit.today, case_ref=row.ref,
            invoice_number=invoice.number if invoice else None, customer_name=row.customer_name or row.customer,
            customer_address="", lines=_lines(row), total=total, paid_on=row.paid_on,
            zero_reason=_zero_reason(unit, row), regulation=unit.cfg.tariffs.regulation), unit.app.templates_dir,
            font_dir=unit.cfg.storage.font_dir)

    doc, receipt = _new_document(unit, row, "receipt", unit.cfg.numbering.receipt_pattern, total, "kuitansi", render)
    unit.event(row, "receipt_numbered", "system", doc.number)
    files, missing = deliverable_files(unit, row)
    send_in_parts(unit, row, "delivery", [receipt, *_stamped(unit, row, files)], missing=missing)
    if missing:
        # The payment stands; the case waits on the petugas under the correction clock until the
        # files go out with PERBAIKAN (free of charge, as for any correction).
        unit.apply(row, c.ReportDefect("system", "; ".join(missing), by_office=True))
        unit.notify(row, "petugas", "files_missing", missing=missing)


def _zero_reason(unit: Unit, row: db.CaseRow) -> str | None:
    """The petugas' reason for a Rp0 service, with the legal basis the tariff names."""
    if not row.zero_reason:
        return None
    basis = unit.cfg.tariffs.zero_basis
    return f"{row.zero_reason} ({basis})" if basis else row.zero_reason


def deliver_correction(unit: Unit, row: db.CaseRow, effect: fx.DeliverCorrection, cmd: c.Command) -> None:
    """DeliverCorrection: the corrected files, free of charge."""
    files, _ = stored_parts(unit, effect.files)
    send_in_parts(unit, row, "correction", _stamped(unit, row, files))


def send_in_parts(unit: Unit, row: db.CaseRow, template: str, files: list[FilePart],
                  missing: list[str] = ()) -> None:
    """One mail, or several numbered ones ("bagian 1 dari 3") when the files exceed max_message_mb."""
    limit = int(unit.cfg.storage.max_message_mb * 1024 * 1024)
    parts = split_parts(files, limit)
    for n, part in enumerate(parts, 1):
        unit.notify(row, "customer", template, attachments=tuple(part), part=n, parts=len(parts),
                    files=[f.filename for f in part], missing=list(missing))
