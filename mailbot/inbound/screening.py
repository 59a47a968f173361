"""Tell human mail from machine mail (auto replies, lists, bounces) and from our own mail coming back."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .model import ParsedMail

VERDICTS = ("human", "machine", "bounce", "own")

BOUNCE_LOCALS = frozenset({"mailer-daemon", "postmaster"})
# Local parts of machine senders: these exactly, or starting with one of the prefixes (noreply95,
# no-reply-tagihan, donotreply7, bounce-8812, bounces+abc …); the +tag is not part of the name.
_MACHINE_LOCALS = frozenset({"mailer-daemon", "postmaster"})
_MACHINE_PREFIXES = ("noreply", "no-reply", "no_reply", "no.reply", "donotreply", "do-not-reply", "do_not_reply",
                     "do.not.reply", "bounce")


def machine_local(local: str) -> bool:
    """Whether the local part of an address names a machine that no one reads."""
    local = local.lower().split("+", 1)[0]
    return local in _MACHINE_LOCALS or local.startswith(_MACHINE_PREFIXES)
_BULK_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply", "auto-reply"})
_REPORT_TYPE = re.compile(r"report-type\s*=\s*\"?([A-Za-z0-9_.-]+)", re.IGNORECASE)
# Subjects of automatic replies, in the languages our correspondents' servers speak.
_AUTO_SUBJECT = re.compile(
    r"\s*(?:automatic reply|auto(?:matic)?[ -]?reply|autoreply|out of (?:the )?office|"
    r"balasan otomatis|balas otomatis|jawaban otomatis|di luar kantor|sedang cuti|"
    r"réponse automatique|automatische antwort|abwesenheitsnotiz|respuesta automática|autosvar)\b",
    re.IGNORECASE)
# X-Auto-Response-Suppress asks *others* not to auto-reply; Exchange puts it on its auto replies, but
# transport rules and some clients also put it on ordinary human mail. Alone it does not make a mail
# machine mail unless this is True; with an auto-reply subject it always does.
SUPPRESS_ALONE_IS_MACHINE = False


@dataclass(frozen=True)
class Screening:
    """The verdict on one inbound mail and the header that decided it."""

    verdict: str   # one of VERDICTS
    reason: str


def _content_type(mail: ParsedMail) -> tuple[str, str]:
    value = mail.header("content-type") or ""
    ctype = value.split(";", 1)[0].strip().lower()
    found = _REPORT_TYPE.search(value)
    return ctype, (found.group(1).lower() if found else "")


def screen(mail: ParsedMail, own_domain: str) -> Screening:
    """Classify a parsed mail: our own, a bounce, machine mail, or a human writing."""
    own_domain = own_domain.strip().lower()
    if "@" in mail.message_id and mail.message_id.rsplit("@", 1)[1].strip().lower() == own_domain:
        return Screening("own", f"Message-ID: <{mail.message_id}>")

    ctype, report_type = _content_type(mail)
    local = mail.from_addr.split("@", 1)[0] if "@" in mail.from_addr else ""
    if ctype == "multipart/report" and report_type == "delivery-status":
        return Screening("bounce", "Content-Type: multipart/report; report-type=delivery-status")
    if mail.reported_message_ids:
        if local in BOUNCE_LOCALS:
            return Screening("bounce", f"From: {mail.from_addr}")
        if mail.return_path == "":
            return Screening("bounce", "Return-Path: <>")

    auto = mail.header("auto-submitted")
    if auto is not None and auto.split(";", 1)[0].strip().lower() not in ("no", ""):
        return Screening("machine", f"Auto-Submitted: {auto.strip()}")
    for name in ("precedence", "x-precedence"):
        value = (mail.header(name) or "").strip().lower()
        if value in _BULK_PRECEDENCE:
            label = "Precedence" if name == "precedence" else "X-Precedence"
            return Screening("machine", f"{label}: {value}")
    for name, label in (("list-id", "List-Id"), ("list-unsubscribe", "List-Unsubscribe"),
                        ("x-autoreply", "X-Autoreply"), ("x-autorespond", "X-Autorespond"),
                        ("x-autoreply-from", "X-AutoReply-From"), ("x-mail-autoreply", "X-Mail-Autoreply")):
        value = mail.header(name)
        if value is not None:
            return Screening("machine", f"{label}: {value.strip()}"[:200])
    suppress = mail.header("x-auto-response-suppress")
    if suppress is not None and (SUPPRESS_ALONE_IS_MACHINE or _AUTO_SUBJECT.match(mail.subject)):
        return Screening("machine", f"X-Auto-Response-Suppress: {suppress.strip()}")
    if mail.return_path == "":
        return Screening("machine", "Return-Path: <>")
    if machine_local(local):
        return Screening("machine", f"From: {mail.from_addr}")
    if ctype == "multipart/report":
        return Screening("machine", f"Content-Type: multipart/report; report-type={report_type or '?'}")
    return Screening("human", "no machine header")
