"""Issue 14, hostile mail: every input of the issue through a real IMAP server and a real SMTP server
with `run --once`. Forged senders, poisoned headers, robots and floods."""
from __future__ import annotations

import email
import email.policy
import logging
import re
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

import servers as devservers
from mailbot.adapters import db
from world import AUTHSERV, BENDAHARA, PETUGAS, SUPERVISOR, World, body_of, mail

pytestmark = pytest.mark.mail
P1, P2 = PETUGAS
CUSTOMER = "budi.santoso@gmail.com"
REQUEST = "Saya ingin membeli softcopy Provinsi Sumatera Selatan Dalam Angka 2025."
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 30000 + b"\xff\xd9"
JAKARTA = ZoneInfo("Asia/Jakarta")


# --- helpers --------------------------------------------------------------------------------------

def ours(result: str) -> bytes:
    """Our server's Authentication-Results line, as it puts it on top of a mail."""
    return f"Authentication-Results: {AUTHSERV}; {result}\n".encode()


def raw_mail(frm: bytes | str, subject: bytes | str = "Permintaan publikasi", body: str = REQUEST, *,
             message_id: str | None = None, extra: bytes = b"", above: bytes = b"") -> bytes:
    """A mail written byte by byte: what a hostile client can put on the wire."""
    frm = frm.encode() if isinstance(frm, str) else frm
    subject = subject.encode() if isinstance(subject, str) else subject
    mid = message_id or f"<{time.monotonic_ns()}.hostile@example.com>"
    return (above + b"From: " + frm + b"\nTo: diseminasi1600@bps.go.id\nSubject: " + subject
            + b"\nDate: Mon, 30 Nov 2026 10:00:00 +0700\nMessage-ID: " + mid.encode() + b"\n" + extra
            + b"MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n" + body.encode() + b"\n")


def latest(world: World, to: str, subject_part: str = ""):
    found = [m for m in world.sent_to(to) if subject_part in str(m["Subject"])]
    assert found, f"no mail to {to} with {subject_part!r}: {[str(m['Subject']) for m in world.sent_to(to)]}"
    return found[-1]


def open_case(world: World, customer: str = CUSTOMER) -> str:
    world.deliver(mail(customer, "Permintaan publikasi", REQUEST, name="Budi Santoso"))
    world.run_once()
    return next(c["ref"] for c in world.cases() if c["customer"] == customer)


def staff(world: World, frm: str, to_msg, body: str, *, auth: str | None = "pass", attachments=()) -> dict:
    world.smtp.clear()
    world.deliver(mail(frm, f"Re: {to_msg['Subject']}", body, reply_to=to_msg, auth=auth, attachments=attachments))
    return world.run_once()["mail"]


def prepared_case(world: World) -> tuple[str, object]:
    """A case in `preparing` with its softcopy ready; returns (ref, the petugas notification)."""
    ref = open_case(world)
    note = latest(world, P1, ref)
    world.deliver(mail(CUSTOMER, "Re: x", "SETUJU", reply_to=latest(world, CUSTOMER, ref),
                       attachments=(("ktp.jpg", JPEG, "image/jpeg"),)))
    world.run_once()
    assert staff(world, P1, note, "IDENTITAS OK\nITEM #1\nJELAS\nSIAP",
                 attachments=(("dda.pdf", PDF, "application/pdf"),)) == {"staff": 1}
    assert world.case(ref)["state"] == "preparing"
    return ref, note


def case_in_review(world: World) -> tuple[str, object, str]:
    """A case in `payment_review` listed in a digest; returns (ref, the digest, its SETUJU token)."""
    ref, note = prepared_case(world)
    assert staff(world, P1, note, "TAGIH") == {"staff": 1}
    world.deliver(mail(CUSTOMER, "Re: invoice", "Sudah saya transfer.", reply_to=latest(world, CUSTOMER, "Invoice"),
                       attachments=(("bukti.jpg", JPEG, "image/jpeg"),)))
    world.run_once()
    assert world.case(ref)["state"] == "payment_review"
    world.smtp.clear()
    code, out = world.cli("digest")
    assert code == 0, out
    digest = latest(world, BENDAHARA, "Digest")
    return ref, digest, re.search(r"SETUJU ([A-Z2-9]{6})", body_of(digest)).group(1)


