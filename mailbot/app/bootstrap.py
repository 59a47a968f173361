"""Wiring: builds the App from a config — engine, storage, templates, calendar, and the registries of
effects, keywords and jobs. The one module that knows every handler; nothing imports it but the outer
layers (runtime, cli, demo)."""
from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Callable, Iterator
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..adapters import db
from ..adapters.holidays_source import load_calendar
from ..adapters.migrations import upgrade
from ..adapters.storage import Storage
from ..catalog import CatalogEntry, CatalogIndex
from ..config import Config
from ..domain import effects as fx
from ..domain.calendar import WorkingCalendar
from ..domain.pricing import Tariff, line_amount
from ..outbound.templates import Templates
from . import abandoned, alerts, backups, customer, digest, issuing, jobs, mailer, outbox, proofs, receive, report
from .keywords import KeywordRegistry
from .keywords.bendahara import BENDAHARA
from .keywords.petugas import PETUGAS
from .unit import EffectHandler, Unit

log = logging.getLogger("mailbot")

# Loaded once; the holidays package marks which of these years it really knows.
CALENDAR_YEARS = range(2020, 2041)

EFFECT_HANDLERS: dict[type[fx.Effect], EffectHandler] = {
    fx.Notify: mailer.notify_effect,
    fx.SendInvoice: issuing.send_invoice,
    fx.VoidInvoice: issuing.void_invoice,
    fx.IssueReceiptAndDeliver: issuing.receipt_and_deliver,
    fx.DeliverCorrection: issuing.deliver_correction,
    fx.RefreshDigest: digest.refresh_digest,
    fx.ReadProof: proofs.queue_reading,
}

# Run in this order at every tick, each in a unit of its own.
JOBS: tuple[tuple[str, Callable[[Unit], int]], ...] = (
    ("expire", jobs.expire_invoices), ("reminders", jobs.send_reminders), ("warnings", jobs.warn_deadlines),
    ("digest", digest.daily_digest), ("auto_close", jobs.auto_close),
    ("abandoned", abandoned.remind_or_cancel_new), ("retention", jobs.purge_identity),
    ("monthly_report", report.monthly_report), ("quarantine", alerts.quarantine_summary))


def keyword_registry() -> KeywordRegistry:
    """Every staff keyword: the reader, BANTUAN, the README table and the notices take them from here."""
    return KeywordRegistry((*PETUGAS, *BENDAHARA))


def _check_effects(handlers: dict) -> None:
    """A new effect type without a handler is a programming error: fail at start, not on a customer's mail."""
    missing = [t.__name__ for t in fx.Effect.__subclasses__() if t not in handlers]
    if missing:
        raise TypeError(f"no handler for effect(s): {', '.join(missing)}")


