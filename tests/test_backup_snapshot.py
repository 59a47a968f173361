"""The SQLite snapshot of `mailbot backup` holds every committed row — also those still only in the
write-ahead log — and nothing of a transaction open while it runs (a plain file copy fails both)."""
from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

from sqlalchemy import create_engine

from mailbot.adapters.backup import SQLITE_NAME, create_backup


def _rows(path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [r[0] for r in conn.execute("SELECT note FROM t ORDER BY id")]
    finally:
        conn.close()


def test_the_snapshot_holds_what_is_committed_in_the_log_and_not_what_is_open(tmp_path):
    live = tmp_path / "live.sqlite3"
    writer = sqlite3.connect(live, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")      # committed rows stay in the log, as between checkpoints
    writer.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, note TEXT)")
    writer.executemany("INSERT INTO t (note) VALUES (?)", [(f"committed {n}",) for n in range(50)])
    writer.execute("BEGIN IMMEDIATE")                   # the daemon in the middle of a mail
    writer.execute("INSERT INTO t (note) VALUES ('open')")
    try:
        assert (tmp_path / "live.sqlite3-wal").stat().st_size > 0
        manifest = create_backup(create_engine(f"sqlite:///{live}"), tmp_path / "storage", tmp_path / "backup",
                                 now=datetime(2026, 12, 7, tzinfo=timezone.utc), mailbot_version="test",
                                 schema_version=None)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert manifest["database"]["file"] == SQLITE_NAME
    copy = tmp_path / "backup" / SQLITE_NAME
    assert _rows(copy) == [f"committed {n}" for n in range(50)]
    assert not (tmp_path / "backup" / f"{SQLITE_NAME}-wal").exists()    # one self-contained file