def refusals(world: World, address: str) -> list:
    return [m for m in world.sent_to(address) if "perintah ditolak" in str(m["Subject"])]


def all_rcpts(world: World) -> set[str]:
    return {r for m in world.smtp.messages for r in m.rcpt_tos}


def long_lines(world: World) -> list[tuple[str, int]]:
    """(subject, length) of every line longer than RFC 5322's 998 octets in the mail that went out."""
    return [(str(m.message["Subject"])[:60], len(line)) for m in world.smtp.messages
            for line in m.raw.splitlines() if len(line) > 998]


def inbound_rows(world: World) -> list:
    with world.app.sessions() as s:
        return list(s.scalars(select(db.InboundRow).order_by(db.InboundRow.id)))


def jakarta_today() -> datetime:
    return datetime.now(JAKARTA)


# === money and commands ============================================================================

def test_our_servers_fail_refuses_the_bendahara_whatever_the_digest_token(world):
    """The issue's input: our server says DKIM and SPF fail for bps.go.id; the reply carries the
    digest's code in its subject and a valid SETUJU token. Refused (DESIGN §5); the twin with no
    verdict of ours (the token alone) approves."""
    ref, digest, token = case_in_review(world)
    forged = mail(BENDAHARA, f"Re: {digest['Subject']}", f"SETUJU {token}", reply_to=digest)
    world.smtp.clear()
    world.deliver(ours("dkim=fail header.d=bps.go.id; spf=fail smtp.mailfrom=bps.go.id") + forged.as_bytes())
    assert world.run_once()["mail"] == {"refused": 1}
    assert world.case(ref)["state"] == "payment_review"
    assert not world.sent_to(CUSTOMER)
    warning = refusals(world, BENDAHARA)
    assert len(warning) == 1 and "dkim=fail" in body_of(warning[0]), [str(m["Subject"]) for m in world.sent()]
    assert all_rcpts(world) == {BENDAHARA}

    assert staff(world, BENDAHARA, digest, f"SETUJU {token}", auth=None) == {"staff": 1}
    assert world.case(ref)["state"] == "delivered"


FAILS = {
    "dkim-fail": "dkim=fail header.d=bps.go.id",
    "spf-fail": "spf=fail smtp.mailfrom=petugas1@bps.go.id",
    "spf-softfail": "spf=softfail smtp.mailfrom=bps.go.id",
    "dmarc-fail": "dmarc=fail header.from=bps.go.id",
    "pass-beside-fail": "dkim=pass header.d=bps.go.id; spf=fail smtp.mailfrom=petugas1@bps.go.id",
}


@pytest.mark.parametrize("verdict", FAILS.values(), ids=FAILS.keys())
def test_our_servers_fail_refuses_a_petugas_reply_that_carries_the_thread_code(world, verdict):
    ref = open_case(world)
    note = latest(world, P1, ref)
    reply = mail(P1, f"Re: {note['Subject']}", "BATAL permintaan ganda", reply_to=note)
    world.smtp.clear()
    world.deliver(ours(verdict) + reply.as_bytes())
    assert world.run_once()["mail"] == {"refused": 1}
    assert world.case(ref)["state"] == "new"
    assert len(refusals(world, P1)) == 1 and len(refusals(world, P2)) == 1


NO_VERDICT = {
    "none": "dkim=none; spf=none smtp.mailfrom=petugas1@bps.go.id",
    "neutral": "spf=neutral smtp.mailfrom=petugas1@bps.go.id",
    "temperror": "dkim=temperror header.d=bps.go.id",
    "fail-for-another-domain": "dkim=fail header.d=lists.example.org",
}


