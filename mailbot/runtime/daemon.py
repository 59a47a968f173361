"""Wiring: the IMAP watcher, the scheduler and the outbox sender in one asyncio process.

`mailbot run` is `run_forever`: an IMAP watcher in a worker thread (imapclient is synchronous), a
payment-proof reader in another (OCR runs there, never in the intake), the outbox sender and an
APScheduler job on the event loop, SIGTERM/SIGINT to stop, SIGHUP to reload the templates. Tunables are
the module constants below (deliberately not configuration):

  IDLE_SECONDS               IDLE is re-issued after this long (RFC 2177: before 29 minutes); every
                             re-issue also looks at the whole mailbox, so it doubles as a slow poll.
  RECONNECT_FIRST/MAX        reconnect delay: doubling from 1 s to 5 min, times a jitter of 0.5-1.5.
  SEND_INTERVAL              the sender looks at the outbox at least this often (deferred rows).
  SHUTDOWN_SECONDS           the mail in hand, the SMTP attempt in progress and a last drain of what
                             is due get this long together.
  READER_IDLE                the proof reader looks at its queue at least this often.
"""
from __future__ import annotations

import asyncio
import logging
import os
import random
import signal
import socket
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Callable

from sqlalchemy import delete

from ..adapters import db
from ..adapters.imap import Mailbox, MailboxError
from ..adapters.lock import InstanceLock, LockHeld, acquire_lock, mailbox_identity
from ..outbound.templates import TemplateError
from .intake import mailbox_for, process_pending
from .retry import backoff_seconds
from .sender import DrainResult, drain, release_claims, session_for

log = logging.getLogger("mailbot")
Clock = Callable[[], datetime]

IDLE_SECONDS = 10 * 60
RECONNECT_FIRST = 1.0
RECONNECT_MAX = 300.0
SEND_INTERVAL = 5.0
SHUTDOWN_SECONDS = 8.0
READER_IDLE = 60.0
LOCK_CHECK_SECONDS = 60.0
JOB_TABLE = "apscheduler_jobs"          # APScheduler's own table, in the mailbot database
JOB_ID = "mailbot-run-due"
JOB_MINUTES = 1
MISFIRE_GRACE = int(timedelta(days=7).total_seconds())
DOWN_STATUS = "imap_down_alerted"       # status row: the supervisor was told (survives a restart)

# Stored APScheduler jobs name a module-level function, never an object: the running daemon is found here.
_RUNNING: dict[str, "Daemon"] = {}


def fetch_once(app, clock: Clock, stop: Callable[[], bool] = lambda: False,
               on_moved: Callable[[], None] = lambda: None) -> dict[str, int]:
    """Connect, make sure the folders exist, handle every pending mail (blocking: run it in a thread)."""
    with mailbox_for(app.cfg) as box:
        box.ensure_folders(create=app.cfg.imap.create_folders)
        return process_pending(app, box, clock, stop=stop, on_moved=on_moved)


async def run_once(app, clock: Clock) -> dict:
    """`mailbot run --once`: all pending mail, all due jobs, then the outbox, and exit.
    Takes the single-instance lock (raises LockHeld while a daemon works the mailbox).

    As in the daemon, the outbox is sent while the mailbox is still being worked: each group of
    handled mails, once durable and moved, wakes the sender, which keeps one SMTP connection."""
    smtp = session_for(app.cfg)
    lock = acquire_lock(app.cfg, app.engine)
    queued, intake_over = threading.Event(), threading.Event()
    app.proof_listeners.append(queued.set)
    try:
        release_claims(app, clock())
        app.release_proof_claims(clock())
        result: dict = {}
        loop, wake, intake_done = asyncio.get_running_loop(), asyncio.Event(), asyncio.Event()
        # Proofs are read beside the intake, from the first committed one: OCR never holds a mail up.
        reader = asyncio.create_task(asyncio.to_thread(_read_until_done, app, clock, queued, intake_over))
        sending = asyncio.create_task(_send_while_intake(app, clock, smtp, wake, intake_done))
        try:
            result["mail"] = await asyncio.to_thread(fetch_once, app, clock,
                                                     on_moved=lambda: loop.call_soon_threadsafe(wake.set))
        except MailboxError as exc:
            log.error("action=fetch_failed error=%s", exc)
            result["imap_error"] = str(exc)
        finally:
            intake_done.set()
            wake.set()
            sent = await sending
            intake_over.set()
            queued.set()
        if not sent.deferred:               # the answers of the intake go now, while proofs are still read
            sent.add(await drain(app, clock, smtp=smtp))
        result["proofs"] = await reader
        result["jobs"] = await asyncio.to_thread(app.run_jobs, clock())
        made = await asyncio.to_thread(app.daily_backup, clock())
        if made:
            result["backup"] = str(made)
        if not sent.deferred:               # a server found unwell in this run is not asked again
            sent.add(await drain(app, clock, smtp=smtp))
        result["outbox"] = sent.counts()
        return result
    finally:
        app.proof_listeners.remove(queued.set)
        await smtp.close()
        lock.release()


