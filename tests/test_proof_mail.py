"""Payment proofs through real IMAP and SMTP (issue 16): what the customer's acknowledgement and the
bendahara's digest say about a proof that matches, one short by the admin fee, one sent for two cases,
one that cannot be read without Tesseract; and that reading never holds up the intake."""
from __future__ import annotations

import json
import re
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from mailbot.adapters import ocr
from mailbot.outbound.formatting import format_rupiah, tanggal
from proof_samples import sample_screen
from world import BENDAHARA, PETUGAS, World, body_of, mail

pytestmark = pytest.mark.mail
WIB = ZoneInfo("Asia/Jakarta")
P1 = PETUGAS[0]
KTP = b"\xff\xd8\xff\xe0" + b"\x00" * 30000 + b"\xff\xd9"
PDF = b"%PDF-1.4\n%%EOF\n"

needs_ocr = pytest.mark.skipif(not ocr.usable(), reason="Tesseract is not installed")


def body(msg) -> str:
    return body_of(msg).replace("\r\n", "\n")


def last_to(world: World, to: str, part: str = ""):
    found = [m for m in world.sent_to(to) if part in str(m["Subject"])]
    assert found, [str(m["Subject"]) for m in world.sent_to(to)]
    return found[-1]


def invoiced(world: World, customer: str) -> tuple[str, dict, object]:
    """A case of `customer` up to its invoice, fed in-process now; (ref, case, the invoice mail)."""
    now = datetime.now(WIB)
    world.feed(mail(customer, "Permintaan", "Saya ingin membeli Provinsi Sumatera Selatan Dalam Angka 2025.\nSETUJU",
                    attachments=(("ktp.jpg", KTP, "image/jpeg"),)), now)
    ref = next(c["ref"] for c in world.cases() if c["customer"] == customer and c["state"] == "new")
    note = last_to(world, P1, ref)
    world.feed(mail(P1, f"Re: {note['Subject']}", "IDENTITAS OK\nITEM #1\nJELAS\nSIAP\nTAGIH", reply_to=note,
                    auth="pass", attachments=(("dda.pdf", PDF, "application/pdf"),)), now)
    case = world.case(ref)
    assert case["state"] == "invoiced", case["events"]
    return ref, case, last_to(world, customer, "Invoice")


def send_proof(world: World, customer: str, invoice_mail, files, words: str = "Berikut bukti transfernya.") -> dict:
    world.smtp.clear()
    world.deliver(mail(customer, f"Re: {invoice_mail['Subject']}", words, reply_to=invoice_mail, attachments=files))
    return world.run_once()


def digest_block(world: World, ref: str) -> str:
    world.smtp.clear()
    code, out = world.cli("digest")
    assert code == 0 and "sent" in out, out
    text = body(last_to(world, BENDAHARA, "Digest"))
    blocks = re.split(r"\n(?=\d+\. PUB-)", text)
    return next(b for b in blocks if re.match(rf"\d+\. {ref} ", b))


@needs_ocr
def test_a_proof_that_matches_is_cocok_and_the_customer_is_told_what_was_received(world):
    customer = "budi.santoso@gmail.com"
    ref, case, invoice_mail = invoiced(world, customer)
    total, number = case["total"], case["invoice_number"]
    png, _ = sample_screen("bca", amount=total, berita=number, on=datetime.now(WIB).date())
    result = send_proof(world, customer, invoice_mail, (("bukti-bca.png", png, "image/png"),),
                        "Sudah saya transfer tadi pagi.")
    assert result["mail"] == {"proof": 1} and result["proofs"] == 1
    assert world.case(ref)["state"] == "payment_review"

    acks = [m for m in world.sent_to(customer) if "Bukti pembayaran diterima" in str(m["Subject"])]
    assert len(acks) == 1                     # one acknowledgement, sent once the proof was read
    ack = body(acks[0])
    today = tanggal(datetime.now(WIB).date())
    assert f"- bukti-bca.png: transfer {format_rupiah(total)} tanggal {today}, nomor referensi " in ack, ack
    assert "kurang" not in ack and "bendahara" in ack

    block = digest_block(world, ref)
    assert f"Terbaca  : bukti-bca.png: {format_rupiah(total)}, tanggal {today}" in block, block
    assert "Hasil    : cocok (nominal, rekening tujuan, tanggal, berita)" in block, block
    assert "PERHATIAN" not in block
    events = [e for e in world.case(ref)["events"] if e["kind"] == "proof_read"]
    assert len(events) == 1 and events[0]["actor"] == "system"


