"""What a customer's later mails ask of their case: cancelling (after a confirming reply), more
publications, a new request after the case ended, and the one holding reply a day."""
from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from ..adapters import db
from ..domain import commands as c
from ..domain.case import Refused
from ..domain.states import State
from ..domain.transitions import target
from ..inbound import intent
from .unit import Unit, once

# A "batal" waits this long for the customer's "ya"; after that a yes is just a yes.
CANCEL_CONFIRM_DAYS = 7
# Unpaid: the customer may cancel on their own (with money under review the bendahara decides first).
CUSTOMER_MAY_CANCEL = frozenset({State.NEW, State.PREPARING, State.INVOICED, State.EXPIRED})


def holding_reply(unit: Unit, row: db.CaseRow) -> bool:
    """"Your message was passed to our staff": at most once per case per office day."""
    if not once(unit, "holding_reply", f"{row.ref}:{unit.today.isoformat()}"):
        unit.event(row, "holding_reply_skipped", "system", "already answered today")
        return False
    unit.notify(row, "customer", "forwarded")
    return True


def cancel_pending(unit: Unit, row: db.CaseRow) -> bool:
    """The customer asked to cancel within CANCEL_CONFIRM_DAYS and has not yet confirmed."""
    asked = unit.session.scalar(select(db.EventRow.at).where(
        db.EventRow.case_id == row.id, db.EventRow.kind == "cancel_requested").order_by(db.EventRow.id.desc()).limit(1))
    return asked is not None and db.utc(asked) >= unit.now - timedelta(days=CANCEL_CONFIRM_DAYS)


def ask_to_confirm_cancel(unit: Unit, mail, row: db.CaseRow, text: str) -> None:
    """First "batal": nothing is cancelled yet; the customer is asked to confirm, petugas are told."""
    unit.event(row, "cancel_requested", mail.from_addr, text[:2000])
    unit.notify(row, "customer", "cancel_confirm", confirm_days=CANCEL_CONFIRM_DAYS)
    unit.notify(row, "petugas", "customer_message", message=text, files=0, complaint=False, cancel_requested=True)


def cancel_confirmed(unit: Unit, mail, row: db.CaseRow) -> bool:
    decision = unit.apply(row, c.Cancel(mail.from_addr, "dibatalkan atas permintaan pelanggan", by="customer"))
    return not isinstance(decision, Refused)


def customer_may_cancel(row: db.CaseRow) -> bool:
    state = State(row.state)
    return state in CUSTOMER_MAY_CANCEL and target(c.Cancel(""), state) is not None


def new_guesses(unit: Unit, row: db.CaseRow, text: str) -> list[dict]:
    """Publications named in this mail that are neither guessed nor ordered yet: appended to the case's
    guesses (numbers already shown to petugas keep their meaning), returned with their `n`."""
    guesses = json.loads(row.guesses or "[]")
    known = {(g["katalog"], g["tahun"]) for g in guesses}
    ordered = {i.katalog for i in row.items}
    fresh = [g for g in unit.app.match_catalog(unit.session, text)
             if (g["katalog"], g["tahun"]) not in known and g["katalog"] not in ordered]
    if not fresh:
        return []
    for n, g in enumerate(fresh, len(guesses) + 1):
        g["n"] = n
    row.guesses = json.dumps(guesses + fresh)
    unit.event(row, "guesses_added", "system", ", ".join(f"#{g['n']} {g['katalog']} {g['tahun']}" for g in fresh))
    return fresh


def names_new_publications(unit: Unit, row: db.CaseRow, text: str) -> bool:
    """Does the mail name a catalog publication this case does not already hold as an item?"""
    ordered = {i.katalog for i in row.items}
    return any(g["katalog"] not in ordered for g in unit.app.match_catalog(unit.session, text))


def is_new_request(unit: Unit, row: db.CaseRow, text: str) -> bool:
    """After a case ended: a mail that names publications or asks to buy is a new request; thanks and
    questions are not."""
    return intent.asks_for_publications(text) or bool(unit.app.match_catalog(unit.session, text))
