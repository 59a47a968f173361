"""Behaviour no other test pinned (issue 15): English keywords, STATUS, raw mail and its retention, the
attachment limit, `cases --state/--overdue`, digest_on_proof, PDF proof hints, `mailbot status`, the
instance lock as a with block, and work after the commit."""
from __future__ import annotations

import hashlib
import json
import os
import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, select, text

import servers as devservers
from mailbot.adapters import db
from mailbot.adapters.lock import AdvisoryLock, FileLock, LockHeld, acquire_lock
from mailbot.app.bootstrap import App
from mailbot.config import load_config
from test_report import _Server
from test_story import (CUSTOMER, JPEG, P1, PDF, complete_requirements, latest, open_case, pdf_to_text,
                        staff_reply)
from world import BENDAHARA, World, attachments_of, body_of, mail

pytestmark = pytest.mark.mail
WIB = ZoneInfo("Asia/Jakarta")
BULAN = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
         "November", "Desember")


def tanggal(iso: str) -> str:
    """A date as the office writes it: 8 April 2026."""
    d = date.fromisoformat(iso)
    return f"{d.day} {BULAN[d.month - 1]} {d.year}"


def at(text_: str) -> datetime:
    return datetime.fromisoformat(text_).replace(tzinfo=WIB)


def ref_of(world: World, customer: str) -> str:
    (ref,) = [c["ref"] for c in world.cases() if c["customer"] == customer]
    return ref


# --- English keywords, through real mail -------------------------------------------------------------


def english(world: World, to_msg, body: str, done: int, *, frm: str = P1, attachments=()) -> str:
    """A staff reply in English keywords: every line understood and carried out; the transcript text."""
    staff_reply(world, frm, to_msg, body, attachments=attachments)
    text_ = body_of(latest(world, frm, "Hasil perintah"))
    assert text_.count("Berhasil") == done and "GAGAL" not in text_ and "Tidak dimengerti" not in text_, text_
    return text_


def pay(world: World, invoice_mail, name: str = "bukti.jpg") -> None:
    world.deliver(mail(CUSTOMER, f"Re: {invoice_mail['Subject']}", "Sudah saya transfer.", reply_to=invoice_mail,
                       attachments=((name, JPEG, "image/jpeg"),)))
    world.run_once()


def digest_token(world: World):
    world.smtp.clear()
    code, out = world.cli("digest")
    assert code == 0 and "sent" in out, out
    digest = latest(world, BENDAHARA, "Digest")
    return digest, re.search(r"SETUJU ([A-Z2-9]{6})", body_of(digest)).group(1)


def test_a_whole_case_driven_by_english_keywords(world):
    """DESIGN §4: every staff keyword has an English alias; this case never sees an Indonesian one."""
    ref = open_case(world)
    note = latest(world, P1, ref)
    world.deliver(mail(CUSTOMER, "Re: request", "AGREE\n\nMy ID card is attached.",
                       reply_to=latest(world, CUSTOMER, ref), attachments=(("ktp.jpg", JPEG, "image/jpeg"),)))
    world.run_once()

    english(world, note, "IDENTITY OK\nITEM #1\nITEM 1101002.16 x 2\nREMOVE 2\nCLEAR", 5)
    case = world.case(ref)
    assert case["state"] == "preparing" and case["identity_ok"] and case["due"]
    assert [(i["katalog"], i["qty"]) for i in case["items"]] == [("1102001.16", 1)]      # line 2 removed

    english(world, note, "NOTE the customer phoned to confirm", 1)
    assert any(e["kind"] == "note" and "phoned to confirm" in e["detail"] for e in world.case(ref)["events"])
    assert not world.sent_to(CUSTOMER)                                                  # a note stays inside
    english(world, note, "REPLY\nYour files are being prepared.", 1)
    assert "Your files are being prepared." in body_of(latest(world, CUSTOMER))
    english(world, note, "HELP", 1)
    assert "IDENTITAS OK" in body_of(latest(world, P1, "Bantuan"))

    english(world, note, "READY\nINVOICE", 2, attachments=(("dda-2025.pdf", PDF, "application/pdf"),))
    case = world.case(ref)
    assert case["state"] == "invoiced"
    invoice_mail = latest(world, CUSTOMER, "Invoice")
    assert case["invoice_number"] in body_of(invoice_mail)

    pay(world, invoice_mail)
    digest, token = digest_token(world)
    english(world, digest, f"REJECT {token} the amount is short", 1, frm=BENDAHARA)
    assert world.case(ref)["state"] == "invoiced"
    assert "the amount is short" in body_of(latest(world, CUSTOMER))

    pay(world, invoice_mail, "bukti-2.jpg")
    digest, token = digest_token(world)
    english(world, digest, f"APPROVE {token}", 1, frm=BENDAHARA)
    case = world.case(ref)
    assert case["state"] == "delivered" and case["receipt_number"]
    delivery = latest(world, CUSTOMER, "Kuitansi")
    assert dict(attachments_of(delivery))["dda-2025.pdf"] == PDF

    world.deliver(mail(CUSTOMER, f"Re: {delivery['Subject']}", "Halaman 12 kosong.", reply_to=delivery))
    world.run_once()
    assert world.case(ref)["state"] == "correction"
    fix_note = latest(world, P1, "kesalahan")
    english(world, fix_note, "FIX", 1, attachments=(("dda-2025-fixed.pdf", PDF, "application/pdf"),))
    assert world.case(ref)["state"] == "delivered"
    assert "dda-2025-fixed.pdf" in dict(attachments_of(latest(world, CUSTOMER)))

    english(world, note, "CLOSE all done", 1)
    assert world.case(ref)["state"] == "closed"