@pytest.mark.parametrize("verdict", NO_VERDICT.values(), ids=NO_VERDICT.keys())
def test_no_verdict_of_ours_lets_the_thread_code_decide(world, verdict):
    ref = open_case(world)
    note = latest(world, P1, ref)
    reply = mail(P1, f"Re: {note['Subject']}", "BATAL permintaan ganda", reply_to=note)
    world.deliver(ours(verdict) + reply.as_bytes())
    assert world.run_once()["mail"] == {"staff": 1}
    assert world.case(ref)["state"] == "cancelled"


AMBIGUOUS = {   # the From line, and the address in angle brackets (the first, where there are several)
    "address-as-display-name": (b"petugas1@bps.go.id <mallory@bps.go.id>", "mallory@bps.go.id"),
    "two-angle-addresses": (b"<petugas1@bps.go.id><mallory@bps.go.id>", "petugas1@bps.go.id"),
    "semicolon": (b"petugas1@bps.go.id;<mallory@bps.go.id>", "mallory@bps.go.id"),
    "quoted-display-name": (b'"petugas1@bps.go.id" <mallory@bps.go.id>', "mallory@bps.go.id"),
    "two-mailboxes": (b"petugas1@bps.go.id, mallory@bps.go.id", "petugas1@bps.go.id"),
}


@pytest.mark.parametrize("frm, real", AMBIGUOUS.values(), ids=AMBIGUOUS.keys())
def test_an_ambiguous_from_never_commands(world, frm, real):
    """DKIM passes for bps.go.id (mallory has an account there too); BATAL must not cancel."""
    ref = open_case(world)
    note = latest(world, P1, ref)
    world.smtp.clear()
    world.deliver(raw_mail(frm, f"Re: {note['Subject']}", "BATAL permintaan palsu",
                           extra=f"In-Reply-To: {note['Message-ID']}\n".encode(),
                           above=ours("dkim=pass header.d=bps.go.id; spf=pass smtp.mailfrom=mallory@bps.go.id")))
    assert world.run_once()["mail"] == {"refused": 1}
    assert world.case(ref)["state"] == "new"
    for p in PETUGAS:
        warning = refusals(world, p)
        assert len(warning) == 1 and "From" in body_of(warning[0]), [str(m["Subject"]) for m in world.sent_to(p)]
    assert all_rcpts(world) <= set(PETUGAS)
    # Still filed: recorded, kept, and moved out of the inbox like any handled mail.
    assert inbound_rows(world)[-1].outcome == "refused"
    assert any(b"BATAL permintaan palsu" in m for m in world.imap.list_messages("Processed"))
    refused = [e for e in world.case(ref)["events"] if e["kind"] == "refused_sender"]
    assert [e["actor"] for e in refused] == [real]           # the address is the one in angle brackets
    assert "mallory@bps.go.id" in body_of(refusals(world, P1)[0])


def test_the_display_name_trick_with_a_valid_thread_code_and_no_verdict_commands_nothing(world):
    ref = open_case(world)
    note = latest(world, P1, ref)
    world.deliver(raw_mail(b"petugas1@bps.go.id <mallory@bps.go.id>", f"Re: {note['Subject']}", "BATAL palsu",
                           extra=f"In-Reply-To: {note['Message-ID']}\n".encode()))
    assert world.run_once()["mail"] == {"refused": 1}
    assert world.case(ref)["state"] == "new"


@pytest.mark.parametrize("frm", [b"Petugas Satu <petugas1@bps.go.id>", b'"petugas1@bps.go.id" <petugas1@bps.go.id>'])
def test_a_display_name_that_is_the_address_itself_still_commands(world, frm):
    ref = open_case(world)
    note = latest(world, P1, ref)
    world.deliver(raw_mail(frm, f"Re: {note['Subject']}", "BATAL permintaan ganda",
                           extra=f"In-Reply-To: {note['Message-ID']}\n".encode()))
    assert world.run_once()["mail"] == {"staff": 1}
    assert world.case(ref)["state"] == "cancelled"


