"""DESIGN §5 forgery suite through real IMAP and SMTP: every forged command is refused, its legitimate twin accepted.

Refused means: the case keeps its state, items, documents and digest tokens; no mail reaches the
customer; the refusal is answered to the role's list (a gate refusal) or in a transcript to the
listed address (a refused line); and the audit trail records it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

import servers as devservers
from mailbot.adapters import db
from mailbot.config import load_config
from mailbot.app.bootstrap import App
from world import AUTHSERV, BENDAHARA, PETUGAS, World, body_of, mail

pytestmark = pytest.mark.mail
P1, P2 = PETUGAS
LISTS = {"petugas": list(PETUGAS), "bendahara": [BENDAHARA]}
FORGER = "penipu@evil.example"      # the Reply-To of forged mail: must never be written to
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 30000 + b"\xff\xd9"
REQUEST = "Saya ingin membeli softcopy Provinsi Sumatera Selatan Dalam Angka 2025."
N_NEW, N_PAY = 27, 18
# What a forger wants a petugas to have said: add an item and write to the customer.
ORDER = "ITEM #1\nBALAS\nMohon kirim ulang foto KTP Anda."
BALAS_TEXT = "Mohon kirim ulang foto KTP Anda."


@dataclass
class Case:
    ref: str
    customer: str
    thread_token: str
    ack: EmailMessage           # the customer's acknowledgement
    note: EmailMessage          # the petugas notification (its subject carries "(kode <thread token>)")
    invoice: EmailMessage | None = None


class Office:
    """One mailbot (module-wide) with a pool of cases in `new` and in `payment_review`, and two digests."""

    def __init__(self, world: World):
        self.world = world
        self.app = App(load_config(world.config), migrate=False)
        self.new: list[Case] = []
        self.pay: list[Case] = []
        self.digests: list[tuple[str, EmailMessage]] = []

    # --- pool ------------------------------------------------------------------------------
    def build(self) -> None:
        w = self.world
        customers = [f"pembeli{n:02d}@gmail.com" for n in range(N_NEW + N_PAY)]
        for c in customers:
            w.deliver(mail(c, "Permintaan publikasi", REQUEST))
        assert w.run_once()["mail"] == {"new_case": len(customers)}
        refs = {c["customer"]: c["ref"] for c in w.cases()}
        sent = w.sent()
        cases = []
        for c in customers:
            ref = refs[c]
            ack = next(m for m in sent if c in str(m["To"]) and ref in str(m["Subject"]))
            note = next(m for m in sent if P1 in str(m["To"]) and ref in str(m["Subject"]))
            token = re.search(r"\(kode ([0-9A-F]{10})\)", str(note["Subject"])).group(1)
            cases.append(Case(ref, c, token, ack, note))
        self.new, self.pay = cases[:N_NEW], cases[N_NEW:]

        # The payment pool: agreement and KTP, the petugas' commands, the invoice, the proof.
        self._batch([mail(k.customer, f"Re: {k.ack['Subject']}", "SETUJU\n\nBerikut KTP saya.", reply_to=k.ack,
                          attachments=(("ktp.jpg", JPEG, "image/jpeg"),)) for k in self.pay])
        self._batch([mail(P1, f"Re: {k.note['Subject']}", "IDENTITAS OK\nITEM #1\nJELAS\nSIAP\nTAGIH",
                          reply_to=k.note, auth="pass", attachments=(("dda.pdf", PDF, "application/pdf"),))
                     for k in self.pay])
        sent = w.sent()
        for k in self.pay:
            k.invoice = next(m for m in sent if k.customer in str(m["To"]) and "Invoice" in str(m["Subject"]))
        self._batch([mail(k.customer, f"Re: {k.invoice['Subject']}", "Sudah saya transfer.", reply_to=k.invoice,
                          attachments=(("bukti.jpg", JPEG, "image/jpeg"),)) for k in self.pay])
        for k in self.pay:
            assert self.state(k) == "payment_review", k.ref
        self.digests = [self.send_digest(), self.send_digest()]

    def _batch(self, msgs: list[EmailMessage]) -> None:
        self.world.smtp.clear()
        for m in msgs:
            self.world.deliver(m)
        counts = self.world.run_once()["mail"]
        assert sum(counts.values()) == len(msgs) and "refused" not in counts, counts

    def take(self, pool: str) -> Case:
        cases = getattr(self, pool)
        assert cases, f"the {pool} pool is empty: raise N_{pool.upper()}"
        return cases.pop(0)

    def send_digest(self) -> tuple[str, EmailMessage]:
        code, out = self.world.cli("digest")
        assert code == 0 and "sent" in out, out
        digest_id = out.split()[1]
        msg = next(m for m in self.world.sent_to(BENDAHARA) if f"(kode {digest_id})" in str(m["Subject"]))
        return digest_id, msg

    # --- reading the database ----------------------------------------------------------------
    def state(self, case: Case) -> str:
        with self.app.sessions() as s:
            return s.scalar(select(db.CaseRow.state).where(db.CaseRow.ref == case.ref))

    def snapshot(self, case: Case) -> dict:
        """Everything a forged command could change on a case."""
        with self.app.sessions() as s:
            row = s.scalar(select(db.CaseRow).where(db.CaseRow.ref == case.ref))
            return {
                "state": row.state, "agreed": row.agreed, "identity_ok": row.identity_ok,
                "deliverables": row.deliverables, "paid_on": row.paid_on,
                "items": [(i.katalog, i.qty) for i in row.items],
                "documents": [(d.kind, d.number, d.void) for d in s.scalars(
                    select(db.DocumentRow).where(db.DocumentRow.case_id == row.id).order_by(db.DocumentRow.id))],
                "tokens": [(t.token, t.used_at) for t in s.scalars(
                    select(db.DigestTokenRow).where(db.DigestTokenRow.case_id == row.id)
                    .order_by(db.DigestTokenRow.id))],
                "cases": s.scalar(select(func.count()).select_from(db.CaseRow)),
            }

    def last_event_id(self) -> int:
        with self.app.sessions() as s:
            return s.scalar(select(func.max(db.EventRow.id))) or 0

    def events_since(self, event_id: int) -> list[tuple[str | None, str, str, str]]:
        """(case ref, kind, actor, detail) of every audit event after `event_id`."""
        with self.app.sessions() as s:
            rows = s.execute(select(db.CaseRow.ref, db.EventRow.kind, db.EventRow.actor, db.EventRow.detail)
                             .outerjoin(db.CaseRow, db.CaseRow.id == db.EventRow.case_id)
                             .where(db.EventRow.id > event_id).order_by(db.EventRow.id))
            return [tuple(r) for r in rows]

    def token_for(self, digest: EmailMessage, case: Case) -> str:
        text = body_of(digest)          # the case's own line: other lines may name it (a proof seen twice)
        block = text[re.search(rf"^\d+\. {case.ref} ", text, re.M).start():]
        return re.search(r"SETUJU ([A-Z2-9]{6})", block).group(1)

    def expire_token(self, token: str) -> None:
        """Travel in time for one token: its expiry moves to a minute ago."""
        with self.app.sessions.begin() as s:
            s.execute(update(db.DigestTokenRow).where(db.DigestTokenRow.token == token)
                      .values(expires_at=datetime.now(timezone.utc) - timedelta(minutes=1)))

    # --- sending -----------------------------------------------------------------------------
    def run(self, msg: EmailMessage | bytes) -> dict:
        """Deliver one mail to the mailbox, run mailbot once, return the mail outcomes."""
        self.world.smtp.clear()
        self.world.deliver(msg)
        return self.world.run_once()["mail"]

    def subjects_to(self, address: str) -> list[str]:
        return [str(m["Subject"]) for m in self.world.sent_to(address)]


def _jakarta_days() -> list[str]:
    today = datetime.now(ZoneInfo("Asia/Jakarta")).date()
    return [(today + timedelta(days=d)).isoformat() for d in (-1, 0, 1)]


@pytest.fixture(scope="module")
def office(imap_server, module_db_url):
    """Built once per database (SQLite; PostgreSQL too with MAILBOT_TEST_PG), like every `db_url` test."""
    if not imap_server.running:
        imap_server.start()
    imap_server.reset()
    smtp = devservers.CaptureSMTPServer().start()
    # Holidays today and around it keep the daily digest job out of the way: the tests send their own.
    world = World(imap_server, smtp, module_db_url, calendar={"extra_holidays": _jakarta_days()})
    o = None
    try:
        world.import_catalog()
        o = Office(world)
        o.build()
        yield o
    finally:
        if o is not None:
            o.app.engine.dispose()
        world.close()
        smtp.stop()


@pytest.fixture(autouse=True)
def _quiet_smtp(office):
    office.world.smtp.clear()


# --- building forged mail ------------------------------------------------------------------------

def with_headers(msg: EmailMessage, *lines: str) -> bytes:
    """`lines` prepended as raw header lines, i.e. added above everything the client wrote
    (what our MTA does with its Authentication-Results)."""
    return "".join(f"{line}\n" for line in lines).encode() + msg.as_bytes()


def ours(result: str) -> str:
    return f"Authentication-Results: {AUTHSERV}; {result}"


def no_token(subject: str) -> str:
    return re.sub(r"\s*\(kode [0-9A-F]{10}\)", "", subject)


def petugas_reply(case: Case, body: str = ORDER, *, frm: str = P1, subject: str | None = None,
                  threaded: bool = True, auth: str | None = None) -> EmailMessage:
    return mail(frm, subject if subject is not None else f"Re: {case.note['Subject']}", body,
                reply_to=case.note if threaded else None, auth=auth)


def bendahara_reply(digest: EmailMessage, body: str, *, frm: str = BENDAHARA, subject: str | None = None,
                    auth: str | None = None) -> EmailMessage:
    return mail(frm, subject if subject is not None else f"Re: {digest['Subject']}", body, reply_to=digest,
                auth=auth)


# --- the checks ------------------------------------------------------------------------------------

def assert_refused_at_gate(o: Office, msg, case: Case | None, role: str, claimed: str, why: str,
                           bystanders: tuple[Case, ...] = ()) -> None:
    """The whole mail refused before any keyword is read."""
    watched = ([case] if case else []) + list(bystanders)
    before = [o.snapshot(k) for k in watched]
    since = o.last_event_id()
    assert o.run(msg) == {"refused": 1}
    assert [o.snapshot(k) for k in watched] == before
    for k in watched:
        assert not o.world.sent_to(k.customer), f"{k.customer} was written to"
    for address in LISTS[role]:
        warnings = [m for m in o.world.sent_to(address) if "perintah ditolak" in str(m["Subject"])]
        assert len(warnings) == 1, o.subjects_to(address)
        assert why in body_of(warnings[0]) and claimed in str(warnings[0]["Subject"])
    recipients = {a.addr_spec for m in o.world.sent() for a in m["To"].addresses}
    assert recipients <= set(LISTS[role]), recipients       # never a Reply-To, never anyone else
    refused = [e for e in o.events_since(since) if e[1] == "refused_sender"]
    assert len(refused) == 1 and refused[0][2] == claimed and why in refused[0][3], o.events_since(since)
    assert refused[0][0] == (case.ref if case else None)


def assert_petugas_order_done(o: Office, msg, case: Case) -> None:
    """The legitimate twin: the item is added and the customer gets the BALAS text."""
    assert o.run(msg) == {"staff": 1}
    snap = o.snapshot(case)
    assert len(snap["items"]) == 1 and snap["state"] == "new"
    replies = [m for m in o.world.sent_to(case.customer) if "Tanggapan" in str(m["Subject"])]
    assert len(replies) == 1 and BALAS_TEXT in body_of(replies[0])
    for p in PETUGAS:                                       # accepted: every petugas sees the transcript
        assert any("Hasil perintah" in subject for subject in o.subjects_to(p)), o.subjects_to(p)


def assert_approved(o: Office, msg, case: Case) -> None:
    assert o.run(msg) == {"staff": 1}
    assert o.state(case) == "delivered"
    delivery = [m for m in o.world.sent_to(case.customer) if "Kuitansi" in str(m["Subject"])]
    assert len(delivery) == 1
    assert "Berhasil" in body_of(o.world.sent_to(BENDAHARA)[-1])


def assert_line_refused(o: Office, msg, case: Case, reason: str, *, outcome: str = "staff",
                        to: str = BENDAHARA) -> None:
    """The mail passed the gate but its command was refused: transcript says GAGAL with the reason,
    the audit trail has it, and nothing else happens."""
    before = o.snapshot(case)
    since = o.last_event_id()
    assert o.run(msg) == {outcome: 1}
    assert o.snapshot(case) == before
    assert not o.world.sent_to(case.customer)
    transcripts = [m for m in o.world.sent_to(to) if "Hasil perintah" in str(m["Subject"])]
    assert len(transcripts) == 1, o.subjects_to(to)
    text = body_of(transcripts[0])
    assert "GAGAL" in text and reason in text and "Berhasil" not in text, text
    assert any(e[1] == "refused" and reason in e[3] and e[0] == case.ref for e in o.events_since(since)), \
        o.events_since(since)


# === petugas: who sent it, and did our server vouch for it ===============================================

# Each entry: (id, Authentication-Results lines added above the client's mail by OUR server,
#               lines the sender wrote into the mail, expected reason in the refusal)
GATE = [
    ("no-auth-results", [], [], "tidak ada Authentication-Results"),
    ("ours-dkim-spf-fail", [ours("dkim=fail header.d=bps.go.id; spf=fail smtp.mailfrom=petugas1@bps.go.id")], [],
     "DKIM/SPF tidak lulus"),
    ("other-authserv-id", [], ["Authentication-Results: evil.example; dkim=pass header.d=bps.go.id; "
                               "spf=pass smtp.mailfrom=petugas1@bps.go.id"], "bukan dari server kantor (evil.example)"),
    # Our server's real (failing) header is topmost; the sender's fake one with OUR id sits below it.
    ("fake-ours-below-real", [ours("dkim=none; spf=softfail smtp.mailfrom=petugas1@bps.go.id")],
     [ours("dkim=pass header.d=bps.go.id; spf=pass smtp.mailfrom=petugas1@bps.go.id")], "DKIM/SPF tidak lulus"),
    ("dkim-pass-other-domain", [ours("dkim=pass header.d=evil.example; spf=fail smtp.mailfrom=x@evil.example")],
     [], "DKIM/SPF tidak lulus"),
    ("spf-pass-other-domain", [ours("spf=pass smtp.mailfrom=bounce@evil.example")], [], "DKIM/SPF tidak lulus"),
    ("dkim-pass-lookalike-domain", [ours("dkim=pass header.d=bps.go.id.evil.example")], [], "DKIM/SPF tidak lulus"),
    # A quoted envelope sender must not smuggle a result of its own past a naive ';' split.
    ("quoted-mailfrom-injection", [ours('spf=fail smtp.mailfrom="x;dkim=pass header.d=bps.go.id ;"@evil.example')],
     [], "DKIM/SPF tidak lulus"),
    # A bps.go.id insider's signed mail with a second From added above: we would read the added one.
    ("second-from-header", [ours("dkim=pass header.d=bps.go.id"), "From: petugas1@bps.go.id"], [],
     "From tidak tunggal"),
]


@pytest.mark.parametrize("above, inside, why", [g[1:] for g in GATE], ids=[g[0] for g in GATE])
def test_unauthenticated_petugas_is_refused_and_authenticated_twin_accepted(office, above, inside, why):
    case = office.take("new")
    # A reply threaded under the notification, but without the "(kode …)" thread token in the subject.
    subject = no_token(f"Re: {case.note['Subject']}")
    frm = "staf.umum@bps.go.id" if any(line.startswith("From:") for line in above) else P1
    forged = petugas_reply(case, subject=subject, frm=frm)
    forged["Reply-To"] = FORGER
    for line in inside:
        name, value = line.split(": ", 1)
        forged[name] = value
    raw = with_headers(forged, *above)
    assert_refused_at_gate(office, raw, case, "petugas", P1, why)
    legit = petugas_reply(case, subject=subject)
    assert_petugas_order_done(office, with_headers(legit, ours("dkim=pass header.d=bps.go.id")), case)


def test_thread_token_alone_authenticates_a_listed_petugas(office):
    """The other way in (DESIGN §5): no Authentication-Results at all, the notification's token."""
    case = office.take("new")
    assert_petugas_order_done(office, petugas_reply(case), case)


