"""Customer mail: open a request, or read what the customer's reply means for the case."""
from __future__ import annotations

from ..adapters import db
from ..domain import commands as c
from ..domain.case import Refused
from ..domain.states import FINAL, State
from ..inbound import intent
from ..inbound.language import detect, language
from ..inbound.model import ParsedMail
from ..outbound.mail import FilePart
from . import conversation
from .complaints import complaint_ref_of, record_complaint
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
                    stored: dict[str, db.FileRow]) -> tuple[str, db.CaseRow | None]:
    """Route one customer mail; returns the outcome recorded on the inbound row and the case it landed on."""
    text = mail.top_text or mail.text
    files = document_files(mail, stored)
    if row is None:
        follows = complaint_ref_of(unit, mail)
        if follows or intent.is_complaint(text):     # a complaint is never a purchase request
            record_complaint(unit, mail, None, text, follows, attachments=_parts(mail, tuple(stored)))
            return "complaint", None
    if row is not None and State(row.state) in FINAL:
        return _after_the_end(unit, mail, row, stored, text, files)
    if row is not None and mail.from_addr != row.customer:
        # Someone else wrote into this case's thread (a colleague of the customer, or a stranger):
        # the petugas decide; nothing they send counts as the customer's agreement, identity or proof.
        _mark(stored, tuple(stored), row, "attachment")
        unit.event(row, "third_party_message", mail.from_addr, text[:2000])
        unit.notify(row, "petugas", "customer_message", message=text, files=len(files), complaint=False,
                    other_sender=mail.from_addr, attachments=_parts(mail, files))
        # A generic answer: a stranger who guessed a case number learns nothing about the case.
        unit.notify(row, "customer", "received_other", to=[mail.from_addr], language=language(text))
        return "third_party", row
    if row is None:
        row = unit.open_request(mail.from_addr, mail.from_name, text, language(text))
        if intent.agrees(text):
            unit.apply(row, c.Agree(mail.from_addr))
        if files:
            _mark(stored, files, row, "identity")
            unit.apply(row, c.SubmitIdentity(mail.from_addr, files))
        return "new_case", row
    _mark(stored, tuple(stored), row, "attachment")
    state = State(row.state)
    if intent.is_complaint(text):
        record_complaint(unit, mail, row, text, attachments=_parts(mail, files))
        if state in (State.DELIVERED, State.CORRECTION) and intent.reports_defect(text):
            _mark(stored, files, row, "defect")      # a complaint about a broken file still opens the correction
            unit.apply(row, c.ReportDefect(mail.from_addr, text))
        return "complaint", row
    if not files and conversation.customer_may_cancel(row):
        if conversation.cancel_pending(unit, row) and intent.confirms(text):
            if conversation.cancel_confirmed(unit, mail, row):
                return "cancelled", row
        elif intent.wants_cancel(text):
            conversation.ask_to_confirm_cancel(unit, mail, row, text)
            return "cancel_requested", row
    if state is State.EXPIRED and not files and conversation.names_new_publications(unit, row, text):
        return "new_case_linked", _linked_request(unit, mail, row, text)
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
    elif state is State.DELIVERED and (score := intent.satisfaction_score(text)) and row.rating is None:
        outcome = _ok(unit.apply(row, c.Rate(mail.from_addr, score)), "rating")
    added = conversation.new_guesses(unit, row, text) if state is not State.EXPIRED else []
    if outcome:
        if added:       # "… and please add X too": the petugas see the new guesses
            unit.notify(row, "petugas", "customer_message", message=text, files=len(files), complaint=False,
                        new_guesses=added)
        return outcome, row
    return _forward(unit, mail, row, text, files, added), row


def _after_the_end(unit: Unit, mail: ParsedMail, row: db.CaseRow, stored: dict[str, db.FileRow], text: str,
                   files: tuple[str, ...]) -> tuple[str, db.CaseRow]:
    """Mail on a closed or cancelled case: a complaint, the satisfaction answer, a late defect (free
    correction within 30 days of delivery), a new request (a new linked case), or a message."""
    if mail.from_addr != row.customer:
        new = unit.open_request(mail.from_addr, mail.from_name, text, language(text), linked_ref=row.ref)
        _mark(stored, files, new, "attachment")
        return "new_case_linked", new
    _mark(stored, tuple(stored), row, "attachment")
    if intent.is_complaint(text):
        record_complaint(unit, mail, row, text, attachments=_parts(mail, files))
        return "complaint", row
    if row.state == State.CLOSED.value:
        defect = intent.reports_defect(text)
        score = intent.satisfaction_score(text)
        if score is not None and row.rating is None and not defect:
            unit.apply(row, c.Rate(mail.from_addr, score))
            return "rating", row
        if defect and not isinstance(unit.apply(row, c.ReportDefect(mail.from_addr, text)), Refused):
            _mark(stored, files, row, "defect")
            return "defect", row
    if conversation.is_new_request(unit, row, text):
        return "new_case_linked", _linked_request(unit, mail, row, text)
    return _forward(unit, mail, row, text, files, ()), row


def _linked_request(unit: Unit, mail: ParsedMail, old: db.CaseRow, text: str) -> db.CaseRow:
    """A new request that names the case it follows; its language, when the words do not say, is the old one's."""
    guess = detect(text)
    return unit.open_request(mail.from_addr, mail.from_name, text, guess.lang if guess.sure else old.language,
                             linked_ref=old.ref)


def _forward(unit: Unit, mail: ParsedMail, row: db.CaseRow, text: str, files: tuple[str, ...], added) -> str:
    """Nothing to act on: recorded, shown to petugas, and one holding reply a day to the customer."""
    unit.event(row, "customer_message", mail.from_addr, text[:2000])
    unit.notify(row, "petugas", "customer_message", message=text, files=len(files), complaint=False,
                attachments=_parts(mail, files), new_guesses=list(added))
    conversation.holding_reply(unit, row)
    return "forwarded"


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
