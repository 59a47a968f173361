"""`mailbot backup` / `mailbot restore`, and the daemon's daily backup into `backup.dir` keeping the last N."""
from __future__ import annotations

import logging
import re
import shutil
import time
from datetime import datetime
from importlib import metadata
from pathlib import Path

from ..adapters import backup as store
from ..adapters import db
from ..adapters.migrations import current, known, upgrade
from .unit import once

log = logging.getLogger("mailbot")

DAILY = re.compile(r"mailbot-\d{4}-\d{2}-\d{2}")
STALE_PARTIAL_SECONDS = 24 * 3600


def mailbot_version() -> str:
    try:
        return metadata.version("mailbot")
    except metadata.PackageNotFoundError:
        return "unknown"


def take_backup(app, target: Path, now: datetime) -> dict:
    """A consistent snapshot of the database and the stored files in `target`; its manifest."""
    return store.create_backup(app.engine, app.storage.root, target, now=now, mailbot_version=mailbot_version(),
                               schema_version=current(app.engine))


def restore_backup(cfg, source: Path) -> dict:
    """Into the empty database and storage the configuration names; then the schema is brought up to this
    mailbot's, so that `mailbot check` passes and the daemon continues where the backup was taken."""
    manifest = store.read_manifest(source)
    if not known(manifest.get("schema_version")):
        raise store.BackupError(f"the backup's database schema {manifest.get('schema_version')!r} is newer than this "
                                f"mailbot knows (made by mailbot {manifest.get('mailbot_version')}): upgrade mailbot "
                                f"first")
    engine = db.make_engine(cfg.database.url)
    try:
        store.restore(source, engine, Path(cfg.storage.dir))
        upgrade(engine)
    finally:
        engine.dispose()
    return manifest


def daily_backup(app, at: datetime) -> Path | None:
    """From `backup.time` each day, once: `backup.dir/mailbot-YYYY-MM-DD`, then all but the last `backup.keep`
    are deleted. A failure is logged and told to the supervisor list once that day; this process does not
    try again that day (the daemon ticks every minute)."""
    settings = app.cfg.backup
    if settings.dir is None:
        return None
    local = at.astimezone(app.tz)
    day = local.date()
    target = Path(settings.dir) / f"mailbot-{day.isoformat()}"
    if local.time() < settings.time or target.exists() or app.backup_failed_on == day:
        return None
    _remove_stale_partials(Path(settings.dir), at)
    started = time.monotonic()
    try:
        manifest = take_backup(app, target, at)
    except Exception as exc:   # noqa: BLE001 - reported, never raised into the daemon's loop
        app.backup_failed_on = day
        log.error("action=backup_failed target=%s error=%s", target, exc)
        with app.unit(at, scheduled=True) as unit:
            unit.event(None, "backup_failed", "system", f"{target}: {exc}"[:2000])
            if once(unit, "backup_failed", day.isoformat()):      # told once a day, however often it is tried
                unit.notify(None, "supervisor", "backup_failed", target=str(target), error=str(exc)[:2000])
        return None
    removed = prune(Path(settings.dir), settings.keep)
    with app.unit(at, scheduled=True) as unit:
        unit.event(None, "backup", "system", f"{target}: {len(manifest['files']) - 1} stored file(s); "
                                             f"{len(removed)} older backup(s) removed")
    log.info("action=backup target=%s files=%s removed=%s duration_ms=%d", target, len(manifest["files"]) - 1,
             len(removed), (time.monotonic() - started) * 1000)
    return target


def prune(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` complete daily backups; returns what was deleted."""
    complete = sorted(p for p in directory.iterdir()
                      if p.is_dir() and DAILY.fullmatch(p.name) and (p / store.MANIFEST).is_file())
    old = complete[:-keep] if keep else complete
    for p in old:
        shutil.rmtree(p)
    return old


def _remove_stale_partials(directory: Path, at: datetime) -> None:
    """A backup cut short (the daemon stopped mid-way) leaves a hidden partial directory: removed a day later
    (`at` is the instant the caller passes in; the clock is never read here)."""
    if not directory.is_dir():
        return
    for p in directory.glob(".mailbot-*.partial-*"):
        if at.timestamp() - p.stat().st_mtime > STALE_PARTIAL_SECONDS:
            shutil.rmtree(p, ignore_errors=True)
