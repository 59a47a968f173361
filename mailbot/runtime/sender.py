"""The outbox drained to SMTP: retries with exponential backoff and jitter, 5xx marked failed."""
from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update

from ..adapters import db
from ..adapters.smtp import SendPermanentError, SendTemporaryError, SmtpSession
from ..inbound.address import smtp_address, valid_address
from .retry import backoff_seconds

log = logging.getLogger("mailbot")

BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=2)
ATTEMPTS_BEFORE_ALERT = 15   # about a day of retries: the supervisor list is told the mail waits
SEND_LEASE = timedelta(minutes=10)   # a claimed row is due again after this, should the sender die
CLAIM_BATCH = 50             # rows claimed in one transaction
MAX_PASSES = 5               # a drain also sends what it queued itself (failure notices), this many rounds


def backoff(attempts: int, rng: random.Random = random.Random()) -> timedelta:
    """Delay before attempt `attempts + 1`: doubling from 30 s to 2 h, times a jitter of 0.5-1.5."""
    return timedelta(seconds=backoff_seconds(attempts, BACKOFF_FIRST.total_seconds(), BACKOFF_MAX.total_seconds(),
                                             rng))


@dataclass
class DrainResult:
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    connections: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: "DrainResult") -> None:
        """Fold a later drain of the same run into this one."""
        self.sent += other.sent
        self.deferred += other.deferred
        self.failed += other.failed
        self.connections += other.connections
        self.errors += other.errors

    def counts(self) -> dict[str, int]:
        return {"sent": self.sent, "deferred": self.deferred, "failed": self.failed}


def session_for(cfg) -> SmtpSession:
    s = cfg.smtp
    return SmtpSession(s.host, s.port, s.security, s.username or None, s.password or None, s.timeout_seconds)


async def drain(app, now: Callable[[], datetime], *, stop: Callable[[], bool] = lambda: False,
                smtp: SmtpSession | None = None) -> DrainResult:
    """Send every outbox row due at `now()` over one kept SMTP connection; each row's outcome is
    committed on its own right after the server answered. Rows queued while draining (the petugas
    notice about a failed mail) go out in the same call. Tests skip a backoff by passing a later `now`.
    A caller that passes `smtp` keeps the connection open for its next drain and closes it itself."""
    result = DrainResult()
    session_smtp = smtp or session_for(app.cfg)
    opened_before = session_smtp.opened
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
        if smtp is None:
            await session_smtp.close()
        result.connections = session_smtp.opened - opened_before
    return result


async def _send_rows(app, due: list[int], now, stop, smtp: SmtpSession, result: DrainResult) -> bool:
    """Send the rows in `due`; False when the round must end (stop asked, or the server is unwell).

    Rows are claimed a batch at a time in one short transaction (their next attempt moved a lease
    ahead), sent with no transaction open — SMTP may take long, and the intake must be able to commit
    meanwhile — and each outcome is recorded in a short transaction of its own. A crash mid-send
    leaves the row due again when the lease ends, or at once when the next instance starts
    (`release_claims`): it is sent again with the same Message-ID, never lost."""
    with app.engine.connect() as conn:      # one connection for the round; a transaction per step
        for start in range(0, len(due), CLAIM_BATCH):
            claimed = _claim(conn, due[start:start + CLAIM_BATCH], now())
            for n, (row_id, raw, sender, recipients) in enumerate(claimed):
                if stop():
                    _unclaim(conn, [c[0] for c in claimed[n:]], now())
                    return False
                refused: dict[str, tuple[int, str]] = {}
                try:
                    plain, unfit = _envelope(db.recipients_of(recipients))
                    if not plain:
                        raise SendPermanentError(f"no recipient is a plain address; never handed to SMTP: {unfit!r}")
                    refused = {**await smtp.send(raw, sender, plain), **{r: (0, "not a plain address") for r in unfit}}
                    error = None
                except (SendPermanentError, SendTemporaryError) as exc:
                    error = exc
                except Exception as exc:    # noqa: BLE001 - this row's own fault: it must not stop the others
                    log.exception("action=send_crashed outbox=%s", row_id)
                    error = SendPermanentError(f"mailbot could not send this mail: {type(exc).__name__}: {exc}")
                if not _record(app, conn, row_id, error, now, result, refused):
                    # The server is likely down for every other row too: stop, try again next round.
                    _unclaim(conn, [c[0] for c in claimed[n + 1:]], now())
                    return False
    return True


