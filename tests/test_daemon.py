"""`mailbot run` as a real process: IDLE, the outbox, one instance only, SIGHUP, SIGTERM, supervisor alerts."""
from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, inspect

import servers as devservers
from mailbot.runtime import daemon
from mailbot.adapters import db
from mailbot.clock import utcnow
from mailbot.config import load_config
from mailbot.adapters.lock import LockHeld, acquire_lock
from mailbot.app.bootstrap import App
from mailbot.outbound.templates import shipped_templates_dir
from world import SUPERVISOR, World, body_of, mail

pytestmark = pytest.mark.mail
ROOT = Path(__file__).resolve().parents[1]


def _set(world: World, old: str, new: str) -> None:
    text = world.config.read_text()
    assert old in text
    world.config.write_text(text.replace(old, new))


@pytest.fixture
def world(fresh_mailbox, smtp_server, db_url):
    w = World(fresh_mailbox, smtp_server, db_url, templates={"dir": ""})
    (w.dir / "tpl" / "mail").mkdir(parents=True)
    _set(w, 'dir = ""', f'dir = "{w.dir / "tpl"}"')
    # With an hour between polls, an acknowledgement within seconds can only come from IDLE.
    _set(w, "poll_seconds = 5", "poll_seconds = 3600")
    w.import_catalog()
    yield w
    w.close()