def test_open_zero_and_cancel_in_english(world):
    world.deliver(mail(P1, "Live chat", "OPEN siti@yahoo.co.id", auth="pass"))
    world.run_once()
    assert "Berhasil" in body_of(latest(world, P1, "Hasil perintah"))
    siti = ref_of(world, "siti@yahoo.co.id")
    world.deliver(mail("siti@yahoo.co.id", "Re: x", "SETUJU", reply_to=latest(world, "siti@yahoo.co.id", siti),
                       attachments=(("ktp.jpg", JPEG, "image/jpeg"),)))
    world.run_once()
    english(world, latest(world, P1, siti), "IDENTITY OK\nITEM 1101002.16\nCLEAR\nREADY\nZERO government agency", 5,
            attachments=(("statda.pdf", PDF, "application/pdf"),))
    case = world.case(siti)
    assert case["state"] == "delivered" and case["total"] == 0 and case["receipt_number"]
    assert case["zero_reason"] == "government agency"
    assert "statda.pdf" in dict(attachments_of(latest(world, "siti@yahoo.co.id", "Kuitansi")))

    world.deliver(mail(P1, "Live chat", "OPEN andi@ui.ac.id", auth="pass"))
    world.run_once()
    andi = ref_of(world, "andi@ui.ac.id")
    english(world, latest(world, P1, andi), "CANCEL the customer withdrew", 1)
    assert world.case(andi)["state"] == "cancelled"
    assert "the customer withdrew" in body_of(latest(world, "andi@ui.ac.id"))


# --- STATUS -----------------------------------------------------------------------------------------


def test_status_answers_the_asker_with_the_case_summary(world):
    ref = open_case(world)
    note = latest(world, P1, ref)
    complete_requirements(world, ref)
    staff_reply(world, P1, note, "IDENTITAS OK\nITEM #1\nJELAS")
    case = world.case(ref)
    staff_reply(world, P1, note, "STATUS")
    replies = [m for m in world.sent() if str(m["Subject"]).startswith(f"[{ref}] Status")]
    assert len(replies) == 1, [str(m["Subject"]) for m in world.sent()]
    assert [a.addr_spec for a in replies[0]["To"].addresses] == [P1]        # the asker only
    summary = body_of(replies[0])
    for fact in (ref, "Budi Santoso", CUSTOMER, "preparing", "1102001.16",
                 "Provinsi Sumatera Selatan Dalam Angka 2025", "684 hlm", "Rp684.000", tanggal(case["due"])):
        assert fact in summary, (fact, summary)
    assert "SIAP" in summary and "TAGIH" in summary          # what may be done next
    assert case["state"] == world.case(ref)["state"]        # a question changes nothing


