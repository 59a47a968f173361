"""One transaction's work: apply decisions to a case, carry out their effects, queue the mail."""
from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass, field
from types import SimpleNamespace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from .adapters import db
from .domain import commands as c
from .domain import effects as fx
from .domain.calendar import CalendarGapError
from .domain.case import Context, Decision, Refused, decide
from .domain.numbering import CASE_PATTERN, format_number
from .domain.states import State
from .domain.transitions import state_label
from .outbound.mail import Envelope, FilePart, build_message

if TYPE_CHECKING:
    from .service import App

log = logging.getLogger("mailbot")

# Mails that answer a customer's own mail: these count against schedule.max_auto_replies_per_day, so
# two robots can never ping-pong. Invoices, deliveries and staff replies are never held back.
AUTO_REPLY_KINDS = frozenset(f"customer:{t}" for t in (
    "ack", "requirements", "forwarded", "received_other", "proof_received", "proof_after_expiry",
    "defect_received", "complaint", "survey_thanks", "too_large"))
_AUTO_REPLY_LIST = sorted(AUTO_REPLY_KINDS)


@dataclass(frozen=True)
class Queued:
    """What this unit put in the outbox, to fold a notice it would queue twice."""

    recipient: str
    kind: str
    subject: str
    case_id: int | None