def test_tagih_with_a_billing_code_that_expired_is_refused(world):
    ref, note = prepared_case(world)
    assert staff(world, P1, note, "TAGIH BILLING 123456789012345 2000-01-01") == {"staff": 1}
    text = body_of(latest(world, P1, "Hasil perintah"))
    assert "GAGAL" in text and "2000-01-01" in text and "sudah lewat" in text, text
    assert world.case(ref)["state"] == "preparing" and world.case(ref)["invoice_number"] is None
    assert not [m for m in world.sent_to(CUSTOMER) if "Invoice" in str(m["Subject"])]
    yesterday = (jakarta_today().date() - timedelta(days=1)).isoformat()
    assert staff(world, P1, note, f"TAGIH BILLING 123456789012345 {yesterday}") == {"staff": 1}
    assert world.case(ref)["state"] == "preparing"
    # A code that ends today is still good today.
    assert staff(world, P1, note, f"TAGIH BILLING 123456789012345 {jakarta_today().date().isoformat()}") \
        == {"staff": 1}
    assert world.case(ref)["state"] == "invoiced"


# === mail that breaks the pipe =======================================================================

def test_a_non_ascii_sender_is_answered_over_smtputf8(fresh_mailbox, db_url):
    smtp = devservers.CaptureSMTPServer(smtputf8=True).start()
    world = World(fresh_mailbox, smtp, db_url)
    try:
        world.import_catalog()
        world.deliver(raw_mail(b"b\xc3\xbcdi@example.com"))
        world.deliver(mail(CUSTOMER, "Permintaan publikasi", REQUEST))
        assert world.run_once()["outbox"] == {"sent": 4, "deferred": 0, "failed": 0}
        ack = [m for m in smtp.messages if m.rcpt_tos == ("büdi@example.com",)]
        assert len(ack) == 1
        header = email.message_from_string(ack[0].raw.decode("utf-8"), policy=email.policy.default)  # RFC 6532
        assert header["To"].addresses[0].addr_spec == "büdi@example.com"
        assert world.sent_to(CUSTOMER)
    finally:
        world.close()
        smtp.stop()


def test_a_non_ascii_sender_without_smtputf8_fails_only_its_own_row(world):
    """The server offers no SMTPUTF8: that one mail fails for good with the reason and the petugas are
    told; everything queued before and after it goes out, and the next run is clean."""
    world.deliver(mail("pertama@gmail.com", "Permintaan publikasi", REQUEST))
    world.deliver(raw_mail(b"b\xc3\xbcdi@example.com"))
    world.deliver(mail(CUSTOMER, "Permintaan publikasi", REQUEST))
    result = world.run_once()
    assert result["outbox"]["failed"] == 1 and result["outbox"]["deferred"] == 0, result
    assert world.sent_to("pertama@gmail.com") and world.sent_to(CUSTOMER)
    failed = [m for m in world.sent_to(P1) if "gagal dikirim" in str(m["Subject"])]
    assert len(failed) == 1 and "büdi@example.com" in body_of(failed[0]) and "SMTPUTF8" in body_of(failed[0])
    assert len([m for m in world.sent_to(P1) if "Permintaan baru" in str(m["Subject"])]) == 3
    world.smtp.clear()
    assert world.run_once()["outbox"] == {"sent": 0, "deferred": 0, "failed": 0}


