"""Raw RFC 5322 bytes to a ParsedMail: tolerant of broken charsets and clients, never crashes on a real mail."""
from __future__ import annotations

import binascii
import email
import email.header
import email.parser
import email.policy
import email.utils
import hashlib
import mimetypes
import re
from dataclasses import replace
from email.errors import InvalidBase64LengthDefect
from email.message import Message

from .address import read_from
from .html import html_to_text
from .model import ALLOWED_TYPES, Attachment, ParsedMail
from .quotes import strip_quote
from .screening import BOUNCE_LOCALS

try:  # optional: unpacks Outlook's winmail.dat
    from tnefparse.tnef import TNEF as _TNEF
except ImportError:  # pragma: no cover - depends on the installation
    _TNEF = None


class MalformedMail(ValueError):
    """The bytes are not a mail at all (empty, or no header)."""


class MailOverLimit(ValueError):
    """The mail is over a bound that keeps parsing fast and small (header block, header count, MIME
    parts): it is quarantined with this reason, never parsed."""


_POLICY = email.policy.default
_MAX_DEPTH = 30
_LONG_HEADER = 4096
# Bounds checked on the raw bytes before the stdlib parser runs: its header parsing is superlinear
# (a Cc of 60,000 addresses took 29 s, 150,000 Content-Type parameters 19 s, 1 MB lines 635 MiB).
# Real mail stays far below: a long Received chain with DKIM and ARC is about 20 KiB.
MAX_HEADER_BYTES = 128 * 1024
MAX_HEADER_FIELDS = 1000
MAX_PARTS = 500                   # MIME parts of one mail
MAX_PART_HEADER_BYTES = 8 * 1024  # the header block of one MIME part
MAX_PARTS_HEADER_BYTES = 256 * 1024  # the header blocks of all parts together
_ADDRESS_PARSE_LIMIT = 16 * 1024  # longer address headers are read by a plain scan, not the parser
MAX_ID = 250                      # a longer Message-ID is no one's: not threaded on, kept as a hash
MAX_THREAD_IDS = 100              # References beyond the newest ones say nothing we could match
# Headers that make a mail what its author wrote; the rest (Received, Delivered-To, Authentication-
# Results, …) is added on the way, and differs between two copies of one mail.
_CONTENT_HEADERS = frozenset({
    "from", "sender", "reply-to", "to", "cc", "subject", "date", "message-id", "in-reply-to", "references",
    "mime-version", "content-type", "content-transfer-encoding", "content-disposition",
})
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_FIELD_START = re.compile(rb"\n[^ \t\r\n]")
_PART_START = re.compile(rb"\n(?i:content-type)[ \t]*:")
_PART_FIELD = re.compile(rb"\n(?i:content-type|content-disposition)[ \t]*:")

# Headers of which at least one must be present for the bytes to count as a mail.
_MAIL_HEADERS = frozenset({
    "from", "to", "cc", "subject", "date", "message-id", "received", "return-path",
    "mime-version", "content-type", "sender", "reply-to", "in-reply-to", "references", "delivered-to",
})
_ADDRESS_HEADERS = frozenset({"from", "to", "cc", "reply-to", "sender", "bcc"})

_GENERIC_TYPES = frozenset({
    "application/octet-stream", "application/x-download", "application/force-download",
    "application/download", "application/unknown", "application/binary", "binary/octet-stream",
    "application/x-octet-stream", "application/x-unknown", "unknown/unknown", "application/x-binary",
})
_TYPE_ALIASES = {
    "image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "image/x-png": "image/png",
    "application/x-pdf": "application/pdf", "application/acrobat": "application/pdf",
    "application/x-zip-compressed": "application/zip", "application/x-zip": "application/zip",
    "application/vnd.ms-tnef": "application/ms-tnef", "image/x-citrix-jpeg": "image/jpeg",
}
_SIGNATURE_TYPES = frozenset({
    "application/pkcs7-signature", "application/x-pkcs7-signature", "application/pgp-signature",
})
_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
_HEIC_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis"})
_HEIF_BRANDS = frozenset({b"mif1", b"msf1"})

