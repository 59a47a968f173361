"""SMTP with aiosmtplib: one message, or many over a kept connection; failures are temporary or permanent."""

from __future__ import annotations

import asyncio
import email.message
import logging
import ssl
from dataclasses import dataclass, field
from typing import Literal

import aiosmtplib

log = logging.getLogger("mailbot")

Security = Literal["ssl", "starttls", "none"]


class SendError(Exception):
    """Sending failed. ``code`` and ``text`` hold the server's reply when there was one."""

    def __init__(self, message: str, code: int | None = None, text: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.text = text


class SendTemporaryError(SendError):
    """Try again later: server down or unreachable, timeout, 4xx reply, or a setup problem
    (login, TLS) that an administrator can fix without the mail being lost."""


class SendAuthError(SendTemporaryError):
    """The server refused the SMTP login (or offers no usable AUTH). Kept in the outbox."""


class SendPermanentError(SendError):
    """The server refused this message for good (5xx): do not retry it."""


@dataclass(frozen=True)
class SendResult:
    """Accepted by the server. ``refused`` lists recipients rejected while others were accepted."""

    response: str
    accepted: tuple[str, ...]
    refused: dict[str, tuple[int, str]] = field(default_factory=dict)


async def send(message: email.message.EmailMessage | bytes, *, sender: str, recipients: list[str],
               host: str, port: int, security: Security, username: str | None = None,
               password: str | None = None, timeout: float = 30.0,
               ssl_context: ssl.SSLContext | None = None,
               local_hostname: str | None = None) -> SendResult:
    """Deliver *message* to the SMTP server for the given envelope.

    ``security``: "ssl" (implicit TLS, port 465), "starttls" (required, never
    silently skipped) or "none" (plain; no opportunistic STARTTLS). The whole
    exchange is bounded by ``timeout`` per network step.
    Raises SendTemporaryError (incl. SendAuthError) or SendPermanentError.
    """
    if security not in ("ssl", "starttls", "none"):
        raise ValueError(f"security must be ssl, starttls or none, not {security!r}")
    if not recipients:
        raise ValueError("no recipients")
    where = f"{host}:{port}"
    try:
        refused, response = await aiosmtplib.send(
            message, sender=sender, recipients=list(recipients), hostname=host, port=port,
            username=username, password=password, timeout=timeout,
            use_tls=security == "ssl", start_tls=security == "starttls",
            tls_context=ssl_context if security != "none" else None,
            local_hostname=local_hostname,
        )
    except Exception as exc:
        classified = classify(exc, where, username)
        if classified is None:
            raise
        raise classified from exc
    accepted = tuple(r for r in recipients if r not in refused)
    return SendResult(response=response, accepted=accepted,
                      refused={r: (resp.code, resp.message) for r, resp in refused.items()})


def classify(exc: BaseException, where: str, username: str | None) -> SendError | None:
    """What a failure means for the outbox: permanent (5xx) or temporary (all else); None if not SMTP's."""
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
        # Only a refusal of this message (its DATA) is final. A 5xx at the greeting, HELO or MAIL FROM
        # is the server's or our configuration's problem: the mail waits until that is fixed.
        if 500 <= exc.code < 600 and isinstance(exc, aiosmtplib.SMTPDataError):
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


class SmtpSession:
    """One SMTP connection reused for many messages of a drain; reopened after any error.

    Errors are classified as for ``send``: SendPermanentError for a 5xx answer, SendTemporaryError
    (incl. SendAuthError) for everything that may work later."""

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

    async def send(self, raw: bytes, sender: str, recipients: list[str]) -> dict[str, tuple[int, str]]:
        """Deliver one message; returns the recipients the server refused while it took the others.
        Raises SendTemporaryError or SendPermanentError (every recipient refused counts as the latter)."""
        reused = self._smtp is not None and self._used
        try:
            return await self._send_once(raw, sender, recipients)
        except SendTemporaryError as exc:
            # A server may drop an idle or busy connection between messages (or answer 421): that says
            # nothing about this message, so try it once more on a fresh connection. Not after a timeout:
            # the server may have taken the message without our hearing the answer.
            if not (reused and _connection_gone(exc.__cause__)):
                raise
            log.info("action=smtp_reconnect where=%s error=%s", self.where, exc)
            return await self._send_once(raw, sender, recipients)

    async def _send_once(self, raw: bytes, sender: str, recipients: list[str]) -> dict[str, tuple[int, str]]:
        # An address with a non-ASCII local part (or UTF-8 in the header it is written in) can only
        # travel over SMTPUTF8 (RFC 6531); a server that does not offer it can never take this mail.
        utf8 = needs_smtputf8(raw, sender, recipients)
        try:
            if self._smtp is None or not self._smtp.is_connected:
                self._smtp = await self._open()
            self._used = True
            if utf8:
                if self._smtp.is_ehlo_or_helo_needed:
                    await self._smtp.ehlo()
                if not self._smtp.supports_extension("smtputf8"):
                    wide = ", ".join(r for r in recipients if not r.isascii()) or "its headers"
                    raise SendPermanentError(f"the SMTP server {self.where} does not offer SMTPUTF8, which this "
                                             f"mail needs for the non-ASCII address {wide}")
            refused, _ = await self._smtp.sendmail(sender, list(recipients), raw,
                                                   mail_options=["SMTPUTF8"] if utf8 else None)
            return {r: (resp.code, resp.message) for r, resp in refused.items()}
        except SendPermanentError:
            raise
        except Exception as exc:      # classified below; the connection is not trusted again
            await self.close()
            classified = classify(exc, self.where, self.username)
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


def needs_smtputf8(raw: bytes, sender: str, recipients: list[str]) -> bool:
    return not (sender.isascii() and all(r.isascii() for r in recipients) and raw.isascii())


def _connection_gone(exc: BaseException | None) -> bool:
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return exc.code == 421
    return isinstance(exc, (aiosmtplib.SMTPServerDisconnected, ConnectionError)) and \
        not isinstance(exc, aiosmtplib.SMTPConnectError)