def test_rows_that_cannot_be_sent_never_stop_the_drain(world):
    """Rows from an older release, before addresses were checked, or damaged: one whose recipient the
    SMTP library would re-read as someone else, one whose recipient list does not read at all. Each
    fails for good with the reason; everything else goes out."""
    from datetime import timezone

    from sqlalchemy import update
    with world.app.sessions.begin() as s:
        for n, rcpt in enumerate(('"x, korban@evil.com, y"@example.com', "rusak@example.com")):
            db.add_outbox(s.connection(), message_id=f"lama{n}@mailbot.bps.go.id", case_id=None, kind="customer:ack",
                          sender="diseminasi1600@bps.go.id", recipients=(rcpt,), subject=f"lama {n}",
                          raw=b"Subject: lama\r\n\r\nisi\r\n", at=datetime.now(timezone.utc))
        s.execute(update(db.OutboxRow).where(db.OutboxRow.message_id == "lama1@mailbot.bps.go.id")
                  .values(recipients='["rusak@example.com"'))
    world.deliver(mail(CUSTOMER, "Permintaan publikasi", REQUEST))
    result = world.run_once()
    assert result["outbox"]["failed"] == 2 and result["outbox"]["deferred"] == 0, result
    assert world.sent_to(CUSTOMER) and all_rcpts(world) == {CUSTOMER, *PETUGAS}
    failed = [body_of(m) for m in world.sent_to(P1) if "gagal dikirim" in str(m["Subject"])]
    assert len(failed) == 2, failed
    assert any("never handed to SMTP" in b for b in failed) and any("JSONDecodeError" in b for b in failed)
    world.smtp.clear()
    assert world.run_once()["outbox"] == {"sent": 0, "deferred": 0, "failed": 0}


def test_the_upgrade_never_splits_a_quoted_address_of_a_row_queued_before_it(db_url):
    """Migration 0003 turns the joined recipient field of older rows into a list: a staff list is
    split, a quoted local part full of commas is not (the sender then refuses it whole)."""
    from alembic import command
    from sqlalchemy import text

    from mailbot.adapters import migrations
    from mailbot.adapters.db import make_engine
    engine = make_engine(db_url)
    command.upgrade(migrations._alembic_config(engine), "0002")
    now = datetime.now(JAKARTA)
    table = db.OutboxRow.__table__
    with engine.begin() as conn:            # the table as revision 0002 left it
        for n, recipient in enumerate(("petugas1@bps.go.id, petugas2@bps.go.id",
                                       '"x, victim3@evil.com, y"@example.com', "budi@gmail.com")):
            conn.execute(text("INSERT INTO outbox (message_id, kind, sender, recipient, subject, raw, status, "
                              "attempts, next_attempt_at, created_at, last_error) VALUES (:mid, 'customer:ack', "
                              "'d@bps.go.id', :rcpt, 's', :raw, 'pending', 0, :at, :at, '')"),
                         {"mid": f"m{n}@x", "rcpt": recipient, "raw": b"x", "at": now.replace(tzinfo=None)})
    migrations.upgrade(engine)
    with engine.connect() as conn:
        got = dict(conn.execute(select(table.c.message_id, table.c.recipients)).all())
    engine.dispose()
    assert [db.recipients_of(got[f"m{n}@x"]) for n in range(3)] == [
        ["petugas1@bps.go.id", "petugas2@bps.go.id"], ['"x, victim3@evil.com, y"@example.com'], ["budi@gmail.com"]]


def test_a_quoted_local_part_full_of_commas_reaches_no_one_else(world):
    frm = b'"x, victim3@evil.com, y"@example.com'
    for n in range(3):
        world.deliver(raw_mail(frm, body=f"{REQUEST} ({n})"))
    world.run_once()
    rcpts = all_rcpts(world)
    assert "victim3@evil.com" not in rcpts and not any("evil.com" in r for r in rcpts), rcpts
    assert rcpts <= set(PETUGAS), rcpts
    # The office still learns of the requests; the acknowledgement was never queued (so it never
    # failed either), and each case says why it was not sent.
    assert len([m for m in world.sent_to(P1) if "Permintaan baru" in str(m["Subject"])]) == 3
    assert not [m for m in world.sent_to(P1) if "gagal dikirim" in str(m["Subject"])]
    for case in world.cases():
        assert [e["kind"] for e in world.case(case["ref"])["events"]].count("recipient_invalid") == 1


