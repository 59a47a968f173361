"""Wiring: the IMAP watcher, the scheduler and the outbox sender in one asyncio process."""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Callable

from .adapters.imap import MailboxError
from .intake import mailbox_for, process_pending
from .jobs import run_due
from .sender import drain

log = logging.getLogger("mailbot")
Clock = Callable[[], datetime]


def fetch_once(app, clock: Clock, stop: Callable[[], bool] = lambda: False) -> dict[str, int]:
    """Connect, make sure the folders exist, handle every pending mail (blocking: run it in a thread)."""
    with mailbox_for(app.cfg) as box:
        box.ensure_folders(create=app.cfg.imap.create_folders)
        return process_pending(app, box, clock, stop=stop)


async def run_once(app, clock: Clock) -> dict:
    """`mailbot run --once`: all pending mail, all due jobs, then the outbox, and exit."""
    result: dict = {}
    try:
        result["mail"] = await asyncio.to_thread(fetch_once, app, clock)
    except MailboxError as exc:
        log.error("action=fetch_failed error=%s", exc)
        result["imap_error"] = str(exc)
    result["jobs"] = await asyncio.to_thread(run_due, app, clock())
    sent = await drain(app, clock)
    result["outbox"] = {"sent": sent.sent, "deferred": sent.deferred, "failed": sent.failed}
    return result
