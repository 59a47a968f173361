"""Backup and restore of the database and the stored files, with a SHA-256 manifest.

A backup directory holds `manifest.json`, the database (`database.sqlite3`, made with SQLite's online
backup API, or `database.pgdump`, PostgreSQL's `pg_dump` custom format) and `storage/files/…` and
`storage/raw/…`: the content-addressed files and raw mails that mailbot writes below `storage.dir`.
The database is copied first: every file a committed row names was written before its commit, so the
files copied afterwards include them (files written later are copied too, harmlessly).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from datetime import datetime
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine, make_url

from ..errors import UserError
from .storage import fsync_path

FORMAT = "mailbot-backup/1"
MANIFEST = "manifest.json"
STORED = ("files", "raw")                 # the subdirectories of storage.dir that Storage writes
SQLITE_NAME, PG_NAME = "database.sqlite3", "database.pgdump"
_CHUNK = 1 << 20


class BackupError(UserError):
    """A backup that cannot be taken or restored; the message names the file or the reason."""


# --- taking a backup -----------------------------------------------------------------------------
def create_backup(engine: Engine, storage_dir: Path, target: Path, *, now: datetime, mailbot_version: str,
                  schema_version: str | None) -> dict:
    """Write a backup into `target` (new or empty) and return its manifest. The directory appears
    complete or not at all: it is written under a temporary name beside it and renamed at the end."""
    target = Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"{target}: exists and is not an empty directory")
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        kind = engine.dialect.name
        files: dict[str, dict] = {}
        database = {"kind": kind}
        if kind == "sqlite":
            _sqlite_snapshot(engine, work / SQLITE_NAME)
            database["file"] = SQLITE_NAME
        elif kind == "postgresql":
            database["schema"] = _pg_dump(engine, work / PG_NAME)
            database["file"] = PG_NAME
        else:
            raise BackupError(f"backups of {kind} databases are not supported")
        files[database["file"]] = _describe(work / database["file"])
        for name in STORED:
            source = Path(storage_dir) / name
            if source.is_dir():
                files.update(_copy_tree(source, work / "storage" / name, f"storage/{name}"))
        manifest = {"format": FORMAT, "created_at": now.isoformat(), "mailbot_version": mailbot_version,
                    "schema_version": schema_version, "database": database, "files": files}
        _write_json(work / MANIFEST, manifest)
        _sync_tree(work)
        if target.exists():
            target.rmdir()
        os.rename(work, target)
        fsync_path(target.parent)
        return manifest
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _sqlite_file(engine: Engine) -> Path:
    database = make_url(engine.url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def _sqlite_snapshot(engine: Engine, dest: Path) -> None:
    """SQLite's online backup API in one step: one read transaction, which in WAL mode never blocks the
    daemon's writers. The copy is switched to a rollback journal so that it is one self-contained file."""
    source = sqlite3.connect(_sqlite_file(engine), timeout=30)
    copy = sqlite3.connect(dest)
    try:
        source.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")
        verdict = copy.execute("PRAGMA quick_check").fetchone()[0]
        if verdict != "ok":
            raise BackupError(f"the database copy fails SQLite's check: {verdict}")
    finally:
        copy.close()
        source.close()


def _libpq(engine: Engine) -> tuple[str, dict[str, str]]:
    """The engine's URL as a libpq URI for pg_dump / pg_restore, and the environment carrying its password
    (never on a command line, where `ps` shows it)."""
    url = make_url(engine.url)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} not found: install the PostgreSQL client tools (Debian: postgresql-client)")
    return found


def _current_schema(engine: Engine) -> str:
    with engine.connect() as conn:
        return conn.execute(text("SELECT current_schema()")).scalar() or "public"


def _pg_dump(engine: Engine, dest: Path) -> str:
    """pg_dump in custom format (one consistent snapshot) of the schema mailbot uses; returns its name."""
    schema = _current_schema(engine)
    uri, env = _libpq(engine)
    done = subprocess.run([_tool("pg_dump"), "--format=custom", f"--schema={schema}", f"--file={dest}", uri],
                          env=env, capture_output=True, text=True)
    if done.returncode:
        raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
    return schema


def _copy_tree(source: Path, dest: Path, prefix: str) -> dict[str, dict]:
    """Copy every stored file below `source`, hashing as it goes. A file removed meanwhile (the retention
    purge) is skipped; half-written temporary files are never copied."""
    out = {}
    for path in sorted(source.rglob("*")):
        if not path.is_file() or path.name.startswith(".tmp-"):
            continue
        rel = path.relative_to(source).as_posix()
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            out[f"{prefix}/{rel}"] = _copy(path, target)
        except FileNotFoundError:
            continue
    return out


def _copy(source: Path, target: Path) -> dict:
    digest, size = hashlib.sha256(), 0
    with open(source, "rb") as src, open(target, "wb") as dst:
        while chunk := src.read(_CHUNK):
            digest.update(chunk)
            dst.write(chunk)
            size += len(chunk)
    return {"sha256": digest.hexdigest(), "size": size}


def _describe(path: Path) -> dict:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return {"sha256": digest.hexdigest(), "size": size}


def _write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def _sync_tree(root: Path) -> None:
    """The backup is on disk before it is given its final name."""
    for dirpath, _, names in os.walk(root):
        for name in names:
            fsync_path(Path(dirpath) / name)
        fsync_path(Path(dirpath))


# --- reading and verifying -------------------------------------------------------------------------
def read_manifest(source: Path) -> dict:
    path = Path(source) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{path}: not found (not a mailbot backup, or an unfinished one)") from None
    except (OSError, ValueError) as exc:
        raise BackupError(f"{path}: unreadable: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path}: not a {FORMAT} manifest")
    return manifest