# --- the raw mail, kept and deleted with the identity document ----------------------------------------


def raw_paths(world: World) -> dict[str, object]:
    with world.app.sessions() as s:
        rows = s.execute(select(db.InboundRow.message_id, db.InboundRow.raw_path)).all()
    return {mid: (world.app.storage.root / path if path else None) for mid, path in rows}


def test_raw_mail_is_kept_and_deleted_with_the_identity_document_it_carried(world):
    request = mail(CUSTOMER, "Permintaan", "Saya ingin membeli Provinsi Sumatera Selatan Dalam Angka 2025.")
    world.feed(request, at("2027-01-04T09:00"))
    ref = ref_of(world, CUSTOMER)
    ktp_mail = mail(CUSTOMER, f"Re: [{ref}] Permintaan", "SETUJU", attachments=(("ktp.jpg", JPEG, "image/jpeg"),))
    world.feed(ktp_mail, at("2027-01-04T10:00"))
    note = latest(world, P1, ref)
    world.feed(mail(P1, f"Re: {note['Subject']}", "IDENTITAS OK\nITEM #1\nJELAS\nSIAP\nTAGIH", reply_to=note,
                    auth="pass", attachments=(("dda.pdf", PDF, "application/pdf"),)), at("2027-01-04T11:00"))
    assert world.case(ref)["invoice_expires"] == "2027-02-04"
    # DESIGN §3: the raw .eml of every inbound message, byte for byte
    raws = raw_paths(world)
    ids = {m: m["Message-ID"].strip("<>") for m in (request, ktp_mail)}
    assert raws[ids[request]].read_bytes() == request.as_bytes()
    assert raws[ids[ktp_mail]].read_bytes() == ktp_mail.as_bytes()

    world.jobs("2027-02-05T08:00+07:00")
    assert world.case(ref)["state"] == "expired"
    proof_jpg = b"\xff\xd8\xff\xe0" + b"\x01" * 30000 + b"\xff\xd9"
    proof_mail = mail(CUSTOMER, f"Re: [{ref}] Invoice", "Sudah saya transfer.",
                      attachments=(("bukti.jpg", proof_jpg, "image/jpeg"),))
    world.feed(proof_mail, at("2027-02-06T09:00"))
    raws = raw_paths(world)
    ids[proof_mail] = proof_mail["Message-ID"].strip("<>")

    # 90 days after the invoice lapsed (the end of the case) the KTP goes, with the mail that carried it
    assert world.jobs("2027-05-04T09:00+07:00")["retention"] == 0
    assert raws[ids[ktp_mail]].exists()
    assert world.jobs("2027-05-05T09:00+07:00")["retention"] == 1
    assert not raws[ids[ktp_mail]].exists()
    assert raw_paths(world)[ids[ktp_mail]] is None
    assert not world.app.storage.exists(hashlib.sha256(JPEG).hexdigest())
    # the request and the payment proof (a financial record) stay, the proof's mail with it
    assert raws[ids[request]].read_bytes() == request.as_bytes()
    assert raws[ids[proof_mail]].read_bytes() == proof_mail.as_bytes()
    assert world.app.storage.exists(hashlib.sha256(proof_jpg).hexdigest())


# --- storage.max_attachment_mb below storage.max_message_mb --------------------------------------------


