"""The outbox through a real SMTP server: outages, 4xx and 5xx answers, one kept connection per drain."""
from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from world import PETUGAS, World, mail

import servers as devservers
from mailbot.adapters import db
from mailbot.adapters.smtp import SendPermanentError
from mailbot.adapters.smtp import SmtpSession
from mailbot.runtime.sender import drain

pytestmark = pytest.mark.mail
CUSTOMERS = ("budi@gmail.com", "siti@yahoo.co.id", "andi@ui.ac.id")


def deliver_requests(world: World, customers=CUSTOMERS) -> None:
    for c in customers:
        world.deliver(mail(c, "Permintaan publikasi", "Saya ingin membeli Statistik Daerah Sumatera Selatan 2025."))


def outbox(world: World) -> list[db.OutboxRow]:
    with world.app.sessions() as s:
        return list(s.scalars(select(db.OutboxRow).order_by(db.OutboxRow.id)))


def drain_at(world: World, at: datetime):
    return asyncio.run(drain(world.app, lambda: at))


def later(hours: float = 3) -> datetime:
    return datetime.now(UTC) + timedelta(hours=hours)


def ids_to(world: World, address: str) -> list[str]:
    return [str(m["Message-ID"]) for m in world.sent_to(address)]


def test_smtp_down_while_mail_is_processed_nothing_lost_all_sent_once_back(world):
    world.smtp.stop()
    deliver_requests(world)
    result = world.run_once()
    assert result["mail"] == {"new_case": 3}                      # intake does not wait for SMTP
    assert result["outbox"] == {"sent": 0, "deferred": 1, "failed": 0}
    rows = outbox(world)
    # per request: the customer's ack and one notice to the whole petugas list
    assert len(rows) == 3 * 2 and {r.status for r in rows} == {"pending"}
    first = rows[0]
    assert first.attempts == 1 and "unreachable" in first.last_error
    assert db.utc(first.next_attempt_at) > datetime.now(UTC) + timedelta(seconds=10)   # backed off

    world.smtp.start()
    again = world.run_once()                                      # the backed-off row waits its turn
    assert again["outbox"] == {"sent": len(rows) - 1, "deferred": 0, "failed": 0}
    assert drain_at(world, later()).sent == 1                     # ... and goes once its time has come
    assert drain_at(world, later()).sent == 0
    assert {r.status for r in outbox(world)} == {"sent"}
    for c in CUSTOMERS:
        assert len(ids_to(world, c)) == 1
    for p in PETUGAS:
        assert len(ids_to(world, p)) == 3 == len(set(ids_to(world, p)))
    sent_first = [m for m in world.smtp.messages if str(m.message["Message-ID"]).strip("<>") == first.message_id]
    assert len(sent_first) == 1 and sent_first[0].raw.replace(b"\r\n", b"\n").strip() == \
        first.raw.replace(b"\r\n", b"\n").strip()                 # the bytes built at enqueue time


def test_451_is_deferred_then_sent(world):
    world.smtp.reject(451)
    deliver_requests(world, CUSTOMERS[:1])
    result = world.run_once()
    assert result["outbox"]["deferred"] == 1 and result["outbox"]["sent"] == 0
    row = outbox(world)[0]
    assert row.status == "pending" and row.attempts == 1 and "451" in row.last_error
    world.smtp.accept()
    assert drain_at(world, later()).sent == 2                      # the ack and the petugas notice
    assert [r.status for r in outbox(world)] == ["sent"] * 2
    assert len(world.sent_to(CUSTOMERS[0])) == 1


def test_rows_a_round_claimed_but_did_not_try_are_given_back_due_at_once(world):
    deliver_requests(world)
    world.smtp.stop()
    world.run_once()                                              # intake only: six rows wait
    world.smtp.start()
    world.smtp.reject(451)
    now = later(3)
    assert drain_at(world, now).deferred == 1                     # the first is refused for now: round ends
    rows = outbox(world)
    assert [r.attempts for r in rows] == [2] + [0] * (len(rows) - 1)          # the others were not tried
    assert all(r.claimed_at is None and db.utc(r.next_attempt_at) == now for r in rows[1:])
    world.smtp.accept()
    assert drain_at(world, now).sent == len(rows) - 1             # at the same instant: no lease to wait out


def test_a_refused_smtp_login_keeps_every_mail_until_the_login_works(fresh_mailbox, db_url):
    """A wrong or changed SMTP password is the office's to fix; meanwhile nothing is lost or failed."""
    smtp = devservers.CaptureSMTPServer(auth=("mailbot", "rahasia")).start()
    world = World(fresh_mailbox, smtp, db_url, smtp={"username": "mailbot", "password": "salah"})
    try:
        world.import_catalog()
        deliver_requests(world, CUSTOMERS[:1])
        assert world.run_once()["outbox"] == {"sent": 0, "deferred": 1, "failed": 0}
        rows = outbox(world)
        assert {r.status for r in rows} == {"pending"} and "535" in rows[0].last_error
        assert smtp.messages == []
        world.config.write_text(world.config.read_text().replace('password = "salah"', 'password = "rahasia"'))
        world.app.engine.dispose()                 # the office fixed the password and restarted mailbot
        world._app = None
        assert drain_at(world, later()).sent == 2
        assert {r.status for r in outbox(world)} == {"sent"} and len(world.sent_to(CUSTOMERS[0])) == 1
    finally:
        smtp.stop()
        world.close()


