"""The outbox drained to SMTP: retries with exponential backoff and jitter, 5xx marked failed."""
from __future__ import annotations

import asyncio
import logging
import random
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import aiosmtplib
from sqlalchemy import select

from .adapters import db
from .adapters.smtp import (
    SendAuthError,
    SendError,
    SendPermanentError,
    SendTemporaryError,
)

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


class SmtpSession:
    """One SMTP connection reused for many messages of a drain; reopened after any error.

    Errors are classified exactly as ``mailbot.adapters.smtp.send`` does: SendPermanentError for a
    5xx answer, SendTemporaryError (incl. SendAuthError) for everything that may work later."""

    def __init__(self, host: str, port: int, security: str, username: str | None = None,
                 password: str | None = None, timeout: float = 30.0, ssl_context: ssl.SSLContext | None = None):
        if security not in ("ssl", "starttls", "none"):
            raise ValueError(f"security must be ssl, starttls or none, not {security!r}")
        self.host, self.port, self.security = host, port, security
        self.username, self.password = username or None, password or None
        self.timeout, self.ssl_context = timeout, ssl_context
        self.where = f"{host}:{port}"
        self.opened = 0               # connections made (for tests and the benchmark)
        self._smtp: aiosmtplib.SMTP | None = None
        self._used = False            # the open connection has carried a message already

    async def _open(self) -> aiosmtplib.SMTP:
        smtp = aiosmtplib.SMTP(hostname=self.host, port=self.port, timeout=self.timeout,
                               use_tls=self.security == "ssl", start_tls=self.security == "starttls",
                               tls_context=self.ssl_context if self.security != "none" else None)
        await smtp.connect()
        try:
            if self.username:
                await smtp.login(self.username, self.password or "")
        except BaseException:
            smtp.close()
            raise
        self.opened += 1
        self._used = False
        return smtp

    async def send(self, raw: bytes, sender: str, recipient: str) -> None:
        """Deliver one message to one recipient; raises SendTemporaryError or SendPermanentError."""
        reused = self._smtp is not None and self._used
        try:
            await self._send_once(raw, sender, recipient)
        except SendTemporaryError as exc:
            # A server may drop an idle or busy connection between messages (or answer 421): that says
            # nothing about this message, so try it once more on a fresh connection. Not after a timeout:
            # the server may have taken the message without our hearing the answer.
            if not (reused and _connection_gone(exc.__cause__)):
                raise
            log.info("action=smtp_reconnect where=%s error=%s", self.where, exc)
            await self._send_once(raw, sender, recipient)

    async def _send_once(self, raw: bytes, sender: str, recipient: str) -> None:
        try:
            if self._smtp is None or not self._smtp.is_connected:
                self._smtp = await self._open()
            self._used = True
            await self._smtp.sendmail(sender, [recipient], raw)
        except Exception as exc:      # classified below; the connection is not trusted again
            await self.close()
            classified = _classify(exc, self.where, self.username)
            if classified is None:
                raise
            raise classified from exc

    async def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            if smtp.is_connected:
                await asyncio.wait_for(smtp.quit(), timeout=min(self.timeout, 5))
        except Exception:             # noqa: BLE001 - a goodbye that fails changes nothing
            smtp.close()


def _connection_gone(exc: BaseException | None) -> bool:
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return exc.code == 421
    return isinstance(exc, (aiosmtplib.SMTPServerDisconnected, ConnectionError)) and \
        not isinstance(exc, aiosmtplib.SMTPConnectError)


def _classify(exc: BaseException, where: str, username: str | None) -> SendError | None:
    """The error mapping of mailbot.adapters.smtp.send, for a message sent on a kept connection."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        details = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
        codes = [r.code for r in exc.recipients]
        worst = min(codes) if codes else None
        if any(400 <= c < 500 for c in codes):
            return SendTemporaryError(f"{where} refused all recipients for now ({details})", worst, details)
        return SendPermanentError(f"{where} refused all recipients ({details})", worst, details)
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return SendAuthError(f"{where} refused the SMTP login of {username!r}: {exc.code} {exc.message}",
                             exc.code, exc.message)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        step = _step(exc)
        if 500 <= exc.code < 600:
            return SendPermanentError(f"{where} rejected the message ({step}): {exc.code} {exc.message}",
                                      exc.code, exc.message)
        return SendTemporaryError(f"{where} deferred the message ({step}): {exc.code} {exc.message}",
                                  exc.code, exc.message)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return SendTemporaryError(f"the TLS certificate of {where} is not trusted: {exc}")
    if isinstance(exc, (aiosmtplib.SMTPTimeoutError, asyncio.TimeoutError, TimeoutError)):
        return SendTemporaryError(f"SMTP server {where} timed out: {exc}")
    if isinstance(exc, (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPServerDisconnected, OSError)):
        return SendTemporaryError(f"SMTP server {where} is unreachable: {exc}")
    if isinstance(exc, aiosmtplib.SMTPNotSupported):
        return SendTemporaryError(f"SMTP server {where} does not support what the configuration asks: {exc}")
    if isinstance(exc, aiosmtplib.SMTPException):
        if "auth" in str(exc).lower():
            return SendAuthError(f"SMTP login at {where} is not possible: {exc}")
        return SendTemporaryError(f"SMTP error with {where}: {exc}")
    return None


def _step(exc: aiosmtplib.SMTPResponseException) -> str:
    if isinstance(exc, aiosmtplib.SMTPSenderRefused):
        return f"sender {exc.sender}"
    if isinstance(exc, aiosmtplib.SMTPDataError):
        return "DATA"
    if isinstance(exc, aiosmtplib.SMTPHeloError):
        return "HELO"
    if isinstance(exc, aiosmtplib.SMTPConnectResponseError):
        return "greeting"
    return "reply"


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
