"""Nothing lost, nothing twice: SIGKILL while draining, IMAP restarts, UIDVALIDITY, reply loops, oversized mail."""
from __future__ import annotations

import random
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from world import PETUGAS, SERVICE, World, mail

import servers as devservers
from mailbot.adapters import db
from mailbot.adapters.imap import Mailbox, MailboxError, MailboxUnavailable

pytestmark = pytest.mark.mail
ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------- helpers


def customer_request(i: int, rng: random.Random) -> EmailMessage:
    """Request number `i` from its own sender, in one of the shapes real clients send."""
    addr = f"pelanggan{i:03d}@{rng.choice(['gmail.com', 'yahoo.co.id', 'unsri.ac.id', 'outlook.com'])}"
    pub = rng.choice(["Provinsi Sumatera Selatan Dalam Angka 2025", "Statistik Daerah Provinsi Sumatera Selatan 2025",
                      "Kota Palembang Dalam Angka 2024", "Indikator Kesejahteraan Rakyat Sumatera Selatan 2024"])
    text = (f"Yth. Bapak/Ibu petugas PST,\n\nsaya ingin membeli softcopy {pub}.\n"
            f"Mohon informasi harga dan cara pembayarannya.\n\nHormat saya,\nPelanggan {i}\n")
    shape = i % 7
    msg = EmailMessage()
    name = ["Renée Marpaung", "José Hutapea", "Sri Rahayu"][i % 3] if shape == 3 else f"Pelanggan {i}"
    msg["From"] = f"{name} <{addr}>"
    msg["To"] = SERVICE
    msg["Subject"] = f"Permintaan data — {pub} “mendesak”" if shape == 3 else f"Permintaan publikasi {pub}"
    msg["Date"] = format_datetime(datetime(2026, 11, 2, 8, 0, tzinfo=UTC) + timedelta(minutes=i))
    msg["Message-ID"] = f"<req-{i:04d}.{rng.getrandbits(32):08x}@{addr.split('@')[1]}>"
    html = "<html><body><p>" + text.replace("\n\n", "</p><p>").replace("\n", "<br>") + "</p></body></html>"
    if shape == 0:                                   # plain, as most phones send it
        msg.set_content(text)
    elif shape == 1:                                 # Gmail: text and HTML
        msg.set_content(text)
        msg.add_alternative(html, subtype="html")
    elif shape == 2:                                 # HTML only (Outlook web)
        msg.set_content(html, subtype="html")
    elif shape == 3:                                 # RFC 2047 subject and name, 8-bit body
        msg.set_content(text + "\nTerima kasih 🙏 — Renée\n")
    elif shape == 4:                                 # Outlook desktop: windows-1252, quoted-printable
        msg.set_content(text + "\nSalam hangat – “Tim Riset”\n", charset="windows-1252", cte="quoted-printable")
    elif shape == 5:                                 # with a photographed KTP (opens the identity step too)
        msg.set_content(text)
        msg.add_attachment(b"\xff\xd8\xff\xe0" + rng.randbytes(40_000) + b"\xff\xd9", maintype="image",
                           subtype="jpeg", filename=f"KTP {i}.jpg")
    else:                                            # HTML with a small inline signature logo (cid:)
        msg.set_content(text)
        msg.add_alternative(html + '<img src="cid:logo1">', subtype="html")
        msg.get_payload()[1].add_related(b"\x89PNG\r\n\x1a\n" + rng.randbytes(900), maintype="image",
                                         subtype="png", cid="<logo1>")
    return msg


def db_session(world: World) -> Session:
    url = world_db_url(world)
    return Session(create_engine(url))


def world_db_url(world: World) -> str:
    import tomllib
    return tomllib.loads(world.config.read_text())["database"]["url"]


def message_ids_by_recipient(world: World) -> dict[str, list[str]]:
    """Every Message-ID the SMTP server accepted, per recipient (raw: a resend shows up twice)."""
    seen: dict[str, list[str]] = defaultdict(list)
    for m in world.smtp.messages:
        for rcpt in m.rcpt_tos:
            seen[rcpt].append(str(m.message["Message-ID"]).strip())
    return seen