class App:
    """Configuration, database, storage, templates, calendar, tariff, catalog, and the registries."""

    def __init__(self, cfg: Config, *, migrate: bool = True):
        self.cfg = cfg
        self.tz = ZoneInfo(cfg.office.timezone)
        Path(cfg.storage.dir).mkdir(parents=True, exist_ok=True)   # a fresh install: the SQLite file lives here
        self.engine = db.make_engine(cfg.database.url)
        self.sessions = db.session_factory(self.engine)
        self.storage = Storage(Path(cfg.storage.dir), sync_each=False)
        self.templates_dir = cfg.templates_dir
        self.templates = Templates(self.templates_dir)
        self.tariff = Tariff(cfg.tariffs.regulation, cfg.tariffs.per_page, cfg.tariffs.zero_basis)
        _check_effects(EFFECT_HANDLERS)
        self.effect_handlers = EFFECT_HANDLERS
        self.keywords = keyword_registry()
        self.jobs = JOBS
        self.customer_handler: receive.CustomerHandler = customer.handle_customer
        self.proof_listeners: list[Callable[[], None]] = []     # the runtime's readers, woken after a commit
        self._calendar: WorkingCalendar | None = None
        self._catalog: CatalogIndex | None = None
        self.backup_failed_on: date | None = None     # a daily backup that failed is not retried that day
        if migrate:
            upgrade(self.engine)

    # --- the unit of work ------------------------------------------------------------------
    @contextmanager
    def unit(self, now: datetime, *, scheduled: bool = False) -> Iterator[Unit]:
        """One transaction: the work, then its notices rendered from the final state, then COMMIT;
        what the work left for after the commit (file deletions) runs only once the commit held."""
        with self.sessions.begin() as session:
            unit = Unit(self, session, now, scheduled=scheduled)
            yield unit
            mailer.send_notices(unit)
        for action in unit.after_commit:
            action()

    # --- the work ------------------------------------------------------------------------------
    def handle_mail(self, raw: bytes, *, now: datetime, uid: int | None = None,
                    uidvalidity: int | None = None) -> receive.Outcome:
        return receive.handle_mail(self, raw, now=now, uid=uid, uidvalidity=uidvalidity)

    def handle_oversized(self, headers: bytes, *, size: int, now: datetime, uid: int | None = None,
                         uidvalidity: int | None = None) -> receive.Outcome:
        return receive.handle_oversized(self, headers, size=size, now=now, uid=uid, uidvalidity=uidvalidity)

    def record_quarantine(self, uid: int | None, uidvalidity: int | None, error: str, now: datetime) -> None:
        receive.record_quarantine(self, uid, uidvalidity, error, now)

    def run_jobs(self, at: datetime) -> dict[str, int]:
        """Every job as of instant `at`, each in its own unit; returns what each did (-1: it failed)."""
        done: dict[str, int] = {}
        for name, job in self.jobs:
            try:
                with self.unit(at, scheduled=True) as unit:
                    done[name] = job(unit)
            except Exception:   # noqa: BLE001 - one failing job must not stop the others; it runs again next tick
                log.exception("action=job_failed job=%s at=%s", name, at.isoformat())
                done[name] = -1
        log.info("action=jobs at=%s %s", at.isoformat(), " ".join(f"{k}={v}" for k, v in done.items()))
        return done

    def daily_backup(self, at: datetime) -> Path | None:
        """The day's backup into `backup.dir` when it is due (outside any unit: it takes a while)."""
        return backups.daily_backup(self, at)

    # --- payment proofs, read after the commit that filed them ---------------------------------
    def proofs_queued(self) -> None:
        """A unit that queued proof files committed: wake whoever reads them."""
        for wake in self.proof_listeners:
            wake()

    def read_proofs(self, clock: Callable[[], datetime], stop: Callable[[], bool] = lambda: False,
                    after_each: Callable[[], None] = lambda: None) -> int:
        return proofs.read_waiting(self, clock, stop, after_each)

    def send_proof_notices(self, now: datetime) -> int:
        return proofs.send_due(self, now)

    def next_proof_notice(self) -> datetime | None:
        return proofs.next_due(self)

    def proofs_waiting(self, now: datetime) -> int:
        return proofs.waiting(self, now)

    def release_proof_claims(self, now: datetime) -> None:
        proofs.release_claims(self, now)

    # The sender records an outcome in its own transaction; what the office is told commits with it.
    def send_failed(self, session, row: db.OutboxRow, at: datetime, error: str) -> None:
        outbox.send_failed(Unit(self, session, at, scheduled=True), row, error)

    def send_waiting(self, session, row: db.OutboxRow, at: datetime) -> None:
        outbox.send_waiting(Unit(self, session, at, scheduled=True), row)

    # --- shared lookups ----------------------------------------------------------------
    def calendar(self) -> WorkingCalendar:
        """The working-day calendar; years whose cuti bersama are unknown raise CalendarGapError when asked."""
        if self._calendar is None:
            cal = self.cfg.calendar
            self._calendar = load_calendar(CALENDAR_YEARS, cal.extra_holidays, cal.extra_working_days,
                                           cal.assume_complete_years)
        return self._calendar

    def catalog(self, session) -> CatalogIndex:
        """The match index, built once from the catalog table (inside the caller's transaction)."""
        if self._catalog is None:
            rows = session.scalars(select(db.CatalogRow)).all()
            self._catalog = CatalogIndex([CatalogEntry(r.katalog, r.judul, r.tahun, r.halaman, r.file)
                                          for r in rows])
        return self._catalog

    def forget_catalog(self) -> None:
        self._catalog = None

    def match_catalog(self, session, text: str) -> list[dict]:
        """Numbered guesses for the petugas notification (`ITEM #n` picks one)."""
        return [{"katalog": m.entry.katalog, "judul": m.entry.judul, "tahun": m.entry.tahun,
                 "halaman": m.entry.halaman, "amount": line_amount(self.tariff, m.entry.halaman, 1),
                 "score": round(m.score)} for m in self.catalog(session).match(text, limit=5)]

    def make_durable(self) -> None:
        """The barrier before anything leaves the machine: files and commits so far are on disk."""
        self.storage.sync()
        db.make_durable(self.engine)

    def set_status(self, key: str, value: str) -> None:
        with self.sessions.begin() as session:
            session.merge(db.StatusRow(key=key, value=value))