_MSGID_RE = re.compile(r"<([^<>]*)>")
_WS_RE = re.compile(r"\s+")
_FOLD_RE = re.compile(r"\r?\n")
_BOUNCE_SUBJECT = re.compile(
    r"(?:undeliverable|undelivered mail|delivery status notification|delivery failure|"
    r"mail delivery failed|returned mail|failure notice|mail delivery (?:system|subsystem)|"
    r"tidak terkirim|gagal terkirim|pesan tidak dapat dikirim)", re.IGNORECASE)
_INLINE_MSGID = re.compile(r"^[ \t]*Message-ID:[ \t]*<([^<>\r\n]+)>", re.IGNORECASE | re.MULTILINE)
_FORWARD_LINE = "---------- Forwarded message ---------"


# --- small helpers -----------------------------------------------------------------------

def _repair_8bit(value: str, name: str, defects: list[str]) -> str:
    """Header text holding raw 8-bit bytes (as surrogates): decode them as UTF-8, else cp1252."""
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    raw = value.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        defects.append(f"header {name}: raw 8-bit text, decoded as cp1252")
        try:
            return raw.decode("cp1252")
        except UnicodeDecodeError:
            return raw.decode("latin-1")


def _unfold(value: str) -> str:
    return _FOLD_RE.sub("", value) if "\n" in value else value


def _decode_words(value: str) -> str:
    """Fallback RFC 2047 decoding with the legacy API, tolerant of unknown charsets."""
    try:
        parts = []
        for chunk, charset in email.header.decode_header(value):
            if isinstance(chunk, bytes):
                parts.append(_decode_bytes(chunk, charset, [], "header")[0])
            else:
                parts.append(chunk)
        return "".join(parts)
    except Exception:
        return value


def _decode_bytes(data: bytes, charset: str | None, defects: list[str], where: str) -> tuple[str, str]:
    """Decode text bytes with the declared charset; on failure utf-8, then cp1252, then latin-1."""
    cs = (charset or "").strip().strip('"').lower()
    if cs in ("iso-8859-1", "latin-1", "latin1", "iso_8859-1", "iso8859-1"):
        cs = "cp1252"      # what every client really means by latin-1
    elif cs in ("gb2312", "gbk"):
        cs = "gb18030"
    if cs and cs not in ("us-ascii", "ascii"):
        try:
            return data.decode(cs), cs
        except LookupError:
            reason = f"unknown charset {cs!r}"
        except UnicodeDecodeError:
            reason = f"bytes not valid {cs}"
    else:
        try:
            return data.decode("ascii"), "ascii"
        except UnicodeDecodeError:
            reason = f"8-bit bytes with charset {cs!r}" if cs else "8-bit bytes without charset"
    for fallback in ("utf-8", "cp1252"):
        try:
            text = data.decode(fallback)
        except UnicodeDecodeError:
            continue
        defects.append(f"{where}: {reason}, decoded as {fallback}")
        return text, fallback
    defects.append(f"{where}: {reason}, decoded as latin-1")
    return data.decode("latin-1"), "latin-1"


_B64_JUNK = re.compile(rb"[^A-Za-z0-9+/]")


def _payload(part: Message) -> bytes:
    """The decoded body of a leaf part; base64 decoded leniently (truncated or badly padded mail)."""
    cte = str(part.get("content-transfer-encoding", "")).strip().lower()
    if cte == "base64":
        raw = part.get_payload(decode=False)
        if isinstance(raw, str):
            data = raw.encode("ascii", "ignore").split(b"=", 1)[0]
            data = _B64_JUNK.sub(b"", data)
            odd = len(data) % 4
            data = data[: len(data) - 1] if odd == 1 else data
            try:
                decoded = binascii.a2b_base64(data + b"=" * (-len(data) % 4))
            except (binascii.Error, ValueError):
                decoded = None
            if decoded is not None:
                if odd and not raw.rstrip().endswith("="):
                    part.defects.append(InvalidBase64LengthDefect())
                return decoded
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _strip_id(value: str) -> str:
    return _WS_RE.sub("", value)


def _id_list(value: str | None) -> tuple[str, ...]:
    """Message-IDs of In-Reply-To or References, the newest MAX_THREAD_IDS; absurdly long ones left out
    (none of ours is: they could match nothing)."""
    if not value:
        return ()
    found = [_strip_id(m) for m in _MSGID_RE.findall(value)]
    if not found:
        found = [tok.strip("<>,;") for tok in value.split() if "@" in tok]
    seen: dict[str, None] = {}
    for mid in found[-MAX_THREAD_IDS:]:
        if mid and len(mid) <= MAX_ID:
            seen.setdefault(mid, None)
    return tuple(seen)


