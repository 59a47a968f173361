"""`mailbot run` as a real process: IDLE, the outbox, one instance only, SIGHUP, SIGTERM, supervisor alerts."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from mailbot import daemon, devservers
from mailbot.cli import utcnow
from mailbot.config import load_config
from mailbot.lock import LockHeld, acquire_lock
from mailbot.service import App
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


def wait_for_mail(world: World, address: str, count: int = 1, timeout: float = 5) -> list:
    deadline = time.monotonic() + timeout
    while len(world.sent_to(address)) < count:
        assert time.monotonic() < deadline, f"no mail to {address} within {timeout} s"
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
        ack = wait_for_mail(world, "budi@gmail.com")[0]
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
        assert "DIPERBARUI" in wait_for_mail(world, "siti@yahoo.co.id")[0]["Subject"]

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
    world = World(imap, smtp_server, db_url)
    monkeypatch.setattr(daemon, "RECONNECT_FIRST", 0.05)
    monkeypatch.setattr(daemon, "RECONNECT_MAX", 0.2)
    monkeypatch.setattr(daemon, "IMAP_FAILURES_BEFORE_ALERT", 3)
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
