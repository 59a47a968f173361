"""Notices to mails in the outbox: rendered from the case as the unit leaves it, threaded, capped."""
from __future__ import annotations

import json
import logging
import secrets
from datetime import timedelta
from types import SimpleNamespace

from ..adapters import db
from ..domain import commands as c
from ..domain import effects as fx
from ..domain.states import State
from ..domain.transitions import state_label
from ..inbound.address import base_address, domain_of, valid_address
from ..outbound.mail import Envelope, FilePart, build_message, short_subject
from ..outbound.formatting import decimal
from ..outbound.html import to_html
from .unit import Notice, Unit

log = logging.getLogger("mailbot")

# Mails that answer a customer's own mail: these count against schedule.max_auto_replies_per_day, so
# two robots can never ping-pong. Invoices, deliveries and staff replies are never held back.
AUTO_REPLY_KINDS = frozenset(f"customer:{t}" for t in (
    "ack", "requirements", "forwarded", "received_other", "proof_received", "proof_after_expiry",
    "defect_received", "complaint", "survey_thanks", "too_large", "cancel_confirm"))
_AUTO_REPLY_LIST = sorted(AUTO_REPLY_KINDS)
# Notices to the petugas that one sender's mail caused count against
# schedule.max_staff_notices_per_sender_per_day; the first one held back is replaced by FLOOD_NOTICE.
FLOOD_NOTICE = "sender_flood"
# The warning to a role that a command in its name was refused (keywords.refuse); these are capped
# apart from other notices (see _over_staff_cap).
REFUSAL_NOTICE = "refused"
_REFUSALS = [f"{role}:{REFUSAL_NOTICE}" for role in ("petugas", "bendahara")]


def notify_effect(unit: Unit, row: db.CaseRow, effect: fx.Notify, cmd: c.Command, **context) -> None:
    """The effect handler of `Notify`: a notice about the case, with the case's files of a role attached;
    `context` adds what the caller knows beyond the command (what a proof's reading found)."""
    files = unit.case_files(row, effect.attach) if effect.attach else ()
    unit.notify(row, effect.audience, effect.template, reason=getattr(cmd, "reason", ""),
                message=getattr(cmd, "text", ""), attached=len(files), attachments=files, **context)


def send_notices(unit: Unit) -> None:
    """Render every notice of the unit from the final state of its case and put it in the outbox.
    Called once, just before the unit commits."""
    notices, unit.notices = list(unit.notices.values()), {}
    for notice in notices:
        _queue(unit, notice)


def case_view(unit: Unit, row: db.CaseRow) -> SimpleNamespace:
    """What templates may say about a case."""
    case = db.to_case(row)
    # Most mails are about cases that have no document yet: skip the queries then.
    invoice = unit.current_document(row, "invoice") if row.invoice_issued else None
    receipt = unit.current_document(row, "receipt") if row.paid_on else None
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


def _recipients(unit: Unit, row: db.CaseRow | None, audience: str) -> list[str]:
    if audience == "customer":
        return [row.customer] if row else []
    roles = unit.cfg.roles
    # An office without a supervisor list: its alerts go to the petugas rather than to no one.
    return list(getattr(roles, audience) or (roles.petugas if audience == "supervisor" else ()))


def _queue(unit: Unit, notice: Notice) -> None:
    """One mail per customer (customers never see one another), one mail to a whole staff list (one
    message for the server to carry, and each of them sees who else was told)."""
    row, audience, template = notice.row, notice.audience, notice.template
    cfg = unit.cfg
    if audience != "customer" and _over_staff_cap(unit, row, audience, template):
        return
    lang = "id"
    if audience == "customer":      # a mail with no case (a complaint, a too-large mail) says its own language
        lang = notice.extra.get("language") or (row.language if row is not None else "id")
    ctx = {"office": cfg.office, "payment": cfg.payment, "tariffs": cfg.tariffs, "today": unit.today,
           "service_address": cfg.office.service_address, "case": case_view(unit, row) if row else None,
           "audience": audience, "rejected_files": [], "attachment_limit_mb": decimal(cfg.storage.max_attachment_mb),
           **notice.extra}
    addresses = list(dict.fromkeys(notice.to if notice.to is not None else _recipients(unit, row, audience)))
    if audience == "customer" and addresses == [unit.trigger_sender] and not unit.scheduled:
        ctx["rejected_files"] = unit.rejected_files     # what they sent us and we could not take
    if audience != "customer" and row is not None:
        ctx["keywords"] = unit.app.keywords.applicable(State(row.state))
    subject, body = unit.app.templates.render_mail(template, lang, **ctx)
    subject = short_subject(subject)
    if audience in ("petugas", "bendahara") and row is not None:
        subject = f"{subject} (kode {row.thread_token})"
    kind = f"{audience}:{template}"
    for bad in [a for a in addresses if not valid_address(a)]:
        # Never into an envelope: a quoted local part such as "x, victim@evil.example"@example.com is
        # a legal address that would reach someone else once anything split it at its commas.
        unit.event(row, "recipient_invalid", "system", f"{kind} not sent to {bad[:320]!r}: not a plain address")
        log.warning("action=recipient_invalid to=%r kind=%s", bad[:320], kind)
        addresses.remove(bad)
    groups = [(a,) for a in addresses] if audience == "customer" else ([tuple(addresses)] if addresses else [])
    html = to_html(subject, body) if audience == "customer" else None     # customers read on phones too
    for group in groups:
        enqueue(unit, group, subject, body, kind=kind, row=row, attachments=notice.attachments, html=html)


def _cause(unit: Unit) -> tuple[str | None, str | None]:
    """The sender (without +tag) and domain of the mail this unit handles; (None, None) for the
    scheduler and the command line."""
    if unit.scheduled or not unit.trigger_sender:
        return None, None
    return base_address(unit.trigger_sender), domain_of(unit.trigger_sender)