def verify(source: Path, manifest: dict) -> None:
    """Every file the manifest lists is there with its size and SHA-256; the first that is not is named."""
    for name, want in manifest["files"].items():
        path = Path(source) / name
        if ".." in Path(name).parts or Path(name).is_absolute():
            raise BackupError(f"{MANIFEST}: unsafe path {name!r}")
        if not path.is_file():
            raise BackupError(f"{path}: missing from the backup")
        got = _describe(path)
        if got != want:
            raise BackupError(f"{path}: damaged (SHA-256 {got['sha256'][:16]}…, {got['size']} bytes; the manifest "
                              f"says {want['sha256'][:16]}…, {want['size']} bytes)")


# --- restoring -------------------------------------------------------------------------------------
def database_is_empty(engine: Engine) -> bool:
    if engine.dialect.name == "sqlite" and not _sqlite_file(engine).exists():
        return True                    # not even created: connecting would create it
    with engine.connect() as conn:
        return not inspect(conn).get_table_names()


def storage_leftovers(storage_dir: Path, engine: Engine) -> list[str]:
    """What storage.dir holds besides the database's own files (when the database lives there)."""
    storage_dir = Path(storage_dir)
    if not storage_dir.exists():
        return []
    own: set[str] = set()
    if engine.dialect.name == "sqlite":
        db_file = _sqlite_file(engine)
        if db_file.parent.resolve() == storage_dir.resolve():
            own = {db_file.name + suffix for suffix in ("", "-wal", "-shm", "-journal", ".lock")}
    return sorted(p.name for p in storage_dir.iterdir() if p.name not in own)


def restore(source: Path, engine: Engine, storage_dir: Path) -> dict:
    """Verify every sum, check that the target is empty, then put the files and the database in place.
    Nothing of the target is touched before the checks pass; a failure after them leaves it as it was."""
    source, storage_dir = Path(source), Path(storage_dir)
    manifest = read_manifest(source)
    verify(source, manifest)
    kind = manifest["database"]["kind"]
    if kind != engine.dialect.name:
        raise BackupError(f"the backup holds a {kind} database; the configuration names a {engine.dialect.name} "
                          f"one (restore into the same kind of database)")
    if not database_is_empty(engine):
        raise BackupError("the database the configuration names is not empty: restore only into an empty one")
    left = storage_leftovers(storage_dir, engine)
    if left:
        raise BackupError(f"storage.dir {storage_dir} is not empty ({', '.join(left[:5])}): restore only into an "
                          f"empty one")
    storage_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".restoring-", dir=storage_dir))
    try:
        for name, want in manifest["files"].items():
            if not name.startswith("storage/"):
                continue
            target = staging / name.removeprefix("storage/")
            target.parent.mkdir(parents=True, exist_ok=True)
            if _copy(source / name, target) != want:     # changed since it was verified
                raise BackupError(f"{source / name}: changed while it was being restored")
        _sync_tree(staging)
        database = source / manifest["database"]["file"]
        if kind == "sqlite":
            _sqlite_restore(database, _sqlite_file(engine))
        else:
            _pg_restore(database, engine, manifest["database"].get("schema") or "public")
        for name in STORED:
            if (staging / name).exists():
                os.rename(staging / name, storage_dir / name)
        fsync_path(storage_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest


def _sqlite_restore(copy: Path, target: Path) -> None:
    engine_files = [target.with_name(target.name + s) for s in ("-wal", "-shm")]
    for f in engine_files:             # an empty database's leftover log must not be replayed over the copy
        f.unlink(missing_ok=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.restoring")
    shutil.copyfile(copy, tmp)
    fsync_path(tmp)
    os.replace(tmp, target)
    fsync_path(target.parent)


def _pg_restore(dump: Path, engine: Engine, schema: str) -> None:
    """pg_restore in one transaction (all or nothing). The backup's schema must be the one the target
    uses; when that schema exists already (empty, like `public` of a new database) its CREATE is left out."""
    target_schema = _current_schema_or_path(engine)
    if target_schema != schema:
        raise BackupError(f"the backup holds schema {schema!r}; the configured database uses {target_schema!r}")
    uri, env = _libpq(engine)
    tool = _tool("pg_restore")
    listing = subprocess.run([tool, "--list", str(dump)], env=env, capture_output=True, text=True)
    if listing.returncode:
        raise BackupError(f"pg_restore cannot read {dump}: {listing.stderr.strip()}")
    with engine.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": schema}).first()
    keep = [line for line in listing.stdout.splitlines()
            if not (exists and f" SCHEMA - {schema} " in f"{line} ")]
    with tempfile.NamedTemporaryFile("w", suffix=".list", delete=False) as f:
        f.write("\n".join(keep) + "\n")
    try:
        done = subprocess.run([tool, "--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges",
                               f"--use-list={f.name}", f"--dbname={uri}", str(dump)],
                              env=env, capture_output=True, text=True)
    finally:
        os.unlink(f.name)
    if done.returncode:
        raise BackupError(f"pg_restore failed (nothing was restored): {done.stderr.strip()}")


def _current_schema_or_path(engine: Engine) -> str:
    """The schema new tables go to: current_schema(), or the first of search_path when it does not exist yet."""
    with engine.connect() as conn:
        current = conn.execute(text("SELECT current_schema()")).scalar()
        if current:
            return current
        path = conn.execute(text("SHOW search_path")).scalar() or "public"
    return path.split(",")[0].strip().strip('"') or "public"