def _message_id(value: str | None) -> str:
    """The id without <>; one longer than MAX_ID becomes "long:<sha256>" (still the same key when the
    mail comes again, never written into a mail of ours)."""
    if not value:
        return ""
    found = _MSGID_RE.search(value)
    mid = _strip_id(found.group(1) if found else value.strip())
    return "long:" + hashlib.sha256(mid.encode("utf-8", "surrogateescape")).hexdigest() if len(mid) > MAX_ID else mid


def _clean_filename(name: str) -> str:
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch >= " " and ch != "\x7f" and not "\ud800" <= ch <= "\udfff")
    name = name.strip()
    return "" if name in (".", "..") else name[:255]


def sniff_type(data: bytes) -> str | None:
    """The content type told by the first bytes, or None when they say nothing known."""
    head = data[:16]
    if head.startswith(b"%PDF-") or b"%PDF-" in data[:1024]:
        return "application/pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in _HEIC_BRANDS:
            return "image/heic"
        if brand in _HEIF_BRANDS:
            return "image/heif"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        if b"word/" in data:
            return _DOCX
        if b"xl/" in data:
            return _XLSX
        if b"ppt/" in data:
            return _PPTX
        return "application/zip"
    if head.startswith(b"\x78\x9f\x3e\x22"):
        return "application/ms-tnef"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "application/x-ole-storage"
    if head.startswith(b"MZ"):
        return "application/x-msdownload"
    if head.startswith(b"Rar!\x1a\x07"):
        return "application/vnd.rar"
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return "application/x-7z-compressed"
    if head.startswith(b"\x1f\x8b"):
        return "application/gzip"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "image/tiff"
    return None


def _resolve_type(declared: str, data: bytes, filename: str) -> str:
    ctype = _TYPE_ALIASES.get(declared, declared)
    if ctype in _GENERIC_TYPES or not ctype or "/" not in ctype:
        ctype = sniff_type(data) or "application/octet-stream"
    if ctype == "application/x-ole-storage":
        ext = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
        ctype = {"doc": "application/msword", "xls": "application/vnd.ms-excel",
                 "msg": "application/vnd.ms-outlook"}.get(ext, ctype)
    return ctype


# --- the walk over the MIME tree ---------------------------------------------------------

