"""Send one message over SMTP with aiosmtplib; failures become temporary or permanent errors."""

from __future__ import annotations

import asyncio
import email.message
import ssl
from dataclasses import dataclass, field
from typing import Literal

import aiosmtplib

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
    except aiosmtplib.SMTPRecipientsRefused as exc:
        # every recipient refused; temporary when any of them may succeed later
        details = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
        codes = [r.code for r in exc.recipients]
        worst = min(codes) if codes else None
        if any(400 <= c < 500 for c in codes):
            raise SendTemporaryError(f"{where} refused all recipients for now ({details})", worst, details) from exc
        raise SendPermanentError(f"{where} refused all recipients ({details})", worst, details) from exc
    except aiosmtplib.SMTPAuthenticationError as exc:
        raise SendAuthError(f"{where} refused the SMTP login of {username!r}: {exc.code} {exc.message}",
                            exc.code, exc.message) from exc
    except aiosmtplib.SMTPResponseException as exc:
        step = _step(exc)
        if 500 <= exc.code < 600:
            raise SendPermanentError(f"{where} rejected the message ({step}): {exc.code} {exc.message}",
                                     exc.code, exc.message) from exc
        raise SendTemporaryError(f"{where} deferred the message ({step}): {exc.code} {exc.message}",
                                 exc.code, exc.message) from exc
    except ssl.SSLCertVerificationError as exc:
        raise SendTemporaryError(f"the TLS certificate of {where} is not trusted: {exc}") from exc
    except (aiosmtplib.SMTPTimeoutError, asyncio.TimeoutError, TimeoutError) as exc:
        raise SendTemporaryError(f"SMTP server {where} timed out: {exc}") from exc
    except (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPServerDisconnected, OSError) as exc:
        raise SendTemporaryError(f"SMTP server {where} is unreachable: {exc}") from exc
    except aiosmtplib.SMTPNotSupported as exc:
        raise SendTemporaryError(f"SMTP server {where} does not support what the configuration asks: {exc}") from exc
    except aiosmtplib.SMTPException as exc:
        if "auth" in str(exc).lower():
            raise SendAuthError(f"SMTP login at {where} is not possible: {exc}") from exc
        raise SendTemporaryError(f"SMTP error with {where}: {exc}") from exc
    accepted = tuple(r for r in recipients if r not in refused)
    return SendResult(response=response, accepted=accepted,
                      refused={r: (resp.code, resp.message) for r, resp in refused.items()})


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