def test_an_attachment_over_its_limit_is_neither_kept_nor_used_and_the_sender_is_told(fresh_mailbox, smtp_server,
                                                                                      db_url):
    w = World(fresh_mailbox, smtp_server, db_url, storage={"max_attachment_mb": 0.1, "max_message_mb": 1})
    try:
        w.import_catalog()
        ref = open_case(w)
        big = b"\xff\xd8\xff\xe0" + os.urandom(250_000) + b"\xff\xd9"        # 0.24 MB, in a mail of 0.33 MB
        ack = latest(w, CUSTOMER, ref)
        w.smtp.clear()
        w.deliver(mail(CUSTOMER, "Re: permintaan", "SETUJU\n\nBerikut KTP saya.", reply_to=ack,
                       attachments=(("ktp-besar.jpg", big, "image/jpeg"),)))
        assert w.run_once()["mail"] == {"agreed": 1}                    # the mail is handled, its file is not
        assert w.case(ref)["agreed"]
        assert not any(e["kind"] == "SubmitIdentity" for e in w.case(ref)["events"])
        assert not w.app.storage.exists(hashlib.sha256(big).hexdigest())
        assert not [m for m in w.sent_to(P1) if "Kartu identitas" in str(m["Subject"])]
        told = latest(w, CUSTOMER, "Persyaratan")                       # one answer says it all
        assert len(w.sent_to(CUSTOMER)) == 1
        text = body_of(told)
        assert "kartu identitas: BELUM diterima" in text
        assert "ktp-besar.jpg (0,2 MB): melebihi batas 0,1 MB per file" in text, text
        assert "lebih kecil dari 0,1 MB" in text                           # and how to send it again
        assert w.case(ref)["state"] == "new"

        small = b"\xff\xd8\xff\xe0" + b"\x00" * 30000 + b"\xff\xd9"        # the same photo, made smaller
        w.smtp.clear()
        w.deliver(mail(CUSTOMER, "Re: permintaan", "Ini KTP yang lebih kecil.", reply_to=told,
                       attachments=(("ktp.jpg", small, "image/jpeg"),)))
        assert w.run_once()["mail"] == {"identity": 1}
        assert dict(attachments_of(latest(w, P1, "Kartu identitas"))) == {"ktp.jpg": small}
        assert "TIDAK dapat kami terima" not in body_of(latest(w, CUSTOMER, "Persyaratan"))
    finally:
        w.close()


# --- cases --state / --overdue --------------------------------------------------------------------------


def cleared(world: World, customer: str, when: datetime) -> str:
    """A case of `customer` made clear (JELAS) at `when`: its service deadline counts from then."""
    world.feed(mail(customer, "Permintaan", "Saya ingin membeli Provinsi Sumatera Selatan Dalam Angka 2025.\nSETUJU",
                    attachments=(("ktp.jpg", JPEG, "image/jpeg"),)), when)
    ref = ref_of(world, customer)
    note = latest(world, P1, ref)
    world.feed(mail(P1, f"Re: {note['Subject']}", "IDENTITAS OK\nITEM #1\nJELAS", reply_to=note, auth="pass"), when)
    assert world.case(ref)["state"] == "preparing"
    return ref


def test_cases_lists_by_state_and_overdue_at_the_command_line(world):
    now = datetime.now(WIB)
    late = cleared(world, "telat@gmail.com", now - timedelta(days=40))      # its 10 working days are over
    fresh = cleared(world, "baru@gmail.com", now)
    world.feed(mail("tanya@gmail.com", "Permintaan", "Saya ingin membeli Statistik Daerah Sumsel 2025."), now)
    waiting = ref_of(world, "tanya@gmail.com")
    assert date.fromisoformat(world.case(late)["due"]) < now.date() < date.fromisoformat(world.case(fresh)["due"])

    def refs(*args: str) -> set[str]:
        return {c["ref"] for c in world.cases(*args)}

    assert refs("--state", "preparing") == {late, fresh}
    assert refs("--state", "new") == {waiting}
    assert refs("--state", "closed") == set()
    assert refs("--overdue") == {late}
    assert refs("--overdue", "--state", "new") == set()
    code, out = world.cli("cases", "--overdue")                     # the table an operator reads
    assert code == 0 and late in out and fresh not in out and waiting not in out
    code, out = world.cli("cases", "--state", "selesai")
    assert code == 1 and out == ""


# --- schedule.digest_on_proof ------------------------------------------------------------------------


def invoiced(world: World, when: datetime) -> tuple[str, object]:
    ref = cleared(world, CUSTOMER, when)
    note = latest(world, P1, ref)
    world.feed(mail(P1, f"Re: {note['Subject']}", "SIAP\nTAGIH", reply_to=note, auth="pass",
                    attachments=(("dda.pdf", PDF, "application/pdf"),)), when)
    assert world.case(ref)["state"] == "invoiced"
    return ref, latest(world, CUSTOMER, "Invoice")