class _Walk:
    """Collects text pieces and attachments from a MIME tree."""

    def __init__(self, bounce_like: bool, defects: list[str]) -> None:
        self.bounce_like = bounce_like
        self.defects = defects
        self.attachments: list[Attachment] = []
        self.reported: list[str] = []

    # pieces are (kind, text) with kind "plain" or "html"
    def walk(self, part: Message, depth: int = 0, in_report: bool = False) -> list[tuple[str, str]]:
        if depth > _MAX_DEPTH:
            self.defects.append("MIME nesting too deep; rest ignored")
            return []
        try:
            return self._walk(part, depth, in_report)
        except Exception as exc:  # one unreadable part must not lose the rest of the mail
            self.defects.append(f"unreadable part ({type(exc).__name__}: {exc})"[:200])
            return []
        finally:  # read after decoding: decoding itself records defects (bad base64 …)
            self.defects.extend(type(d).__name__ for d in getattr(part, "defects", ()))

    def _walk(self, part: Message, depth: int, in_report: bool) -> list[tuple[str, str]]:
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "message/global"):
            return self._embedded(part, depth, in_report)
        if ctype == "message/delivery-status":
            return [("plain", self._status_text(part))]
        if part.is_multipart():
            children = [c for c in part.get_payload() if isinstance(c, Message)]
            if ctype == "multipart/alternative":
                return self._alternative(children, depth)
            if ctype == "multipart/related" and children:
                pieces = self.walk(children[0], depth + 1)
                for child in children[1:]:
                    self.walk(child, depth + 1)       # resources: inline images and the like
                return pieces
            report = in_report or ctype == "multipart/report"
            pieces = []
            for child in children:
                pieces.extend(self.walk(child, depth + 1, report))
            return pieces
        if ctype.startswith("multipart/"):
            self.defects.append(f"{ctype} without readable parts (boundary missing?)")
            ctype = "text/plain"
        if ctype in _SIGNATURE_TYPES:
            return []
        if ctype == "text/rfc822-headers":
            self._headers_part(part)
            return []
        filename = self._filename(part)
        disposition = part.get_content_disposition()
        if ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename:
            text, _ = _decode_bytes(_payload(part), part.get_content_charset(), self.defects, ctype)
            text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
            if ctype == "text/html":
                return [("html", html_to_text(text))]
            return [("plain", text)]
        self._attachment(part, ctype, filename, disposition)
        return []

    def _alternative(self, children: list[Message], depth: int) -> list[tuple[str, str]]:
        results = [self.walk(child, depth + 1) for child in children]
        for pieces in results:     # plain text keeps the quoting of the client: prefer it
            if pieces and all(k == "plain" for k, _ in pieces) and any(t.strip() for _, t in pieces):
                return pieces
        for pieces in reversed(results):
            if any(t.strip() for _, t in pieces):
                return pieces
        return results[0] if results else []

    def _embedded(self, part: Message, depth: int, in_report: bool) -> list[tuple[str, str]]:
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        if not isinstance(inner, Message):
            self.defects.append("message/rfc822 part without a message")
            return []
        if in_report or self.bounce_like:
            mid = _message_id(_safe_header(inner, "message-id"))
            if mid:
                self.reported.append(mid)
            return []
        lines = [_FORWARD_LINE]
        for name, label in (("from", "From"), ("date", "Date"), ("subject", "Subject"), ("to", "To")):
            value = _safe_header(inner, name)
            if value:
                lines.append(f"{label}: {value}")
        body = "\n".join(t for _, t in self.walk(inner, depth + 1))
        return [("plain", "\n".join(lines) + "\n\n" + body)]

    def _status_text(self, part: Message) -> str:
        payload = part.get_payload()
        blocks = payload if isinstance(payload, list) else []
        out = []
        for block in blocks:
            if isinstance(block, Message):
                out.extend(f"{k}: {_unfold(str(v))}" for k, v in block.raw_items())
                out.append("")
        if not blocks and isinstance(payload, str):
            out.append(payload)
        return "\n".join(out).strip()

    def _headers_part(self, part: Message) -> None:
        text, _ = _decode_bytes(_payload(part), part.get_content_charset(), self.defects, "text/rfc822-headers")
        found = re.search(r"^Message-ID:[ \t]*(.*(?:\r?\n[ \t].*)*)", text, re.IGNORECASE | re.MULTILINE)
        if found:
            mid = _message_id(found.group(1))
            if mid:
                self.reported.append(mid)

    def _filename(self, part: Message) -> str:
        try:
            name = part.get_filename() or ""
        except Exception:
            self.defects.append("unreadable attachment file name")
            name = ""
        name = _repair_8bit(name, "filename", self.defects)
        if "=?" in name:
            name = _decode_words(name)
        return _clean_filename(name)

    def _attachment(self, part: Message, ctype: str, filename: str, disposition: str | None) -> None:
        data = _payload(part)
        ctype = _resolve_type(ctype, data, filename)
        cid = part.get("content-id")
        cid = _message_id(str(cid)) if cid else None
        if ctype == "application/ms-tnef" or filename.lower() == "winmail.dat":
            if self._tnef(data):
                return
            ctype = "application/ms-tnef"
        self._add(filename, ctype, data, inline=bool(cid) and disposition != "attachment", cid=cid)

    def _add(self, filename: str, ctype: str, data: bytes, inline: bool = False,
             cid: str | None = None) -> None:
        if not filename:
            ext = mimetypes.guess_extension(ctype) or ".bin"
            filename = f"lampiran-{len(self.attachments) + 1}{ext}"
        self.attachments.append(Attachment(
            filename=filename, content_type=ctype, data=data,
            sha256=hashlib.sha256(data).hexdigest(), inline=inline, content_id=cid,
            allowed=ctype in ALLOWED_TYPES,
        ))

    def _tnef(self, data: bytes) -> bool:
        """Unpack winmail.dat into its files; False when it cannot be read."""
        if _TNEF is None:
            self.defects.append("winmail.dat kept unopened: tnefparse is not installed")
            return False
        try:
            tnef = _TNEF(data, do_checksum=False)
            found = []
            for att in tnef.attachments:
                name = att.long_filename()
                if isinstance(name, bytes):
                    name = _decode_bytes(name, "utf-8", [], "tnef")[0]
                found.append((_clean_filename(str(name).strip("\x00")), bytes(att.data or b"")))
        except Exception as exc:
            self.defects.append(f"winmail.dat unreadable ({type(exc).__name__})")
            return False
        if not found:
            self.defects.append("winmail.dat holds no attachment")
            return False
        for name, blob in found:
            ctype = sniff_type(blob) or mimetypes.guess_type(name)[0] or "application/octet-stream"
            self._add(name, ctype.lower(), blob)
        return True