def _read_until_done(app, clock: Clock, queued: threading.Event, intake_over: threading.Event) -> int:
    """`run --once`'s proof reader: every file queued during the intake, then return how many were read."""
    read = 0
    while True:
        queued.clear()
        read += app.read_proofs(clock)
        if intake_over.is_set() and not app.proofs_waiting(clock()):
            return read
        queued.wait(0.5)


async def _send_while_intake(app, clock: Clock, smtp, wake: asyncio.Event,
                             intake_done: asyncio.Event) -> DrainResult:
    """Drain each time intake moved a group of mails, until intake is done or the SMTP server is found
    unwell (a mail deferred); what was sent, all drains together."""
    sent = DrainResult()
    while not sent.deferred:
        await wake.wait()
        wake.clear()
        if intake_done.is_set():
            break                           # the final drain, after the jobs, takes the rest
        try:
            sent.add(await drain(app, clock, smtp=smtp))
        except Exception as exc:            # noqa: BLE001 - the final drain tries again
            log.error("action=drain_failed error=%s", _one_line(exc))
    return sent


async def run_forever(app, clock: Clock) -> int:
    """`mailbot run`: until SIGTERM/SIGINT; 0 on a clean stop, 1 when another instance holds the
    mailbox (its pid/host/start are printed) or the lock was lost."""
    try:
        return await Daemon(app, clock).run()
    except LockHeld as exc:
        print(f"mailbot: {exc}", file=sys.stderr)
        return 1


async def scheduled_tick() -> None:
    """The stored APScheduler job: run every due job of the running daemon at the current instant."""
    daemon = _RUNNING.get("daemon")
    if daemon is None:
        log.warning("action=tick_skipped reason=no_daemon")
        return
    await daemon.tick()


def reconnect_delay(failures: int, rng: random.Random = random.Random()) -> float:
    """Seconds before reconnect attempt `failures + 1`."""
    return backoff_seconds(failures, RECONNECT_FIRST, RECONNECT_MAX, rng)