def test_reply_with_case_tag_of_a_but_token_of_b_is_refused(office):
    a, b = office.take("new"), office.take("new")
    subject = f"Re: {no_token(str(a.note['Subject']))} (kode {b.thread_token})"
    assert_refused_at_gate(office, petugas_reply(a, subject=subject), a, "petugas", P1, "kode utas tidak cocok",
                           bystanders=(b,))
    assert_petugas_order_done(office, petugas_reply(a), a)


def test_token_of_a_in_a_fresh_mail_about_b_is_refused(office):
    a, b = office.take("new"), office.take("new")
    fresh = f"Kasus [{b.ref}] (kode {a.thread_token})"
    assert_refused_at_gate(office, petugas_reply(b, subject=fresh, threaded=False), b, "petugas", P1,
                           "kode utas tidak cocok", bystanders=(a,))
    assert_petugas_order_done(office, petugas_reply(b, subject=f"Kasus [{b.ref}] (kode {b.thread_token})",
                                                    threaded=False), b)


def test_reply_threaded_under_b_with_subject_and_token_of_a_is_refused(office):
    """The thread decides the case (DESIGN §3), so A's token cannot command B's thread, nor A."""
    a, b = office.take("new"), office.take("new")
    forged = mail(P1, f"Re: {a.note['Subject']}", ORDER, reply_to=b.note)
    assert_refused_at_gate(office, forged, b, "petugas", P1, "kode utas tidak cocok", bystanders=(a,))
    assert_petugas_order_done(office, petugas_reply(b), b)