class Daemon:
    """`python -m mailbot.cli --config … run` as a child process, its stderr in a file."""

    def __init__(self, world: World, *extra: str):
        self.log = world.dir / f"daemon-{time.monotonic_ns()}.log"
        self.proc = subprocess.Popen([sys.executable, "-m", "mailbot.cli", "--config", str(world.config), "run",
                                      *extra], stderr=open(self.log, "wb"), stdout=subprocess.PIPE, cwd=ROOT)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_log(self, needle: str, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.text():
            assert self.proc.poll() is None, f"daemon exited {self.proc.returncode}:\n{self.text()}"
            assert time.monotonic() < deadline, f"no {needle!r} in the log:\n{self.text()}"
            time.sleep(0.05)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def wait_for_mail(world: World, address: str, count: int = 1, timeout: float = 5,
                  daemon: Daemon | None = None) -> list:
    deadline = time.monotonic() + timeout
    while len(world.sent_to(address)) < count:
        assert time.monotonic() < deadline, (f"no mail to {address} within {timeout} s" +
                                             (f"; the daemon's log:\n{daemon.text()}" if daemon else "") +
                                             f"\nthe IMAP server's log:\n{devservers._tail(world.imap.logfile)}")
        time.sleep(0.02)
    return world.sent_to(address)


def request(customer: str):
    return mail(customer, "Permintaan publikasi", "Saya ingin membeli softcopy Provinsi Sumatera Selatan Dalam "
                "Angka 2025.")


def test_daemon_answers_by_idle_reloads_templates_and_stops_on_sigterm(world):
    first = Daemon(world)
    try:
        first.wait_log("action=imap_connected")
        assert "idle=yes" in first.text()

        started = time.monotonic()
        world.deliver(request("budi@gmail.com"))
        ack = wait_for_mail(world, "budi@gmail.com", daemon=first)[0]
        assert time.monotonic() - started < 3            # IDLE (polls are an hour apart)
        assert "[PUB-" in ack["Subject"]
        assert world.imap.list_messages("INBOX") == []

        # A second daemon, and `run --once`, refuse to work the same mailbox and say who does.
        for extra in ((), ("--once",)):
            second = subprocess.run([sys.executable, "-m", "mailbot.cli", "--config", str(world.config), "run",
                                     *extra], capture_output=True, text=True, timeout=30, cwd=ROOT)
            assert second.returncode != 0, extra
            assert f"pid={first.proc.pid}" in second.stderr and "another mailbot" in second.stderr, second.stderr

        # SIGHUP: a new override template shadows the shipped one from the next mail on.
        shipped = (shipped_templates_dir() / "mail" / "ack.id.txt").read_text()
        subject, rest = shipped.split("\n", 1)
        (world.dir / "tpl" / "mail" / "ack.id.txt").write_text(subject + " DIPERBARUI\n" + rest)
        first.proc.send_signal(signal.SIGHUP)
        first.wait_log("action=reload")
        world.deliver(request("siti@yahoo.co.id"))
        assert "DIPERBARUI" in wait_for_mail(world, "siti@yahoo.co.id", daemon=first)[0]["Subject"]

        code, out = world.cli("status")
        assert code == 0 and '"last_fetch": "20' in out

        stop = time.monotonic()
        first.proc.send_signal(signal.SIGTERM)
        assert first.proc.wait(10) == 0, first.text()
        assert time.monotonic() - stop < 10
        assert "action=stopped exit=0" in first.text()
    finally:
        first.kill()
    assert world.imap.password not in first.text()      # secrets never logged

    # The scheduler keeps its job in a table of its own in the same database.
    engine = create_engine(load_config(world.config).database.url)
    try:
        assert daemon.JOB_TABLE in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_second_lock_names_the_holder(world):
    cfg = load_config(world.config)
    app = App(cfg)
    held = acquire_lock(cfg, app.engine)
    try:
        with pytest.raises(LockHeld, match=f"pid={os.getpid()}"):
            acquire_lock(cfg, app.engine)
    finally:
        held.release()
    acquire_lock(cfg, app.engine).release()          # free again once released
    app.engine.dispose()


def test_supervisor_told_once_when_mailbox_down_and_again_when_back(smtp_server, db_url, monkeypatch):
    kind = devservers.DovecotServer if devservers.find_dovecot() else devservers.PymapServer
    imap = kind()                                     # configured but not started: the mailbox is down
    world = World(imap, smtp_server, db_url, imap={"alert_after_failures": 3})
    monkeypatch.setattr(daemon, "RECONNECT_FIRST", 0.05)
    monkeypatch.setattr(daemon, "RECONNECT_MAX", 0.2)
    monkeypatch.setattr(daemon, "SEND_INTERVAL", 0.2)
    app = App(load_config(world.config))
    d = daemon.Daemon(app, utcnow)

    async def scenario() -> int:
        task = asyncio.create_task(d.run())
        down = await asyncio.to_thread(wait_for_mail, world, SUPERVISOR, 1, 10)
        assert "tidak dapat" in str(down[0]["Subject"]) and "Kesalahan terakhir" in body_of(down[0])
        await asyncio.sleep(0.6)                      # more failures: still one mail
        assert len(world.sent_to(SUPERVISOR)) == 1
        await asyncio.to_thread(imap.start)
        back = await asyncio.to_thread(wait_for_mail, world, SUPERVISOR, 2, 10)
        assert "Pulih" in str(back[1]["Subject"])
        d.request_stop("test")
        return await asyncio.wait_for(task, 10)

    try:
        assert asyncio.run(scenario()) == 0
    finally:
        imap.close()
        app.engine.dispose()
        world.close()


def test_jobs_missed_while_stopped_run_once_at_start(fresh_mailbox, smtp_server, db_url):
    """An invoice that lapsed while no daemon ran is expired by the first scheduler run, once."""
    from datetime import timedelta

    from test_report import JPEG, PDF, customer, handle, staff
    world = World(fresh_mailbox, smtp_server, db_url)
    world.import_catalog()
    app = App(load_config(world.config))
    then = utcnow() - timedelta(days=45)
    ref = handle(app, mail("budi@gmail.com", "Permintaan", "Mohon softcopy Statistik Daerah 2025"), then, "new_case")
    customer(app, ref, "budi@gmail.com", "SETUJU", then + timedelta(hours=1), (("ktp.jpg", JPEG, "image/jpeg"),))
    staff(app, ref, "IDENTITAS OK\nITEM 1102001.16\nJELAS\nSIAP\nTAGIH", then + timedelta(hours=2),
          (("sda.pdf", PDF, "application/pdf"),))
    with app.sessions.begin() as s:                   # the acknowledgements of back then are not the point
        s.execute(delete(db.OutboxRow))

    def expiries() -> list:
        return [m for m in world.sent_to("budi@gmail.com") if "kedaluwarsa" in str(m["Subject"])]

    ticks: list[str] = []
    stop_now: list = []

    class Ticks(logging.Handler):
        def emit(self, record):
            if "action=jobs " in record.getMessage():
                ticks.append(record.getMessage())
                for stop in stop_now:    # stopped the moment the jobs are done: nothing sent yet
                    stop()

    async def one_run() -> int:
        d = daemon.Daemon(app, utcnow)
        loop = asyncio.get_running_loop()
        stop_now[:] = [lambda: loop.call_soon_threadsafe(d.request_stop, "test")]
        task = asyncio.create_task(d.run())
        # The stop comes with the start-up run of the jobs; shutting down sends what they queued.
        return await asyncio.wait_for(task, 20)

    handler, logger = Ticks(), logging.getLogger("mailbot")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)

    try:
        assert asyncio.run(one_run()) == 0
        assert len(expiries()) == 1
        assert asyncio.run(one_run()) == 0            # started again: nothing twice
        assert len(expiries()) == 1 and len(ticks) == 2 and "expire=0" in ticks[1]
        assert "expire=1" in ticks[0]
        assert json.loads(world.cli("case", ref, "--json")[1])["state"] == "expired"
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        app.engine.dispose()
        world.close()
