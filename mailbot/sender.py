"""The outbox drained to SMTP: retries with exponential backoff and jitter, 5xx marked failed."""
from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from .adapters import db
from .adapters.smtp import SendPermanentError, SendTemporaryError, SmtpSession

log = logging.getLogger("mailbot")

BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=2)
MAX_ATTEMPTS = 20            # about a day and a half of retries before a mail is given up on
MAX_PASSES = 5               # a drain also sends what it queued itself (failure notices), this many rounds


def backoff(attempts: int, rng: random.Random = random.Random()) -> timedelta:
    """Delay before attempt `attempts + 1`: doubling from 30 s to 2 h, times a jitter of 0.5-1.5."""
    base = min(BACKOFF_FIRST * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)
    return base * rng.uniform(0.5, 1.5)


@dataclass
class DrainResult:
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    connections: int = 0
    errors: list[str] = field(default_factory=list)


def session_for(cfg) -> SmtpSession:
    s = cfg.smtp
    return SmtpSession(s.host, s.port, s.security, s.username or None, s.password or None, s.timeout_seconds)


async def drain(app, now: Callable[[], datetime], *, stop: Callable[[], bool] = lambda: False,
                smtp: SmtpSession | None = None) -> DrainResult:
    """Send every outbox row due at `now()` over one kept SMTP connection; each row's outcome is
    committed on its own right after the server answered. Rows queued while draining (the petugas
    notice about a failed mail) go out in the same call. Tests skip a backoff by passing a later `now`."""
    result = DrainResult()
    session_smtp = smtp or session_for(app.cfg)
    seen: set[int] = set()
    try:
        for _ in range(MAX_PASSES):
            with app.sessions() as session:
                due = [i for i in session.scalars(select(db.OutboxRow.id).where(
                    db.OutboxRow.status == "pending", db.OutboxRow.next_attempt_at <= now())
                    .order_by(db.OutboxRow.id)).all() if i not in seen]
            if not due:
                break
            seen.update(due)
            # Nothing leaves the machine before the commits that queued it are on disk.
            await asyncio.to_thread(app.make_durable)
            if not await _send_rows(app, due, now, stop, session_smtp, result):
                break
    finally:
        await session_smtp.close()
        result.connections = session_smtp.opened
    return result


async def _send_rows(app, due: list[int], now, stop, smtp: SmtpSession, result: DrainResult) -> bool:
    """Send the rows in `due`; False when the round must end (stop asked, or the server is unwell)."""
    for row_id in due:
        if stop():
            return False
        with app.sessions.begin() as session:
            row = session.get(db.OutboxRow, row_id)
            if row is None or row.status != "pending":
                continue
            try:
                await smtp.send(row.raw, row.sender, row.recipient)
            except SendPermanentError as exc:
                row.attempts += 1
                _fail(app, session, row, now(), str(exc))
                result.failed += 1
                result.errors.append(str(exc))
                continue
            except SendTemporaryError as exc:
                row.attempts += 1
                row.last_error = str(exc)[:2000]
                if row.attempts >= MAX_ATTEMPTS:
                    _fail(app, session, row, now(), f"gave up after {row.attempts} attempts: {exc}")
                    result.failed += 1
                else:
                    row.next_attempt_at = now() + backoff(row.attempts)
                    result.deferred += 1
                log.warning("action=send_deferred outbox=%s to=%s attempts=%s error=%s", row.id, row.recipient,
                            row.attempts, exc)
                result.errors.append(str(exc))
                # The server is likely down for every other row too: stop here, try again next round.
                return False
            row.status = "sent"
            row.attempts += 1
            row.sent_at = now()
            result.sent += 1
            log.info("action=sent outbox=%s message_id=%s to=%s kind=%s", row.id, row.message_id, row.recipient,
                     row.kind)
    return True


def _fail(app, session, row: db.OutboxRow, at: datetime, error: str) -> None:
    """A mail that can never go: mark it, audit it, and tell the petugas (never about their own notices)."""
    from .unit import Unit
    row.status = "failed"
    row.last_error = error[:2000]
    case = session.get(db.CaseRow, row.case_id) if row.case_id else None
    unit = Unit(app, session, at, scheduled=True)
    unit.event(case, "send_failed", "system", f"{row.recipient}: {error[:500]}")
    log.error("action=send_failed outbox=%s to=%s error=%s", row.id, row.recipient, error)
    if not row.kind.startswith(("petugas:", "supervisor:")):
        unit.notify(case, "petugas", "send_failed", recipient=row.recipient, error=error[:1000],
                    failed_subject=row.subject)