def test_forged_buka_opens_no_case(office):
    victim = "korban.spam@yahoo.co.id"
    since = office.last_event_id()
    assert office.run(mail(P1, "Kasus live chat", f"BUKA {victim}")) == {"refused": 1}
    assert not office.world.sent_to(victim)
    assert all("perintah ditolak" in s for p in PETUGAS for s in office.subjects_to(p)) and \
        all(office.subjects_to(p) for p in PETUGAS)
    assert [e[1] for e in office.events_since(since)] == ["refused_sender"]
    with office.app.sessions() as s:
        assert not s.scalar(select(db.CaseRow.id).where(db.CaseRow.customer == victim))
    assert office.run(mail(P1, "Kasus live chat", f"BUKA {victim}", auth="pass")) == {"staff": 1}
    assert office.world.sent_to(victim)


def test_petugas_keywords_from_the_bendahara_do_nothing(office):
    case = office.take("new")
    before = office.snapshot(case)
    # Authenticated, and even with the case's thread token: the bendahara's list only reads SETUJU/TOLAK.
    assert office.run(petugas_reply(case, frm=BENDAHARA, auth="pass")) == {"staff": 1}
    assert office.snapshot(case) == before
    assert not office.world.sent_to(case.customer)
    text = body_of(office.world.sent_to(BENDAHARA)[-1])
    assert "tidak ada perintah yang dijalankan" in text and "ITEM #1" in text, text
    assert not office.world.sent_to(P1)
    assert_petugas_order_done(office, petugas_reply(case, auth="pass"), case)


