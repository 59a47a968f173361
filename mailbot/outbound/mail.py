"""Outbound messages: one builder that every mail mailbot sends goes through."""
from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from ..inbound.correlate import find_tag


@dataclass(frozen=True)
class FilePart:
    filename: str
    data: bytes
    content_type: str = ""

    @property
    def mime(self) -> tuple[str, str]:
        ctype = self.content_type or mimetypes.guess_type(self.filename)[0] or "application/octet-stream"
        main, _, sub = ctype.partition("/")
        return main, sub


@dataclass(frozen=True)
class Envelope:
    """Where a mail goes and what it answers; `scheduled` marks mail no inbound mail caused."""

    to: tuple[str, ...]
    message_id: str                          # without <>, on our domain
    date: datetime
    case_ref: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    scheduled: bool = False
    reply_to: str | None = None


def build_message(env: Envelope, subject: str, text: str, *, from_addr: str, from_name: str,
                  attachments: tuple[FilePart, ...] = ()) -> EmailMessage:
    """A complete RFC 5322 message with our threading and loop-prevention headers."""
    msg = EmailMessage()
    if env.case_ref and find_tag(subject) != env.case_ref:
        subject = f"[{env.case_ref}] {subject}"
    user, _, domain = from_addr.partition("@")
    msg["From"] = Address(from_name, user, domain)
    msg["To"] = ", ".join(env.to)
    if env.reply_to:
        msg["Reply-To"] = env.reply_to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(env.date)
    msg["Message-ID"] = f"<{env.message_id}>"
    if env.in_reply_to:
        msg["In-Reply-To"] = f"<{env.in_reply_to}>"
    refs = [*env.references, *([env.in_reply_to] if env.in_reply_to else [])]
    if refs:
        msg["References"] = " ".join(f"<{r}>" for r in dict.fromkeys(refs))
    # RFC 3834: never let an autoresponder answer us, and tell Exchange the same.
    msg["Auto-Submitted"] = "auto-generated" if env.scheduled else "auto-replied"
    msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(text)
    for part in attachments:
        main, sub = part.mime
        msg.add_attachment(part.data, maintype=main, subtype=sub, filename=part.filename)
    return msg
