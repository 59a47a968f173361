"""Customer mail: open a request, or read what the customer's reply means for the case."""
from __future__ import annotations

from ..adapters import db
from ..domain import commands as c
from ..domain.case import Refused
from ..domain.states import FINAL, State
from ..inbound import intent
from ..inbound.model import ParsedMail
from ..outbound.mail import FilePart
from .unit import Unit

# An inline image smaller than this is a logo in a signature, not a photographed document.
_MIN_INLINE_DOCUMENT = 20 * 1024


def document_files(mail: ParsedMail, stored: dict[str, db.FileRow]) -> tuple[str, ...]:
    """Attachments that can be a document the customer means (identity card, payment proof)."""
    real = [a.sha256 for a in mail.attachments if a.allowed and not a.inline]
    if not real:   # phones often send a photo inline
        real = [a.sha256 for a in mail.attachments if a.allowed and a.inline and a.size >= _MIN_INLINE_DOCUMENT]
    return tuple(dict.fromkeys(sha for sha in real if sha in stored))


def handle_customer(unit: Unit, mail: ParsedMail, row: db.CaseRow | None,
                    stored: dict[str, db.FileRow]) -> tuple[str, db.CaseRow]:
    """Route one customer mail; returns the outcome recorded on the inbound row and the case it landed on."""
    text = mail.top_text or mail.text
    files = document_files(mail, stored)
    if row is not None and State(row.state) in FINAL:
        score = intent.satisfaction_score(text)
        if (row.state == State.CLOSED.value and score is not None and row.rating is None
                and mail.from_addr == row.customer):
            unit.apply(row, c.Rate(mail.from_addr, score))
            return "rating", row
        row = unit.open_request(mail.from_addr, mail.from_name, text, intent.language(text), linked_ref=row.ref)
        _mark(stored, files, row, "attachment")
        return "new_case_linked", row
    if row is not None and mail.from_addr != row.customer:
        # Someone else wrote into this case's thread (a colleague of the customer, or a stranger):
        # the petugas decide; nothing they send counts as the customer's agreement, identity or proof.
        _mark(stored, tuple(stored), row, "attachment")
        unit.event(row, "third_party_message", mail.from_addr, text[:2000])
        unit.notify(row, "petugas", "customer_message", message=text, files=len(files), complaint=False,
                    other_sender=mail.from_addr, attachments=_parts(mail, files))
        # A generic answer: a stranger who guessed a case number learns nothing about the case.
        unit.notify(row, "customer", "received_other", to=[mail.from_addr])
        return "third_party", row
    if row is None:
        row = unit.open_request(mail.from_addr, mail.from_name, text, intent.language(text))
        if intent.agrees(text):
            unit.apply(row, c.Agree(mail.from_addr))
        if files:
            _mark(stored, files, row, "identity")
            unit.apply(row, c.SubmitIdentity(mail.from_addr, files))
        return "new_case", row
    _mark(stored, tuple(stored), row, "attachment")
    state = State(row.state)
    if intent.is_complaint(text):
        unit.event(row, "complaint", mail.from_addr, text[:2000])
        unit.notify(row, "customer", "complaint")
        unit.notify(row, "petugas", "customer_message", message=text, files=len(files), complaint=True,
                    attachments=_parts(mail, files))
        return "complaint", row
    outcome = None
    if state in (State.NEW, State.PREPARING):
        if intent.agrees(text):
            outcome = _ok(unit.apply(row, c.Agree(mail.from_addr)), "agreed")
        if files:
            _mark(stored, files, row, "identity")
            outcome = _ok(unit.apply(row, c.SubmitIdentity(mail.from_addr, files)), "identity")
    elif state in (State.INVOICED, State.PAYMENT_REVIEW, State.EXPIRED) and files:
        _mark(stored, files, row, "proof")
        # the customer's own words ('sudah saya transfer Rp82.000'); the files are read after the commit
        unit.event(row, "proof_text", mail.from_addr, text[:2000])
        outcome = _ok(unit.apply(row, c.SubmitProof(mail.from_addr, files)), "proof")
    elif state in (State.DELIVERED, State.CORRECTION) and intent.reports_defect(text):
        _mark(stored, files, row, "defect")          # screenshots of what is wrong: petugas see them
        outcome = _ok(unit.apply(row, c.ReportDefect(mail.from_addr, text)), "defect")
    if outcome:
        return outcome, row
    unit.event(row, "customer_message", mail.from_addr, text[:2000])
    unit.notify(row, "petugas", "customer_message", message=text, files=len(files), complaint=False,
                attachments=_parts(mail, files))
    unit.notify(row, "customer", "forwarded")
    return "forwarded", row


def _parts(mail: ParsedMail, files: tuple[str, ...]) -> tuple[FilePart, ...]:
    """The customer's files of this mail, to show petugas what was sent."""
    return tuple(FilePart(a.filename, a.data, a.content_type) for a in mail.attachments if a.sha256 in files)


def _ok(decision, outcome: str) -> str | None:
    return None if isinstance(decision, Refused) else outcome


def _mark(stored: dict[str, db.FileRow], files, row: db.CaseRow, role: str) -> None:
    for sha in files:
        meta = stored[sha]
        meta.case_id = row.id
        meta.role = role