def test_mail_with_thread_token_from_unlisted_address_commands_nothing(office):
    """A petugas writing from a private address is not a petugas: at most a customer message."""
    case = office.take("new")
    before = office.snapshot(case)
    since = office.last_event_id()
    outcome = office.run(petugas_reply(case, frm="petugas1.pribadi@gmail.com", auth="pass"))
    assert "staff" not in outcome and "refused" not in outcome, outcome
    assert office.snapshot(case) == before
    assert not [m for m in office.world.sent_to(case.customer) if BALAS_TEXT in body_of(m)]
    assert "Hasil perintah" not in " ".join(office.subjects_to(P1))
    assert not [e for e in office.events_since(since) if e[1] not in ("third_party_message",)]
    assert_petugas_order_done(office, petugas_reply(case), case)


def test_mail_with_thread_token_from_unlisted_address_is_not_acknowledged_to_the_customer(office):
    case = office.take("new")
    before = office.snapshot(case)
    office.run(petugas_reply(case, frm="petugas1.pribadi@gmail.com", auth="pass"))
    assert not office.world.sent_to(case.customer)
    assert office.snapshot(case) == before


QUOTED = {
    "gt-lines": "Baik, saya cek dulu.\n\n> ITEM #1\n> BALAS\n> Mohon kirim ulang foto KTP Anda.",
    "only-quote": "\n> ITEM #1\n> BALAS\n> Mohon kirim ulang foto KTP Anda.",
    "pada-menulis": "Baik, saya cek dulu.\n\nPada Sen, 30 Nov 2026 pukul 10.00 BPS Sumsel <diseminasi1600@bps.go.id>"
                    " menulis:\nITEM #1\nBALAS\nMohon kirim ulang foto KTP Anda.",
    "outlook-original": "Baik, saya cek dulu.\n\n-----Original Message-----\nFrom: BPS Sumsel "
                        "<diseminasi1600@bps.go.id>\nSent: Monday, November 30, 2026 10:00 AM\nTo: "
                        "petugas1@bps.go.id\nSubject: Permintaan baru\n\n"
                        "ITEM #1\nBALAS\nMohon kirim ulang foto KTP Anda.",
    "outlook-header-block": "Baik, saya cek dulu.\n\nFrom: BPS Sumsel <diseminasi1600@bps.go.id>\nSent: Monday, "
                            "November 30, 2026 10:00 AM\nTo: petugas1@bps.go.id\nSubject: Permintaan baru\n\n"
                            "ITEM #1\nBALAS\nMohon kirim ulang foto KTP Anda.",
}


