"""Issue 18: `mailbot backup` while `mailbot run` handles mail, `mailbot restore` into an empty database and
storage, the restored office going on through real IMAP and SMTP servers; the daemon's daily backups."""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import signal
import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, select, text

from conftest import _pg_admin_conninfo
from mailbot.adapters import db
from mailbot.config import load_config
from test_daemon import Daemon
from world import BENDAHARA, PETUGAS, SUPERVISOR, World, attachments_of, body_of, mail

pytestmark = pytest.mark.mail
P1 = PETUGAS[0]
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n% softcopy SDA 2025\n"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 30000 + b"\xff\xd9"
STREAMED = 30


@pytest.fixture
def new_server(db_url, tmp_path):
    """Config sections of a new machine: an empty storage directory and an empty database of db_url's kind.
    SQLite lives inside storage.dir, as by default; PostgreSQL gets a new database (the schema db_url
    selects does not exist there yet, as on a fresh server: restore creates it)."""
    made: list[str] = []

    def make(name: str, schema: bool = False) -> dict:
        """`schema`: PostgreSQL's database has the schema already (empty), as `public` of a new database."""
        storage = tmp_path / name
        if db_url.startswith("sqlite"):
            url = f"sqlite:///{storage / 'mailbot.sqlite3'}"
        else:
            import psycopg
            from sqlalchemy.engine import make_url
            database = f"mbr_{uuid.uuid4().hex[:12]}"
            with psycopg.connect(_pg_admin_conninfo(db_url), autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{database}"')
            made.append(database)
            url = make_url(db_url).set(database=database).render_as_string(hide_password=False)
            if schema:
                with psycopg.connect(_pg_admin_conninfo(url), autocommit=True) as conn:
                    name_ = make_url(url).query["options"].removeprefix("-csearch_path=")
                    conn.execute(f'CREATE SCHEMA "{name_}"')
        return {"database": {"url": url}, "storage": {"dir": str(storage)}}

    yield make
    if made:
        import psycopg
        with psycopg.connect(_pg_admin_conninfo(db_url), autocommit=True) as admin:
            for database in made:
                admin.execute(f'DROP DATABASE "{database}" WITH (FORCE)')


def latest(world: World, to: str, part: str = ""):
    found = [m for m in world.sent_to(to) if part in str(m["Subject"])]
    assert found, [str(m["Subject"]) for m in world.sent_to(to)]
    return found[-1]


def reply(world: World, frm: str, to_msg, body: str, attachments=(), auth: str | None = "pass") -> None:
    world.deliver(mail(frm, f"Re: {to_msg['Subject']}", body, reply_to=to_msg, attachments=attachments, auth=auth))
    world.run_once()


def prepared_case(world: World, customer: str, file: bytes) -> str:
    """A request made clear, with its softcopy attached by SIAP."""
    world.deliver(mail(customer, "Permintaan", "Saya ingin membeli softcopy Provinsi Sumatera Selatan Dalam Angka "
                       "2025.\nSETUJU", attachments=(("ktp.jpg", JPEG, "image/jpeg"),)))
    world.run_once()
    ref = next(c["ref"] for c in world.cases() if c["customer"] == customer)
    reply(world, P1, latest(world, P1, ref), "IDENTITAS OK\nITEM #1\nJELAS\nSIAP",
          (("sda-2025.pdf", file, "application/pdf"),))
    assert world.case(ref)["state"] == "preparing", world.case(ref)["events"]
    return ref


def tables(world: World) -> list[str]:
    """The tables in the world's configured database, seen without mailbot (whose App would create them)."""
    url = load_config(world.config).database.url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return []
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                return inspect(conn).get_table_names()
            return list(conn.execute(text("SELECT table_name FROM information_schema.tables WHERE table_schema "
                                          "NOT IN ('pg_catalog', 'information_schema')")).scalars())
    finally:
        engine.dispose()


def storage_of(world: World) -> Path:
    return load_config(world.config).storage.dir


def stored_sums(storage: Path) -> dict[str, str]:
    return {p.relative_to(storage).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for sub in ("files", "raw") for p in (storage / sub).rglob("*") if p.is_file()}


def documents(world: World) -> list[tuple]:
    with world.app.sessions() as s:
        return [(d.kind, d.number, d.total, d.file_sha256, d.void, d.case_id)
                for d in s.scalars(select(db.DocumentRow).order_by(db.DocumentRow.id))]


def stream_requests(world: World, n: int, spacing: float) -> threading.Thread:
    def run() -> None:
        for i in range(n):
            world.deliver(mail(f"pemohon{i:03d}@gmail.com", "Permintaan", "Mohon softcopy Statistik Daerah 2025",
                               attachments=(("ktp.jpg", JPEG + i.to_bytes(4, "big"), "image/jpeg"),)))
            time.sleep(spacing)
    t = threading.Thread(target=run)
    t.start()
    return t


def wait_until(check, timeout: float, what: str, daemon: Daemon) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what} within {timeout} s; the daemon's log:\n{daemon.text()}"
        time.sleep(0.1)


