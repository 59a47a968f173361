"""Screening of inbound mail: human, machine (auto replies, lists, no-reply), bounce, own."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from mailbot.inbound import screening
from mailbot.inbound.parse import parse_message
from mailbot.inbound.screening import Screening, screen

FIXTURES = Path(__file__).parent / "fixtures" / "eml"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
OWN = "mailbot.bps.go.id"


def verdict(headers: str, body: str = "Halo\n") -> Screening:
    return screen(parse_message(headers.strip("\n").encode() + b"\n\n" + body.encode()), OWN)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_verdict(name):
    exp = EXPECTED[name]
    result = screen(parse_message((FIXTURES / name).read_bytes()), OWN)
    assert result.verdict == exp["verdict"]
    if "reason" in exp:
        assert result.reason == exp["reason"]


def test_every_verdict_is_covered_by_fixtures():
    assert {e["verdict"] for e in EXPECTED.values()} == set(screening.VERDICTS)
    assert sum(e["verdict"] == "human" for e in EXPECTED.values()) >= 30


BASE = "From: Budi <budi@example.com>\nTo: diseminasi1600@bps.go.id\nSubject: data\nMessage-ID: <m1@example.com>\n"


@pytest.mark.parametrize("extra,expected", [
    ("", ("human", "no machine header")),
    ("Auto-Submitted: no\n", ("human", "no machine header")),
    ("Auto-Submitted: auto-replied\n", ("machine", "Auto-Submitted: auto-replied")),
    ("Auto-Submitted: auto-generated; owner-email=x@y\n", ("machine", "Auto-Submitted: auto-generated; owner-email=x@y")),
    ("Precedence: bulk\n", ("machine", "Precedence: bulk")),
    ("Precedence: JUNK\n", ("machine", "Precedence: junk")),
    ("Precedence: auto_reply\n", ("machine", "Precedence: auto_reply")),
    ("Precedence: normal\n", ("human", "no machine header")),
    ("List-Id: <statistik.lists.example.com>\n", ("machine", "List-Id: <statistik.lists.example.com>")),
    ("List-Unsubscribe: <mailto:leave@example.com>\n", ("machine", "List-Unsubscribe: <mailto:leave@example.com>")),
    ("X-Autoreply: yes\n", ("machine", "X-Autoreply: yes")),
    ("X-Autorespond: Terima kasih\n", ("machine", "X-Autorespond: Terima kasih")),
    ("Return-Path: <>\n", ("machine", "Return-Path: <>")),
    ("Content-Type: multipart/report; report-type=disposition-notification; boundary=x\n",
     ("machine", "Content-Type: multipart/report; report-type=disposition-notification")),
])
def test_header_rules(extra, expected):
    result = verdict(BASE + extra)
    assert (result.verdict, result.reason) == expected


@pytest.mark.parametrize("sender", ["noreply@bank.co.id", "no-reply@accounts.google.com", "MAILER-DAEMON@mx.example.com",
                                    "postmaster@example.com"])
def test_machine_senders(sender):
    result = verdict(BASE.replace("Budi <budi@example.com>", sender))
    assert result.verdict == "machine"
    assert result.reason == f"From: {sender.lower()}"


def test_suppress_header_alone_keeps_a_human_human():
    assert verdict(BASE + "X-Auto-Response-Suppress: All\n").verdict == "human"


@pytest.mark.parametrize("subject", ["Automatic reply: data", "Balasan Otomatis: data", "Out of Office: data"])
def test_suppress_header_with_auto_reply_subject_is_machine(subject):
    result = verdict(BASE.replace("Subject: data", f"Subject: {subject}") + "X-Auto-Response-Suppress: All\n")
    assert (result.verdict, result.reason) == ("machine", "X-Auto-Response-Suppress: All")


def test_suppress_header_alone_can_be_made_machine(monkeypatch):
    monkeypatch.setattr(screening, "SUPPRESS_ALONE_IS_MACHINE", True)
    assert verdict(BASE + "X-Auto-Response-Suppress: All\n").verdict == "machine"


def test_own_mail_is_checked_first():
    result = verdict(BASE.replace("<m1@example.com>", "<20261130.abc123@MAILBOT.bps.go.id>") + "Auto-Submitted: auto-replied\n")
    assert (result.verdict, result.reason) == ("own", "Message-ID: <20261130.abc123@MAILBOT.bps.go.id>")
    # a look-alike domain is not ours
    assert verdict(BASE.replace("<m1@example.com>", "<x@evil-mailbot.bps.go.id.example>")).verdict == "human"


def test_bounce_needs_reported_ids_unless_it_is_a_dsn():
    body = "--- Below this line is a copy of the message.\n\nMessage-ID: <20261201.k7q2xp@mailbot.bps.go.id>\n"
    sender = BASE.replace("Budi <budi@example.com>", "MAILER-DAEMON@mx.example.com")
    assert verdict(sender, body) == Screening("bounce", "From: mailer-daemon@mx.example.com")
    assert verdict(sender + "Return-Path: <>\n", "Maaf, gagal.\n").verdict == "machine"
    assert verdict(BASE + "Return-Path: <>\n", body) == Screening("bounce", "Return-Path: <>")


def test_screening_is_frozen():
    result = Screening("human", "x")
    import dataclasses
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.verdict = "machine"  # type: ignore[misc]