@pytest.mark.parametrize("body", QUOTED.values(), ids=QUOTED.keys())
def test_keyword_only_in_quoted_text_does_nothing(office, body):
    case = office.take("new")
    before = office.snapshot(case)
    assert office.run(petugas_reply(case, body, auth="pass")) == {"staff": 1}
    assert office.snapshot(case) == before
    assert not office.world.sent_to(case.customer)
    assert not office.world.sent_to(P2)                     # nothing accepted: no one else is told
    transcript = office.world.sent_to(P1)[-1]
    assert "Hasil perintah" in str(transcript["Subject"])
    assert "tidak ada perintah yang dijalankan" in body_of(transcript)
    assert "Berhasil" not in body_of(transcript)
    assert_petugas_order_done(office, petugas_reply(case, auth="pass"), case)


# === bendahara: the digest, its tokens, and who may use them =============================================

BENDAHARA_GATE = [
    ("no-auth-results", [], "tidak ada Authentication-Results"),
    ("ours-dkim-spf-fail", [ours("dkim=fail header.d=bps.go.id; spf=fail smtp.mailfrom=bendahara@bps.go.id")],
     "DKIM/SPF tidak lulus"),
    ("other-authserv-id", ["Authentication-Results: evil.example; dkim=pass header.d=bps.go.id"],
     "bukan dari server kantor"),
]