def test_backup_while_the_daemon_works_restores_whole_and_goes_on(world, new_server, capsys):
    open_ref = prepared_case(world, "budi@gmail.com", PDF)
    reply(world, P1, latest(world, P1, open_ref), "TAGIH")                     # invoiced: the open case
    zero_ref = prepared_case(world, "dinas@sumselprov.go.id", PDF + b"%2\n")
    reply(world, P1, latest(world, P1, zero_ref), "NOL instansi pemerintah")   # delivered: a kuitansi
    assert [world.case(r)["state"] for r in (open_ref, zero_ref)] == ["invoiced", "delivered"]
    daily = world.dir / "daily"
    with open(world.config, "a", encoding="utf-8") as f:          # the daemon's own daily backup, due at once
        f.write(f'\n[backup]\ndir = "{daily}"\ntime = "00:00"\n')

    daemon = Daemon(world)
    taken = world.dir / "backup-1"
    try:
        feeder = stream_requests(world, STREAMED, 0.03)
        wait_until(lambda: len(world.cases()) >= 5, 30, "five streamed requests handled", daemon)
        before = len(world.cases())
        code, out = world.cli("backup", str(taken))                       # while mail is being handled
        assert code == 0, out
        at_backup_end = len(world.cases())
        feeder.join()
        wait_until(lambda: len(world.cases()) == STREAMED + 2, 60, "every streamed request handled", daemon)
        wait_until(lambda: any(daily.glob("mailbot-*/manifest.json")), 30, "the daemon's daily backup", daemon)
    finally:
        if daemon.proc.poll() is None:
            daemon.proc.send_signal(signal.SIGTERM)
            daemon.proc.wait(20)
    assert daemon.proc.returncode == 0, daemon.text()
    assert "action=backup " in daemon.text()

    manifest = json.loads((taken / "manifest.json").read_text())
    assert manifest["schema_version"] and manifest["mailbot_version"]
    assert manifest["database"]["kind"] == world.app.engine.dialect.name
    for name, want in manifest["files"].items():
        assert hashlib.sha256((taken / name).read_bytes()).hexdigest() == want["sha256"], name

    # --- restored on a new machine: same mailbox and SMTP server, empty database and storage ----------------
    second = World(world.imap, world.smtp, "sqlite://", **new_server("second", schema=True))
    try:
        code, out = second.cli("restore", str(taken))
        assert code == 0, out
        assert second.cli("check")[0] == 0, second.cli("check")[1]

        restored, original = second.cases(), world.cases()
        n = len(restored)
        assert before <= n <= at_backup_end        # all that was committed when the backup began, maybe a little more
        assert [c["ref"] for c in restored] == [c["ref"] for c in original[:n]]
        assert restored == original[:n]                           # the same cases, field by field, event by event
        assert documents(second) == documents(world)              # every invoice and kuitansi
        ours, theirs = stored_sums(storage_of(second)), stored_sums(world.storage)
        assert ours and all(theirs[path] == sha for path, sha in ours.items())
        assert {f"storage/{p}": s for p, s in ours.items()} == {
            k: v["sha256"] for k, v in manifest["files"].items() if k.startswith("storage/")}
        with second.app.sessions() as s:                           # every file the database names is there
            for f in s.scalars(select(db.FileRow).where(db.FileRow.deleted_at.is_(None))):
                assert hashlib.sha256(second.app.storage.get(f.sha256)).hexdigest() == f.sha256
            for raw in s.scalars(select(db.InboundRow.raw_path).where(db.InboundRow.raw_path != "")):
                assert (storage_of(second) / raw).is_file(), raw

        # The restored office goes on: proof, digest, approval, delivery with the softcopy from its storage.
        invoice = latest(world, "budi@gmail.com", "Invoice")
        second.smtp.clear()
        reply(second, "budi@gmail.com", invoice, "Sudah transfer.", (("bukti.jpg", JPEG, "image/jpeg"),), auth=None)
        assert second.case(open_ref)["state"] == "payment_review"
        assert second.cli("digest")[0] == 0
        digest = latest(second, BENDAHARA, "Digest")
        token = re.search(r"SETUJU ([A-Z2-9]{6})", body_of(digest)).group(1)
        reply(second, BENDAHARA, digest, f"SETUJU {token}")
        assert second.case(open_ref)["state"] == "delivered"
        delivery = latest(second, "budi@gmail.com", open_ref)
        files = dict(attachments_of(delivery))
        assert files["sda-2025.pdf"] == PDF
        assert any(name.startswith("kuitansi-") for name in files)

        code, _ = second.cli("restore", str(taken))               # never over a database in use
        assert code == 1 and "not empty" in capsys.readouterr().err
    finally:
        second.close()