@pytest.mark.parametrize("on", [True, False], ids=["on", "off"])
def test_digest_on_proof_sends_the_digest_at_once_only_when_set(fresh_mailbox, smtp_server, db_url, on):
    w = World(fresh_mailbox, smtp_server, db_url, schedule={"digest_on_proof": on})
    try:
        w.import_catalog()
        t = at("2027-01-05T10:00")                         # handled mail only: no scheduled job runs
        ref, invoice_mail = invoiced(w, t)
        assert not w.sent_to(BENDAHARA)
        w.feed(mail(CUSTOMER, f"Re: {invoice_mail['Subject']}", "Sudah saya transfer.", reply_to=invoice_mail,
                    attachments=(("bukti.jpg", JPEG, "image/jpeg"),)), t)
        assert w.case(ref)["state"] == "payment_review"
        digests = [m for m in w.sent_to(BENDAHARA) if "Digest" in str(m["Subject"])]
        if not on:
            assert digests == []                           # it waits for the daily digest
            return
        assert len(digests) == 1 and ref in body_of(digests[0])
        token = re.search(r"SETUJU ([A-Z2-9]{6})", body_of(digests[0])).group(1)
        w.feed(mail(BENDAHARA, f"Re: {digests[0]['Subject']}", f"SETUJU {token}", reply_to=digests[0], auth="pass"),
               t)
        assert w.case(ref)["state"] == "delivered"
    finally:
        w.close()


# --- hints read from a PDF proof -----------------------------------------------------------------------