@needs_ocr
def test_a_proof_short_by_the_admin_fee_is_berbeda_and_the_customer_is_asked_for_the_rest(world):
    customer = "siti.rahma@yahoo.co.id"
    ref, case, invoice_mail = invoiced(world, customer)
    total, number = case["total"], case["invoice_number"]
    # BRImo: the customer typed the invoice total minus the fee; the screen's Total is the invoice's total
    png, _ = sample_screen("brimo", amount=total - 6500, berita=number, on=datetime.now(WIB).date())
    send_proof(world, customer, invoice_mail, (("brimo.png", png, "image/png"),))
    assert world.case(ref)["state"] == "payment_review"          # the bendahara still decides

    ack_mail = last_to(world, customer, "Bukti pembayaran diterima")
    ack = body(ack_mail)
    assert (f"Nominal yang terbaca pada bukti tersebut adalah {format_rupiah(total - 6500)}, sedangkan tagihan pada "
            f"invoice {number} sebesar {format_rupiah(total)} (kurang Rp6.500).") in ack, ack
    assert "pembayaran kekurangannya sebesar Rp6.500" in ack and "bukti pembayaran yang sesuai" in ack
    assert "Bukti Anda tetap kami teruskan kepada bendahara" in ack
    block = digest_block(world, ref)
    assert "Hasil    : berbeda: kurang Rp6.500" in block, block

    # the customer pays the rest and sends its proof: together the transfers make the invoice's total
    rest, _ = sample_screen("livin", amount=6500, berita=number, seed=11, on=datetime.now(WIB).date())
    send_proof(world, customer, ack_mail, (("sisa.png", rest, "image/png"),))
    ack = body(last_to(world, customer, "Bukti pembayaran diterima"))
    assert "- sisa.png: transfer Rp6.500" in ack and "kurang" not in ack, ack
    block = digest_block(world, ref)
    assert f"Gabungan : {format_rupiah(total)} dari beberapa transfer: sama dengan invoice" in block, block
    # each transfer is judged against what the other leaves to pay
    assert "Hasil    : cocok (nominal, rekening tujuan, tanggal, berita); catatan: dinilai bersama transfer lain " \
           f"{format_rupiah(total - 6500)}" in block, block


@needs_ocr
def test_one_proof_sent_for_two_cases_is_flagged_as_possible_reuse(world):
    customer = "ahmad.fauzi@gmail.com"
    first, case, first_invoice = invoiced(world, customer)
    png, truth = sample_screen("bni", amount=case["total"], berita=case["invoice_number"],
                               on=datetime.now(WIB).date())
    send_proof(world, customer, first_invoice, (("transfer.png", png, "image/png"),))
    second, _, second_invoice = invoiced(world, customer)
    send_proof(world, customer, second_invoice, (("transfer.png", png, "image/png"),))
    block = digest_block(world, second)
    assert f"PERHATIAN: bukti ini juga ada pada {first} (file yang sama): mungkin dipakai ulang" in block, block
    # the same transfer captured again (dark mode): other bytes, the same bank reference
    third, _, third_invoice = invoiced(world, customer)
    dark, truth_dark = sample_screen("bni", amount=case["total"], berita=case["invoice_number"], dark=True,
                                     on=datetime.now(WIB).date())
    assert dark != png and truth_dark["reference"] == truth["reference"]
    send_proof(world, customer, third_invoice, (("layar.png", dark, "image/png"),))
    block = digest_block(world, third)
    assert f"{first} (nomor referensi yang sama)" in block and f"{second} (nomor referensi yang sama)" in block, block
    assert f"bukti ini juga ada pada {third}" in digest_block(world, first)   # and the first case learns of it


def test_without_tesseract_the_digest_says_so_and_nothing_else_changes(world, monkeypatch):
    pytesseract = pytest.importorskip("pytesseract")
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")
    customer = "dewi.lestari@gmail.com"
    ref, case, invoice_mail = invoiced(world, customer)
    png, _ = sample_screen("bca", amount=case["total"])
    result = send_proof(world, customer, invoice_mail, (("bukti.png", png, "image/png"),),
                        "sudah saya transfer Rp82.000 tadi pagi")
    assert result["mail"] == {"proof": 1} and world.case(ref)["state"] == "payment_review"
    ack = body(last_to(world, customer, "Bukti pembayaran diterima"))
    assert "- bukti.png\n" in ack and "kurang" not in ack, ack
    block = digest_block(world, ref)
    assert "Terbaca  : bukti.png: tidak terbaca (OCR tidak terpasang)" in block, block
    assert "Hasil" not in block
    assert "Ditulis  : Rp82.000 (kata pelanggan di email, bukan bacaan bukti)" in block