def _is_staff(unit: Unit, address: str | None) -> bool:
    roles = unit.cfg.roles
    return bool(address) and address in (*roles.petugas, *roles.bendahara, *roles.supervisor)


def _over_staff_cap(unit: Unit, row: db.CaseRow | None, audience: str, template: str) -> bool:
    """Whether a notice to staff that an outside sender's mail caused is held back: that sender has
    caused schedule.max_staff_notices_per_sender_per_day petugas notices today. The first one held
    back becomes one notice saying so; the mail itself is always on its case. Refusals (to petugas or
    bendahara) are counted on their own and for every sender: a refused mail is vouched for by no
    one, so its From line may show a staff address — a forger's flood in a petugas' name."""
    cause, _ = _cause(unit)
    if cause is None or template == FLOOD_NOTICE:
        return False
    refusal = template == REFUSAL_NOTICE
    if not refusal and (audience != "petugas" or _is_staff(unit, unit.trigger_sender)):
        return False
    conn, since = unit.session.connection(), unit.now - timedelta(days=1)
    cap = unit.cfg.schedule.max_staff_notices_per_sender_per_day
    counted = {"kinds": _REFUSALS} if refusal else {"kind_prefix": "petugas:"}
    if db.mails_caused_since(conn, since, cause=cause, **counted) < cap:
        return False
    unit.event(row, "notice_suppressed", "system", f"{audience}:{template} held back: {cause} caused {cap} today")
    log.warning("action=notice_suppressed cause=%s template=%s", cause, template)
    if not db.mails_caused_since(conn, since, kinds=[f"{audience}:{FLOOD_NOTICE}"], cause=cause):
        _queue(unit, Notice(row, audience, FLOOD_NOTICE, None, (), {"sender": unit.trigger_sender, "cause": cause,
                                                                      "cap": cap, "refusals": refusal}))
    return True


def enqueue(unit: Unit, to: tuple[str, ...], subject: str, body: str, *, kind: str, row: db.CaseRow | None = None,
            attachments: tuple[FilePart, ...] = (), html: str | None = None) -> None:
    """Build the message now (so a retry sends the same bytes) and put it in the outbox, unless the
    daily auto-reply cap holds it back."""
    cause, cause_domain = _cause(unit)
    if kind in AUTO_REPLY_KINDS and to == (unit.trigger_sender,) and cause is not None:
        over = _over_reply_cap(unit, cause, cause_domain)
        if over:
            unit.event(row, "reply_suppressed", "system", f"{over}: {kind}")
            log.warning("action=reply_suppressed to=%s kind=%s reason=%s", to[0], kind, over)
            return
    root = _root_id(unit, row) if row is not None else None
    message_id = f"{secrets.token_hex(12)}@{unit.cfg.office.message_id_domain}"
    env = Envelope(to=to, message_id=message_id, date=unit.now, case_ref=row.ref if row else None,
                   in_reply_to=_answers(unit, row, to, kind, root), references=(root,) if root else (),
                   scheduled=unit.scheduled)
    built = build_message(env, subject, body, from_addr=unit.cfg.office.service_address,
                          from_name=unit.cfg.smtp.from_name, attachments=attachments, html=html)
    # A Core insert, at once: an outbox row is written once and never read back in this unit, so
    # the ORM would only add bookkeeping (the case it names was flushed when it was opened).
    db.add_outbox(unit.session.connection(), message_id=message_id, case_id=row.id if row else None, kind=kind,
                  sender=unit.cfg.office.service_address, recipients=to, subject=built.subject,
                  raw=built.raw, at=unit.now, cause=cause, cause_domain=cause_domain)


def _over_reply_cap(unit: Unit, cause: str, domain: str) -> str | None:
    """Why an automatic reply to this sender is held back today, or None. Counted by the address
    without its +tag (robot+1@, robot+2@ … are one robot) and, with a higher cap, by its domain.
    Every row of this unit is in the table already: the database counts them all."""
    conn, since, s = unit.session.connection(), unit.now - timedelta(days=1), unit.cfg.schedule
    if db.mails_caused_since(conn, since, kinds=_AUTO_REPLY_LIST, cause=cause) >= s.max_auto_replies_per_day:
        return f"auto-reply cap reached for {cause}"
    by_domain = db.mails_caused_since(conn, since, kinds=_AUTO_REPLY_LIST, domain=domain)
    if by_domain >= s.max_auto_replies_per_domain_per_day:
        return f"auto-reply cap reached for the domain {domain}"
    return None


def _answers(unit: Unit, row: db.CaseRow | None, to: tuple[str, ...], kind: str, root: str | None) -> str | None:
    """The message a mail answers: the mail being handled when it came from this recipient (or a
    staff notice about it); for a customer otherwise their own latest mail on the case, so their
    client threads it — never a staff member's internal message."""
    if row is None:     # a mail about no case (a complaint on its own) still answers the customer's mail
        answering = kind.startswith("customer:") and to == (unit.trigger_sender,) and not unit.scheduled
        return unit.trigger_id if answering else None
    if kind.startswith("customer:"):
        if to == (unit.trigger_sender,) and not unit.scheduled:
            return unit.trigger_id
        return db.latest_mail_from(unit.session.connection(), row.id, to[0]) or root
    return root if unit.scheduled else unit.trigger_id


def _root_id(unit: Unit, row: db.CaseRow) -> str | None:
    """The first message of the case thread, so every client threads our mails together."""
    if row.id not in unit.roots:
        unit.roots[row.id] = db.first_mail_of(unit.session.connection(), row.id)
    return unit.roots[row.id]