@pytest.mark.parametrize("keyword", ["SETUJU", "TOLAK"])
@pytest.mark.parametrize("above, why", [g[1:] for g in BENDAHARA_GATE], ids=[g[0] for g in BENDAHARA_GATE])
def test_forged_bendahara_without_digest_is_refused(office, above, why, keyword):
    case = office.take("pay")
    digest_id, digest = office.digests[0]
    token = office.token_for(digest, case)
    line = f"{keyword} {token}" + (" bukti palsu" if keyword == "TOLAK" else "")
    forged = bendahara_reply(digest, line, subject=no_token(f"Re: {digest['Subject']}"))
    forged["Reply-To"] = FORGER
    assert_refused_at_gate(office, with_headers(forged, *above), None, "bendahara", BENDAHARA, why,
                           bystanders=(case,))
    assert_approved(office, bendahara_reply(digest, f"SETUJU {token}"), case)


def test_authenticated_bendahara_still_needs_the_digest_the_token_came_from(office):
    case = office.take("pay")
    _, digest = office.digests[0]
    token = office.token_for(digest, case)
    fresh = mail(BENDAHARA, "Persetujuan pembayaran", f"SETUJU {token}", auth="pass")
    assert_line_refused(office, fresh, case, "bukan milik digest yang dibalas")
    assert_approved(office, bendahara_reply(digest, f"SETUJU {token}", auth="pass"), case)


