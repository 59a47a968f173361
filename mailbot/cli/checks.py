"""`mailbot check`: can this configuration run? One PASS/FAIL/WARN line per part; exit 0 only if none
fails (a warning names something optional that is missing)."""
from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from ..config import Config


@dataclass(frozen=True)
class Result:
    name: str
    ok: bool
    detail: str
    warn: bool = False          # ok, but something optional is missing

    @property
    def status(self) -> str:
        return "FAIL" if not self.ok else "WARN" if self.warn else "PASS"


def check_config(cfg: Config, now: datetime) -> Result:
    return Result("config", True, f"{cfg.path} read and valid")


def check_imap(cfg: Config, now: datetime) -> Result:
    from ..adapters.imap import MailboxError
    from ..runtime.intake import mailbox_for
    i = cfg.imap
    where = f"{i.username}@{i.host}:{i.port} ({i.security})"
    try:
        with mailbox_for(cfg) as box:
            missing = box.ensure_folders(create=i.create_folders)
            idle = box.has_idle
            count = len(box.pending())
    except MailboxError as exc:
        return Result("imap", False, f"{where}: {exc}")
    folders = f"{i.mailbox}, {i.processed_folder}, {i.quarantine_folder}"
    if missing and not i.create_folders:
        return Result("imap", False, f"{where}: folder(s) missing: {', '.join(missing)} (create them, or set "
                                     f"imap.create_folders = true)")
    made = f"; created {', '.join(missing)}" if missing else ""
    wait = ("IDLE" if idle and i.idle else f"polling every {i.poll_seconds} s"
            + ("" if idle else " (the server has no IDLE)"))
    return Result("imap", True, f"{where}: logged in; folders {folders} present{made}; {count} message(s) "
                                f"waiting; new mail by {wait}")


async def _smtp_session(cfg: Config) -> str:
    import aiosmtplib
    s = cfg.smtp
    client = aiosmtplib.SMTP(hostname=s.host, port=s.port, use_tls=s.security == "ssl",
                             start_tls=s.security == "starttls", timeout=s.timeout_seconds)
    await client.connect()
    try:
        if s.username:
            await client.login(s.username, s.password)
        await client.noop()
        # The envelope sender is accepted (a relay that wants AUTH says so here); RSET, so nothing is sent.
        await client.mail(cfg.office.service_address)
        await client.rset()
    finally:
        try:
            await client.quit()
        except aiosmtplib.SMTPException:
            client.close()
    return f"logged in as {s.username}" if s.username else "connected (no AUTH configured)"


def check_smtp(cfg: Config, now: datetime) -> Result:
    import aiosmtplib
    s = cfg.smtp
    where = f"{s.host}:{s.port} ({s.security})"
    try:
        how = asyncio.run(_smtp_session(cfg))
    except aiosmtplib.SMTPAuthenticationError as exc:
        return Result("smtp", False, f"{where}: login of {s.username!r} refused: {exc.code} {exc.message}")
    except aiosmtplib.SMTPSenderRefused as exc:
        return Result("smtp", False, f"{where}: sender {cfg.office.service_address} refused: {exc.code} "
                                     f"{exc.message}" + ("" if s.username else " (set smtp.username and a password?)"))
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        return Result("smtp", False, f"{where}: {type(exc).__name__}: {exc}")
    return Result("smtp", True, f"{where}: {how}; sender {cfg.office.service_address} accepted (no mail sent)")


def check_database(cfg: Config, now: datetime) -> Result:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from ..adapters import db
    from ..adapters.migrations import pending
    shown = make_url(cfg.database.url).render_as_string(hide_password=True)
    url = cfg.database.url
    if url.startswith("postgresql"):      # an unreachable server answers within seconds, not minutes
        from sqlalchemy import create_engine
        engine = create_engine(url, connect_args={"connect_timeout": 10})
    else:
        engine = db.make_engine(url)
    try:
        todo = pending(engine)
    except SQLAlchemyError as exc:
        return Result("database", False, f"{shown}: {str(exc).splitlines()[0]}")
    finally:
        engine.dispose()
    if todo:
        return Result("database", False, f"{shown}: {len(todo)} migration(s) not applied ({', '.join(todo)}); "
                                         f"run: mailbot --config {cfg.path} db upgrade")
    return Result("database", True, f"{shown}: reachable, migrations current")