def kinds_sent_to(world: World, address: str) -> list[str]:
    """The outbox kinds (customer:ack, …) of every mail the SMTP server took for `address`."""
    with db_session(world) as s:
        kind = dict(s.execute(select(db.OutboxRow.message_id, db.OutboxRow.kind)).all())
    return [kind.get(str(m["Message-ID"]).strip().strip("<>"), "?") for m in world.sent_to(address)]


def run_cli(world: World, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mailbot.cli", "--config", str(world.config), "run", "--once"],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def own_dovecot(request):
    """A Dovecot of this test's own: it gets stopped, restarted and has its maildir replaced."""
    request.getfixturevalue("dovecot_server")  # skips, or fails with MAILBOT_REQUIRE_DOVECOT=1, like it
    server = devservers.DovecotServer().start()
    yield server
    server.close()


@pytest.fixture
def own_world(own_dovecot, smtp_server, db_url):
    w = World(own_dovecot, smtp_server, db_url)
    w.import_catalog()
    yield w
    w.close()


# ---------------------------------------------------------------- 1. SIGKILL while draining

N_REQUESTS = 300
MIN_KILLS = 10


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_nothing_and_answers_once(world):
    rng = random.Random(20261130)
    requests = [customer_request(i, rng) for i in range(N_REQUESTS)]
    with world.imap.client() as c:
        for msg in requests:
            c.append("INBOX", msg.as_bytes())
    # Kill moments are drawn in units of work (mails handled + mails sent, as logged by the run), plus a
    # random few milliseconds, so they land all over intake and drain whatever the machine's speed.
    # Each request makes two mails (the acknowledgement, one notice to the petugas list); the work is
    # cut into twice MIN_KILLS shares, so that at least MIN_KILLS land before a run gets through it all.
    per_kill = (N_REQUESTS * INTAKE_WEIGHT + N_REQUESTS * 2) // (2 * MIN_KILLS)
    kills, phases = 0, Counter()
    for run in range(80):
        log = world.dir / f"run-{run:02d}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen([sys.executable, "-m", "mailbot.cli", "--config", str(world.config), "run",
                                     "--once"], cwd=ROOT, stdout=out, stderr=out)
        if _wait_for_work(proc, log, rng.randint(per_kill // 2, per_kill * 3 // 2)):
            time.sleep(rng.uniform(0, 0.03))
        if proc.poll() is not None:               # this run got through all the work before the kill
            assert proc.returncode == 0, log.read_text()[-3000:]
            break
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1
        phases[_phase(world)] += 1
    assert kills >= MIN_KILLS, f"only {kills} kills landed while mailbot was working: {dict(phases)}"

    final = run_cli(world)                        # a clean run after the last kill
    assert final.returncode == 0, final.stderr[-3000:]

    with db_session(world) as s:
        inbound = s.execute(select(db.InboundRow.message_id, db.InboundRow.case_id, db.InboundRow.outcome)).all()
        cases = s.execute(select(db.CaseRow.id, db.CaseRow.customer)).all()
        outbox = s.execute(select(db.OutboxRow.message_id, db.OutboxRow.recipients, db.OutboxRow.kind,
                                  db.OutboxRow.status)).all()
    # 0 lost: every request has its inbound record and a case
    by_mid = {mid: (case_id, outcome) for mid, case_id, outcome in inbound}
    lost = [m["Message-ID"] for m in requests if by_mid.get(m["Message-ID"].strip("<>"), (None,))[0] is None]
    assert lost == []
    # 0 duplicate cases: one case per request Message-ID, one per customer
    assert len(cases) == N_REQUESTS
    assert len({case_id for case_id, _ in by_mid.values()}) == N_REQUESTS
    assert Counter(customer for _, customer in cases).most_common(1)[0][1] == 1
    assert {o for _, o in by_mid.values()} == {"new_case"}
    # every outbox row went out; the server saw each stable Message-ID, and no other mail
    assert {status for *_, status in outbox} == {"sent"}
    kind_of = {mid.strip("<>"): kind for mid, _, kind, _ in outbox}
    received = message_ids_by_recipient(world)
    raw_duplicates = sum(len(ids) - len(set(ids)) for ids in received.values())
    for msg in requests:
        customer = msg["From"].addresses[0].addr_spec
        ids = set(received[customer])
        acks = {i for i in ids if kind_of.get(i.strip("<>")) == "customer:ack"}
        assert len(acks) == 1, (customer, received[customer])           # answered once for the mail
        assert ids == {f"<{mid.strip('<>')}>" for mid, rcpt, _, _ in outbox if db.recipients_of(rcpt) == [customer]}
    for p in PETUGAS:
        assert len(set(received[p])) == sum(1 for _, rcpt, _, _ in outbox if p in db.recipients_of(rcpt))
    assert len({i for ids in received.values() for i in ids}) == len(outbox)
    # the mailbox is empty, every mail sits once in Processed
    assert world.imap.list_messages("INBOX") == []
    assert len(world.imap.list_messages("Processed")) == N_REQUESTS
    assert world.imap.list_messages("Quarantine") == []
    print(f"\ncrash test: {kills} SIGKILLs ({dict(phases)}), {len(outbox)} outbox rows, "
          f"{len(world.smtp.messages)} SMTP deliveries, {raw_duplicates} raw resends (same Message-ID)")


WORK = re.compile(rb"action=(new_case|duplicate|sent) ")
INTAKE_WEIGHT = 3       # one handled mail takes about as long as three sent ones


def _wait_for_work(proc: subprocess.Popen, log: Path, units: int, timeout: float = 60) -> bool:
    """Wait until the run has logged `units` of work (a handled mail counts INTAKE_WEIGHT, a sent one 1);
    False when it ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = WORK.findall(log.read_bytes())
        if sum(1 if kind == b"sent" else INTAKE_WEIGHT for kind in done) >= units:
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.005)
    raise AssertionError(f"the run made no progress in {timeout} s: {log.read_text()[-3000:]}")


def _phase(world: World) -> str:
    """Where the killed run was: still taking mail from IMAP, or draining the outbox."""
    with db_session(world) as s:
        handled = len(s.scalars(select(db.InboundRow.id)).all())
        pending = len(s.scalars(select(db.OutboxRow.id).where(db.OutboxRow.status == "pending")).all())
    if handled < N_REQUESTS:
        return "intake" if handled else "startup"
    return "drain" if pending else "done"


# ---------------------------------------------------------------- 2. IMAP outages


def test_imap_restart_mid_batch_and_down_run_then_next_run_picks_up(own_world, monkeypatch):
    from mailbot.runtime import intake
    from mailbot.runtime.intake import process_pending
    monkeypatch.setattr(intake, "FETCH_BATCH", 2)    # the restart falls between two downloads
    w = own_world
    rng = random.Random(7)
    requests = [customer_request(i, rng) for i in range(6)]
    for m in requests:
        w.deliver(m)
    # a run that loses its IMAP server after two mails (the server restarts under it)
    handled = []

    def stop() -> bool:
        handled.append(1)
        if len(handled) == 3:
            w.imap.restart()
        return False

    box = Mailbox(**w.imap.settings(), timeout=10)
    with box:
        box.ensure_folders()
        with pytest.raises(MailboxUnavailable):
            process_pending(w.app, box, lambda: datetime.now(UTC), stop=stop)
    # while the server is down a run reports it, exits normally, and loses nothing
    w.imap.stop()
    down = w.run_once()
    assert "imap_error" in down
    w.imap.start()
    result = w.run_once()
    assert result["mail"] == {"new_case": 4, "duplicate": 2}     # the two committed before the restart
    assert len(w.cases()) == 6
    for m in requests:
        assert kinds_sent_to(w, m["From"].addresses[0].addr_spec).count("customer:ack") == 1
    assert w.imap.list_messages("INBOX") == []
    assert len(w.imap.list_messages("Processed")) == 6


# ---------------------------------------------------------------- 3. UIDVALIDITY


def test_uidvalidity_change_reprocesses_nothing_and_skips_nothing(own_world):
    w = own_world
    rng = random.Random(11)
    first = [customer_request(i, rng) for i in range(3)]
    later = [customer_request(i, rng) for i in range(3, 6)]
    for m in first:
        w.deliver(m)
    assert w.run_once()["mail"] == {"new_case": 3}
    old_validity = _uidvalidity(w)
    # the mail store is rebuilt (server migration, restore from backup): the same messages come back
    # into a new INBOX with a new UIDVALIDITY and UIDs counted from 1 again, plus three new ones
    maildir = w.imap.root / "mail" / w.imap.user / "Maildir"
    for attempt in range(3):
        w.imap.stop()
        shutil.rmtree(maildir)
        w.imap.start()
        for m in first + later:
            w.deliver(m)
        if _uidvalidity(w) != old_validity:
            break
        time.sleep(1.1)                            # Dovecot takes the clock for UIDVALIDITY
    assert _uidvalidity(w) != old_validity
    w.smtp.clear()
    result = w.run_once()
    assert result["mail"] == {"duplicate": 3, "new_case": 3}
    assert len(w.cases()) == 6
    for m in first:
        assert w.sent_to(m["From"].addresses[0].addr_spec) == []           # not answered again
    for m in later:
        assert kinds_sent_to(w, m["From"].addresses[0].addr_spec).count("customer:ack") == 1   # not skipped
    assert w.imap.list_messages("INBOX") == []
    with db_session(w) as s:
        new = s.scalars(select(db.InboundRow.uidvalidity).where(
            db.InboundRow.message_id.in_([m["Message-ID"].strip("<>") for m in later]))).all()
    assert set(new) == {_uidvalidity(w)}


def _uidvalidity(w: World) -> int:
    with Mailbox(**w.imap.settings(), timeout=10) as box:
        return box.uidvalidity


# ---------------------------------------------------------------- 4. auto-reply loop guard


def test_robot_that_answers_everything_gets_at_most_the_daily_cap(world):
    robot = "info@toko-robot.example"
    cap = world.app.cfg.schedule.max_auto_replies_per_day
    t0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
    world.feed(mail(robot, "Permintaan publikasi", "saya ingin membeli Statistik Daerah Sumatera Selatan 2025",
                    date=t0), t0)
    answered = set()
    t = t0
    for _ in range(cap * 3):                      # the robot answers every mail it gets, at once
        todo = [m for m in world.sent_to(robot) if m["Message-ID"] not in answered]
        if not todo:
            break
        for ours in todo:
            answered.add(ours["Message-ID"])
            t += timedelta(minutes=2)
            reply = mail(robot, f"Re: {ours['Subject']}", "Terima kasih, pesan Anda sudah kami terima.",
                         reply_to=ours, date=t)
            assert reply["Auto-Submitted"] is None
            world.feed(reply, t)
    # the acknowledgement and one holding reply: at most one a case a day (issue 17), well within the cap
    assert len(world.sent_to(robot)) == 2 <= cap
    assert not [m for m in world.sent_to(robot) if m["Message-ID"] not in answered]   # the loop ended
    # a day later the robot may be answered again (the cap is per day, not for ever)
    world.smtp.clear()
    later = t0 + timedelta(days=1, hours=1)
    world.feed(mail(robot, "Re: pertanyaan", "Mohon info.", reply_to=ours, date=later), later)
    assert len(world.sent_to(robot)) == 1


# ---------------------------------------------------------------- 5. oversized mail


@pytest.fixture
def small_world(fresh_mailbox, smtp_server, db_url):
    w = World(fresh_mailbox, smtp_server, db_url, storage={"max_message_mb": 1, "max_attachment_mb": 1})
    w.import_catalog()
    yield w
    w.close()


def test_oversized_mail_is_not_downloaded_sender_told_once_and_quarantined(small_world, monkeypatch):
    w = small_world
    big = mail("andi.besar@gmail.com", "Permintaan publikasi dengan lampiran besar",
               "saya ingin membeli Statistik Daerah Sumatera Selatan 2025, KTP terlampir.",
               attachments=(("ktp.pdf", b"%PDF-1.4\n" + random.Random(3).randbytes(1_600_000), "application/pdf"),))
    small = mail("sari@yahoo.co.id", "Permintaan", "saya ingin membeli Kota Palembang Dalam Angka 2024")
    w.deliver(big)
    w.deliver(small)
    fetched, headers = [], []
    real_fetch, real_many, real_headers = Mailbox.fetch, Mailbox.fetch_many, Mailbox.fetch_headers
    monkeypatch.setattr(Mailbox, "fetch", lambda self, uid: fetched.append(uid) or real_fetch(self, uid))
    monkeypatch.setattr(Mailbox, "fetch_many", lambda self, uids: fetched.extend(uids) or real_many(self, uids))
    monkeypatch.setattr(Mailbox, "fetch_headers", lambda self, uid: headers.append(uid) or real_headers(self, uid))

    result = w.run_once()
    assert result["mail"] == {"too_large": 1, "new_case": 1}
    assert len(headers) == 1 and headers[0] not in fetched and len(fetched) == 1   # only the small one whole
    told = w.sent_to("andi.besar@gmail.com")
    assert len(told) == 1
    assert "melebihi batas 1" in _text(told[0])
    quarantined = w.imap.list_messages("Quarantine")
    assert len(quarantined) == 1 and len(quarantined[0]) > 1_600_000               # kept whole on the server
    assert w.imap.list_messages("INBOX") == []
    assert [c["customer"] for c in w.cases()] == ["sari@yahoo.co.id"]

    w.deliver(big)                                   # the customer's client sends it again
    again = w.run_once()
    assert again["mail"] == {"duplicate": 1}
    assert len(w.sent_to("andi.besar@gmail.com")) == 1                              # told once
    assert len(w.imap.list_messages("Quarantine")) == 2


@pytest.mark.parametrize("batch, budget", [(2, 10 * 2**20), (20, 1)])
def test_mail_is_downloaded_in_bounded_batches_and_one_taken_meanwhile_is_skipped(small_world, monkeypatch,
                                                                                 batch, budget):
    from mailbot.runtime import intake
    w = small_world
    monkeypatch.setattr(intake, "FETCH_BATCH", batch)
    monkeypatch.setattr(intake, "FETCH_BYTES", budget)     # 1 byte: every batch is its first mail only
    rng = random.Random(5)
    requests = [customer_request(i, rng) for i in range(5)]
    for m in requests:
        w.deliver(m)
    batches: list[list[int]] = []
    real_pending, real_many = Mailbox.pending, Mailbox.fetch_many

    def pending(self):
        found = real_pending(self)
        with w.imap.client() as other:                   # another client takes the third mail meanwhile
            other.select_folder("INBOX")
            other.move([found[2].uid], "Processed")
        return found

    monkeypatch.setattr(Mailbox, "pending", pending)
    monkeypatch.setattr(Mailbox, "fetch_many", lambda self, uids: batches.append(list(uids)) or real_many(self, uids))
    result = w.run_once()
    assert result["mail"] == {"new_case": 4}                # skipped, neither handled nor quarantined
    assert batches and max(map(len, batches)) == (1 if budget == 1 else batch)
    assert sorted(u for b in batches for u in b) == sorted(set(u for b in batches for u in b))  # each once
    taken = requests[2]["From"].addresses[0].addr_spec
    assert taken not in [c["customer"] for c in w.cases()]
    assert w.imap.list_messages("INBOX") == [] and w.imap.list_messages("Quarantine") == []


def test_a_server_that_refuses_batched_fetch_gets_each_mail_alone_and_is_asked_once(small_world, monkeypatch):
    w = small_world
    rng = random.Random(6)
    for i in range(4):
        w.deliver(customer_request(i, rng))
    refused: list[list[int]] = []

    def refuse(self, uids):
        refused.append(list(uids))
        raise MailboxError("IMAP FETCH 4 messages failed: BAD too many")   # the connection stays usable

    monkeypatch.setattr(Mailbox, "fetch_many", refuse)
    assert w.run_once()["mail"] == {"new_case": 4}
    assert len(refused) == 1                                 # not once more for every mail
    assert w.imap.list_messages("INBOX") == [] and w.imap.list_messages("Quarantine") == []


def _text(msg) -> str:
    part = msg.get_body(("plain",))
    return part.get_content() if part else ""
