"""The parsed form of one inbound mail: what every later step reads instead of raw bytes."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# Attachment types the office accepts; anything else is kept but flagged, never opened.
ALLOWED_TYPES = frozenset({
    "application/pdf",
    "image/jpeg",
    "image/png",
    "image/heic",
    "image/heif",
    "image/webp",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/zip",
})


@dataclass(frozen=True)
class Attachment:
    """One attached (or inline) file; stored later under its sha256, never under filename."""

    filename: str          # display name only, decoded (RFC 2231 / 2047), never a path
    content_type: str      # lower-case, sniffed from the bytes where the declared one is generic
    data: bytes
    sha256: str
    inline: bool = False   # an inline image referenced by cid:
    content_id: str | None = None
    allowed: bool = True   # content_type in ALLOWED_TYPES

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class ParsedMail:
    """Everything mailbot needs from one message, decoded and normalised."""

    message_id: str                      # without <>; "sha256:<hex of raw>" when the mail has none
    from_addr: str                       # lower-case addr-spec, "" when unparseable
    from_name: str
    # Why the From line cannot say who wrote (several addresses, another address in the display
    # name, more than one From header); "" when it names one mailbox. Such a mail never commands.
    from_problem: str = ""
    from_shown: tuple[str, ...] = ()     # every address the From line shows, the real one first
    content_sha256: str = ""             # the author's headers and the body: tells two copies apart
    subject: str = ""                        # decoded, unfolded
    date: datetime | None = None
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    reply_to: tuple[str, ...] = ()
    return_path: str | None = None       # None: header absent; "": empty (<>), i.e. a bounce
    in_reply_to: tuple[str, ...] = ()    # message ids without <>
    references: tuple[str, ...] = ()
    text: str = ""                       # the whole body as text (HTML converted)
    top_text: str = ""                   # what the sender wrote: quote and signature removed
    attachments: tuple[Attachment, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()   # every header, (lower-case name, decoded value), in order
    html_only: bool = False
    # For delivery reports: the Message-IDs of the original mail(s) that bounced.
    reported_message_ids: tuple[str, ...] = ()
    defects: tuple[str, ...] = ()        # what was wrong and tolerated (bad charset, …)

    def header(self, name: str) -> str | None:
        """The first value of a header, or None."""
        name = name.lower()
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def header_all(self, name: str) -> list[str]:
        name = name.lower()
        return [value for key, value in self.headers if key == name]

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """Message ids this mail answers, nearest first (In-Reply-To, then References newest first)."""
        seen: dict[str, None] = {}
        for mid in (*self.in_reply_to, *reversed(self.references)):
            seen.setdefault(mid, None)
        return tuple(seen)
