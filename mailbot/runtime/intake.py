"""Take every message from the mailbox: size check, handle in one transaction, then move it."""
from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from datetime import datetime

from ..adapters.imap import Mailbox, MailboxError, MessageNotFound

log = logging.getLogger("mailbot")

# Handled messages are moved in groups of this many: one MOVE per group and folder instead of one per
# message. Every message in a group has already committed, so a crash before the MOVE only means the
# group is seen again and each mail is recognised as a duplicate by its Message-ID.
MOVE_BATCH = 20
# Mails are downloaded this many at a time, in one FETCH (one round trip per mail was about a tenth of
# the intake's time), and never more than FETCH_BYTES together, so memory stays bounded.
FETCH_BATCH = 20
FETCH_BYTES = 8 * 1024 * 1024


def mailbox_for(cfg) -> Mailbox:
    i = cfg.imap
    return Mailbox(i.host, i.port, i.security, i.username, i.password, mailbox=i.mailbox,
                   processed_folder=i.processed_folder, quarantine_folder=i.quarantine_folder,
                   timeout=i.timeout_seconds)


def process_pending(app, box: Mailbox, now: Callable[[], datetime], *,
                    stop: Callable[[], bool] = lambda: False,
                    on_moved: Callable[[], None] = lambda: None) -> dict[str, int]:
    """Handle all messages now in the mailbox; returns counts per outcome. The IMAP move happens only
    after the transaction committed, so a crash at any point leaves the mail to be seen again, and the
    Message-ID record makes the second sight a no-op. `on_moved` is called after each group of handled
    mails is durable and moved: what they queued may be sent from then on (the sender need not wait
    for the whole mailbox)."""
    counts: dict[str, int] = {}
    limit = int(app.cfg.storage.max_message_mb * 1024 * 1024)
    mover = _Mover(box, app, on_moved)
    fetched: dict[int, bytes] = {}
    batches = True                          # until the server refuses one: then each mail alone
    try:
        pending = box.pending()
        for n, p in enumerate(pending):
            if stop():
                break
            if batches and p.size <= limit and not fetched:
                batch = _prefetch(box, pending[n:], limit)
                batches, fetched = batch is not None, batch or {}
            try:
                if p.size > limit:
                    # never downloaded whole: only the header block, to tell the sender the limit
                    outcome = app.handle_oversized(box.fetch_headers(p.uid), size=p.size, now=now(), uid=p.uid,
                                                   uidvalidity=p.uidvalidity)
                    folder = app.cfg.imap.quarantine_folder
                else:
                    raw = fetched.pop(p.uid, None) or box.fetch(p.uid)    # one the batch missed: ask again
                    outcome = app.handle_mail(raw, now=now(), uid=p.uid, uidvalidity=p.uidvalidity)
                    folder = app.cfg.imap.processed_folder
                action = outcome.action
            except MessageNotFound:
                continue                    # someone else moved it meanwhile
            except Exception as exc:        # one bad mail must never block the next
                if isinstance(exc, MailboxError) and not box.connected:
                    raise                   # the connection is gone, not the mail: it stays for the next run
                log.error("action=quarantine uid=%s error=%s\n%s", p.uid, exc, traceback.format_exc())
                app.record_quarantine(p.uid, p.uidvalidity, f"{type(exc).__name__}: {exc}", now())
                folder, action = app.cfg.imap.quarantine_folder, "quarantined"
            mover.add(p.uid, folder)
            counts[action] = counts.get(action, 0) + 1
    except BaseException:
        mover.flush_quietly()               # what committed may still leave the inbox; the error goes on
        raise
    mover.flush()
    app.set_status("last_fetch", now().isoformat())
    return counts


def _prefetch(box: Mailbox, ahead: list, limit: int) -> dict[int, bytes] | None:
    """The next mails within the size limit, downloaded together (at least the first of them); None
    when the server refuses the batch."""
    uids, total = [], 0
    for p in ahead:
        if len(uids) == FETCH_BATCH or (uids and total + p.size > FETCH_BYTES):
            break
        if p.size <= limit:
            uids.append(p.uid)
            total += p.size
    try:
        return box.fetch_many(uids)
    except MailboxError:
        if not box.connected:
            raise                           # the connection is gone: the mails stay for the next run
        return None                         # a server that refuses batches: each mail is fetched alone


class _Mover:
    """Handled UIDs waiting for their MOVE, per target folder; made durable before they move."""

    def __init__(self, box: Mailbox, app, on_moved: Callable[[], None]):
        self.box = box
        self.app = app
        self.on_moved = on_moved
        self.waiting: dict[str, list[int]] = {}

    def add(self, uid: int, folder: str) -> None:
        self.waiting.setdefault(folder, []).append(uid)
        if sum(len(u) for u in self.waiting.values()) >= MOVE_BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.waiting:
            return
        self.app.make_durable()             # what the mailbox forgets must be on our disk first
        for folder in list(self.waiting):
            self.box.move(self.waiting[folder], folder)
            del self.waiting[folder]
        self.on_moved()

    def flush_quietly(self) -> None:
        if not self.box.connected:
            return                          # the next run sees these again and skips them as duplicates
        try:
            self.flush()
        except Exception as exc:           # noqa: BLE001 - the original error matters more
            log.warning("action=move_failed error=%s", exc)