def _safe_header(msg: Message, name: str) -> str:
    """One header of an embedded message, decoded, or "" (never raises)."""
    try:
        value = msg.get(name)
        return _decode_words(_unfold(str(value))) if value is not None else ""
    except Exception:
        return ""


# --- the top level -----------------------------------------------------------------------

def _read_headers(msg: Message, defects: list[str]) -> tuple[list[tuple[str, str]], dict]:
    """Every top-level header decoded, in order; plus parsed header objects of the first address/date ones."""
    out: list[tuple[str, str]] = []
    parsed: dict[str, object] = {}
    for name, raw in msg.raw_items():
        key = name.lower()
        value = _repair_8bit(raw if isinstance(raw, str) else str(raw), key, defects)
        needs_parse = (key in _ADDRESS_HEADERS and len(value) <= _ADDRESS_PARSE_LIMIT) or key == "date"
        if not needs_parse and value.isascii() and "=?" not in value:
            out.append((key, _unfold(value).strip()))
            continue
        if not needs_parse and len(value) > _LONG_HEADER:   # the modern parser is superlinear here
            out.append((key, _decode_words(_unfold(value)).strip()))
            continue
        try:
            header = _POLICY.header_fetch_parse(name, value)
            text = _unfold(str(header))
            if key not in parsed:
                parsed[key] = (header, value)
        except Exception as exc:
            defects.append(f"header {key}: unparseable ({type(exc).__name__})")
            text = _decode_words(_unfold(value))
        out.append((key, text.strip()))
    return out, parsed


def _addresses(header: object, raw: str) -> list[tuple[str, str]]:
    """(display name, lower-case addr-spec) pairs of an address header."""
    pairs: list[tuple[str, str]] = []
    try:
        for addr in header.addresses:  # type: ignore[attr-defined]
            spec = addr.addr_spec if addr.domain else ""
            pairs.append((addr.display_name or "", spec.lower()))
    except Exception:
        pairs = []
    legacy = email.utils.getaddresses([_unfold(raw)]) if ("=?" in raw or not pairs) else []
    if not pairs:
        return [(_decode_words(n), a.lower() if "@" in a else "") for n, a in legacy if n or a]
    if "=?" in raw and len(legacy) == len(pairs):
        # The modern parser keeps the space between adjacent encoded-words in a display name and
        # cannot join a UTF-8 character split across two of them (Outlook does this): decode the
        # names with the legacy decoder, which merges adjacent words before decoding.
        pairs = [(_decode_words(ln) if "=?" in ln else name, spec)
                 for (name, spec), (ln, _) in zip(pairs, legacy)]
    return pairs


def _first(headers: list[tuple[str, str]], name: str) -> str | None:
    for key, value in headers:
        if key == name:
            return value
    return None