def transfer_receipt_pdf() -> bytes:
    """A bank's transfer receipt as a PDF with a text layer."""
    from fpdf import FPDF
    doc = FPDF()
    doc.add_page()
    doc.set_font("helvetica", size=12)
    for line in ("BUKTI TRANSFER", "Tanggal: 05/01/2027", "Jumlah: Rp 684.000", "NTPN: 0A1B2C3D4E5F6G7H",
                 "Berita: pembayaran publikasi"):
        doc.cell(0, 10, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(doc.output())


def test_the_digest_shows_what_was_read_from_a_pdf_proof(world):
    t = at("2027-01-05T10:00")
    ref, invoice_mail = invoiced(world, t)
    proof = transfer_receipt_pdf()
    assert "0A1B2C3D4E5F6G7H" in pdf_to_text(proof)
    world.feed(mail(CUSTOMER, f"Re: {invoice_mail['Subject']}", "Bukti transfer terlampir.", reply_to=invoice_mail,
                    attachments=(("bukti-transfer.pdf", proof, "application/pdf"),)), t)
    world.smtp.clear()
    assert world.cli("digest")[0] == 0
    digest = body_of(latest(world, BENDAHARA, "Digest"))
    line = next(ln for ln in digest.splitlines() if ln.strip().startswith("Terbaca"))   # the mail said no figure
    assert "684.000" in line and "0A1B2C3D4E5F6G7H" in line and "5 Januari 2027" in line, digest
    assert world.case(ref)["state"] == "payment_review"                  # a hint, never a payment


# --- mailbot status ------------------------------------------------------------------------------------


def test_status_reports_every_figure_of_what_was_done(fresh_mailbox, db_url):
    gone = "tidak.ada@gmail.com"
    smtp = devservers.CaptureSMTPServer(rcpt_replies={gone: "550 5.1.1 No such user"}).start()
    w = World(fresh_mailbox, smtp, db_url)
    try:
        w.import_catalog()

        def status() -> dict:
            code, out = w.cli("status")
            assert code == 0, out
            return json.loads(out)

        states = ("new", "preparing", "invoiced", "payment_review", "delivered", "correction", "closed",
                  "expired", "cancelled")
        assert status() == {"last_fetch": None, "outbox_pending": 0, "outbox_failed": 0, "outbox_sent": 0,
                            "quarantined": 0, "cases": dict.fromkeys(states, 0), "nearest_deadlines": [],
                            "proofs_unread": 0}

        w.deliver(b"\x00\x01 no headers at all\r\n")                             # quarantined
        w.deliver(mail(gone, "Permintaan", "Saya ingin membeli Statistik Daerah Sumsel 2025."))   # ack refused
        w.deliver(mail(CUSTOMER, "Permintaan", "Saya ingin membeli Provinsi Sumatera Selatan Dalam Angka 2025."))
        w.run_once()
        ref = ref_of(w, CUSTOMER)
        complete_requirements(w, ref)
        w.deliver(mail(P1, f"Re: [{ref}]", "IDENTITAS OK\nITEM #1\nJELAS", auth="pass"))
        before = datetime.now(timezone.utc)
        w.run_once()
        after = datetime.now(timezone.utc)
        w.app.handle_mail(mail("andi@ui.ac.id", "Permintaan", "Mohon Statistik Daerah 2025.").as_bytes(),
                          now=after)                                     # handled, not yet sent
        due = w.case(ref)["due"]

        s = status()
        assert before <= datetime.fromisoformat(s["last_fetch"]) <= after
        assert s["outbox_pending"] == 2                                  # andi's acknowledgement and notice
        assert s["outbox_failed"] == 1                                   # the acknowledgement to `gone`
        assert s["outbox_sent"] == len(smtp.messages) > 0
        assert s["quarantined"] == 1
        assert s["cases"] == {**dict.fromkeys(states, 0), "new": 2, "preparing": 1}
        assert s["nearest_deadlines"] == [{"ref": ref, "state": "preparing", "due": due}]
        assert s["proofs_unread"] == 0                                  # no payment proof came in
        assert set(s) == {"last_fetch", "outbox_pending", "outbox_failed", "outbox_sent", "quarantined", "cases",
                          "nearest_deadlines", "proofs_unread"}
    finally:
        smtp.stop()
        w.close()


# --- the instance lock --------------------------------------------------------------------------------


def test_the_instance_lock_is_held_inside_a_with_block_and_free_after_it(db_url):
    w = World(_Server(), _Server(), db_url)
    cfg = load_config(w.config)
    app = App(cfg)
    other = db.make_engine(cfg.database.url)         # what a second process would connect with
    try:
        with acquire_lock(cfg, app.engine) as lock:
            assert isinstance(lock, FileLock if db_url.startswith("sqlite") else AdvisoryLock) and lock.held()
            for engine in (app.engine, other):
                with pytest.raises(LockHeld, match=f"another mailbot already works .*pid={os.getpid()}"):
                    acquire_lock(cfg, engine)
        assert not lock.held()
        acquire_lock(cfg, other).release()           # free once the block is left
    finally:
        other.dispose()
        app.engine.dispose()
        w.close()


# --- work after the commit --------------------------------------------------------------------------------


def test_work_a_mail_handler_queues_runs_after_the_commit_and_never_after_a_failure(db_url, monkeypatch):
    w = World(_Server(), _Server(), db_url)
    w.import_catalog()
    app = App(load_config(w.config))
    probe = create_engine(db_url)                    # a plain connection: sees only what is committed
    ran: list[tuple] = []
    real = app.customer_handler

    def committed(ref: str) -> int:
        with probe.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM cases WHERE ref = :r"), {"r": ref}).scalar()

    def handler(unit, parsed, row, stored):
        outcome, row = real(unit, parsed, row, stored)
        ref = row.ref
        unit.after_commit.append(lambda: ran.append((ref, unit.session.in_transaction(), committed(ref))))
        if "gagal" in parsed.text:
            raise RuntimeError("the handler fails after queueing its work")
        return outcome, row

    monkeypatch.setattr(app, "customer_handler", handler)
    now = datetime.now(timezone.utc)
    try:
        done = app.handle_mail(mail("budi@gmail.com", "Permintaan", "Mohon Statistik Daerah 2025.").as_bytes(), now=now)
        assert ran == [(done.case_ref, False, 1)]
        with pytest.raises(RuntimeError):
            app.handle_mail(mail("siti@gmail.com", "Permintaan", "Mohon Statistik Daerah 2025, gagal.").as_bytes(),
                            now=now)
        assert len(ran) == 1                         # the unit rolled back: its work never ran
        with app.sessions() as s:
            assert [r.customer for r in s.scalars(select(db.CaseRow))] == ["budi@gmail.com"]
    finally:
        probe.dispose()
        app.engine.dispose()
        w.close()