def check_holidays(cfg: Config, now: datetime) -> Result:
    from ..adapters.holidays_source import load_calendar
    year = now.astimezone(cfg.office.tz).year
    wanted = (year, year + 1)
    c = cfg.calendar
    covered = load_calendar(wanted, c.extra_holidays, c.extra_working_days, c.assume_complete_years).covered_years
    missing = [y for y in wanted if y not in covered]
    if missing:
        return Result("holidays", False, f"no cuti bersama data for {', '.join(map(str, missing))}: upgrade the "
                                         f"`holidays` package, or enter the dates in [calendar] extra_holidays and "
                                         f"list the year in assume_complete_years")
    return Result("holidays", True, f"national holidays and cuti bersama known for {year} and {year + 1}")


def check_library(cfg: Config, now: datetime) -> Result:
    lib = cfg.storage.library_dir
    if not lib.is_dir():
        return Result("library", False, f"{lib}: directory not found (storage.library_dir)")
    if not os.access(lib, os.R_OK | os.X_OK):
        return Result("library", False, f"{lib}: not readable by this user")
    files = sum(1 for p in lib.rglob("*") if p.is_file())
    return Result("library", True, f"{lib}: {files} file(s)")


def check_templates(cfg: Config, now: datetime) -> Result:
    from ..outbound.templates import TemplateError, Templates
    try:
        Templates(cfg.templates_dir)
    except TemplateError as exc:
        return Result("templates", False, str(exc))
    return Result("templates", True, f"mail templates compile ({cfg.templates_dir or 'built-in only'})")


def check_fonts(cfg: Config, now: datetime) -> Result:
    """The packaged font is required; fonts for other scripts are optional: a missing one is a warning."""
    from ..outbound.fonts import SCRIPT_FONTS, FontSet, packaged_font_problems
    broken = packaged_font_problems()
    if broken:
        return Result("fonts", False, f"packaged fonts for the PDFs: {'; '.join(broken)} (reinstall mailbot)")
    missing = FontSet(cfg.storage.font_dir).unavailable()
    found = (f"packaged Noto Sans (Latin incl. Indonesian and Vietnamese), optional fonts for "
             f"{len(SCRIPT_FONTS) - len(missing)} of {len(SCRIPT_FONTS)} more scripts")
    if not missing:
        return Result("fonts", True, found)
    packages = " ".join(dict.fromkeys(row.debian_packages[0] for row in missing))
    return Result("fonts", True, f"{found}; no font for {', '.join(row.script for row in missing)}: names in these "
                                 f"scripts are printed as \ufffd (U+FFFD) on invoices and receipts (the documents are "
                                 f"still made); install {packages}, or copy the font files into storage.font_dir",
                  warn=True)


def check_ocr(cfg: Config, now: datetime) -> Result:
    """Optional: without Tesseract, images of payment proofs are filed and shown to the bendahara unread."""
    from ..adapters import ocr
    usable, detail = ocr.status()
    if usable:
        return Result("ocr", True, f"{detail}: payment-proof images are read")
    return Result("ocr", True, f"{detail}: payment-proof images will be filed unread (the digest says "
                               f"'tidak terbaca (OCR tidak terpasang)'); PDF text layers are still read", warn=True)


CHECKS: tuple[Callable[[Config, datetime], Result], ...] = (
    check_config, check_imap, check_smtp, check_database, check_holidays, check_library, check_templates,
    check_fonts, check_ocr)


def results(cfg: Config, now: datetime) -> list[Result]:
    out = []
    for check in CHECKS:
        try:
            out.append(check(cfg, now))
        except Exception as exc:   # noqa: BLE001 - a check that breaks is a FAIL line, not a traceback
            name = check.__name__.removeprefix("check_")
            out.append(Result(name, False, f"unexpected {type(exc).__name__}: {exc}"))
    return out


def run_checks(cfg: Config, now: datetime) -> int:
    """Print one line per check; 0 when every check passed, else 1."""
    found = results(cfg, now)
    for r in found:
        print(f"{r.status}  {r.name:<9} {r.detail}", flush=True)
    failed = [r.name for r in found if not r.ok]
    warned = [r.name for r in found if r.ok and r.warn]
    print(f"{len(found) - len(failed)} of {len(found)} checks passed" + (f"; failed: {', '.join(failed)}" if failed
                                                                          else "")
          + (f"; warning: {', '.join(warned)}" if warned else ""))
    return 1 if failed else 0
