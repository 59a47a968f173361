"""One inbound mail in one unit: record it, screen it, find its case and hand it to who it is from."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import select

from ..adapters import db
from ..domain.states import FINAL, State
from ..inbound import intent
from ..inbound.address import base_address, domain_of
from ..inbound.auth import verdict as auth_verdict
from ..inbound.correlate import find_tag
from ..inbound.language import language
from ..inbound.model import ParsedMail
from ..inbound.parse import parse_message
from ..inbound.screening import Screening, screen
from ..outbound.formatting import decimal
from .keywords import StaffMail, refuse, run_keywords, send_transcript, thread_token
from .unit import Unit

log = logging.getLogger("mailbot")

# Customer mail goes to this handler (bootstrap hands it in): (unit, mail, case, stored files) -> (outcome, case).
CustomerHandler = Callable[[Unit, ParsedMail, "db.CaseRow | None", "dict[str, db.FileRow]"],
                           "tuple[str, db.CaseRow | None]"]


@dataclass(frozen=True)
class Outcome:
    """What became of one inbound mail (logged, and used by tests)."""

    message_id: str
    action: str
    case_ref: str | None = None


def handle_mail(app, raw: bytes, *, now: datetime, uid: int | None = None,
                uidvalidity: int | None = None) -> Outcome:
    """Parse, decide and record one mail in ONE transaction. Raises on malformed or unexpected input
    (the caller quarantines the mail); commits nothing in that case."""
    started = time.monotonic()
    mail = parse_message(raw)
    with app.unit(now) as unit:
        key = _answering(unit, mail, uid)
        if key is None:
            return Outcome(mail.message_id, "duplicate")
        conn = unit.session.connection()
        verdict = screen(mail, app.cfg.office.message_id_domain)
        inbound_id = db.add_inbound(conn, message_id=key, uid=uid, uidvalidity=uidvalidity,
                                    sender=mail.from_addr, subject=mail.subject, verdict=verdict.verdict,
                                    raw_path=app.storage.put_raw(raw), at=now, content_sha256=mail.content_sha256)
        action, row = _route(unit, mail, verdict, inbound_id)
        db.finish_inbound(conn, inbound_id, action, row.id if row else None)
        ref = row.ref if row is not None else None
    log.info("action=%s message_id=%s uid=%s case=%s duration_ms=%d", action, mail.message_id, uid, ref,
             (time.monotonic() - started) * 1000)
    return Outcome(mail.message_id, action, ref)


def record_key(unit: Unit, mail: ParsedMail, uid: int | None) -> str | None:
    """The Message-ID to record this mail under, or None when it is a mail we have already (which
    leaves an event and a log line: nothing taken from the mailbox goes unrecorded). Another mail
    under a Message-ID we know (other author headers or body, DECISIONS) is a new mail: it is
    recorded under that id with its content hash appended."""
    conn = unit.session.connection()
    known = db.inbound_by_message_id(conn, mail.message_id)
    key = mail.message_id
    if known is not None and known.content_sha256 not in (None, mail.content_sha256):
        key = f"{mail.message_id}#{mail.content_sha256[:16]}"
        again = db.inbound_by_message_id(conn, key)
        if again is None:
            unit.event(None, "message_id_reused", mail.from_addr[:320],
                       f"Message-ID <{mail.message_id}> is already recorded with other content; handled as a new mail")
            log.warning("action=message_id_reused message_id=%s uid=%s", mail.message_id, uid)
            return key
        known = again
    if known is None:
        return key
    row = unit.session.get(db.CaseRow, known.case_id) if known.case_id else None
    unit.event(row, "duplicate", mail.from_addr[:320], f"Message-ID <{mail.message_id}> again (uid={uid}); "
                                                       "recorded before, nothing done")
    log.info("action=duplicate message_id=%s uid=%s case=%s", mail.message_id, uid, row.ref if row else None)
    return None


def _route(unit: Unit, mail: ParsedMail, verdict: Screening, inbound_id: int) -> tuple[str, db.CaseRow | None]:
    cfg = unit.cfg
    if verdict.verdict == "own" or mail.from_addr == cfg.office.service_address:
        return "ignored_own", None
    if not mail.from_addr:
        raise ValueError("the mail has no usable sender address (From)")
    if verdict.verdict == "bounce":
        return _bounce(unit, mail)
    if verdict.verdict == "machine":
        row = find_case(unit.session, mail)
        unit.event(row, "machine_mail", mail.from_addr, verdict.reason)
        return "ignored_machine", row
    stored = _store_attachments(unit, mail, inbound_id)
    row = find_case(unit.session, mail)
    role = role_of(unit, mail)
    if role is not None:
        return _staff(unit, mail, row, role, stored), row
    if _opens_case(mail, row):
        latest = _over_case_cap(unit, mail)
        if latest is not None:
            return _file_over_cap(unit, mail, latest, stored), latest
    return unit.app.customer_handler(unit, mail, row, stored)


def role_of(unit: Unit, mail: ParsedMail) -> str | None:
    """The staff role the sender writes in; someone on both lists is bendahara when answering a digest.
    A From line that shows a listed address anywhere but names no single mailbox (DESIGN §5, issue
    14) is taken in that role too, only to be refused."""
    roles, address = unit.cfg.roles, mail.from_addr
    if mail.from_problem:
        address = next((a for a in mail.from_shown if a in (*roles.petugas, *roles.bendahara)), None)
        if address is None:
            return None
    if address in roles.bendahara and (address not in roles.petugas or _digest_of(unit, mail)):
        return "bendahara"
    if address in roles.petugas:
        return "petugas"
    return None


def _digest_of(unit: Unit, mail: ParsedMail) -> str | None:
    """The digest a mail answers: the code in its subject, when we sent a digest with it."""
    code = thread_token(mail)
    if code and unit.session.scalar(select(db.DigestTokenRow.id).where(db.DigestTokenRow.digest_id == code)
                                    .limit(1)):
        return code
    return None


def _attachment_limit(unit: Unit) -> float:
    return unit.cfg.storage.max_attachment_mb * 1024 * 1024


def _opens_case(mail: ParsedMail, row: db.CaseRow | None) -> bool:
    """Whether the customer handler would open a case for this mail (a new request, or a mail to a
    finished case other than the answer to the satisfaction question)."""
    if row is None:
        return True
    if State(row.state) not in FINAL:
        return False
    rates = (row.state == State.CLOSED.value and row.rating is None and mail.from_addr == row.customer
             and intent.satisfaction_score(mail.top_text or mail.text) is not None)
    return not rates


def _over_case_cap(unit: Unit, mail: ParsedMail) -> db.CaseRow | None:
    """The sender's latest case when they opened schedule.max_new_cases_per_day cases in the last day
    (counted by the address without its +tag), else None."""
    base, cap = base_address(mail.from_addr), unit.cfg.schedule.max_new_cases_per_day
    opened = [r for r in db.cases_opened_since(unit.session.connection(), domain_of(mail.from_addr),
                                               unit.now - timedelta(days=1)) if base_address(r[2]) == base]
    return unit.session.get(db.CaseRow, opened[-1][0]) if len(opened) >= cap else None


def _file_over_cap(unit: Unit, mail: ParsedMail, row: db.CaseRow, stored: dict[str, db.FileRow]) -> str:
    """A request over the daily cap of new cases: filed to the sender's latest case, no answer; the
    petugas are told once a day per sender."""
    for f in stored.values():
        f.case_id = row.id
    text = mail.top_text or mail.text
    unit.event(row, "request_over_cap", mail.from_addr, f"{mail.subject[:200]}: {text[:1800]}")
    log.warning("action=request_over_cap sender=%s case=%s", mail.from_addr, row.ref)
    base = base_address(mail.from_addr)
    if not db.mails_caused_since(unit.session.connection(), unit.now - timedelta(days=1),
                                 kinds=["petugas:cases_capped"], cause=base):
        unit.notify(row, "petugas", "cases_capped", sender=mail.from_addr, base=base,
                    cap=unit.cfg.schedule.max_new_cases_per_day, message=text[:3000], subject=mail.subject)
    return "over_case_cap"


def _store_attachments(unit: Unit, mail: ParsedMail, inbound_id: int) -> dict[str, db.FileRow]:
    """Record every attachment; store the bytes of the allowed ones (type and size). A refused one is
    recorded, not kept: it stays only in the raw mail."""
    limit = _attachment_limit(unit)
    stored: dict[str, db.FileRow] = {}
    for a in mail.attachments:
        refused = a.size > limit or not (a.allowed or a.inline)      # an inline logo of another type is no loss
        if refused and all(r["sha256"] != a.sha256 for r in unit.rejected_files):
            unit.rejected_files.append({"filename": a.filename, "size_mb": decimal(a.size / 2**20, ".1f"),
                                        "too_large": a.size > limit, "sha256": a.sha256})
        if a.sha256 in stored:
            continue
        allowed = a.allowed and a.size <= limit
        if allowed:
            unit.app.storage.put(a.data)
        stored[a.sha256] = db.FileRow(inbound_id=inbound_id, sha256=a.sha256, filename=a.filename[:255],
                                      content_type=a.content_type, size=a.size, role="attachment",
                                      allowed=allowed, created_at=unit.now)
        unit.session.add(stored[a.sha256])
    unit.session.flush()
    return {sha: f for sha, f in stored.items() if f.allowed}


def find_case(session, mail: ParsedMail) -> db.CaseRow | None:
    """DESIGN §3: a Message-ID we know in In-Reply-To/References first, then the subject tag."""
    ids = list(mail.thread_ids)
    if ids:
        known = db.cases_by_message_id(session.connection(), ids)
        for mid in ids:
            if mid in known:
                return session.get(db.CaseRow, known[mid])
    tag = find_tag(mail.subject)
    if tag:
        return session.scalar(select(db.CaseRow).where(db.CaseRow.ref == tag))
    return None


def _bounce(unit: Unit, mail: ParsedMail) -> tuple[str, db.CaseRow | None]:
    ids = list(mail.reported_message_ids)
    out = unit.session.scalar(select(db.OutboxRow).where(db.OutboxRow.message_id.in_(ids)).limit(1)) \
        if ids else None
    row = unit.session.get(db.CaseRow, out.case_id) if out is not None and out.case_id else None
    if row is None:
        unit.event(None, "bounce_unmatched", mail.from_addr, mail.subject[:500])
        return "bounce_unmatched", None
    unit.event(row, "bounce", mail.from_addr, f"{out.recipient}: {mail.top_text[:1000] or mail.text[:1000]}")
    if out.kind.startswith("customer:"):     # a bounced notice to staff is recorded, never re-notified
        unit.notify(row, "petugas", "bounce", recipient=out.recipient, report=(mail.text or "")[:3000])
    return "bounce", row


def _staff(unit: Unit, mail: ParsedMail, row: db.CaseRow | None, role: str, stored: dict[str, db.FileRow]) -> str:
    """DESIGN §5: a command counts from a listed sender whose mail is vouched for; else it is refused.
    Our server's pass vouches; its fail refuses whatever token the mail carries; with no verdict of
    ours, the thread token (the digest's, for the bendahara) must be there. A From line that names no
    single mailbox never commands."""
    if mail.from_problem:
        refuse(unit, mail, row, role, f"{mail.from_problem}; email dengan baris From seperti ini tidak pernah "
                                      "menjalankan perintah")
        return "refused"
    said = auth_verdict(mail, unit.cfg.security.authserv_id)
    if said.failed:
        refuse(unit, mail, row, role, said.why)
        return "refused"
    digest_id = None
    if role == "bendahara":
        digest_id = _digest_of(unit, mail)
        token_ok = digest_id is not None
    else:
        token = thread_token(mail)
        token_ok = row is not None and token is not None and token == row.thread_token
    if not (said.passed or token_ok):
        refuse(unit, mail, row, role, f"{said.why}, dan kode utas tidak cocok")
        return "refused"
    files = tuple(sha for sha in (a.sha256 for a in mail.attachments if not a.inline) if sha in stored)
    for sha in files:
        stored[sha].case_id = row.id if row is not None else None
    sm = StaffMail(unit, mail, row, files, digest_id=digest_id)
    run_keywords(sm, role)
    if role == "petugas":
        for sha in files:
            stored[sha].role = "deliverable"
    send_transcript(sm, role)
    return "staff"


def _answering(unit: Unit, mail: ParsedMail, uid: int | None) -> str | None:
    """The unit now answers this mail (threading, reply caps); the key to record it under, or None when
    the very same mail was handled before."""
    unit.trigger_id, unit.trigger_sender = mail.message_id, mail.from_addr
    return record_key(unit, mail, uid)


def handle_oversized(app, headers: bytes, *, size: int, now: datetime, uid: int | None = None,
                     uidvalidity: int | None = None) -> Outcome:
    """A mail over max_message_mb: not downloaded; a human sender is told the limit, once."""
    mail = parse_message(headers + b"\r\n")
    with app.unit(now) as unit:
        key = _answering(unit, mail, uid)
        if key is None:
            return Outcome(mail.message_id, "duplicate")
        conn = unit.session.connection()
        db.add_inbound(conn, message_id=key, uid=uid, uidvalidity=uidvalidity, sender=mail.from_addr,
                       subject=mail.subject, verdict="too_large", outcome="too_large", at=now,
                       content_sha256=mail.content_sha256)
        row = find_case(unit.session, mail)
        unit.event(row, "too_large", mail.from_addr, f"{size} bytes")
        if screen(mail, app.cfg.office.message_id_domain).verdict == "human" and mail.from_addr:
            unit.notify(row, "customer", "too_large", to=[mail.from_addr], size_mb=round(size / 2**20, 1),
                        limit_mb=app.cfg.storage.max_message_mb, subject=mail.subject,
                        language=None if row is not None else language(mail.subject))   # the body is unread
    log.warning("action=too_large message_id=%s uid=%s size=%s", mail.message_id, uid, size)
    return Outcome(mail.message_id, "too_large")


def record_quarantine(app, uid: int | None, uidvalidity: int | None, error: str, now: datetime) -> None:
    """A mail mailbot could not handle went to the quarantine folder: audit it. The supervisors hear
    of it in the next hourly summary (a scheduled job), not once per mail: a flood of 245 hostile
    mails is one mail to them, not 245."""
    with app.unit(now, scheduled=True) as unit:
        unit.event(None, "quarantined", "system", f"uid={uid} uidvalidity={uidvalidity}: {error[:1500]}")
