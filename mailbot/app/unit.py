"""The unit of work: one transaction that applies commands to cases, records events and collects notices."""
from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..adapters import db
from ..domain import commands as c
from ..domain import effects as fx
from ..domain.calendar import CalendarGapError
from ..domain.case import Context, Decision, Refused, decide, open_case
from ..domain.numbering import CASE_PATTERN, format_number
from ..domain.states import State
from ..outbound.mail import FilePart

log = logging.getLogger("mailbot")

# An effect handler carries out one effect of an accepted decision, inside the unit, at once.
EffectHandler = Callable[["Unit", db.CaseRow, fx.Effect, c.Command], None]


@dataclass
class Notice:
    """A mail to send once the unit's work is done, rendered then from the case as it leaves the unit."""

    row: db.CaseRow | None
    audience: str                      # customer, petugas, bendahara or supervisor
    template: str
    to: tuple[str, ...] | None         # None: the audience's usual recipients
    attachments: tuple[FilePart, ...]
    extra: dict[str, Any]

    @property
    def key(self) -> tuple:
        """Two notices with one key are one mail: the later one's words and files win. Parts of a
        split delivery differ in their part number, so they stay apart."""
        return (self.row.id if self.row is not None else None, self.audience, self.template, self.to,
                self.extra.get("part"))


@dataclass
class Unit:
    """The session, the instant and the wiring for one inbound mail, one job or one CLI action.

    `app` is the App that bootstrap built (its effect registry, templates, storage, calendar)."""

    app: Any
    session: Session
    now: datetime                         # aware; stored as UTC
    trigger_id: str | None = None         # Message-ID of the mail being handled, for threading
    trigger_sender: str | None = None     # its sender: replies to them count against the daily cap
    scheduled: bool = False
    notices: dict[tuple, Notice] = field(default_factory=dict)
    after_commit: list[Callable[[], None]] = field(default_factory=list)   # e.g. file deletions
    roots: dict[int, str | None] = field(default_factory=dict)             # case id -> thread root
    notes: list[str] = field(default_factory=list)     # for the acting staff member's transcript
    # Files of the mail in hand that were not taken (over storage.max_attachment_mb, or of a type not
    # accepted): {"filename", "size_mb", "reason"}; the answer to its sender says so.
    rejected_files: list[dict[str, str]] = field(default_factory=list)

    @property
    def today(self) -> date:
        return self.now.astimezone(self.app.tz).date()

    @property
    def cfg(self):
        return self.app.cfg

    # --- cases ------------------------------------------------------------------
    def new_case(self, customer: str, name: str, request_text: str, language: str,
                 linked_ref: str | None = None) -> db.CaseRow:
        """Open a case with the next gap-free number of this year."""
        seq = db.next_seq(self.session, f"case-{self.today.year}")
        ref = format_number(CASE_PATTERN, seq, self.today)
        row = db.CaseRow(ref=ref, state=State.NEW.value, customer=customer, customer_name=(name or "")[:200],
                         language=language, request_text=request_text[:20000],
                         linked_ref=linked_ref, thread_token=secrets.token_hex(5).upper(), opened_on=self.today,
                         created_at=self.now, updated_at=self.now, deliverables="[]", guesses="[]",
                         items=[])                 # known empty: no query to load them
        self.session.add(row)
        self.session.flush()
        self.roots[row.id] = None     # no recorded mail belongs to it yet (the one in hand is linked last)
        return row

    def open_request(self, customer: str, name: str, text: str, language: str,
                     linked_ref: str | None = None) -> db.CaseRow:
        """A new case with its catalog guesses; its opening effects (acknowledgement, petugas notice) run."""
        row = self.new_case(customer, name, text, language, linked_ref)
        row.guesses = json.dumps(self.app.match_catalog(self.session, text))
        _, effects = open_case(row.ref, customer, name, self.today)
        self.event(row, "opened", customer, f"new request{f' (follows {linked_ref})' if linked_ref else ''}")
        for effect in effects:
            self.carry_out(row, effect, c.Command(customer))
        return row

    def context(self) -> Context:
        return Context(now=self.now, today=self.today, calendar=self.app.calendar(), tariff=self.app.tariff)

    def apply(self, row: db.CaseRow, cmd: c.Command) -> Decision:
        """Decide `cmd` on the case in `row`; when accepted, store it, audit it and carry out its effects."""
        try:
            decision = decide(db.to_case(row), cmd, self.context())
        except CalendarGapError as exc:
            log.error("action=calendar_gap case=%s year=%s", row.ref, exc.year)
            decision = Refused(f"tenggat jatuh pada tahun {exc.year} yang data hari libur dan cuti bersamanya belum "
                               f"tersedia; minta supervisor melengkapi [calendar] extra_holidays dan "
                               f"assume_complete_years di konfigurasi")
        if isinstance(decision, Refused):
            self.event(row, "refused", cmd.actor, f"{type(cmd).__name__}: {decision.reason}")
            return decision
        before = row.state
        db.store_case(row, decision.case, self.now)
        detail = decision.event + (f" ({before} -> {row.state})" if before != row.state else "")
        self.event(row, type(cmd).__name__, cmd.actor, detail)
        for effect in decision.effects:
            self.carry_out(row, effect, cmd)
        return decision

    def carry_out(self, row: db.CaseRow, effect: fx.Effect, cmd: c.Command) -> None:
        """At once and in order, inside this transaction (TAGIH needs its invoice number straight after)."""
        self.app.effect_handlers[type(effect)](self, row, effect, cmd)

    def event(self, row: db.CaseRow | None, kind: str, actor: str, detail: str = "") -> None:
        db.add_event(self.session.connection(), row.id if row else None, self.now, kind, actor, detail)

    # --- notices ------------------------------------------------------------------
    def notify(self, row: db.CaseRow | None, audience: str, template: str, *, to: list[str] | None = None,
               attachments: tuple[FilePart, ...] = (), **extra) -> None:
        """Queue a notice; it is rendered when the unit's work is done (see mailer.send_notices)."""
        notice = Notice(row, audience, template, tuple(dict.fromkeys(to)) if to is not None else None,
                        attachments, extra)
        self.notices[notice.key] = notice

    # --- files and documents ---------------------------------------------------------
    def case_files(self, row: db.CaseRow, role: str) -> tuple[FilePart, ...]:
        """The case's stored files of one role that still exist (retention may have removed some)."""
        rows = self.session.scalars(select(db.FileRow).where(
            db.FileRow.case_id == row.id, db.FileRow.role == role, db.FileRow.deleted_at.is_(None))
            .order_by(db.FileRow.id))
        return tuple(FilePart(f.filename, self.app.storage.get(f.sha256), f.content_type)
                     for f in rows if self.app.storage.exists(f.sha256))

    def current_document(self, row: db.CaseRow, kind: str) -> db.DocumentRow | None:
        return db.current_document(self.session, row.id, kind)


def once(unit: Unit, job: str, key: str) -> bool:
    """Claim (job, key) for a scheduled job; False when it was done before (jobs run again after downtime)."""
    if unit.session.scalar(select(db.JobRunRow.id).where(db.JobRunRow.job == job, db.JobRunRow.key == key)):
        return False
    unit.session.add(db.JobRunRow(job=job, key=key, at=unit.now))
    unit.session.flush()
    return True