def test_an_absurd_message_id_still_reaches_the_customer_and_the_office(world):
    world.deliver(raw_mail(CUSTOMER, message_id="<" + "a" * 2000 + "@example.com>"))
    result = world.run_once()
    assert result["outbox"] == {"sent": 2, "deferred": 0, "failed": 0}, result      # one to each petugas
    assert world.sent_to(CUSTOMER) and world.sent_to(P1) and world.sent_to(P2)
    assert long_lines(world) == []
    ref = world.cases()[0]["ref"]
    # The customer's reply to our answer still finds the case.
    world.deliver(mail(CUSTOMER, "Re: jawaban", "SETUJU", reply_to=latest(world, CUSTOMER, ref)))
    assert world.run_once()["mail"] == {"agreed": 1}


@pytest.mark.parametrize("subject", ["kata " * 300, "x" * 1500, "permintaan " + "é" * 1500],
                         ids=["words", "one-word", "non-ascii"])
def test_a_long_subject_still_gets_the_too_large_answer(fresh_mailbox, smtp_server, db_url, subject):
    world = World(fresh_mailbox, smtp_server, db_url, storage={"max_message_mb": 0.1, "max_attachment_mb": 0.1})
    try:
        msg = mail(CUSTOMER, subject.strip(), REQUEST, attachments=(("scan.pdf", b"%PDF-1.4\n" + b"0" * 200_000,
                                                                      "application/pdf"),))
        world.deliver(msg)
        result = world.run_once()
        assert result["mail"] == {"too_large": 1} and result["outbox"]["sent"] == 1, result
        answer = latest(world, CUSTOMER, "terlalu besar")
        assert "0,1 MB" in body_of(answer) or "0.1 MB" in body_of(answer)
        assert long_lines(world) == []
    finally:
        world.close()


def _cc_flood() -> bytes:
    return b"Cc: " + b",\n ".join(f"user{n}@example.com".encode() for n in range(60_000)) + b"\n"


def _content_type_flood() -> bytes:
    return b"X-Params: x\nContent-Type: text/plain; " + b";\n ".join(b"p%d=v" % n for n in range(150_000)) + b"\n"


def _one_long_line() -> bytes:
    return b"X-Long: " + b"=?utf-8?q?a?= " * 80_000 + b"\n"


HEADER_FLOODS = {"cc-60000": _cc_flood, "content-type-150000-params": _content_type_flood,
                 "1mb-header-line": _one_long_line}


@pytest.mark.parametrize("flood", HEADER_FLOODS.values(), ids=HEADER_FLOODS.keys())
def test_a_header_flood_is_quarantined_at_once_and_the_next_mail_is_answered(world, flood):
    if world.imap.kind == "pymap":      # CI requires Dovecot, where this runs
        pytest.skip("pymap parses every appended header itself and cannot store a 1 MB header in time")
    hostile = raw_mail("flood@example.com", extra=flood())
    assert len(hostile) > 1_000_000
    world.deliver(hostile)
    world.deliver(mail(CUSTOMER, "Permintaan publikasi", REQUEST))
    started = time.monotonic()
    result = world.run_once()
    took = time.monotonic() - started
    assert result["mail"] == {"quarantined": 1, "new_case": 1}, result
    assert world.sent_to(CUSTOMER)
    assert len(world.imap.list_messages("Quarantine")) == 1
    # Before the fix: 28.9 s (Cc), 18.7 s (parameters). The whole run, with the ordinary request and
    # its three mails, now stays within a few seconds on a shared 2-core machine.
    assert took < 6, took
    summary = latest(world, SUPERVISOR, "karantina")
    assert "header" in body_of(summary).lower()


