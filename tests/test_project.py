"""The project's own promises: docs generated from the keyword table, schema = migrations, CI = README."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

ROOT = Path(__file__).resolve().parents[1]


def test_readme_keyword_tables_come_from_the_keyword_table():
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "readme_keywords.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = re.search(r'pip install "\.\[test\]" && (.+)', readme).group(1).strip()
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert command in ci_lines


def test_migrations_match_the_models(db_url):
    from mailbot.adapters import migrations
    from mailbot.adapters.db import Base, make_engine
    engine = make_engine(db_url)
    migrations.upgrade(engine)
    assert migrations.pending(engine) == []
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == [], diff


def test_deferred_storage_sync_writes_whole_files_and_syncs_them(tmp_path):
    from mailbot.adapters.storage import Storage
    store = Storage(tmp_path, sync_each=False)
    sha = store.put(b"isi file")
    raw = store.put_raw(b"From: a@b\r\n\r\nbody")
    assert store.get(sha) == b"isi file" and (tmp_path / raw).read_bytes().endswith(b"body")
    assert len(store._unsynced) == 2
    store.sync()
    assert store._unsynced == set()
    assert not list(tmp_path.rglob(".tmp-*"))


def test_make_durable_syncs_the_sqlite_log_even_while_another_connection_writes(tmp_path, monkeypatch):
    import os

    from sqlalchemy import text

    from mailbot.adapters.db import make_durable, make_engine
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    wal = tmp_path / "x.sqlite3-wal"
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(os.fstat(fd).st_ino), real_fsync(fd))[1])
    # the intake commits while the sender's barrier runs: the barrier must neither fail nor wait
    with engine.begin() as writer:
        writer.execute(text("INSERT INTO t VALUES (2)"))
        make_durable(engine)
    assert wal.stat().st_ino in synced and tmp_path.stat().st_ino in synced
    engine.dispose()
    # the same log, named by an SQLite URI rather than a path
    uri = make_engine(f"sqlite:///file:{tmp_path / 'x.sqlite3'}?mode=rwc&uri=true")
    with uri.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (3)"))
    synced.clear()
    make_durable(uri)
    assert wal.stat().st_ino in synced
    uri.dispose()


def test_a_broken_template_is_refused_with_file_and_line_and_the_old_ones_stay(tmp_path):
    import pytest

    from mailbot.outbound.templates import TemplateError, Templates
    override = tmp_path / "mail"
    override.mkdir()
    templates = Templates(tmp_path)
    (override / "ack.id.txt").write_text("Subject: x\n{% if case %}\nno endif\n")
    with pytest.raises(TemplateError, match=r"ack\.id\.txt, line \d+"):
        templates.reload()
    assert templates.exists("mail/ack.id.txt")                 # the environment in use is unchanged
    with pytest.raises(TemplateError):
        Templates(tmp_path)


def test_sqlite_write_turn_passes_on_after_commit_rollback_and_a_broken_connection(tmp_path):
    import threading

    from sqlalchemy import text

    from mailbot.adapters.db import make_engine
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))

    def other_thread_writes(value: int) -> bool:
        done = threading.Event()

        def write():
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO t VALUES (:v)"), {"v": value})
            done.set()
        threading.Thread(target=write, daemon=True).start()
        return done.wait(5)               # a turn never given back would hold it for 30 s

    with engine.connect() as conn:        # a transaction rolled back, its connection still open
        trans = conn.begin()
        conn.execute(text("INSERT INTO t VALUES (1)"))
        trans.rollback()
        assert other_thread_writes(2)
    conn = engine.connect()               # a connection that breaks in the middle of a transaction
    conn.begin()
    conn.execute(text("INSERT INTO t VALUES (3)"))
    conn.invalidate()
    assert other_thread_writes(4)
    conn.close()
    with engine.connect() as conn:        # a transaction committed, its connection still open
        with conn.begin():
            conn.execute(text("INSERT INTO t VALUES (5)"))
        assert other_thread_writes(6)
    with engine.connect() as conn:
        assert sorted(r[0] for r in conn.execute(text("SELECT x FROM t"))) == [2, 4, 5, 6]
    engine.dispose()
