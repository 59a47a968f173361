"""Outbound messages: one builder that every mail mailbot sends goes through."""
from __future__ import annotations

import mimetypes
import secrets
from base64 import encodebytes
from binascii import b2a_qp
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, formataddr
from urllib.parse import quote

from ..inbound.address import smtp_address
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


# Mail is written here directly rather than through email.generator: that generator folds every
# header through email.header.Header, which made building outgoing mail the largest single cost of
# intake (one inbound mail makes two or three outbound ones). What is written is simple and fixed:
# text as UTF-8 quoted-printable (readable in the raw source, kind to spam filters), attachments in
# base64 with RFC 2231 names, and RFC 2047 "Q" words only for the header values that are not ASCII.
# The tests read every shape back with the email package.
_LINE = 78                       # RFC 5322: lines SHOULD be no longer than this
_WORD = 66                       # an encoded-word this long still fits a line after "Subject: "
_Q_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!*+-/")
# A subject is shortened to this many characters (short_subject, by the caller, before it adds the
# thread code): a customer may have written 1,500 that a template repeats.
MAX_SUBJECT = 200
# A Message-ID longer than this is left out of In-Reply-To and References (it cannot be folded, and
# an absurd id is not worth threading on); RFC 5322 puts every line under 998 octets.
MAX_ID = 250


def _fold(name: str, value: str, *, structured: bool = False) -> str:
    """`Name: value`, folded at spaces. An unstructured value (a subject) that is not ASCII, or that
    holds a word too long for one line, goes out as RFC 2047 encoded words, which may be split
    anywhere; a structured one (addresses, ids) is only ever folded between its items, each short."""
    value = " ".join(value.splitlines())          # a line break in a value would start a new header
    if not structured and (not value.isascii() or any(len(w) > _LINE - len(name) - 2 for w in value.split(" "))):
        return f"{name}: " + "\n ".join(_encoded_words(value))
    out, line, words = [], f"{name}:", 0
    for word in value.split(" "):
        if words and len(line) + 1 + len(word) > _LINE:
            out.append(line)
            line, words = "", 0
        line, words = line + " " + word, words + 1
    return "\n".join([*out, line])


def short_subject(subject: str) -> str:
    """At most MAX_SUBJECT characters, cut at a space where one is near."""
    subject = " ".join(subject.split())
    if len(subject) <= MAX_SUBJECT:
        return subject
    cut = subject.rfind(" ", MAX_SUBJECT - 40, MAX_SUBJECT - 1)
    return subject[:cut if cut > 0 else MAX_SUBJECT - 1].rstrip() + "…"


def _threadable(mid: str | None) -> bool:
    """A Message-ID worth writing into In-Reply-To/References: short, with an @, nothing unsafe."""
    return bool(mid) and len(mid) <= MAX_ID and "@" in mid and mid.isascii() and \
        not any(ch in mid for ch in " <>\t\r\n\"")


def _encoded_words(value: str) -> list[str]:
    """RFC 2047 "Q" words of UTF-8 (readable in the raw source), each at most _WORD long and never
    splitting a character; the folding space between two words is not part of the text."""
    words, word = [], ""
    room = _WORD - len("=?utf-8?q??=")
    for ch in value:
        enc = ch if ch in _Q_PLAIN else "_" if ch == " " else "".join(f"={b:02X}" for b in ch.encode())
        if len(word) + len(enc) > room:
            words.append(word)
            word = ""
        word += enc
    return [f"=?utf-8?q?{w}?=" for w in (*words, word)]


def _param(name: str, value: str) -> str:
    """A MIME parameter: quoted when ASCII, else RFC 2231 UTF-8, in continuations when long."""
    value = " ".join(value.splitlines())
    if value.isascii() and len(value) <= 60:
        return f'{name}="' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    encoded = quote(value, safe="")
    if len(encoded) <= 60:
        return f"{name}*=utf-8''{encoded}"
    chunks, rest = [], encoded
    while rest:
        cut = 60
        while "%" in rest[cut - 2:cut]:          # never split a %XX escape
            cut -= 1
        chunks.append(rest[:cut])
        rest = rest[cut:]
    return ";\n ".join(f"{name}*{i}*=" + ("utf-8''" if i == 0 else "") + c for i, c in enumerate(chunks))