class Daemon:
    """One running `mailbot run`; `request_stop()` (or SIGTERM) ends `run()`."""

    def __init__(self, app, clock: Clock):
        self.app, self.clock = app, clock
        self.identity = mailbox_identity(app.cfg)
        self.stopping = threading.Event()            # read by the watcher thread and drain()
        self.work = threading.Lock()                 # mail batches and job ticks never interleave
        self.exit_code = 0
        self.lock: InstanceLock | None = None
        self._idle_guard = threading.Lock()
        self._idling: Mailbox | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._stop: asyncio.Event | None = None
        self._signals: list[int] = []
        self._backup: threading.Thread | None = None
        self._proofs = threading.Event()             # set by a commit that queued proof files

    # --- life cycle -------------------------------------------------------------------------
    async def run(self) -> int:
        self._loop = asyncio.get_running_loop()
        self._wake, self._stop = asyncio.Event(), asyncio.Event()
        self.lock = acquire_lock(self.app.cfg, self.app.engine)
        release_claims(self.app, self.clock())
        self.app.release_proof_claims(self.clock())
        self.app.proof_listeners.append(self._proofs.set)
        scheduler = None
        try:
            _RUNNING["daemon"] = self
            self._install_signals()
            scheduler = self._start_scheduler()
            watcher = threading.Thread(target=self._watch, name="imap-watcher", daemon=True)
            watcher.start()
            reader = threading.Thread(target=self._read_proofs, name="proof-reader", daemon=True)
            reader.start()
            sender = asyncio.create_task(self._send_loop(), name="outbox-sender")
            i = self.app.cfg.imap
            log.info("action=started pid=%s mailbox=%s idle=%s poll_seconds=%s database=%s", os.getpid(),
                     self.identity, str(i.idle).lower(), i.poll_seconds, self.app.engine.dialect.name)
            await self._stop.wait()
            await self._shutdown(scheduler, sender, watcher, reader)
            return self.exit_code
        finally:
            if scheduler is not None and scheduler.running:
                scheduler.shutdown(wait=False)
            self.app.proof_listeners.remove(self._proofs.set)
            self._remove_signals()
            _RUNNING.pop("daemon", None)
            self.lock.release()

    def request_stop(self, reason: str = "request") -> None:
        """Stop taking new work; the mail in hand and the SMTP attempt in progress finish. Loop thread only."""
        if self.stopping.is_set():
            return
        log.info("action=stopping reason=%s", reason)
        self.stopping.set()
        self._interrupt_idle()
        self._proofs.set()
        self._stop.set()
        self._wake.set()

    async def _shutdown(self, scheduler, sender: asyncio.Task, watcher: threading.Thread,
                        reader: threading.Thread) -> None:
        started = time.monotonic()
        scheduler.shutdown(wait=False)

        def left() -> float:
            return max(SHUTDOWN_SECONDS - (time.monotonic() - started), 0.1)

        try:
            await asyncio.wait_for(asyncio.shield(sender), left())
        except TimeoutError:
            sender.cancel()
            log.warning("action=send_abandoned reason=shutdown_timeout note=the_row_stays_pending")
        await asyncio.to_thread(watcher.join, left())
        if watcher.is_alive():
            log.warning("action=mail_abandoned reason=shutdown_timeout note=it_is_processed_again_at_next_start")
        await asyncio.to_thread(reader.join, left())
        if reader.is_alive():
            log.warning("action=proof_reading_abandoned reason=shutdown_timeout note=it_is_read_again_at_next_start")
        if self.exit_code == 0:         # a lost lock: another instance may be sending these already
            await self._last_drain(started + SHUTDOWN_SECONDS)
        log.info("action=stopped exit=%s duration_ms=%d", self.exit_code, (time.monotonic() - started) * 1000)

    async def _last_drain(self, deadline: float) -> None:
        """What the mail in hand and the last tick queued goes out before the process ends (an office
        that stops mailbot for the night must not leave an acknowledgement waiting until morning);
        whatever the deadline cuts off stays pending for the next start."""
        try:
            r = await asyncio.wait_for(drain(self.app, self.clock, stop=lambda: time.monotonic() >= deadline),
                                       max(deadline - time.monotonic(), 0.1))
            if r.sent or r.deferred or r.failed:
                log.info("action=last_drain sent=%s deferred=%s failed=%s", r.sent, r.deferred, r.failed)
        except TimeoutError:
            log.warning("action=send_abandoned reason=shutdown_timeout note=the_row_stays_pending")
        except Exception as exc:   # noqa: BLE001 - the rows stay pending for the next start
            log.error("action=last_drain_failed error=%s", _one_line(exc))

    def _install_signals(self) -> None:
        handlers = {signal.SIGTERM: lambda: self.request_stop("SIGTERM"),
                    signal.SIGINT: lambda: self.request_stop("SIGINT"), signal.SIGHUP: self.reload}
        for sig, handler in handlers.items():
            try:
                self._loop.add_signal_handler(sig, handler)
                self._signals.append(sig)
            except (RuntimeError, ValueError, NotImplementedError):   # not the main thread (tests)
                pass

    def _remove_signals(self) -> None:
        for sig in self._signals:
            self._loop.remove_signal_handler(sig)
        self._signals.clear()

    def reload(self) -> None:
        """SIGHUP: edited templates take effect with the next mail (a broken one is refused, logged)."""
        try:
            self.app.templates.reload()
        except TemplateError as exc:
            log.error("action=reload_refused error=%s (the previous templates stay in use)", exc)
            return
        self.app.forget_catalog()                   # a catalog imported meanwhile is read again
        log.info("action=reload what=templates,catalog dir=%s", self.app.templates_dir or "-")

    def _wake_sender(self) -> None:
        """Callable from any thread."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    # --- the scheduler ------------------------------------------------------------------------
    def _start_scheduler(self):
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
        from apscheduler.schedulers.asyncio import AsyncIOScheduler
        logging.getLogger("apscheduler").setLevel(logging.WARNING)    # one line per minute is noise
        store = SQLAlchemyJobStore(engine=self.app.engine, tablename=JOB_TABLE)
        scheduler = AsyncIOScheduler(jobstores={"default": store}, event_loop=self._loop, timezone=timezone.utc)
        scheduler.start()
        # Replacing the stored job with one due now: a daemon that was off for days runs every job once
        # at start (run_due catches up by itself: every job looks at the state at that instant).
        scheduler.add_job(scheduled_tick, "interval", minutes=JOB_MINUTES, id=JOB_ID, name="mailbot.app.run_jobs",
                          coalesce=True, max_instances=1, misfire_grace_time=MISFIRE_GRACE, replace_existing=True,
                          next_run_time=self.clock())
        return scheduler

    async def tick(self) -> None:
        if self.stopping.is_set():
            return
        try:
            await asyncio.to_thread(self._locked, self.app.run_jobs, self.clock())
        except Exception as exc:   # noqa: BLE001 - the next tick tries again
            log.error("action=jobs_failed error=%s", _one_line(exc))
        self._start_backup()
        self._wake_sender()

    def _start_backup(self) -> None:
        """The daily backup runs beside the mail, not under the work lock: copying the stored files may
        take minutes, and the snapshot is consistent by itself. One at a time; a backup cut short by a
        stop leaves only a hidden partial directory, removed later."""
        if self.app.cfg.backup.dir is None or (self._backup is not None and self._backup.is_alive()):
            return

        def run() -> None:
            try:
                self.app.daily_backup(self.clock())
            except Exception as exc:   # noqa: BLE001 - daily_backup reports its own failures; this is the rest
                log.error("action=backup_failed error=%s", _one_line(exc))
            self._wake_sender()      # its notice to the supervisor, if any

        self._backup = threading.Thread(target=run, name="daily-backup", daemon=True)
        self._backup.start()

    def _locked(self, fn, *args, **kwargs):
        with self.work:
            return fn(*args, **kwargs)

    # --- the outbox sender ----------------------------------------------------------------------
    async def _send_loop(self) -> None:
        next_lock_check = time.monotonic() + LOCK_CHECK_SECONDS
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), SEND_INTERVAL)
            except TimeoutError:
                pass
            self._wake.clear()
            if self.stopping.is_set():
                return
            try:
                r = await drain(self.app, self.clock, stop=self.stopping.is_set)
                if r.sent or r.deferred or r.failed:
                    log.info("action=drain sent=%s deferred=%s failed=%s", r.sent, r.deferred, r.failed)
            except Exception as exc:   # noqa: BLE001 - the database may be back next round
                log.error("action=drain_failed error=%s", _one_line(exc))
            if time.monotonic() >= next_lock_check:
                next_lock_check = time.monotonic() + LOCK_CHECK_SECONDS
                if not self.lock.alive():
                    log.error("action=lock_lost note=another_instance_may_start; exiting so the supervisor restarts us")
                    self.exit_code = 1
                    self.request_stop("lock_lost")

    # --- the proof reader (its own thread) ------------------------------------------------------------
    def _read_proofs(self) -> None:
        """Read every waiting proof file, send the notices whose wait is over, then sleep until a commit
        queues more or the next wait ends. Never takes the work lock: OCR must not hold up the mail."""
        while not self.stopping.is_set():
            try:
                self.app.read_proofs(self.clock, stop=self.stopping.is_set, after_each=self._wake_sender)
                self._wake_sender()
                due = self.app.next_proof_notice()
                pause = READER_IDLE if due is None else (due - self.clock()).total_seconds() + 0.05
            except Exception as exc:   # noqa: BLE001 - the database may be back next round
                log.error("action=proof_reader_failed error=%s", _one_line(exc))
                pause = SEND_INTERVAL
            self._proofs.wait(min(max(pause, 0.05), READER_IDLE))
            self._proofs.clear()
        log.info("action=proof_reader_stopped")

    # --- the IMAP watcher (its own thread) ----------------------------------------------------------
    def _watch(self) -> None:
        box: Mailbox | None = None
        failures, down_since, last_error = 0, None, ""
        alerted = self._status(DOWN_STATUS) is not None
        while not self.stopping.is_set():
            try:
                if box is None or not box.connected:
                    box = self._connect()
                started = time.monotonic()
                counts = self._locked(process_pending, self.app, box, self.clock, stop=self.stopping.is_set,
                                      on_moved=self._wake_sender)
                if counts:
                    log.info("action=batch %s duration_ms=%d", " ".join(f"{k}={v}" for k, v in counts.items()),
                             (time.monotonic() - started) * 1000)
                self._wake_sender()
                if failures or alerted:
                    log.info("action=imap_recovered failures=%s", failures)
                    if alerted:
                        self._alert("mailbox_recovered", down_since, failures, "")
                        alerted = False
                    failures, down_since = 0, None
                if self.stopping.is_set():
                    break
                if self.app.cfg.imap.idle and box.has_idle:
                    self._idle(box)
                else:
                    self.stopping.wait(self.app.cfg.imap.poll_seconds)
            except Exception as exc:   # noqa: BLE001 - the watcher never dies; it backs off and reconnects
                if box is not None:
                    box.close()
                if self.stopping.is_set():
                    break
                failures += 1
                down_since = down_since or self.clock()
                last_error = _one_line(exc)
                delay = reconnect_delay(failures)
                level = logging.WARNING if isinstance(exc, MailboxError) else logging.ERROR
                log.log(level, "action=imap_failed failures=%s retry_in_s=%.1f error=%s", failures, delay, last_error)
                # imap.alert_after_failures: the supervisor list is told once, and again on recovery
                if failures >= self.app.cfg.imap.alert_after_failures and not alerted:
                    alerted = self._alert("mailbox_down", down_since, failures, last_error)
                self.stopping.wait(delay)
        if box is not None:
            box.close()
        log.info("action=watcher_stopped")

    def _connect(self) -> Mailbox:
        box = mailbox_for(self.app.cfg)
        box.connect()
        missing = box.ensure_folders(create=self.app.cfg.imap.create_folders)
        if missing and not self.app.cfg.imap.create_folders:
            box.close()
            raise MailboxError(f"folders missing and imap.create_folders = false: {', '.join(missing)}")
        log.info("action=imap_connected mailbox=%s idle=%s", self.identity,
                 "yes" if box.has_idle and self.app.cfg.imap.idle else "no")
        return box

    def _idle(self, box: Mailbox) -> None:
        """IDLE until mail arrives, IDLE_SECONDS pass, or request_stop() cuts the socket."""
        with self._idle_guard:
            if self.stopping.is_set():
                return
            self._idling = box
        try:
            box.idle_wait(IDLE_SECONDS)
        finally:
            with self._idle_guard:
                self._idling = None

    def _interrupt_idle(self) -> None:
        with self._idle_guard:
            box = self._idling
            # Mailbox has no interrupt of its own: shutting the socket makes idle_check return at once.
            client = getattr(box, "_client", None) if box is not None else None
            if client is not None:
                try:
                    client.socket().shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    # --- telling the supervisor -------------------------------------------------------------------
    def _alert(self, template: str, since: datetime | None, failures: int, error: str) -> bool:
        """Queue one mail to the supervisor list; True when recorded (then it is not sent again)."""
        now = self.clock()
        tz = self.app.tz
        fmt = "%Y-%m-%d %H:%M"
        try:
            with self.app.unit(now, scheduled=True) as unit:
                session = unit.session
                unit.notify(None, "supervisor", template, mailbox=self.identity, failures=failures, error=error,
                            since=(since or now).astimezone(tz).strftime(fmt) + f" ({tz.key})",
                            at=now.astimezone(tz).strftime(fmt) + f" ({tz.key})")
                unit.event(None, template, "system", f"{self.identity}: {failures} failure(s) {error}"[:2000])
                if template == "mailbox_down":
                    session.merge(db.StatusRow(key=DOWN_STATUS, value=(since or now).isoformat()))
                else:
                    session.execute(delete(db.StatusRow).where(db.StatusRow.key == DOWN_STATUS))
        except Exception as exc:   # noqa: BLE001 - the database may be down too; try at the next failure
            log.error("action=alert_failed template=%s error=%s", template, _one_line(exc))
            return False
        log.warning("action=alert template=%s to=supervisor failures=%s", template, failures)
        self._wake_sender()
        return True

    def _status(self, key: str) -> str | None:
        try:
            with self.app.sessions() as session:
                row = session.get(db.StatusRow, key)
                return row.value if row else None
        except Exception:   # noqa: BLE001
            return None


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".replace("\n", " ")[:500]