def test_a_damaged_backup_is_refused_by_name_and_the_target_left_untouched(world, new_server, capsys):
    prepared_case(world, "budi@gmail.com", PDF)
    taken = world.dir / "backup"
    assert world.cli("backup", str(taken))[0] == 0

    busy = World(world.imap, world.smtp, "sqlite://", **new_server("busy"))     # storage already in use
    try:
        (storage_of(busy) / "files").mkdir(parents=True)
        (storage_of(busy) / "files" / "old").write_bytes(b"x")
        code, _ = busy.cli("restore", str(taken))
        assert code == 1 and "is not empty (files)" in capsys.readouterr().err
        assert tables(busy) == [] and [p.name for p in storage_of(busy).rglob("*")] == ["files", "old"]
    finally:
        busy.close()

    used = World(world.imap, world.smtp, "sqlite://", **new_server("used", schema=True))     # a database already in use
    try:
        storage_of(used).mkdir()
        assert used.cli("db", "upgrade")[0] == 0
        code, _ = used.cli("restore", str(taken))
        assert code == 1 and "database the configuration names is not empty" in capsys.readouterr().err
        assert not (storage_of(used) / "files").exists()
    finally:
        used.close()

    softcopy = next(p for p in (taken / "storage" / "files").rglob("*") if p.is_file() and p.read_bytes() == PDF)
    softcopy.write_bytes(PDF.replace(b"2025", b"2024"))

    target = World(world.imap, world.smtp, "sqlite://", **new_server("third"))
    try:
        code, _ = target.cli("restore", str(taken))
        err = capsys.readouterr().err
        assert code == 1 and str(softcopy) in err and "damaged" in err, err
        assert not (storage_of(target) / "files").exists() and not (storage_of(target) / "raw").exists()
        assert tables(target) == []
    finally:
        target.close()


def test_a_backup_needs_a_new_or_empty_directory(world, capsys):
    full = world.dir / "full"
    full.mkdir()
    (full / "x").write_text("x")
    assert world.cli("backup", str(full))[0] == 1
    assert "not an empty directory" in capsys.readouterr().err
    assert world.cli("backup", str(world.dir / "empty-ok"))[0] == 0


def test_daily_backups_keep_the_last_n_and_a_failure_tells_the_supervisor(fresh_mailbox, smtp_server, db_url, tmp_path):
    daily = tmp_path / "daily"
    world = World(fresh_mailbox, smtp_server, db_url, backup={"dir": str(daily), "keep": 2, "time": "01:00"})
    try:
        world.import_catalog()
        assert "backup" not in world.jobs("2026-12-08T00:59+07:00")
        for day in ("08", "09", "10"):
            assert world.jobs(f"2026-12-{day}T01:00+07:00")["backup"] == str(daily / f"mailbot-2026-12-{day}")
            assert "backup" not in world.jobs(f"2026-12-{day}T02:00+07:00")           # once a day
        assert sorted(p.name for p in daily.iterdir()) == ["mailbot-2026-12-09", "mailbot-2026-12-10"]

        shutil.rmtree(daily)
        daily.write_text("not a directory")          # the backup disk is gone: a file stands where it was
        assert "backup" not in world.jobs("2026-12-11T01:00+07:00")
        assert "backup" not in world.jobs("2026-12-11T01:05+07:00")                   # not again that day
        told = [m for m in world.sent_to(SUPERVISOR) if "cadangan harian" in str(m["Subject"])]
        assert len(told) == 1 and str(daily) in body_of(told[0])
    finally:
        world.close()
