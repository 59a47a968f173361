"""Take every message from the mailbox: size check, handle in one transaction, then move it."""
from __future__ import annotations

import logging
import traceback
from datetime import datetime
from typing import Callable

from .adapters import db
from .adapters.imap import Mailbox, MessageNotFound

log = logging.getLogger("mailbot")


def mailbox_for(cfg) -> Mailbox:
    i = cfg.imap
    return Mailbox(i.host, i.port, i.security, i.username, i.password, mailbox=i.mailbox,
                   processed_folder=i.processed_folder, quarantine_folder=i.quarantine_folder,
                   timeout=i.timeout_seconds)


def process_pending(app, box: Mailbox, now: Callable[[], datetime], *,
                    stop: Callable[[], bool] = lambda: False) -> dict[str, int]:
    """Handle all messages now in the mailbox; returns counts per outcome. The IMAP move happens only
    after the transaction committed, so a crash at any point leaves the mail to be seen again, and the
    Message-ID record makes the second sight a no-op."""
    counts: dict[str, int] = {}
    limit = int(app.cfg.storage.max_message_mb * 1024 * 1024)
    for p in box.pending():
        if stop():
            break
        try:
            if p.size > limit:
                outcome = app.handle_oversized(box.fetch_headers(p.uid), size=p.size, now=now(), uid=p.uid,
                                               uidvalidity=p.uidvalidity)
                folder = app.cfg.imap.quarantine_folder
            else:
                outcome = app.handle_mail(box.fetch(p.uid), now=now(), uid=p.uid, uidvalidity=p.uidvalidity)
                folder = app.cfg.imap.processed_folder
            action = outcome.action
        except MessageNotFound:
            continue                    # someone else moved it meanwhile
        except Exception as exc:        # noqa: BLE001 - one bad mail must never block the next
            log.error("action=quarantine uid=%s error=%s\n%s", p.uid, exc, traceback.format_exc())
            app.record_quarantine(p.uid, p.uidvalidity, f"{type(exc).__name__}: {exc}", now())
            folder, action = app.cfg.imap.quarantine_folder, "quarantined"
        box.move(p.uid, folder)
        counts[action] = counts.get(action, 0) + 1
    app.set_status("last_fetch", now().isoformat())
    return counts