@dataclass
class Unit:
    """The session, the instant and the wiring for one inbound mail or one scheduler tick."""

    app: "App"
    session: Session
    now: datetime                         # aware; stored as UTC
    trigger_id: str | None = None         # Message-ID of the mail being handled, for threading
    trigger_sender: str | None = None     # its sender: replies to them count against the daily cap
    scheduled: bool = False
    queued: list[Queued] = field(default_factory=list)
    _roots: dict[int, str | None] = field(default_factory=dict)
    after_commit: list = field(default_factory=list)   # file deletions, run by the caller after commit

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
        self._roots[row.id] = None     # no recorded mail belongs to it yet (the one in hand is linked last)
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

    def event(self, row: db.CaseRow | None, kind: str, actor: str, detail: str = "") -> None:
        db.add_event(self.session.connection(), row.id if row else None, self.now, kind, actor, detail)

    # --- effects ------------------------------------------------------------------
    def carry_out(self, row: db.CaseRow, effect: fx.Effect, cmd: c.Command) -> None:
        from . import documents
        if isinstance(effect, fx.Notify):
            files = self.case_files(row, effect.attach) if effect.attach else ()
            self.notify(row, effect.audience, effect.template, reason=getattr(cmd, "reason", ""),
                        message=getattr(cmd, "text", ""), attached=len(files), attachments=files)
        elif isinstance(effect, fx.SendInvoice):
            documents.issue_invoice(self, row, effect.billing_code, effect.billing_expires)
        elif isinstance(effect, fx.VoidInvoice):
            documents.void_invoice(self, row, "kedaluwarsa" if isinstance(cmd, c.Expire) else "dibatalkan")
        elif isinstance(effect, fx.IssueReceiptAndDeliver):
            documents.issue_receipt_and_deliver(self, row)
        elif isinstance(effect, fx.DeliverCorrection):
            documents.deliver_correction(self, row, effect.files)
        elif isinstance(effect, fx.RefreshDigest):
            if self.cfg.schedule.digest_on_proof:
                from .digest import send_digest
                send_digest(self)
        else:   # pragma: no cover - a new effect without a home is a programming error
            raise TypeError(f"no handler for effect {effect!r}")

    # --- mail -------------------------------------------------------------------------
    def case_view(self, row: db.CaseRow) -> SimpleNamespace:
        """What templates may say about a case."""
        case = db.to_case(row)
        # Most mails are about cases that have no document yet: skip the queries then.
        invoice = self.current_document(row, "invoice") if row.invoice_issued else None
        receipt = self.current_document(row, "receipt") if row.paid_on else None
        return SimpleNamespace(**{
            "ref": row.ref, "state": row.state, "state_label": state_label(State(row.state)),
            "customer": row.customer, "customer_name": row.customer_name or row.customer,
            "items": case.items, "total": case.total, "due": case.due, "service_due": case.service_due,
            "correction_due": case.correction_due, "invoice": invoice, "receipt": receipt,
            "invoice_expires": row.invoice_expires, "request_text": row.request_text,
            "guesses": json.loads(row.guesses or "[]"), "zero_reason": row.zero_reason,
            "identity_ok": row.identity_ok, "agreed": row.agreed, "identity_received": row.identity_received,
            "thread_token": row.thread_token, "linked_ref": row.linked_ref,
        })

    def base_context(self) -> dict:
        cfg = self.cfg
        return {"office": cfg.office, "payment": cfg.payment, "tariffs": cfg.tariffs, "today": self.today,
                "service_address": cfg.office.service_address}

    def recipients(self, row: db.CaseRow | None, audience: str) -> list[str]:
        if audience == "customer":
            return [row.customer] if row else []
        # An office without a supervisor list: its alerts go to the petugas rather than to no one.
        return list(getattr(self.cfg.roles, audience) or (self.cfg.roles.petugas if audience == "supervisor" else ()))

    def notify(self, row: db.CaseRow | None, audience: str, template: str, *, attachments: tuple[FilePart, ...] = (),
               to: list[str] | None = None, **extra) -> None:
        """Render `template` for `audience` and queue it: one mail per customer (customers never see
        one another), one mail to a whole staff list (one message for the server to carry, and each
        of them sees who else was told)."""
        lang = row.language if (row is not None and audience == "customer") else "id"
        ctx = {**self.base_context(), "case": self.case_view(row) if row else None, "audience": audience, **extra}
        if audience != "customer" and row is not None:
            from .staff import applicable_keywords
            ctx["keywords"] = applicable_keywords(State(row.state))
        subject, body = self.app.templates.render_mail(template, lang, **ctx)
        if audience in ("petugas", "bendahara") and row is not None:
            subject = f"{subject} (kode {row.thread_token})"
        kind = f"{audience}:{template}"
        addresses = list(dict.fromkeys(to if to is not None else self.recipients(row, audience)))
        groups = [(a,) for a in addresses] if audience == "customer" else ([tuple(addresses)] if addresses else [])
        for group in groups:
            # One mail handled may trigger the same notice twice (SETUJU and a KTP in one mail): send it
            # once. Multi-part deliveries differ in their subject, so they are never folded.
            if not any(q.recipient == db.recipient_field(group) and q.kind == kind and q.subject.endswith(subject)
                       and q.case_id == (row.id if row else None) for q in self.queued):
                self.enqueue(group, subject, body, kind=kind, row=row, attachments=attachments)

    def enqueue(self, to: tuple[str, ...], subject: str, body: str, *, kind: str, row: db.CaseRow | None = None,
                attachments: tuple[FilePart, ...] = (), references: tuple[str, ...] = ()) -> None:
        """Build the message now (so a retry sends the same bytes) and put it in the outbox, unless the
        daily auto-reply cap holds it back."""
        if kind in AUTO_REPLY_KINDS and to == (self.trigger_sender,) and self._over_reply_cap(to[0]):
            self.event(row, "reply_suppressed", "system", f"auto-reply cap reached for {to[0]}: {kind}")
            log.warning("action=reply_suppressed to=%s kind=%s", to[0], kind)
            return
        root = self._root_id(row) if row is not None else None
        in_reply_to = self._answers(row, to, kind, root)
        message_id = f"{secrets.token_hex(12)}@{self.cfg.office.message_id_domain}"
        env = Envelope(to=to, message_id=message_id, date=self.now, case_ref=row.ref if row else None,
                       in_reply_to=in_reply_to, references=tuple(r for r in (root, *references) if r),
                       scheduled=self.scheduled)
        built = build_message(env, subject, body, from_addr=self.cfg.office.service_address,
                              from_name=self.cfg.smtp.from_name, attachments=attachments)
        queued = Queued(db.recipient_field(to), kind, built.subject, row.id if row else None)
        # A Core insert, at once: an outbox row is written once and never read back in this unit, so
        # the ORM would only add bookkeeping (the case it names was flushed when it was opened).
        db.add_outbox(self.session.connection(), message_id=message_id, case_id=queued.case_id, kind=kind,
                      sender=self.cfg.office.service_address, recipient=queued.recipient, subject=built.subject,
                      raw=built.raw, at=self.now)
        self.queued.append(queued)

    def _over_reply_cap(self, to: str) -> bool:
        """Every row of this unit is in the table already: the database counts them all."""
        sent = db.mails_to_since(self.session.connection(), to, self.now - timedelta(days=1), _AUTO_REPLY_LIST)
        return sent >= self.cfg.schedule.max_auto_replies_per_day

    def _answers(self, row: db.CaseRow | None, to: tuple[str, ...], kind: str, root: str | None) -> str | None:
        """The message a mail answers: the mail being handled when it came from this recipient (or a
        staff notice about it); for a customer otherwise their own latest mail on the case, so their
        client threads it — never a staff member's internal message."""
        if row is None:
            return None
        if kind.startswith("customer:"):
            if to == (self.trigger_sender,) and not self.scheduled:
                return self.trigger_id
            return db.latest_mail_from(self.session.connection(), row.id, to[0]) or root
        return root if self.scheduled else self.trigger_id

    def _root_id(self, row: db.CaseRow) -> str | None:
        """The first message of the case thread, so every client threads our mails together."""
        if row.id not in self._roots:
            self._roots[row.id] = db.first_mail_of(self.session.connection(), row.id)
        return self._roots[row.id]

    def case_files(self, row: db.CaseRow, role: str) -> tuple[FilePart, ...]:
        """The case's stored files of one role that still exist (retention may have removed some)."""
        rows = self.session.scalars(select(db.FileRow).where(
            db.FileRow.case_id == row.id, db.FileRow.role == role, db.FileRow.deleted_at.is_(None))
            .order_by(db.FileRow.id))
        return tuple(FilePart(f.filename, self.app.storage.get(f.sha256), f.content_type)
                     for f in rows if self.app.storage.exists(f.sha256))

    # --- documents --------------------------------------------------------------------
    def current_document(self, row: db.CaseRow, kind: str) -> db.DocumentRow | None:
        return db.current_document(self.session, row.id, kind)