def test_550_for_a_customer_fails_the_row_and_tells_petugas_once(fresh_mailbox, db_url):
    customer = "tidak.ada@gmail.com"
    smtp = devservers.CaptureSMTPServer(rcpt_replies={customer: "550 5.1.1 No such user"}).start()
    world = World(fresh_mailbox, smtp, db_url)
    try:
        world.import_catalog()
        deliver_requests(world, (customer,))
        result = world.run_once()
        assert result["outbox"] == {"sent": 2, "deferred": 0, "failed": 1}   # the two notices to petugas
        failed = [r for r in outbox(world) if r.status == "failed"]
        assert len(failed) == 1 and failed[0].recipient == customer and "550" in failed[0].last_error
        for p in PETUGAS:                          # the new-case notice and one failure notice each
            notices = [m for m in world.sent_to(p) if customer in str(m.get_body(("plain",)).get_content())
                       and "550" in m.get_body(("plain",)).get_content()]
            assert len(notices) == 1, [str(m["Subject"]) for m in world.sent_to(p)]
        assert world.sent_to(customer) == []
        again = world.run_once()                   # no retry of a 5xx, no second notice
        assert again["outbox"] == {"sent": 0, "deferred": 0, "failed": 0}
        events = [e["kind"] for e in world.case(world.cases()[0]["ref"])["events"]]
        assert events.count("send_failed") == 1
    finally:
        smtp.stop()
        world.close()


def test_one_petugas_refused_at_rcpt_the_others_still_get_the_notice_and_it_is_recorded(fresh_mailbox, db_url):
    gone = PETUGAS[1]
    smtp = devservers.CaptureSMTPServer(rcpt_replies={gone: "550 5.1.1 Mailbox disabled"}).start()
    world = World(fresh_mailbox, smtp, db_url)
    try:
        world.import_catalog()
        deliver_requests(world, CUSTOMERS[:1])
        assert world.run_once()["outbox"] == {"sent": 2, "deferred": 0, "failed": 0}
        notice = next(r for r in outbox(world) if r.kind.startswith("petugas:"))
        assert db.recipients_of(notice) == list(PETUGAS)
        assert notice.status == "sent" and gone in notice.last_error and "550" in notice.last_error
        assert [m.rcpt_tos for m in smtp.messages if PETUGAS[0] in m.rcpt_tos] == [(PETUGAS[0],)]
        events = world.case(world.cases()[0]["ref"])["events"]
        assert any(e["kind"] == "send_refused" and gone in e["detail"] for e in events)
        assert world.run_once()["outbox"] == {"sent": 0, "deferred": 0, "failed": 0}    # not sent again
    finally:
        smtp.stop()
        world.close()


def test_550_for_everything_does_not_loop(world):
    world.smtp.reject(550)
    deliver_requests(world, CUSTOMERS[:1])
    first = world.run_once()
    # the ack and the petugas notice fail; the petugas are told about the ack, and that notice
    # fails too: nobody is told about a failed notice to petugas
    assert first["outbox"]["failed"] == 3 and first["outbox"]["sent"] == 0
    assert world.run_once()["outbox"] == {"sent": 0, "deferred": 0, "failed": 0}
    assert {r.status for r in outbox(world)} == {"failed"} and len(outbox(world)) == 3


def test_one_connection_per_drain_and_a_reject_in_between_does_not_stop_the_rest(world):
    deliver_requests(world, CUSTOMERS[:2])
    world.smtp.rcpt_replies[CUSTOMERS[0]] = "550 5.1.1 No such user"
    code, _ = world.cli("run", "--once")
    assert code == 0
    rows = outbox(world)
    assert [r.status for r in rows].count("failed") == 1
    assert [r.status for r in rows].count("sent") == len(rows) - 1
    before = len(world.smtp.messages)
    # a drain of many rows uses a single SMTP connection
    deliver_requests(world, ("x1@gmail.com", "x2@gmail.com", "x3@gmail.com"))
    from mailbot.runtime.daemon import fetch_once
    fetch_once(world.app, lambda: datetime.now(UTC))
    result = drain_at(world, datetime.now(UTC))
    assert result.sent == 3 * 2 and result.connections == 1
    assert len(world.smtp.messages) == before + result.sent


def test_session_reconnects_when_the_server_drops_a_kept_connection(smtp_server):
    async def go():
        s = SmtpSession(smtp_server.host, smtp_server.port, "none", timeout=10)
        await s.send(b"Subject: satu\r\nMessage-ID: <1@x>\r\n\r\nsatu\r\n", "a@x.id", ["b@x.id"])
        smtp_server.restart()                      # drops the kept connection
        await s.send(b"Subject: dua\r\nMessage-ID: <2@x>\r\n\r\ndua\r\n", "a@x.id", ["b@x.id"])
        smtp_server.reject(550)
        with pytest.raises(SendPermanentError):
            await s.send(b"Subject: tiga\r\nMessage-ID: <3@x>\r\n\r\ntiga\r\n", "a@x.id", ["b@x.id"])
        smtp_server.accept()
        await s.send(b"Subject: empat\r\nMessage-ID: <4@x>\r\n\r\nempat\r\n", "a@x.id", ["b@x.id"])
        await s.close()
        return s.opened
    opened = asyncio.run(go())
    assert [str(m.message["Subject"]) for m in smtp_server.messages] == ["satu", "dua", "empat"]
    assert opened == 3                             # first, after the drop, after the 550
