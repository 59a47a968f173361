"""Complaints (service standard §6): recorded on their own, told to petugas and supervisors at once,
answered with the complaint channels. Never a purchase request."""
from __future__ import annotations

import re

from sqlalchemy import select

from ..adapters import db
from ..inbound.language import detect
from ..inbound.model import ParsedMail
from .unit import Unit

_TAG = re.compile(r"\[(ADU-\d{4}-\d{4,})\]")


def complaint_ref_of(unit: Unit, mail: ParsedMail) -> str | None:
    """The complaint a caseless mail follows up: its [ADU-…] subject tag, or an earlier complaint mail
    of the thread (clients keep the whole chain in References)."""
    m = _TAG.search(mail.subject)
    if m and unit.session.scalar(select(db.ComplaintRow.id).where(db.ComplaintRow.ref == m.group(1)).limit(1)):
        return m.group(1)
    ids = list(mail.thread_ids)
    if not ids:
        return None
    return unit.session.scalar(select(db.ComplaintRow.ref).where(db.ComplaintRow.message_id.in_(ids)).limit(1))


def record_complaint(unit: Unit, mail: ParsedMail, row: db.CaseRow | None, text: str,
                     ref: str | None = None, attachments=()) -> str:
    """File the complaint (a new number, or `ref` for a follow-up), tell petugas and supervisors in one
    mail, and answer the customer with the channels and what happens next. Returns its number."""
    if ref is None:
        seq = db.next_seq(unit.session, f"complaint-{unit.today.year}")
        ref = f"ADU-{unit.today.year}-{seq:04d}"
    lang = row.language if row is not None else detect(text).lang
    unit.session.add(db.ComplaintRow(ref=ref, case_id=row.id if row is not None else None, customer=mail.from_addr,
                                     customer_name=(mail.from_name or "")[:200], language=lang,
                                     message_id=mail.message_id, text=text[:20000], received_at=unit.now))
    unit.event(row, "complaint", mail.from_addr, f"{ref}: {text[:2000]}")
    roles = unit.cfg.roles
    staff = list(dict.fromkeys([*roles.petugas, *roles.supervisor]))
    unit.notify(row, "petugas", "complaint_staff", to=staff, complaint_ref=ref, message=text,
                customer=mail.from_addr, customer_name=mail.from_name or mail.from_addr, attachments=attachments)
    unit.notify(row, "customer", "complaint", to=[mail.from_addr], complaint_ref=ref, language=lang,
                customer_name=mail.from_name or "")
    return ref
