"""Outbound messages: one builder that every mail mailbot sends goes through."""
from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from datetime import datetime
from email import encoders, policy
from email.charset import QP, Charset
from email.header import Header
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr

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


@dataclass(frozen=True)
class Built:
    """A finished message: the bytes to send and keep, and its subject as shown to people."""

    raw: bytes
    subject: str


# The compat32 message classes build a mail about five times faster than EmailMessage's header
# registry, which matters when one inbound mail makes three outbound ones. Text goes out as UTF-8
# quoted-printable (readable in the raw source, kind to spam filters).
_UTF8_QP = Charset("utf-8")
_UTF8_QP.header_encoding = QP
_UTF8_QP.body_encoding = QP


def _header(value: str, name: str) -> str | Header:
    # A Header object lets the generator fold the first line knowing the field name's length.
    return value if value.isascii() else Header(value, "utf-8", header_name=name)


def build_message(env: Envelope, subject: str, text: str, *, from_addr: str, from_name: str,
                  attachments: tuple[FilePart, ...] = ()) -> Built:
    """A complete RFC 5322 message with our threading and loop-prevention headers."""
    if env.case_ref and find_tag(subject) != env.case_ref:
        subject = f"[{env.case_ref}] {subject}"
    body = MIMEText(text, "plain", _UTF8_QP)
    if attachments:
        msg = MIMEMultipart("mixed")
        msg.attach(body)
        for part in attachments:
            main, sub = part.mime
            item = MIMEBase(main, sub)
            item.set_payload(part.data)
            encoders.encode_base64(item)
            # RFC 2231 for names that are not plain ASCII (Outlook and Gmail read it)
            name = part.filename if part.filename.isascii() else ("utf-8", "", part.filename)
            item.add_header("Content-Disposition", "attachment", filename=name)
            msg.attach(item)
    else:
        msg = body
    msg["From"] = formataddr((from_name, from_addr), charset="utf-8")
    msg["To"] = ", ".join(env.to)
    msg["Subject"] = _header(subject, "Subject")
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
    return Built(msg.as_bytes(policy=policy.compat32), subject)
