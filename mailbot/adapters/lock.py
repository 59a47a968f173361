"""One daemon per mailbox: a PostgreSQL advisory lock, or an flock'd lock file beside the SQLite database."""
from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import socket
from datetime import datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from ..clock import utcnow
from ..errors import UserError

log = logging.getLogger("mailbot")


class LockHeld(UserError):
    """Another mailbot works this mailbox; str() names the holder (the CLI prints it, exit 1)."""


def mailbox_identity(cfg) -> str:
    """What the lock protects: one mailbox on one server."""
    i = cfg.imap
    return f"{i.username}@{i.host}:{i.port}/{i.mailbox}"


def advisory_key(identity: str) -> int:
    """A stable signed 64-bit key for pg_try_advisory_lock."""
    return int.from_bytes(hashlib.sha256(identity.encode()).digest()[:8], "big", signed=True)


def holder_text(started: datetime | None = None) -> str:
    started = started or utcnow()
    return f"pid={os.getpid()} host={socket.gethostname()} started={started.isoformat(timespec='seconds')}"


class InstanceLock:
    """Held from acquire() until release() (or process exit). Use `with acquire_lock(cfg, engine):`."""

    def acquire(self) -> "InstanceLock":
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError

    def held(self) -> bool:
        raise NotImplementedError

    def alive(self) -> bool:
        """False when the lock was lost (the PostgreSQL connection dropped)."""
        return True

    def __enter__(self) -> "InstanceLock":
        # acquire_lock() hands the lock over already taken: entering it must not take it a second time.
        return self if self.held() else self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


class FileLock(InstanceLock):
    """An exclusive flock on `path`; the file says who holds it. The kernel frees it when the process dies."""

    def __init__(self, path: Path, what: str):
        self.path, self.what = Path(path), what
        self._fd: int | None = None

    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> "FileLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 500, 0).decode(errors="replace").strip() or "unknown process"
            os.close(fd)
            raise LockHeld(f"another mailbot already works {self.what}: {holder} (lock file {self.path})") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, (holder_text() + "\n").encode(), 0)
        self._fd = fd
        log.info("action=lock_acquired kind=file path=%s", self.path)
        return self

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


class AdvisoryLock(InstanceLock):
    """A session-level pg_try_advisory_lock held on a connection of its own for the daemon's lifetime."""

    def __init__(self, engine: Engine, key: int, what: str):
        self.engine, self.key, self.what = engine, key, what
        self._conn = None

    def held(self) -> bool:
        return self._conn is not None

    def acquire(self) -> "AdvisoryLock":
        conn = self.engine.connect()
        got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar()
        conn.commit()
        if not got:
            holder = self._holder(conn)
            conn.close()
            raise LockHeld(f"another mailbot already works {self.what}: {holder} (PostgreSQL advisory lock "
                           f"{self.key})")
        self._conn = conn
        self._record(conn)
        log.info("action=lock_acquired kind=pg_advisory key=%s", self.key)
        return self

    def _record(self, conn) -> None:
        """Leave pid/host/start where a second instance can read them (best effort)."""
        try:
            conn.execute(text("DELETE FROM status WHERE key = :k"), {"k": self._status_key})
            conn.execute(text("INSERT INTO status (key, value) VALUES (:k, :v)"),
                         {"k": self._status_key, "v": holder_text()})
            conn.commit()
        except Exception:   # noqa: BLE001 - a schema without the status table still gets the lock
            conn.rollback()

    @property
    def _status_key(self) -> str:
        return f"lock:{self.key}"[:60]

    def _holder(self, conn) -> str:
        try:
            row = conn.execute(text("SELECT value FROM status WHERE key = :k"), {"k": self._status_key}).first()
            conn.commit()
            if row:
                return row[0]
        except Exception:   # noqa: BLE001
            conn.rollback()
        hi, lo = (self.key >> 32) & 0xFFFFFFFF, self.key & 0xFFFFFFFF
        row = conn.execute(text(
            "SELECT a.pid, a.client_addr, a.backend_start FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.classid = :hi AND l.objid = :lo AND l.granted"),
            {"hi": hi, "lo": lo}).first()
        conn.commit()
        return f"database backend pid={row[0]} client={row[1]} since={row[2]}" if row else "unknown process"

    def alive(self) -> bool:
        if self._conn is None:
            return False
        try:
            self._conn.execute(text("SELECT 1")).scalar()
            self._conn.commit()
            return True
        except Exception:   # noqa: BLE001 - a dropped connection took the lock with it
            return False

    def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
            conn.commit()
        except Exception:   # noqa: BLE001 - closing the connection frees it anyway
            pass
        conn.close()


class NoLock(InstanceLock):
    """An in-memory SQLite database is private to its process: nothing to share, nothing to lock."""

    def held(self) -> bool:
        return True

    def acquire(self) -> "NoLock":
        return self

    def release(self) -> None:
        pass


def acquire_lock(cfg, engine: Engine) -> InstanceLock:
    """Take the single-instance lock for this configuration; raises LockHeld naming the holder."""
    url = make_url(cfg.database.url)
    what = f"the mailbox {mailbox_identity(cfg)}"
    if url.get_backend_name() == "postgresql":
        return AdvisoryLock(engine, advisory_key(mailbox_identity(cfg)), what).acquire()
    database = url.database
    if not database or database == ":memory:":
        return NoLock().acquire()
    return FileLock(Path(database + ".lock"), what).acquire()