@needs_ocr
def test_a_late_proof_reaches_the_petugas_with_its_reading(world):
    customer = "nurul.h@gmail.com"
    ref, case, invoice_mail = invoiced(world, customer)
    expired_on = datetime.fromisoformat(case["invoice_expires"]) + timedelta(days=1)
    world.jobs(f"{expired_on.date()}T08:00+07:00")
    assert world.case(ref)["state"] == "expired"
    png, _ = sample_screen("brimo", amount=case["total"], berita=case["invoice_number"], on=expired_on.date())
    world.smtp.clear()
    world.feed(mail(customer, f"Re: {invoice_mail['Subject']}", "Maaf terlambat.", reply_to=invoice_mail,
                    attachments=(("telat.png", png, "image/png"),)), expired_on.replace(hour=10, tzinfo=WIB))
    note = body(last_to(world, P1, "kedaluwarsa"))
    assert f"- telat.png: {format_rupiah(case['total'])}, tanggal {tanggal(expired_on.date())}" in note, note
    assert (f"dibanding invoice {case['invoice_number']} ({format_rupiah(case['total'])}, kedaluwarsa): "
            f"cocok (nominal, rekening tujuan, tanggal, berita)") in note, note
    assert "telat.png" in body(last_to(world, customer, "kedaluwarsa"))


@pytest.fixture
def waiting_world(fresh_mailbox, smtp_server, db_url):
    """An office that sends the digest on each proof, after at most 3 s of reading; IDLE only."""
    w = World(fresh_mailbox, smtp_server, db_url, schedule={"digest_on_proof": True, "proof_wait_seconds": 3},
              imap={"poll_seconds": 3600})
    w.import_catalog()
    yield w
    w.close()


