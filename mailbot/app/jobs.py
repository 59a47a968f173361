"""Scheduled work at an instant: expiry, reminders, deadline warnings, auto-close, retention.

Every job is idempotent: what it did is recorded in `job_runs` in the same transaction, so running
the same instant twice (or catching up after downtime) sends nothing twice. Bootstrap lists the jobs
(the digest's lives with the digest) and App.run_jobs runs each in a unit of its own.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ..adapters import db
from ..domain import commands as c
from ..domain.calendar import CalendarGapError
from ..domain.case import Refused, invoice_lapsed
from ..domain.states import CLOCKED_STATES, State
from .files import document_pdf
from .unit import Unit, once as _once

SYSTEM = "system"


def _cases(unit: Unit, *states: State) -> list[db.CaseRow]:
    return list(unit.session.scalars(select(db.CaseRow).where(db.CaseRow.state.in_([s.value for s in states]))
                                     .order_by(db.CaseRow.id)))


def expire_invoices(unit: Unit) -> int:
    n = 0
    for row in _cases(unit, State.INVOICED):
        if invoice_lapsed(db.to_case(row), unit.today):
            if not isinstance(unit.apply(row, c.Expire(SYSTEM)), Refused):
                n += 1
    return n


def send_reminders(unit: Unit) -> int:
    """One reminder per threshold (default 7 and 1 days before expiry); after downtime only the nearest."""
    n = 0
    days = sorted(unit.cfg.schedule.reminder_days)          # e.g. [1, 7]
    for row in _cases(unit, State.INVOICED):
        doc = unit.current_document(row, "invoice")
        if doc is None or doc.valid_until is None or invoice_lapsed(db.to_case(row), unit.today):
            continue
        left = (doc.valid_until - unit.today).days
        due = [d for d in days if left <= d]
        if not due:
            continue
        claimed = [d for d in due if _once(unit, "reminder", f"{doc.id}:{d}")]
        if min(due) in claimed:
            unit.notify(row, "customer", "reminder", attachments=(document_pdf(unit, doc),), document=doc,
                        days_left=left)
            unit.event(row, "reminder", SYSTEM, f"{doc.number}: {left} day(s) left")
            n += 1
    return n


def warn_deadlines(unit: Unit) -> int:
    """Petugas are told `warn_working_days` before a deadline; the supervisor once when one is missed."""
    n = 0
    cal = unit.app.calendar()
    for row in _cases(unit, *CLOCKED_STATES):
        case = db.to_case(row)
        due = case.due
        if due is None:
            continue
        kind = "correction" if row.state == State.CORRECTION.value else "service"
        if unit.today > due:
            if _once(unit, "missed", f"{row.ref}:{kind}:{due}"):
                unit.notify(row, "supervisor", "deadline_missed", kind=kind)
                unit.event(row, "deadline_missed", SYSTEM, f"{kind} deadline {due} missed")
                n += 1
            continue
        try:
            left = cal.working_days_between(unit.today, due)
        except CalendarGapError as exc:
            unit.event(row, "calendar_gap", SYSTEM, str(exc))
            continue
        if left <= unit.cfg.schedule.warn_working_days and _once(unit, "warn", f"{row.ref}:{kind}:{due}"):
            unit.notify(row, "petugas", "deadline_warning", kind=kind, working_days_left=left)
            unit.event(row, "deadline_warning", SYSTEM, f"{kind} deadline {due}: {left} working day(s) left")
            n += 1
    return n


def auto_close(unit: Unit) -> int:
    """A delivered case with no customer mail for `auto_close_days` closes; the survey goes out."""
    n = 0
    limit = unit.cfg.schedule.auto_close_days
    for row in _cases(unit, State.DELIVERED):
        last_customer = unit.session.scalar(select(db.InboundRow.received_at).where(
            db.InboundRow.case_id == row.id, db.InboundRow.sender == row.customer)
            .order_by(db.InboundRow.id.desc()).limit(1))
        last = max(filter(None, [row.delivered_on,
                                 db.utc(last_customer).astimezone(unit.app.tz).date() if last_customer else None]))
        if (unit.today - last).days >= limit:
            if not isinstance(unit.apply(row, c.Close(SYSTEM, f"otomatis: {limit} hari tanpa balasan")), Refused):
                n += 1
    return n


def purge_identity(unit: Unit) -> int:
    """Identity documents (and the raw mails that carried them) are deleted `id_retention_days` after
    the case ended; invoices, receipts and proofs are kept. The audit trail says what went and when."""
    n = 0
    keep = timedelta(days=unit.cfg.schedule.id_retention_days)
    for row in _cases(unit, State.CLOSED, State.CANCELLED, State.EXPIRED):
        ended = row.closed_on or row.invoice_expires
        if ended is None or unit.today < ended + keep:
            continue
        files = list(unit.session.scalars(select(db.FileRow).where(
            db.FileRow.case_id == row.id, db.FileRow.role == "identity", db.FileRow.deleted_at.is_(None))))
        for f in files:
            f.deleted_at = unit.now
            unit.session.flush()
            # The same photo may be filed on another case still in use: the bytes stay while it is.
            still_used = unit.session.scalar(select(db.FileRow.id).where(
                db.FileRow.sha256 == f.sha256, db.FileRow.deleted_at.is_(None)).limit(1))
            if not still_used:
                unit.after_commit.append(lambda sha=f.sha256: unit.app.storage.delete(sha))
            if f.inbound_id:
                inbound = unit.session.get(db.InboundRow, f.inbound_id)
                if inbound and inbound.raw_path:
                    path = unit.app.storage.root / inbound.raw_path
                    unit.after_commit.append(lambda path=path: path.unlink(missing_ok=True))
                    inbound.raw_path = ""
        if files:
            unit.event(row, "identity_purged", SYSTEM, f"{len(files)} identity file(s) deleted after retention")
            n += len(files)
    return n