def test_a_same_message_id_with_other_content_is_handled_as_the_new_mail_it_is(world, caplog):
    first = raw_mail(CUSTOMER, message_id="<sama@example.com>")
    second = raw_mail("siti@example.org", body="Saya ingin membeli softcopy Statistik Daerah 2025.",
                      message_id="<sama@example.com>")
    world.deliver(first)
    world.deliver(second)
    assert world.run_once()["mail"] == {"new_case": 2}
    assert world.sent_to(CUSTOMER) and world.sent_to("siti@example.org")
    assert {c["customer"] for c in world.cases()} == {CUSTOMER, "siti@example.org"}

    # The same mail again, and a copy that differs only in what servers on the way added: duplicates,
    # each leaving an event and a log line, and answered by no one.
    relayed = b"Received: from relay.example.net by mx.bps.go.id; Mon, 30 Nov 2026 10:01:00 +0700\n" \
              b"Delivered-To: info@bps.go.id\n" + first
    world.smtp.clear()
    world.deliver(first)
    world.deliver(relayed)
    with caplog.at_level(logging.INFO, logger="mailbot"):
        assert world.run_once()["mail"] == {"duplicate": 2}
    assert world.sent() == []
    ref = next(c["ref"] for c in world.cases() if c["customer"] == CUSTOMER)
    assert [e["kind"] for e in world.case(ref)["events"]].count("duplicate") == 2
    assert len([r for r in caplog.records if "action=duplicate" in r.getMessage()]) == 2


# === robots and floods ============================================================================

def test_a_robot_rotating_plus_tags_shares_one_reply_cap(fresh_mailbox, smtp_server, db_url):
    """The issue's robot got 50 replies of 50. Its cases are not capped here, to see the reply cap alone."""
    world = World(fresh_mailbox, smtp_server, db_url, schedule={"max_new_cases_per_day": 100})
    try:
        world.import_catalog()
        for n in range(50):
            world.deliver(raw_mail(f"robot3+{n}@example.org", body=f"{REQUEST} nomor {n}"))
        assert world.run_once()["mail"] == {"new_case": 50}
        replies = [m for m in world.smtp.messages if any(r.startswith("robot3") for r in m.rcpt_tos)]
        assert len(replies) == 10, len(replies)                      # schedule.max_auto_replies_per_day
    finally:
        world.close()


def test_a_robot_opens_few_cases_and_the_rest_is_filed_with_one_notice(world):
    for n in range(51):
        world.deliver(raw_mail(f"robot3+{n}@example.org", body=f"{REQUEST} nomor {n}"))
    result = world.run_once()
    assert result["mail"] == {"new_case": 5, "over_case_cap": 46}, result      # schedule.max_new_cases_per_day
    cases = world.cases()
    assert len(cases) == 5, [c["customer"] for c in cases]
    newest = max(c["ref"] for c in cases)
    notices = [m for m in world.smtp.messages if P1 in m.rcpt_tos]
    assert len(notices) == 6, [str(m.message["Subject"]) for m in notices]   # 5 new cases, one about the cap
    cap_notice = latest(world, P1, "Batas permintaan baru")
    assert "robot3@example.org" in str(cap_notice["Subject"]) and newest in str(cap_notice["Subject"])
    assert len([m for m in world.smtp.messages if any(r.startswith("robot3") for r in m.rcpt_tos)]) == 5
    filed = [e for e in world.case(newest)["events"] if e["kind"] == "request_over_cap"]
    assert len(filed) == 46 and "nomor 50" in filed[-1]["detail"]


def test_one_sender_flooding_a_case_causes_few_petugas_notices(world):
    ref = open_case(world)
    ack = latest(world, CUSTOMER, ref)
    world.smtp.clear()
    for n in range(25):
        world.deliver(mail(CUSTOMER, f"Re: {ack['Subject']}", f"Pertanyaan nomor {n}?", reply_to=ack))
    assert world.run_once()["mail"] == {"forwarded": 25}
    notices = [m for m in world.smtp.messages if P1 in m.rcpt_tos]
    # schedule.max_staff_notices_per_sender_per_day (20) counts the new-case notice (sent before this
    # window): 19 forwarded messages, then one notice saying the rest are only filed
    assert len(notices) == 20, [str(m.message["Subject"]) for m in notices]
    assert "Banyak email dari" in str(notices[-1].message["Subject"])
    events = [e["kind"] for e in world.case(ref)["events"]]
    assert events.count("customer_message") == 25                 # every mail is on its case


