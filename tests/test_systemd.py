"""systemd/mailbot.service: the hardening the office relies on, and `systemd-analyze verify` accepts it."""
from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parents[1] / "systemd" / "mailbot.service"
SHIPPED_BINARY = "/opt/mailbot/venv/bin/mailbot"


def settings() -> dict[str, list[str]]:
    """Every `Key=value` of the unit, keys may repeat (LoadCredential=, SystemCallFilter=)."""
    found: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key, []).append(value)
    return found


def test_unit_has_the_promised_settings():
    s = settings()
    assert s["DynamicUser"] == ["yes"] and s["StateDirectory"] == ["mailbot"]
    for key in ("ProtectSystem",):
        assert s[key] == ["strict"]
    for key in ("NoNewPrivileges", "PrivateTmp"):
        assert s[key] == ["yes"], key
    assert "imap-password:/etc/mailbot/imap-password" in s["LoadCredential"]
    assert "smtp-password:/etc/mailbot/smtp-password" in s["LoadCredential"]
    assert s["Restart"] == ["on-failure"]
    assert s["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert any(v.endswith(" db upgrade") for v in s["ExecStartPre"])
    assert s["ExecStart"][0].startswith(SHIPPED_BINARY) and s["ExecStart"][0].endswith(" run")
    assert int(s["TimeoutStopSec"][0]) > 10                        # mailbot needs at most 10 s to stop
    sections = configparser.ConfigParser(strict=False, interpolation=None)
    sections.read_string(UNIT.read_text())
    assert sections.sections() == ["Unit", "Service", "Install"]


def test_readme_documents_the_credentials_directory():
    text = (UNIT.parent / "README.md").read_text()
    assert "$CREDENTIALS_DIRECTORY" in text and "/run/credentials/mailbot.service/imap-password" in text


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_analyze_verify_accepts_the_unit(tmp_path):
    # verify insists that ExecStart's binary exists: point a copy at this interpreter's mailbot.
    binary = shutil.which("mailbot") or str(Path(sys.executable).parent / "mailbot")
    if not Path(binary).exists():
        binary = str(tmp_path / "mailbot")
        Path(binary).write_text(f"#!/bin/sh\nexec {sys.executable} -m mailbot.cli \"$@\"\n")
        Path(binary).chmod(0o755)
    copy = tmp_path / "mailbot.service"
    copy.write_text(UNIT.read_text().replace(SHIPPED_BINARY, binary))
    done = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=60)
    problems = [line for line in (done.stdout + done.stderr).splitlines() if "mailbot.service" in line]
    assert done.returncode == 0 and not problems, done.stdout + done.stderr

    broken = tmp_path / "broken" / "mailbot.service"
    broken.parent.mkdir()
    broken.write_text(copy.read_text().replace("ProtectSystem=strict", "ProtectSystem=very"))
    done = subprocess.run(["systemd-analyze", "verify", str(broken)], capture_output=True, text=True, timeout=60)
    # verify only warns (exit 0) about a bad value: that is why the first run also fails on any line
    assert "mailbot.service:" in done.stderr and "very" in done.stderr