def _return_path(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    found = _MSGID_RE.search(value)
    inner = (found.group(1) if found else value).strip()
    return inner.lower()


def _parse_bytes(raw: bytes, defects: list[str]) -> Message:
    """The stdlib parse into plain (compat32) Message objects; headers only when the structure is
    too deep. The structure is all that is asked of it: every header that is read is decoded here
    (`_read_headers`, `_safe_header`, `_filename`), not by the message objects, whose header registry
    (policy.default) re-parses a header on every access and made parsing the largest cost of intake."""
    try:
        return email.message_from_bytes(raw, policy=email.policy.compat32)
    except RecursionError:
        pass
    msg = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(raw, headersonly=True)
    del msg["content-type"]
    defects.append("MIME structure too deep: body kept as raw text")
    return msg


def header_block_end(raw: bytes) -> int:
    """Where the top header block ends (the offset of its body); MailOverLimit when it is larger than
    MAX_HEADER_BYTES or has more than MAX_HEADER_FIELDS fields. Looks at the raw bytes only."""
    found = _HEADER_END.search(raw, 0, MAX_HEADER_BYTES + 4)
    if found is None and len(raw) > MAX_HEADER_BYTES:
        end = _HEADER_END.search(raw)
        size = end.start() if end else len(raw)
        raise MailOverLimit(f"header block of {size // 1024:,} KiB, over the {MAX_HEADER_BYTES // 1024} KiB limit")
    end = found.end() if found else len(raw)
    fields = len(_FIELD_START.findall(raw, 0, end)) + 1
    if fields > MAX_HEADER_FIELDS:
        raise MailOverLimit(f"{fields:,} header fields, over the limit of {MAX_HEADER_FIELDS:,}")
    # Every MIME part has a Content-Type: counted before the parser builds thousands of parts.
    if len(_PART_START.findall(raw, end)) > MAX_PARTS:
        raise MailOverLimit(f"more than {MAX_PARTS} MIME parts")
    _scan_part_headers(raw, end)
    return end


def _scan_part_headers(raw: bytes, start: int) -> None:
    """The header blocks of MIME parts, from their Content-Type or Content-Disposition line to the
    blank line, measured on the raw bytes: a flood of parameters never reaches the parser. (A flood
    in another header of a part is linear to parse and is caught by _check_parts after it.)"""
    total, covered = 0, start
    for m in _PART_FIELD.finditer(raw, start):
        if m.start() < covered:
            continue                        # the same block as the field before
        stop = _HEADER_END.search(raw, m.start(), m.start() + MAX_PART_HEADER_BYTES + 4)
        covered = stop.end() if stop else len(raw)
        size = (stop.start() if stop else len(raw)) - m.start()
        total += size
        if size > MAX_PART_HEADER_BYTES:
            raise MailOverLimit(f"a MIME part with a header block over the {MAX_PART_HEADER_BYTES // 1024} KiB limit")
        if total > MAX_PARTS_HEADER_BYTES:
            raise MailOverLimit(f"MIME part headers of more than {MAX_PARTS_HEADER_BYTES // 1024} KiB together")


def _check_parts(msg: Message) -> None:
    """MailOverLimit when the parsed MIME tree has more than MAX_PARTS parts or a part whose own
    header block is over MAX_PART_HEADER_BYTES (its parameters would be parsed superlinearly)."""
    stack, parts, total = [msg], 0, 0
    while stack:
        part = stack.pop()
        parts += 1
        if parts > MAX_PARTS:
            raise MailOverLimit(f"more than {MAX_PARTS} MIME parts")
        if part is not msg:
            size = sum(len(k) + len(v) for k, v in part.raw_items() if isinstance(v, str))
            total += size
            if size > MAX_PART_HEADER_BYTES:
                raise MailOverLimit(f"a MIME part with a header block of {size // 1024:,} KiB, over the "
                                    f"{MAX_PART_HEADER_BYTES // 1024} KiB limit")
            if total > MAX_PARTS_HEADER_BYTES:
                raise MailOverLimit(f"MIME part headers of more than {MAX_PARTS_HEADER_BYTES // 1024} KiB together")
        payload = part.get_payload() if part.is_multipart() else None
        if isinstance(payload, list):
            stack.extend(p for p in payload if isinstance(p, Message))
        elif isinstance(payload, Message):
            stack.append(payload)


def _content_hash(msg: Message, raw: bytes, body_at: int) -> str:
    """What the author wrote: the body and the author's headers, not what servers on the way added
    (two copies of one mail, delivered twice, differ in their Received lines)."""
    h = hashlib.sha256()
    for name, value in msg.raw_items():
        if name.lower() in _CONTENT_HEADERS:
            h.update(f"{name.lower()}:{_unfold(str(value)).strip()}\n".encode("utf-8", "surrogateescape"))
    h.update(b"\0")
    h.update(raw[body_at:].replace(b"\r\n", b"\n"))
    return h.hexdigest()


def parse_message(raw: bytes) -> ParsedMail:
    """Parse one raw message. Raises MalformedMail only when the bytes are not a mail at all, and
    MailOverLimit when they are over a bound (checked before anything expensive)."""
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raise TypeError("parse_message expects bytes")
    raw = bytes(raw)
    if not raw.strip():
        raise MalformedMail("empty message")
    body_at = header_block_end(raw)
    defects: list[str] = []
    msg = _parse_bytes(raw, defects)
    if not any(name.lower() in _MAIL_HEADERS for name in msg.keys()):
        raise MalformedMail("no mail headers")
    _check_parts(msg)

    defects.extend(type(d).__name__ for d in msg.defects)
    headers, parsed = _read_headers(msg, defects)

    def addrs(name: str) -> list[tuple[str, str]]:
        if name not in parsed:
            return []
        return _addresses(*parsed[name])

    # The From line is read here, not by the header parser, which takes "a@x <b@y>" to be a@x.
    raw_froms = [_repair_8bit(str(v), "from", defects) for k, v in msg.raw_items() if k.lower() == "from"]
    line = read_from(_unfold(raw_froms[0]), _decode_words) if raw_froms else None
    from_addr = line.address if line else ""
    if len(from_addr) > 320:               # no address is this long (RFC 5321: 254); the columns hold 320
        from_addr, line = from_addr[:320], replace(line, problem=line.problem or "alamat From terlalu panjang")
    parsed_from = addrs("from")
    from_name = next((n for n, a in parsed_from if a == from_addr), "") or (line.name if line else "")
    from_problem = ("header From tidak tunggal: lebih dari satu header From" if len(raw_froms) > 1
                    else line.problem if line else "")
    date = None
    if "date" in parsed:
        try:
            date = parsed["date"][0].datetime  # type: ignore[attr-defined]
        except Exception:
            date = None
        if date is None:
            defects.append("unparseable Date header")

    subject = _first(headers, "subject") or ""
    message_id = _message_id(_first(headers, "message-id")) or "sha256:" + hashlib.sha256(raw).hexdigest()
    return_path = _return_path(_first(headers, "return-path"))

    try:
        ctype = msg.get_content_type()
        report_type = (msg.get_param("report-type", "", header="content-type") or "") if ctype == "multipart/report" else ""
        report_type = str(report_type).lower()
    except Exception:  # a Content-Type the header parser chokes on
        ctype, report_type = "text/plain", ""
        defects.append("unparseable Content-Type header")
    local = from_addr.split("@", 1)[0]
    bounce_like = (
        (ctype == "multipart/report" and report_type == "delivery-status")
        or local in BOUNCE_LOCALS or return_path == ""
        or bool(_BOUNCE_SUBJECT.match(subject))
    )

    walk = _Walk(bounce_like, defects)
    pieces = walk.walk(msg)
    text = "\n\n".join(t.strip("\n") for _, t in pieces if t.strip())
    kinds = {k for k, t in pieces if t.strip()}
    html_only = kinds == {"html"}

    reported = list(walk.reported)
    if bounce_like and not reported:
        reported = [_strip_id(m) for m in _INLINE_MSGID.findall(text)]
    if not bounce_like:
        reported = []

    return ParsedMail(
        message_id=message_id,
        from_addr=from_addr,
        from_name=from_name,
        from_problem=from_problem,
        from_shown=line.shown if line else (),
        content_sha256=_content_hash(msg, raw, body_at),
        subject=subject,
        date=date,
        to=tuple(a for _, a in addrs("to") if a),
        cc=tuple(a for _, a in addrs("cc") if a),
        reply_to=tuple(a for _, a in addrs("reply-to") if a),
        return_path=return_path,
        in_reply_to=_id_list(_first(headers, "in-reply-to")),
        references=_id_list(" ".join(v for k, v in headers if k == "references")),
        text=text,
        top_text=strip_quote(text),
        attachments=tuple(walk.attachments),
        headers=tuple(headers),
        html_only=html_only,
        reported_message_ids=tuple(dict.fromkeys(m for m in reported if m)),
        defects=tuple(dict.fromkeys(d[:200] for d in defects)),
    )
