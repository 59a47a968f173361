"""Requests the customer never completed: a `new` case still missing the identity document or the
agreement is reminded after `schedule.new_reminder_days` without a word from the customer, and
cancelled after `schedule.new_expiry_days` (the customer is told; the identity retention clock then runs)."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from ..adapters import db
from ..domain import commands as c
from ..domain.case import Refused
from ..domain.states import State
from .unit import Unit, once

SYSTEM = "system"


def _last_heard(unit: Unit, row: db.CaseRow) -> date:
    """The last day the case moved on the customer's side: opened, the customer's last mail, or the
    petugas' last BALAS to them (a question asked restarts the wait)."""
    tz = unit.app.tz
    heard = unit.session.scalar(select(func.max(db.InboundRow.received_at)).where(
        db.InboundRow.case_id == row.id, db.InboundRow.sender == row.customer))
    asked = unit.session.scalar(select(func.max(db.OutboxRow.created_at)).where(
        db.OutboxRow.case_id == row.id, db.OutboxRow.kind == "customer:reply"))
    days = [row.opened_on or db.utc(row.created_at).astimezone(tz).date()]
    days += [db.utc(at).astimezone(tz).date() for at in (heard, asked) if at is not None]
    return max(days)


def remind_or_cancel_new(unit: Unit) -> int:
    """One reminder per quiet spell, then the end of the request. Cases whose requirements are
    complete wait on the office, not on the customer: they are left alone."""
    schedule = unit.cfg.schedule
    n = 0
    rows = unit.session.scalars(select(db.CaseRow).where(db.CaseRow.state == State.NEW.value).order_by(db.CaseRow.id))
    for row in list(rows):
        if row.agreed and row.identity_received:
            continue
        last = _last_heard(unit, row)
        quiet = (unit.today - last).days
        if quiet >= schedule.new_expiry_days:
            decision = unit.apply(row, c.Cancel(SYSTEM, f"tidak ada balasan pelanggan selama {quiet} hari",
                                                by="abandoned"))
            n += not isinstance(decision, Refused)
        elif quiet >= schedule.new_reminder_days and once(unit, "new_reminder", f"{row.ref}:{last.isoformat()}"):
            unit.notify(row, "customer", "new_reminder", cancel_on=last + timedelta(days=schedule.new_expiry_days))
            unit.event(row, "new_reminder", SYSTEM, f"no answer for {quiet} day(s)")
            n += 1
    return n
