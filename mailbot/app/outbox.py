"""What the office hears about mail that cannot go out: failed for good, or waiting on the server for a day."""
from __future__ import annotations

import logging

from ..adapters import db
from .mailer import send_notices
from .unit import Unit

log = logging.getLogger("mailbot")


def _case(unit: Unit, row: db.OutboxRow) -> db.CaseRow | None:
    return unit.session.get(db.CaseRow, row.case_id) if row.case_id else None


def _about_staff(row: db.OutboxRow) -> bool:
    """Staff are never told about their own notices (their mail is what failed)."""
    return row.kind.startswith(("petugas:", "supervisor:"))


def send_failed(unit: Unit, row: db.OutboxRow, error: str) -> None:
    """A mail that can never go: mark it, audit it, and tell the petugas."""
    row.status = "failed"
    row.last_error = error[:2000]
    case = _case(unit, row)
    unit.event(case, "send_failed", "system", f"{row.recipient}: {error[:500]}")
    log.error("action=send_failed outbox=%s to=%s error=%s", row.id, row.recipient, error)
    if not _about_staff(row):
        unit.notify(case, "petugas", "send_failed", recipient=row.recipient, error=error[:1000],
                    failed_subject=row.subject)
    send_notices(unit)          # the caller's transaction commits them with the outcome


def send_waiting(unit: Unit, row: db.OutboxRow) -> None:
    """A mail still waiting for the SMTP server after a day: tell the supervisors (it keeps trying)."""
    case = _case(unit, row)
    unit.event(case, "send_waiting", "system", f"{row.recipient}: {row.attempts} attempts: {row.last_error[:300]}")
    if not _about_staff(row):
        unit.notify(case, "supervisor", "send_waiting", recipient=row.recipient, error=row.last_error[:1000],
                    failed_subject=row.subject, attempts=row.attempts)
    send_notices(unit)          # the caller's transaction commits them with the outcome