def test_a_forger_flooding_in_a_petugas_name_causes_few_refusal_warnings(world):
    """Forged commands in petugas1's name (no verdict of ours, no thread code) are refused each time;
    the warnings to the petugas stop at schedule.max_staff_notices_per_sender_per_day (20), the first
    one held back becoming one notice saying so — while petugas1's own replies still command."""
    ref = open_case(world)
    note = latest(world, P1, ref)
    world.smtp.clear()
    for n in range(25):
        world.deliver(raw_mail(P1, f"Re: [{ref}] perintah {n}", "BATAL permintaan palsu"))
    assert world.run_once()["mail"] == {"refused": 25}
    warnings = [m for m in world.smtp.messages if P1 in m.rcpt_tos]
    subjects = [str(m.message["Subject"]) for m in warnings]
    assert len(warnings) == 21, subjects
    assert all("perintah ditolak" in s for s in subjects[:20]), subjects
    assert "Banyak email dari petugas1@bps.go.id" in subjects[20] and "ditolak" in subjects[20]
    assert world.case(ref)["state"] == "new"
    events = [e["kind"] for e in world.case(ref)["events"]]
    assert events.count("refused_sender") == 25                 # every forgery is on the record
    assert staff(world, P1, note, "BATAL permintaan ganda") == {"staff": 1}
    assert world.case(ref)["state"] == "cancelled"


def test_distinct_addresses_of_one_domain_share_the_domain_cap(fresh_mailbox, smtp_server, db_url):
    world = World(fresh_mailbox, smtp_server, db_url, schedule={"max_auto_replies_per_domain_per_day": 4})
    try:
        world.import_catalog()
        for n in range(7):
            world.deliver(raw_mail(f"robot{n}@robots.example"))
        world.run_once()
        assert len([m for m in world.smtp.messages if any(r.endswith("@robots.example") for r in m.rcpt_tos)]) == 4
        assert len(world.cases()) == 7                            # each one is still a case
    finally:
        world.close()


@pytest.mark.parametrize("frm", ["noreply95@example.net", "no-reply-tagihan@example.net", "donotreply7@example.net",
                                 "bounce-8812@example.net", "bounces+abc@example.net", "NoReply@Example.net"])
def test_machine_local_parts_are_never_answered(world, frm):
    world.deliver(raw_mail(frm))
    assert world.run_once()["mail"] == {"ignored_machine": 1}
    assert world.sent() == [] and world.cases() == []


def test_quarantined_mails_make_one_supervisor_summary_an_hour(world):
    for n in range(5):
        world.deliver(raw_mail(f"flood{n}@example.com", extra=_cc_flood()))
    assert world.run_once()["mail"] == {"quarantined": 5}
    summaries = world.sent_to(SUPERVISOR)
    assert len(summaries) == 1 and world.smtp.messages[0].rcpt_tos == (SUPERVISOR,)
    assert "5 email" in body_of(summaries[0]), body_of(summaries[0])
    world.smtp.clear()
    for n in range(2):
        world.deliver(raw_mail(f"again{n}@example.com", extra=_cc_flood()))
    assert world.run_once()["mail"] == {"quarantined": 2}
    assert world.sent_to(SUPERVISOR) == []                        # within the hour: kept for the next summary
    world.jobs((jakarta_today() + timedelta(minutes=61)).isoformat())
    world.drain(jakarta_today() + timedelta(minutes=61))
    later = world.sent_to(SUPERVISOR)
    assert len(later) == 1 and "2 email" in body_of(later[0]), body_of(later[0]) if later else None