def _envelope(recipients: list[str]) -> tuple[list[str], list[str]]:
    """(the addresses to hand to SMTP, as A-labels; those never to be handed over). The mailer checks
    every address before it queues a mail; a row from an older release may hold anything, and the SMTP
    library re-parses what it is given ("x<victim@evil.example>@example.com" would go to the victim)."""
    plain = [smtp_address(r) for r in recipients if valid_address(r)]
    return plain, [r for r in recipients if not valid_address(r)]


# Core statements, built once: they run for every mail sent, where building one costs more than running it.
_T = db.OutboxRow.__table__
_DUE = (select(_T.c.id, _T.c.raw, _T.c.sender, _T.c.recipients)
        .where(_T.c.id.in_(bindparam("ids", expanding=True)), _T.c.status == "pending",
               _T.c.next_attempt_at <= bindparam("at")).order_by(_T.c.id))
_SET_CLAIM = (update(_T).where(_T.c.id.in_(bindparam("ids", expanding=True)))        # claim, or give back
              .values(claimed_at=bindparam("claim"), next_attempt_at=bindparam("due")))
_SENT = (update(_T).where(_T.c.id == bindparam("row"))
         .values(status="sent", sent_at=bindparam("at"), attempts=_T.c.attempts + 1, claimed_at=None)
         .returning(_T.c.message_id, _T.c.recipient, _T.c.kind, _T.c.case_id))
_SENT_REFUSED = _SENT.values(last_error=bindparam("error"))


def _claim(conn, ids: list[int], at: datetime) -> list[tuple[int, bytes, str, str]]:
    """Claim the rows of `ids` still pending and due; returns what is needed to send them."""
    with conn.begin():                      # Core, no ORM session: this runs for every batch sent
        # others were sent, or claimed by another sender
        rows = conn.execute(_DUE, {"ids": ids, "at": at}).all()
        if rows:
            conn.execute(_SET_CLAIM, {"ids": [r.id for r in rows], "claim": at, "due": at + SEND_LEASE})
        return [tuple(r) for r in rows]


def _unclaim(conn, ids: list[int], at: datetime) -> None:
    """Give claimed rows back, due at once (the round ended before they were sent)."""
    if ids:
        with conn.begin():
            conn.execute(_SET_CLAIM, {"ids": ids, "claim": None, "due": at})


def _record(app, conn, row_id: int, error, now, result: DrainResult, refused: dict[str, tuple[int, str]]) -> bool:
    """Write one outcome; False when the error was temporary (the round should end). `refused`: the
    recipients of a staff list the server turned down while it took the mail for the others."""
    if error is None:
        # The common case in one statement on a Core connection, committed at once (a crash after the
        # send and before this commit sends the mail again, with the same Message-ID); the row is not
        # loaded again (its raw bytes are large).
        note = "; ".join(f"{r}: {code} {text}" for r, (code, text) in refused.items())
        params = {"row": row_id, "at": now()}
        if refused:                      # else the error of an earlier attempt stays on record
            params["error"] = f"refused: {note}"[:2000]
        with conn.begin():
            message_id, recipient, kind, case_id = conn.execute(_SENT_REFUSED if refused else _SENT, params).one()
            if refused:
                db.add_event(conn, case_id, now(), "send_refused", "system", note[:1000])
        result.sent += 1
        log.info("action=sent outbox=%s message_id=%s to=%s kind=%s", row_id, message_id, recipient, kind)
        if refused:
            log.warning("action=send_refused outbox=%s refused=%s", row_id, note)
        return True
    with app.sessions.begin() as session:
        row = session.get(db.OutboxRow, row_id)
        row.attempts += 1
        row.claimed_at = None
        result.errors.append(str(error))
        if isinstance(error, SendPermanentError):
            app.send_failed(session, row, now(), str(error))
            result.failed += 1
            return True
        # Temporary: retried for as long as it takes (a mail is never lost because SMTP was down);
        # the supervisor hears once when a mail has waited about a day.
        row.last_error = str(error)[:2000]
        row.next_attempt_at = now() + backoff(row.attempts)
        result.deferred += 1
        if row.attempts == ATTEMPTS_BEFORE_ALERT:
            app.send_waiting(session, row, now())
        log.warning("action=send_deferred outbox=%s to=%s attempts=%s error=%s", row.id, row.recipient,
                    row.attempts, error)
        return False


def release_claims(app, at: datetime) -> int:
    """At start, holding the instance lock: rows a dead sender had claimed are due again now."""
    with app.sessions.begin() as session:
        rows = session.scalars(select(db.OutboxRow).where(db.OutboxRow.status == "pending",
                                                          db.OutboxRow.claimed_at.is_not(None))).all()
        for row in rows:
            row.claimed_at, row.next_attempt_at = None, at
    if rows:
        log.warning("action=claims_released count=%s", len(rows))
    return len(rows)