def test_bendahara_keyword_from_a_petugas_does_nothing(office):
    case = office.take("pay")
    _, digest = office.digests[0]
    token = office.token_for(digest, case)
    before = office.snapshot(case)
    assert office.run(bendahara_reply(digest, f"SETUJU {token}", frm=P1, auth="pass")) == {"staff": 1}
    assert office.snapshot(case) == before
    assert not office.world.sent_to(case.customer)
    text = body_of(office.world.sent_to(P1)[-1])
    assert "Tidak dimengerti" in text and f"SETUJU {token}" in text and "Berhasil" not in text
    assert_approved(office, bendahara_reply(digest, f"SETUJU {token}"), case)


@pytest.mark.parametrize("style", ["gt-lines", "outlook"])
def test_bendahara_reply_quoting_the_digest_approves_nothing(office, style):
    case = office.take("pay")
    _, digest = office.digests[0]
    token = office.token_for(digest, case)
    quoted = "\n".join(f"> {line}" for line in body_of(digest).splitlines()) if style == "gt-lines" else (
        "-----Original Message-----\nFrom: BPS Sumsel <diseminasi1600@bps.go.id>\nSent: Monday\nTo: "
        f"bendahara@bps.go.id\nSubject: Digest\n\nSETUJU {token}\n\n{body_of(digest)}")
    before = office.snapshot(case)
    assert office.run(bendahara_reply(digest, f"Terima kasih, saya cek dulu.\n\n{quoted}")) == {"staff": 1}
    assert office.snapshot(case) == before
    assert not office.world.sent_to(case.customer)
    assert "tidak ada perintah yang dijalankan" in body_of(office.world.sent_to(BENDAHARA)[-1])
    assert_approved(office, bendahara_reply(digest, f"SETUJU {token}\n\n{quoted}"), case)


def test_used_token_is_refused(office):
    case = office.take("pay")
    _, digest = office.digests[0]
    token = office.token_for(digest, case)
    assert_approved(office, bendahara_reply(digest, f"SETUJU {token}"), case)
    assert_line_refused(office, bendahara_reply(digest, f"TOLAK {token} salah setuju"), case, "sudah dipakai")
    assert_line_refused(office, bendahara_reply(digest, f"SETUJU {token}"), case, "sudah dipakai")


def test_expired_token_is_refused(office):
    case = office.take("pay")
    (_, old), (_, new) = office.digests
    token = office.token_for(old, case)
    office.expire_token(token)
    assert_line_refused(office, bendahara_reply(old, f"SETUJU {token}"), case, "kedaluwarsa")
    assert_approved(office, bendahara_reply(new, f"SETUJU {office.token_for(new, case)}"), case)


def test_token_from_another_digest_is_refused(office):
    case = office.take("pay")
    (_, a), (_, b) = office.digests
    token_a, token_b = office.token_for(a, case), office.token_for(b, case)
    assert token_a != token_b
    assert_line_refused(office, bendahara_reply(b, f"SETUJU {token_a}"), case, "bukan milik digest yang dibalas")
    assert_approved(office, bendahara_reply(b, f"SETUJU {token_b}"), case)


def test_approval_of_a_case_no_longer_in_review_is_refused_with_reason(office):
    case = office.take("pay")
    (_, a), (_, b) = office.digests
    assert_approved(office, bendahara_reply(a, f"SETUJU {office.token_for(a, case)}"), case)
    # Deciding on the case spent every reference printed for it, in every digest.
    assert_line_refused(office, bendahara_reply(b, f"SETUJU {office.token_for(b, case)}"), case,
                        "sudah diputuskan")