@needs_ocr
def test_twenty_images_hold_up_neither_the_next_customer_nor_the_notices_beyond_the_wait(waiting_world):
    """The daemon: a proof mail of 20 screenshots, then another customer's request. That answer comes
    while the screenshots are still being read; the proof's acknowledgement and digest go out when the
    configured wait (3 s) is over, with what was read by then."""
    from test_daemon import Daemon, wait_for_mail
    world = waiting_world
    customer, other = "iqbal.r@gmail.com", "yuliana.sari@gmail.com"
    ref, case, invoice_mail = invoiced(world, customer)
    today = datetime.now(WIB).date()
    # twenty captures of one transfer (one seed: one reference), in five apps, light and dark, two sizes
    screens = [(f"bukti-{n:02d}.png", sample_screen(("bca", "livin", "brimo", "bni", "bsb")[n % 5], dark=n % 10 >= 5,
                                                   width=(1080, 900)[n // 10], amount=case["total"],
                                                   berita=case["invoice_number"], on=today, seed=5)[0], "image/png")
               for n in range(20)]
    assert len({data for _, data, _ in screens}) == 20
    started = time.perf_counter()
    ocr.read_file(screens[0][1], "image/png")
    one_image = time.perf_counter() - started

    daemon = Daemon(world)
    try:
        daemon.wait_log("action=imap_connected")
        world.smtp.clear()
        world.deliver(mail(customer, f"Re: {invoice_mail['Subject']}", "Bukti transfer terlampir.",
                           reply_to=invoice_mail, attachments=tuple(screens)))
        sent_at = time.perf_counter()
        world.deliver(mail(other, "Permintaan publikasi", "Saya ingin membeli Statistik Daerah 2025."))
        wait_for_mail(world, other, timeout=30, daemon=daemon)
        other_after = time.perf_counter() - sent_at
        read_then = _read_count(world)
        wait_for_mail(world, BENDAHARA, timeout=30, daemon=daemon)
        digest_after = time.perf_counter() - sent_at
        ack = body(last_to(world, customer, "Bukti pembayaran diterima"))
        digest = body(last_to(world, BENDAHARA, "Digest"))
    finally:
        daemon.kill()                   # mid-reading, most likely: the file in hand stays claimed
    # what the daemon left unread is read at the next start; the operator sees how much
    code, out = world.cli("status")
    assert code == 0 and json.loads(out)["proofs_unread"] == 20 - _read_count(world), out
    # ... and by `run --once`, even the file the killed daemon had claimed
    left = json.loads(out)["proofs_unread"]
    assert left and world.run_once()["proofs"] == left and _read_count(world) == 20
    # the intake never waited for OCR: at the answer at most the image in hand (and one more) was read
    assert read_then <= 2, (read_then, other_after, one_image)
    assert other_after < 2.5 + one_image, (other_after, one_image, daemon.text()[-3000:])
    # the notices waited for the reading, then went with what was known
    assert 3 <= digest_after < 3 + 4 * one_image + 3, (digest_after, one_image)
    assert digest.count("sedang dibaca") >= 10 and "Hasil    : cocok" in digest, digest
    assert ack.count("- bukti-") == 20 and f"transfer {format_rupiah(case['total'])}" in ack, ack
    assert "kurang" not in ack


def _read_count(world: World) -> int:
    from sqlalchemy import create_engine, text
    engine = create_engine(world.app.cfg.database.url)      # plain: a read takes no write turn
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM proof_readings WHERE status = 'done'")).scalar()
    finally:
        engine.dispose()


def test_a_later_proof_mail_waits_for_one_file_of_an_earlier_big_one_not_all(world):
    """The reader takes files of the mail with the fewest read first: B's single proof is read second,
    and its acknowledgement is queued while most of A's files still wait."""
    a, b = "pembeli.a@gmail.com", "pembeli.b@gmail.com"
    _, _, invoice_a = invoiced(world, a)
    _, _, invoice_b = invoiced(world, b)
    now = datetime.now(WIB)
    photos = tuple((f"a-{n}.jpg", KTP + bytes([n]), "image/jpeg") for n in range(4))
    world.app.handle_mail(mail(a, f"Re: {invoice_a['Subject']}", "bukti", reply_to=invoice_a,
                               attachments=photos).as_bytes(), now=now)
    world.app.handle_mail(mail(b, f"Re: {invoice_b['Subject']}", "bukti", reply_to=invoice_b,
                               attachments=(("b.jpg", KTP + b"b", "image/jpeg"),)).as_bytes(), now=now)
    read = []
    world.app.read_proofs(lambda: now, stop=lambda: len(read) >= 2, after_each=lambda: read.append(1))
    world.drain(now)
    assert [str(m["Subject"]) for m in world.sent_to(b) if "Bukti pembayaran" in str(m["Subject"])]
    assert not [m for m in world.sent_to(a) if "Bukti pembayaran" in str(m["Subject"])]
    assert world.app.proofs_waiting(now) == 3
    world.app.read_proofs(lambda: now)
    world.drain(now)
    ack = body(last_to(world, a, "Bukti pembayaran diterima"))
    assert all(f"- a-{n}.jpg" in ack for n in range(4)), ack


def test_an_english_customer_is_told_both_amounts_in_english():
    from types import SimpleNamespace

    from mailbot.outbound.templates import Templates
    received = [SimpleNamespace(name="receipt.png", amount=1_243_500, date=datetime(2026, 12, 3).date(), ref="8159")]
    context = {"office": SimpleNamespace(name="BPS Provinsi Sumatera Selatan", website=""), "service_address": "x@y",
               "case": SimpleNamespace(ref="PUB-2026-0007", customer_name="Jane Doe"), "received": received,
               "invoice": SimpleNamespace(number="0007/INV/1600/XII/2026"),
               "mismatch": {"read": 1_243_500, "invoice": 1_250_000, "short": 6500, "over": 0, "several": False}}
    subject, text = Templates(None).render_mail("proof_received", "en", **context)
    assert subject == "Payment proof received — PUB-2026-0007"
    assert "- receipt.png: transfer of IDR 1,243,500 on 03 December 2026, reference 8159" in text
    assert ("The amount we read on this proof is IDR 1,243,500, while invoice 0007/INV/1600/XII/2026 is for "
            "IDR 1,250,000 (IDR 6,500 short).") in text
    assert "pay the remaining IDR 6,500" in text
    subject, text = Templates(None).render_mail("proof_received", "id", **context)
    assert "(kurang Rp6.500)" in text and "kekurangannya sebesar Rp6.500" in text