def _text_part(text: str) -> tuple[bytes, bytes]:
    """(content headers, body) of the text part."""
    body = b2a_qp(text.replace("\r\n", "\n").encode("utf-8"), istext=True)
    return (b'Content-Type: text/plain; charset="utf-8"\nMIME-Version: 1.0\n'
            b"Content-Transfer-Encoding: quoted-printable\n", body + (b"" if body.endswith(b"\n") else b"\n"))


def _html_part(html: str) -> tuple[bytes, bytes]:
    body = b2a_qp(html.replace("\r\n", "\n").encode("utf-8"), istext=True)
    return (b'Content-Type: text/html; charset="utf-8"\nMIME-Version: 1.0\n'
            b"Content-Transfer-Encoding: quoted-printable\n", body + (b"" if body.endswith(b"\n") else b"\n"))


def _multipart(subtype: bytes, parts: list[tuple[bytes, bytes]]) -> tuple[bytes, bytes]:
    """(content headers, body) of a multipart of these parts."""
    # base64 and quoted-printable output can never contain "=_", so the boundary cannot occur inside
    boundary = b"=_" + secrets.token_hex(16).encode("ascii")
    head = b"Content-Type: multipart/" + subtype + b'; boundary="' + boundary + b'"\nMIME-Version: 1.0\n'
    body = (b"".join(b"--" + boundary + b"\n" + h + b"\n" + b + b"\n" for h, b in parts)
            + b"--" + boundary + b"--\n")
    return head, body


def _file_part(part: FilePart) -> tuple[bytes, bytes]:
    main, sub = part.mime
    head = (f"Content-Type: {main}/{sub}\nMIME-Version: 1.0\nContent-Transfer-Encoding: base64\n"
            f"Content-Disposition: attachment; {_param('filename', part.filename)}\n")
    return head.encode("ascii"), encodebytes(part.data)


def build_message(env: Envelope, subject: str, text: str, *, from_addr: str, from_name: str,
                  attachments: tuple[FilePart, ...] = (), html: str | None = None) -> Built:
    """A complete RFC 5322 message with our threading and loop-prevention headers; with `html`, the
    text and the HTML are the two forms of one body (multipart/alternative)."""
    if env.case_ref and find_tag(subject) != env.case_ref:
        subject = f"[{env.case_ref}] {subject}"
    to = ", ".join(smtp_address(a) for a in env.to)
    in_reply_to = env.in_reply_to if _threadable(env.in_reply_to) else None
    fields = [("From", formataddr((from_name, from_addr), charset="utf-8")), ("To", to), ("Subject", subject),
              ("Date", format_datetime(env.date)), ("Message-ID", f"<{env.message_id}>")]
    if in_reply_to:
        fields.append(("In-Reply-To", f"<{in_reply_to}>"))
    refs = [r for r in (*env.references, in_reply_to) if _threadable(r)]
    if refs:
        fields.append(("References", " ".join(f"<{r}>" for r in dict.fromkeys(refs))))
    # RFC 3834: never let an autoresponder answer us, and tell Exchange the same.
    fields += [("Auto-Submitted", "auto-generated" if env.scheduled else "auto-replied"),
               ("X-Auto-Response-Suppress", "All")]
    # Only To may hold non-ASCII: an address with a non-ASCII local part is written as UTF-8 (RFC 6532)
    # and sent over SMTPUTF8; it can never be an encoded word.
    head = "\n".join(_fold(name, value, structured=name != "Subject") for name, value in fields).encode("utf-8") + b"\n"
    body_head, body = _text_part(text)
    if html is not None:
        body_head, body = _multipart(b"alternative", [(body_head, body), _html_part(html)])
    if attachments:
        body_head, body = _multipart(b"mixed", [(body_head, body), *(_file_part(p) for p in attachments)])
    return Built(body_head + head + b"\n" + body, subject)