def test_replayed_approval_mail_is_a_no_op(office):
    """The same Message-ID again (a replay, or IMAP showing it twice) is recognised and does nothing;
    it is not answered, or every re-fetch after a crash would mail the bendahara."""
    case = office.take("pay")
    _, digest = office.digests[0]
    approval = bendahara_reply(digest, f"SETUJU {office.token_for(digest, case)}").as_bytes()
    assert_approved(office, approval, case)
    before = office.snapshot(case)
    since = office.last_event_id()
    assert office.run(approval) == {"duplicate": 1}
    # Nothing done, nothing sent; the second sight is on record (issue 14: nothing vanishes), where the
    # first one was filed (a digest reply belongs to no case).
    assert office.snapshot(case) == before
    assert [e[:3] for e in office.events_since(since)] == [(None, "duplicate", BENDAHARA)]
    assert office.world.sent() == []


def test_customer_writing_setuju_with_a_real_token_approves_nothing(office):
    case = office.take("pay")
    digest_id, digest = office.digests[0]
    token = office.token_for(digest, case)
    before = office.snapshot(case)
    since = office.last_event_id()
    msg = mail(case.customer, f"Re: {case.invoice['Subject']} (kode {digest_id})", f"SETUJU {token}",
               reply_to=case.invoice, auth="pass")
    assert office.run(msg) == {"forwarded": 1}
    assert office.snapshot(case) == before                  # token still unused, no receipt
    assert not [m for m in office.world.sent_to(case.customer) if "Kuitansi" in str(m["Subject"])]
    assert [e[1] for e in office.events_since(since)] == ["customer_message"]
    assert any(f"SETUJU {token}" in body_of(m) for m in office.world.sent_to(P1))   # petugas see it
    assert_approved(office, bendahara_reply(digest, f"SETUJU {token}"), case)


def test_customer_writing_setuju_p3k7qx_only_agrees_to_the_terms(office):
    case = office.take("new")
    before = office.snapshot(case)
    assert office.run(mail(case.customer, f"Re: {case.ack['Subject']}", "SETUJU P3K7QX", reply_to=case.ack)) \
        == {"agreed": 1}
    after = office.snapshot(case)
    assert after["agreed"] and not before["agreed"]
    assert {**after, "agreed": False} == before
    assert not office.world.sent_to(BENDAHARA)


def test_token_of_a_replaced_invoice_is_refused(office):
    """The token is bound to its invoice: after reject, expiry and a new invoice, it is dead."""
    w = office.world
    case = office.take("pay")
    (_, a), (_, b) = office.digests
    token_a = office.token_for(a, case)
    assert office.run(bendahara_reply(b, f"TOLAK {office.token_for(b, case)} nominal kurang")) == {"staff": 1}
    assert office.state(case) == "invoiced"
    with office.app.sessions() as s:
        expires = s.scalar(select(db.CaseRow.invoice_expires).where(db.CaseRow.ref == case.ref))
    code, out = w.cli("jobs", "--at", f"{expires + timedelta(days=1)}T09:00+07:00")
    assert code == 0 and office.state(case) == "expired", out
    assert office.run(petugas_reply(case, "TAGIH", auth="pass")) == {"staff": 1}
    invoice = next(m for m in w.sent_to(case.customer) if "Invoice" in str(m["Subject"]))
    assert office.run(mail(case.customer, f"Re: {invoice['Subject']}", "Sudah transfer ulang.", reply_to=invoice,
                           attachments=(("bukti2.jpg", JPEG, "image/jpeg"),))) == {"proof": 1}
    assert office.state(case) == "payment_review"
    # The TOLAK already spent token_a (every reference of the case dies with a decision); the
    # invoice binding would refuse it as well.
    assert_line_refused(office, bendahara_reply(a, f"SETUJU {token_a}"), case, "sudah diputuskan")
    _, c = office.send_digest()
    assert_approved(office, bendahara_reply(c, f"SETUJU {office.token_for(c, case)}"), case)
