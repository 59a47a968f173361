"""The case aggregate and `decide`: one command in, a new case and its effects out (or a refusal)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Protocol

from . import commands as c
from . import effects as fx
from .calendar import invoice_valid_until
from .pricing import Tariff, line_amount
from .states import SERVICE_CLOCK_RUNS, State
from .transitions import illegal_reason, target

SERVICE_DAYS = 10      # service standard §3: served within 10 working days of a clear request
CORRECTION_DAYS = 5    # service standard §2 note: corrections within 5 working days
LATE_DEFECT_DAYS = 30  # a defect reported this many days after the last delivery still reopens a closed case


class Calendar(Protocol):
    def add_working_days(self, start: date, n: int) -> date: ...
    def working_days_between(self, a: date, b: date) -> int: ...


@dataclass(frozen=True)
class Item:
    """One line of the order; `amount` is fixed when the line is added."""

    katalog: str
    judul: str
    halaman: int
    qty: int
    amount: int


@dataclass(frozen=True)
class Case:
    """Everything the rules need to know about one case; persisted by the adapters."""

    ref: str
    state: State
    customer: str
    customer_name: str = ""
    opened_on: date | None = None
    agreed: bool = False
    identity_received: bool = False
    identity_ok: bool = False
    items: tuple[Item, ...] = ()
    deliverables: tuple[str, ...] = ()       # stored file ids (sha256) from SIAP
    zero_reason: str = ""
    # service clock: working days used before the current pause, and since when it runs
    clear_on: date | None = None
    clock_used: int = 0
    clock_since: date | None = None
    service_due: date | None = None
    correction_due: date | None = None
    invoice_issued: date | None = None
    invoice_expires: date | None = None
    paid_on: date | None = None
    delivered_on: date | None = None
    closed_on: date | None = None
    close_reason: str = ""
    rating: int | None = None

    @property
    def total(self) -> int:
        return sum(item.amount for item in self.items)

    @property
    def due(self) -> date | None:
        """The deadline that currently binds: the correction clock, else the service clock."""
        if self.state is State.CORRECTION:
            return self.correction_due
        return self.service_due


@dataclass(frozen=True)
class Context:
    """What a decision may know besides the case: the instant, the local date, the calendar, the tariff."""

    now: datetime
    today: date
    calendar: Calendar
    tariff: Tariff


@dataclass(frozen=True)
class Accepted:
    case: Case
    effects: tuple[fx.Effect, ...] = ()
    event: str = ""                          # one line for the audit trail


@dataclass(frozen=True)
class Refused:
    reason: str


Decision = Accepted | Refused


def invoice_lapsed(case: Case, today: date) -> bool:
    """True when the case's current invoice has run out: ``today`` (the local date, Asia/Jakarta) is
    after its last valid day. False when there is no invoice.

    The one spelling of the expiry rule: the invoice is valid through the whole of
    ``invoice_expires`` (see ``calendar.invoice_valid_until``), so it has lapsed from 00:00 office
    time on the next day.
    It says nothing about the state: whether a lapsed invoice may expire the case is the
    transition table's question (only an ``invoiced`` case expires; a proof under review never does).
    """
    return case.invoice_expires is not None and today > case.invoice_expires


def open_case(ref: str, customer: str, name: str, today: date) -> tuple[Case, tuple[fx.Effect, ...]]:
    """A new request: the case starts `new`; the customer is acknowledged and petugas told."""
    case = Case(ref=ref, state=State.NEW, customer=customer, customer_name=name, opened_on=today)
    return case, (fx.Notify("customer", "ack"), fx.Notify("petugas", "new_case"))


def decide(case: Case, cmd: c.Command, ctx: Context) -> Decision:
    """Apply `cmd` to `case` under the one transition table; never mutates `case`."""
    to = target(cmd, case.state)
    if to is None:
        return Refused(illegal_reason(cmd, case.state))
    handler = _HANDLERS[type(cmd)]
    result = handler(case, cmd, ctx)
    if isinstance(result, Refused):
        return result
    new_case, effects, event = result
    return Accepted(_move_clock(case, replace(new_case, state=to), ctx), effects, event)


def _move_clock(old: Case, new: Case, ctx: Context) -> Case:
    """Pause, resume or stop the service clock as the state crosses the office/customer line."""
    if new.clear_on is None:
        return new
    was_running = old.state in SERVICE_CLOCK_RUNS and old.clock_since is not None
    runs_now = new.state in SERVICE_CLOCK_RUNS
    if was_running and not runs_now:
        used = new.clock_used + ctx.calendar.working_days_between(new.clock_since, ctx.today)
        return replace(new, clock_used=used, clock_since=None, service_due=None)
    if not was_running and runs_now:
        left = max(SERVICE_DAYS - new.clock_used, 0)
        return replace(new, clock_since=ctx.today, service_due=ctx.calendar.add_working_days(ctx.today, left))
    return new


# --- one handler per command: (case, cmd, ctx) -> (case, effects, event) | Refused
def _agree(case: Case, cmd: c.Agree, ctx: Context):
    event = "customer agreed to the terms" + (f" (given by {cmd.via.strip()}, recorded by staff)"
                                              if cmd.via.strip() else "")
    return replace(case, agreed=True), (fx.Notify("customer", "requirements"),), event


def _identity(case: Case, cmd: c.SubmitIdentity, ctx: Context):
    return (replace(case, identity_received=True),
            (fx.Notify("customer", "requirements"), fx.Notify("petugas", "identity_received", attach="identity")),
            f"identity document received ({len(cmd.files)} file(s))")


def _confirm_identity(case: Case, cmd: c.ConfirmIdentity, ctx: Context):
    return replace(case, identity_ok=True), (), "identity document checked"


def _add_item(case: Case, cmd: c.AddItem, ctx: Context):
    if cmd.qty < 1:
        return Refused("jumlah harus minimal 1")
    if cmd.halaman < 1:   # line_amount would raise: decide refuses, it never raises on bad input
        return Refused(f"jumlah halaman {cmd.katalog} tidak valid ({cmd.halaman}); periksa katalog")
    amount = line_amount(ctx.tariff, cmd.halaman, cmd.qty)
    item = Item(cmd.katalog, cmd.judul, cmd.halaman, cmd.qty, amount)
    return replace(case, items=case.items + (item,)), (), f"item {cmd.katalog} x{cmd.qty} added"


def _remove_item(case: Case, cmd: c.RemoveItem, ctx: Context):
    if not 1 <= cmd.line <= len(case.items):
        return Refused(f"baris {cmd.line} tidak ada; kasus ini memiliki {len(case.items)} baris")
    items = case.items[: cmd.line - 1] + case.items[cmd.line:]
    return replace(case, items=items), (), f"item line {cmd.line} removed"


def _mark_clear(case: Case, cmd: c.MarkClear, ctx: Context):
    missing = []
    if not case.identity_ok:
        missing.append("identitas belum diperiksa (IDENTITAS OK)")
    if not case.agreed:
        missing.append("pelanggan belum menyetujui syarat pembelian (SETUJU)")
    if not case.items:
        missing.append("belum ada item (ITEM)")
    if missing:
        return Refused("belum dapat JELAS: " + "; ".join(missing))
    cleared = replace(case, clear_on=ctx.today, clock_used=0, clock_since=None)
    return cleared, (fx.Notify("customer", "clear"),), "request clear; service clock started"


def _set_deliverables(case: Case, cmd: c.SetDeliverables, ctx: Context):
    if not cmd.files:
        return Refused("SIAP memerlukan lampiran file softcopy")
    effects: tuple[fx.Effect, ...] = ()
    return replace(case, deliverables=tuple(cmd.files)), effects, f"{len(cmd.files)} deliverable file(s) set"


def _issue_invoice(case: Case, cmd: c.IssueInvoice, ctx: Context):
    if not case.items:
        return Refused("belum ada item (ITEM)")
    if case.total == 0:
        return Refused("total Rp0; gunakan NOL <alasan> untuk layanan tanpa biaya")
    expires = invoice_valid_until(ctx.today)
    reissue = case.state is State.EXPIRED
    new = replace(case, invoice_issued=ctx.today, invoice_expires=expires)
    event = "invoice reissued" if reissue else "invoice issued"
    return new, (fx.SendInvoice(cmd.billing_code, cmd.billing_expires),), event


def _zero_rate(case: Case, cmd: c.ZeroRate, ctx: Context):
    if not cmd.reason.strip():
        return Refused("NOL memerlukan alasan, mis. NOL instansi pemerintah")
    if not case.items:
        return Refused("belum ada item (ITEM)")
    items = tuple(replace(item, amount=0) for item in case.items)
    new = replace(case, items=items, zero_reason=cmd.reason.strip(), paid_on=ctx.today, delivered_on=ctx.today)
    return new, (fx.IssueReceiptAndDeliver(),), f"zero tariff: {cmd.reason.strip()}"


def _submit_proof(case: Case, cmd: c.SubmitProof, ctx: Context):
    # What the proof says is told with the notices, so they wait for its reading (a few seconds at most).
    if case.state is State.EXPIRED:
        then = (fx.Notify("customer", "proof_after_expiry"), fx.Notify("petugas", "proof_after_expiry", attach="proof"))
        return case, (fx.ReadProof(cmd.files, then),), "payment proof received after expiry"
    then = (fx.Notify("customer", "proof_received"), fx.RefreshDigest())
    return case, (fx.ReadProof(cmd.files, then),), "payment proof received"


def _approve(case: Case, cmd: c.ApprovePayment, ctx: Context):
    new = replace(case, paid_on=ctx.today, delivered_on=ctx.today)
    return new, (fx.IssueReceiptAndDeliver(),), "payment approved"


def _reject(case: Case, cmd: c.RejectPayment, ctx: Context):
    if not cmd.reason.strip():
        return Refused("TOLAK memerlukan alasan")
    return case, (fx.Notify("customer", "proof_rejected"),), f"payment proof rejected: {cmd.reason.strip()}"


def _expire(case: Case, cmd: c.Expire, ctx: Context):
    if not invoice_lapsed(case, ctx.today):
        return Refused("invoice masih berlaku")
    return case, (fx.VoidInvoice(), fx.Notify("customer", "expired"), fx.Notify("petugas", "expired")), \
        "invoice expired unpaid"


def _report_defect(case: Case, cmd: c.ReportDefect, ctx: Context):
    if case.state is State.CLOSED:
        # A closed case (by TUTUP or the 14-day auto-close) reopens for a free correction when the
        # defect comes within LATE_DEFECT_DAYS of the last delivery; later, it is a new request.
        if case.delivered_on is None or (ctx.today - case.delivered_on).days > LATE_DEFECT_DAYS:
            return Refused(f"laporan kesalahan lebih dari {LATE_DEFECT_DAYS} hari setelah pengiriman")
        case = replace(case, closed_on=None, close_reason="", correction_due=None)
    due = case.correction_due
    if case.state in (State.DELIVERED, State.CLOSED) or due is None:
        due = ctx.calendar.add_working_days(ctx.today, CORRECTION_DAYS)
    if cmd.by_office:
        return replace(case, correction_due=due), (), f"softcopy incomplete at delivery: {cmd.text}"
    return replace(case, correction_due=due), (fx.Notify("customer", "defect_received"),
                                               fx.Notify("petugas", "defect", attach="defect")), \
        "customer reported a defect"


def _send_correction(case: Case, cmd: c.SendCorrection, ctx: Context):
    if not cmd.files:
        return Refused("PERBAIKAN memerlukan lampiran file yang sudah diperbaiki")
    new = replace(case, correction_due=None, delivered_on=ctx.today)
    return new, (fx.DeliverCorrection(tuple(cmd.files)),), f"correction sent ({len(cmd.files)} file(s))"


def _close(case: Case, cmd: c.Close, ctx: Context):
    # The satisfaction question once per case: a case reopened for a late correction was rated already.
    asks = case.state in (State.DELIVERED, State.CORRECTION) and case.rating is None
    effects = (fx.Notify("customer", "survey" if asks else "closed"),)
    new = replace(case, closed_on=ctx.today, close_reason=cmd.reason.strip(), service_due=None, correction_due=None)
    return new, effects, "closed" + (f": {cmd.reason.strip()}" if cmd.reason.strip() else "")


def _cancel(case: Case, cmd: c.Cancel, ctx: Context):
    if not cmd.reason.strip():
        return Refused("BATAL memerlukan alasan")
    # Who ended it decides the words: the office (BATAL), the customer (confirmed), or no answer at all.
    effects: tuple[fx.Effect, ...] = {
        "customer": (fx.Notify("customer", "cancelled_by_customer"), fx.Notify("petugas", "cancelled_by_customer")),
        "abandoned": (fx.Notify("customer", "new_expired"), fx.Notify("petugas", "new_expired")),
    }.get(cmd.by, (fx.Notify("customer", "cancelled"),))
    if case.state is State.INVOICED:
        effects = (fx.VoidInvoice(),) + effects
    new = replace(case, closed_on=ctx.today, close_reason=cmd.reason.strip(), service_due=None)
    return new, effects, f"cancelled: {cmd.reason.strip()}"


def _rate(case: Case, cmd: c.Rate, ctx: Context):
    if not 1 <= cmd.score <= 4:
        return Refused("nilai kepuasan harus 1 sampai 4")
    return replace(case, rating=cmd.score), (fx.Notify("customer", "survey_thanks"),), f"satisfaction {cmd.score}"


_HANDLERS = {
    c.Agree: _agree,
    c.SubmitIdentity: _identity,
    c.ConfirmIdentity: _confirm_identity,
    c.AddItem: _add_item,
    c.RemoveItem: _remove_item,
    c.MarkClear: _mark_clear,
    c.SetDeliverables: _set_deliverables,
    c.IssueInvoice: _issue_invoice,
    c.ZeroRate: _zero_rate,
    c.SubmitProof: _submit_proof,
    c.ApprovePayment: _approve,
    c.RejectPayment: _reject,
    c.Expire: _expire,
    c.ReportDefect: _report_defect,
    c.SendCorrection: _send_correction,
    c.Close: _close,
    c.Cancel: _cancel,
    c.Rate: _rate,
}
