"""`mailbot check` against real servers: a PASS line per part when all is well, a named FAIL otherwise."""
from __future__ import annotations

import shutil
from datetime import datetime, timezone

import pytest

import servers as devservers
from mailbot.cli.checks import run_checks
from mailbot.config import load_config
from world import World

pytestmark = pytest.mark.mail
NAMES = ("config", "imap", "smtp", "database", "holidays", "library", "templates", "fonts", "ocr")


def lines(out: str) -> dict[str, str]:
    found = {}
    for line in out.splitlines():
        if line.startswith(("PASS", "FAIL", "WARN")):
            status, name, _ = line.split(None, 2)
            found[name] = status
    return found


def edit(world: World, old: str, new: str) -> None:
    text = world.config.read_text()
    assert old in text
    world.config.write_text(text.replace(old, new, 1))


@pytest.fixture
def world(fresh_mailbox, smtp_server, db_url):
    w = World(fresh_mailbox, smtp_server, db_url)
    yield w
    w.close()


def test_all_pass_and_folders_are_created(world):
    assert world.cli("db", "upgrade")[0] == 0
    code, out = world.cli("check")
    assert code == 0, out
    found = lines(out)
    # fonts for every optional script are rare (this machine and CI have no Hangul font): a warning at most
    assert found.pop("fonts") in ("PASS", "WARN") and found == {n: "PASS" for n in NAMES if n != "fonts"}, out
    assert "created Processed, Quarantine" in out
    with world.imap.client() as c:
        assert c.folder_exists("Processed") and c.folder_exists("Quarantine")
    code, out = world.cli("check")
    assert code == 0 and "created" not in out
    assert world.smtp.messages == []                          # nothing was sent


def test_each_broken_part_fails_by_name(world):
    # database not migrated, library missing, wrong IMAP password, SMTP down
    shutil.rmtree(world.library)
    edit(world, f'password = "{world.imap.password}"', 'password = "wrong"')
    edit(world, f"port = {world.smtp.port}", f"port = {devservers.free_port()}")
    code, out = world.cli("check")
    assert code == 1
    assert lines(out) == {"config": "PASS", "imap": "FAIL", "smtp": "FAIL", "database": "FAIL",
                          "holidays": "PASS", "library": "FAIL", "templates": "PASS", "fonts": lines(out)["fonts"],
                          "ocr": "PASS"}, out
    assert "rejected the login" in out and "db upgrade" in out
    assert "wrong" not in out                                 # the password is never printed
    assert "5 of 9 checks passed" in out


def test_missing_folders_fail_when_creation_is_not_allowed(world, capsys):
    world.cli("db", "upgrade")
    edit(world, "[imap]", "[imap]\ncreate_folders = false")
    assert run_checks(load_config(world.config), datetime.now(timezone.utc)) == 1
    out = capsys.readouterr().out
    assert lines(out)["imap"] == "FAIL" and "Processed, Quarantine" in out and "create_folders" in out


def test_smtp_that_wants_auth_fails_and_passes_with_login(fresh_mailbox, db_url, capsys):
    smtp = devservers.CaptureSMTPServer(auth=("mailbot", "rahasia")).start()
    world = World(fresh_mailbox, smtp, db_url)
    try:
        world.cli("db", "upgrade")
        assert run_checks(load_config(world.config), datetime.now(timezone.utc)) == 1
        out = capsys.readouterr().out
        assert lines(out)["smtp"] == "FAIL" and "Authentication required" in out
        edit(world, "[smtp]", '[smtp]\nusername = "mailbot"\npassword = "rahasia"')
        assert run_checks(load_config(world.config), datetime.now(timezone.utc)) == 0
        assert "logged in as mailbot" in capsys.readouterr().out
    finally:
        smtp.stop()
        world.close()


def test_year_without_cuti_bersama_fails_until_the_office_enters_it(world, capsys):
    world.cli("db", "upgrade")
    later = datetime(2028, 3, 1, tzinfo=timezone.utc)      # the holidays package knows no 2028 cuti bersama
    assert run_checks(load_config(world.config), later) == 1
    out = capsys.readouterr().out
    assert lines(out)["holidays"] == "FAIL" and "2028, 2029" in out
    edit(world, "[tariffs]", "[calendar]\nassume_complete_years = [2028, 2029]\n\n[tariffs]")
    assert run_checks(load_config(world.config), later) == 0
    assert lines(capsys.readouterr().out)["holidays"] == "PASS"


def test_missing_tesseract_is_a_warning_that_does_not_fail_the_check(world, monkeypatch):
    pytesseract = pytest.importorskip("pytesseract")
    assert world.cli("db", "upgrade")[0] == 0
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", str(world.dir / "no-tesseract-here"))
    code, out = world.cli("check")
    assert code == 0, out
    assert lines(out) == {**{n: "PASS" for n in NAMES}, "fonts": lines(out)["fonts"], "ocr": "WARN"}, out
    assert "Tesseract is not installed" in out and "tidak terbaca (OCR tidak terpasang)" in out
    assert "9 of 9 checks passed; warning: " in out and "ocr" in out.splitlines()[-1]
