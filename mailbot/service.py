"""Handle one inbound mail, one scheduler tick or one CLI action, each in one transaction."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from .adapters import db
from .adapters.migrations import upgrade
from .adapters.storage import Storage
from .catalog import CatalogEntry, CatalogIndex
from .config import Config
from .domain.pricing import Tariff, line_amount
from .inbound.auth import authenticated
from .inbound.correlate import find_tag
from .inbound.model import ParsedMail
from .inbound.parse import parse_message
from .inbound.screening import Screening, screen
from .outbound.templates import Templates
from .unit import Unit

log = logging.getLogger("mailbot")

# Loaded once; the holidays package marks which of these years it really knows.
CALENDAR_YEARS = range(2020, 2041)


@dataclass(frozen=True)
class Outcome:
    """What became of one inbound mail (logged, and used by tests)."""

    message_id: str
    action: str
    case_ref: str | None = None


class App:
    """The wiring: configuration, database, storage, templates, calendar, tariff, catalog."""

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
        self._calendar = None
        self._catalog: CatalogIndex | None = None
        if migrate:
            upgrade(self.engine)

    # --- shared lookups ----------------------------------------------------------------
    def calendar(self):
        """The working-day calendar; years whose cuti bersama are unknown raise CalendarGapError when asked."""
        if self._calendar is None:
            from .adapters.holidays_source import load_calendar
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

    # --- one inbound mail ------------------------------------------------------------------
    def handle_mail(self, raw: bytes, *, now: datetime, uid: int | None = None,
                    uidvalidity: int | None = None) -> Outcome:
        """Parse, decide and record one mail in ONE transaction. Raises on malformed or unexpected
        input (the caller quarantines the mail); commits nothing in that case."""
        started = time.monotonic()
        mail = parse_message(raw)
        with self.sessions.begin() as session:
            conn = session.connection()
            if db.inbound_known(conn, mail.message_id):
                return Outcome(mail.message_id, "duplicate")
            verdict = screen(mail, self.cfg.office.message_id_domain)
            inbound_id = db.add_inbound(conn, message_id=mail.message_id, uid=uid, uidvalidity=uidvalidity,
                                        sender=mail.from_addr, subject=mail.subject, verdict=verdict.verdict,
                                        raw_path=self.storage.put_raw(raw), at=now)
            unit = Unit(self, session, now, trigger_id=mail.message_id, trigger_sender=mail.from_addr)
            action, row = self._route(unit, mail, verdict, inbound_id)
            db.finish_inbound(conn, inbound_id, action, row.id if row else None)
            ref = row.ref if row is not None else None
        log.info("action=%s message_id=%s uid=%s case=%s duration_ms=%d", action, mail.message_id, uid, ref,
                 (time.monotonic() - started) * 1000)
        return Outcome(mail.message_id, action, ref)

    def _route(self, unit: Unit, mail: ParsedMail, verdict: Screening,
               inbound_id: int) -> tuple[str, db.CaseRow | None]:
        from .customer import handle_customer
        if verdict.verdict == "own" or mail.from_addr == self.cfg.office.service_address:
            return "ignored_own", None
        if not mail.from_addr:
            raise ValueError("the mail has no usable sender address (From)")
        if verdict.verdict == "bounce":
            return self._bounce(unit, mail)
        if verdict.verdict == "machine":
            row = self.find_case(unit.session, mail)
            unit.event(row, "machine_mail", mail.from_addr, verdict.reason)
            return "ignored_machine", row
        stored = self._store_attachments(unit, mail, inbound_id)
        row = self.find_case(unit.session, mail)
        role = self.role_of(unit.session, mail)
        if role is not None:
            return self._staff(unit, mail, row, role, stored), row
        return handle_customer(unit, mail, row, stored)

    def role_of(self, session, mail: ParsedMail) -> str | None:
        """The staff role the sender writes in; someone on both lists is bendahara when answering a digest."""
        roles, address = self.cfg.roles, mail.from_addr
        if address in roles.bendahara and (address not in roles.petugas or self._digest_of(session, mail)):
            return "bendahara"
        if address in roles.petugas:
            return "petugas"
        return None

    @staticmethod
    def _digest_of(session, mail: ParsedMail) -> str | None:
        """The digest a mail answers: the code in its subject, when we sent a digest with it."""
        from .staff import thread_token
        code = thread_token(mail)
        if code and session.scalar(select(db.DigestTokenRow.id).where(db.DigestTokenRow.digest_id == code).limit(1)):
            return code
        return None

    def _store_attachments(self, unit: Unit, mail: ParsedMail, inbound_id: int) -> dict[str, db.FileRow]:
        limit = self.cfg.storage.max_attachment_mb * 1024 * 1024
        stored: dict[str, db.FileRow] = {}
        for a in mail.attachments:
            if a.sha256 in stored:
                continue
            self.storage.put(a.data)
            stored[a.sha256] = db.FileRow(inbound_id=inbound_id, sha256=a.sha256, filename=a.filename[:255],
                                          content_type=a.content_type, size=a.size, role="attachment",
                                          allowed=a.allowed and a.size <= limit, created_at=unit.now)
            unit.session.add(stored[a.sha256])
        unit.session.flush()
        return {sha: f for sha, f in stored.items() if f.allowed}

    def find_case(self, session, mail: ParsedMail) -> db.CaseRow | None:
        """DESIGN §3: a Message-ID we know in In-Reply-To/References first, then the subject tag."""
        ids = list(mail.thread_ids)
        if ids:
            known = db.cases_by_message_id(session.connection(), ids)
            for mid in ids:
                if mid in known:
                    return session.get(db.CaseRow, known[mid])
        tag = find_tag(mail.subject)
        if tag:
            return session.scalar(select(db.CaseRow).where(db.CaseRow.ref == tag))
        return None

    def _bounce(self, unit: Unit, mail: ParsedMail) -> tuple[str, db.CaseRow | None]:
        ids = list(mail.reported_message_ids)
        out = unit.session.scalar(select(db.OutboxRow).where(db.OutboxRow.message_id.in_(ids)).limit(1)) \
            if ids else None
        row = unit.session.get(db.CaseRow, out.case_id) if out is not None and out.case_id else None
        if row is None:
            unit.event(None, "bounce_unmatched", mail.from_addr, mail.subject[:500])
            return "bounce_unmatched", None
        unit.event(row, "bounce", mail.from_addr, f"{out.recipient}: {mail.top_text[:1000] or mail.text[:1000]}")
        if out.kind.startswith("customer:"):     # a bounced notice to staff is recorded, never re-notified
            unit.notify(row, "petugas", "bounce", recipient=out.recipient, report=(mail.text or "")[:3000])
        return "bounce", row

    def _staff(self, unit: Unit, mail: ParsedMail, row: db.CaseRow | None, role: str,
               stored: dict[str, db.FileRow]) -> str:
        from .digest import handle_bendahara
        from .staff import PETUGAS_ACTIONS, StaffMail, refuse, run_keywords, send_transcript, thread_token
        passed, why = authenticated(mail, self.cfg.security.authserv_id)
        digest_id = None
        if role == "bendahara":
            digest_id = self._digest_of(unit.session, mail)
            token_ok = digest_id is not None
        else:
            token = thread_token(mail)
            token_ok = row is not None and token is not None and token == row.thread_token
        if not (passed or token_ok):
            refuse(unit, mail, row, role, f"{why}, dan kode utas tidak cocok")
            return "refused"
        files = tuple(sha for sha in (a.sha256 for a in mail.attachments if not a.inline) if sha in stored)
        for sha in files:
            stored[sha].case_id = row.id if row is not None else None
        sm = StaffMail(unit, mail, row, files, digest_id=digest_id)
        if role == "bendahara":
            handle_bendahara(sm)
        else:
            run_keywords(sm, "petugas", PETUGAS_ACTIONS)
            for sha in files:
                stored[sha].role = "deliverable"
        send_transcript(sm, role)
        return "staff"

    # --- the edges of intake -------------------------------------------------------------
    def handle_oversized(self, headers: bytes, *, size: int, now: datetime, uid: int | None = None,
                         uidvalidity: int | None = None) -> Outcome:
        """A mail over max_message_mb: not downloaded; a human sender is told the limit, once."""
        mail = parse_message(headers + b"\r\n")
        with self.sessions.begin() as session:
            if db.inbound_known(session.connection(), mail.message_id):
                return Outcome(mail.message_id, "duplicate")
            db.add_inbound(session.connection(), message_id=mail.message_id, uid=uid, uidvalidity=uidvalidity,
                           sender=mail.from_addr, subject=mail.subject, verdict="too_large", outcome="too_large",
                           at=now)
            unit = Unit(self, session, now, trigger_id=mail.message_id, trigger_sender=mail.from_addr)
            row = self.find_case(session, mail)
            unit.event(row, "too_large", mail.from_addr, f"{size} bytes")
            if screen(mail, self.cfg.office.message_id_domain).verdict == "human" and mail.from_addr:
                unit.notify(row, "customer", "too_large", to=[mail.from_addr], size_mb=round(size / 2**20, 1),
                            limit_mb=self.cfg.storage.max_message_mb, subject=mail.subject)
        log.warning("action=too_large message_id=%s uid=%s size=%s", mail.message_id, uid, size)
        return Outcome(mail.message_id, "too_large")

    def record_quarantine(self, uid: int | None, uidvalidity: int | None, error: str, now: datetime) -> None:
        """A mail mailbot could not handle went to the quarantine folder: audit it and tell a person."""
        with self.sessions.begin() as session:
            db.add_event(session.connection(), None, now, "quarantined", "system",
                         f"uid={uid} uidvalidity={uidvalidity}: {error}")
        try:
            with self.sessions.begin() as session:
                Unit(self, session, now, scheduled=True).notify(
                    None, "supervisor", "quarantined", error=error[:1000], folder=self.cfg.imap.quarantine_folder)
        except Exception as exc:   # noqa: BLE001 - the cause may be what breaks the notice too (a template)
            log.error("action=quarantine_notice_failed error=%s", exc)

    def make_durable(self) -> None:
        """The barrier before anything leaves the machine: files and commits so far are on disk."""
        self.storage.sync()
        db.make_durable(self.engine)

    def set_status(self, key: str, value: str) -> None:
        with self.sessions.begin() as session:
            session.merge(db.StatusRow(key=key, value=value))
