"""DESIGN §1 steps 1-7 through real IMAP and SMTP servers, driven only by mails."""
from __future__ import annotations

import re

import pytest

from world import BENDAHARA, PETUGAS, World, attachments_of, body_of, mail

pytestmark = pytest.mark.mail
CUSTOMER = "budi.santoso@gmail.com"
P1 = PETUGAS[0]
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 30000 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 25000


def pdf_to_text(data: bytes) -> str:
    from io import BytesIO

    from pypdf import PdfReader
    return " ".join(" ".join((page.extract_text() or "").split()) for page in PdfReader(BytesIO(data)).pages)


def latest(world: World, to: str, subject_part: str = ""):
    found = [m for m in world.sent_to(to) if subject_part in str(m["Subject"])]
    assert found, f"no mail to {to} with {subject_part!r}: {[str(m['Subject']) for m in world.sent_to(to)]}"
    return found[-1]


def staff_reply(world: World, frm: str, to_msg, body: str, attachments=(), auth: str | None = "pass"):
    world.deliver(mail(frm, f"Re: {to_msg['Subject']}", body, reply_to=to_msg, attachments=attachments, auth=auth))
    world.smtp.clear()
    result = world.run_once()
    assert result["mail"] == {"staff": 1}, result
    return result


def complete_requirements(world: World, ref: str) -> None:
    """The customer answers the acknowledgement with SETUJU and a photo of the KTP."""
    world.deliver(mail(CUSTOMER, "Re: x", "SETUJU", reply_to=latest(world, CUSTOMER, ref),
                       attachments=(("ktp.jpg", JPEG, "image/jpeg"),)))
    world.run_once()


def open_case(world: World) -> str:
    world.deliver(mail(CUSTOMER, "Permintaan publikasi", "Saya ingin membeli softcopy Provinsi Sumatera Selatan "
                       "Dalam Angka 2025.", name="Budi Santoso"))
    world.run_once()
    return world.cases()[0]["ref"]


def test_whole_story(world):
    ref = open_case(world)
    ack = latest(world, CUSTOMER, ref)
    note = latest(world, P1, ref)

    # 2. The customer agrees and sends the KTP.
    world.deliver(mail(CUSTOMER, f"Re: {ack['Subject']}", "SETUJU\n\nBerikut KTP saya.", reply_to=ack,
                       attachments=(("ktp.jpg", JPEG, "image/jpeg"),)))
    world.smtp.clear()
    world.run_once()
    case = world.case(ref)
    assert case["state"] == "new"
    req = latest(world, CUSTOMER, "Persyaratan")
    assert "Persyaratan Anda lengkap" in body_of(req)
    id_note = latest(world, P1, "Kartu identitas diterima")
    assert dict(attachments_of(id_note)) == {"ktp.jpg": JPEG}
    assert "mohon hapus email ini" in body_of(id_note)      # its copy escapes mailbot's retention purge

    # 3. The petugas: identity ok, item, clear, ready (with file), invoice.
    world.smtp.clear()
    staff_reply(world, P1, note, "IDENTITAS OK\nITEM #1\nJELAS\n\nPada Sen, 30 Nov 2026 pukul 10.00 mailbot menulis:\n> lama")
    case = world.case(ref)
    assert case["state"] == "preparing", case["events"]
    assert case["items"][0]["judul"].endswith("2025") and case["total"] == case["items"][0]["halaman"] * 1000
    assert case["due"] is not None
    transcript = latest(world, P1, "Hasil perintah")
    text = body_of(transcript)
    assert text.count("Berhasil") == 3, text
    assert len(world.sent_to(PETUGAS[1])) == 1          # accepted commands go to every petugas
    assert "sedang disiapkan" in str(latest(world, CUSTOMER, ref)["Subject"])

    staff_reply(world, P1, note, "SIAP\nTAGIH", attachments=(("dda-2025.pdf", PDF, "application/pdf"),))
    case = world.case(ref)
    assert case["state"] == "invoiced", case["events"]
    assert re.fullmatch(r"\d{4}/INV/1600/[IVX]+/20\d\d", case["invoice_number"]), case["invoice_number"]
    invoice_mail = latest(world, CUSTOMER, "Invoice")
    names = [n for n, _ in attachments_of(invoice_mail)]
    assert len(names) == 1 and names[0].endswith(".pdf")
    assert case["invoice_number"] in body_of(invoice_mail) and "berita" in body_of(invoice_mail)
    assert case["due"] is None                           # the clock waits while the customer pays
    pdf_text = pdf_to_text(attachments_of(invoice_mail)[0][1])
    for expected in (case["invoice_number"], "Budi Santoso", ref, case["items"][0]["judul"][:30],
                     "Bank Contoh", "1234567890", "berita", "Nama Bendahara", "198001012005011001"):
        assert expected in pdf_text, expected
    assert f"Rp{case['total']:,}".replace(",", ".") in pdf_text

    # 4. The customer pays and sends the proof.
    world.deliver(mail(CUSTOMER, f"Re: {invoice_mail['Subject']}", "Sudah saya transfer Rp 120.000 tanggal 1/12/2026.",
                       reply_to=invoice_mail, attachments=(("bukti.jpg", JPEG, "image/jpeg"),)))
    world.smtp.clear()
    world.run_once()
    assert world.case(ref)["state"] == "payment_review"
    assert "Bukti pembayaran diterima" in str(latest(world, CUSTOMER, ref)["Subject"])

    # 5. The digest and the bendahara's approval.
    world.smtp.clear()
    code, out = world.cli("digest")
    assert code == 0, out
    digest = latest(world, BENDAHARA, "Digest")
    dtext = body_of(digest)
    token = re.search(r"SETUJU ([A-Z2-9]{6})", dtext).group(1)
    assert ref in dtext and case["invoice_number"] in dtext and f"TOLAK {token}" in dtext
    assert "120.000" in dtext                            # what was read from the proof
    assert any(n.endswith("bukti.jpg") for n, _ in attachments_of(digest))

    staff_reply(world, BENDAHARA, digest, f"SETUJU {token}")
    case = world.case(ref)
    assert case["state"] == "delivered", case["events"]
    assert case["receipt_number"] and "/KWT/" in case["receipt_number"]
    delivery = latest(world, CUSTOMER, "Kuitansi")
    files = dict(attachments_of(delivery))
    assert "dda-2025.pdf" in files and files["dda-2025.pdf"] == PDF
    receipt_name = next(n for n in files if n.startswith("kuitansi"))
    receipt_text = pdf_to_text(files[receipt_name])
    assert case["receipt_number"] in receipt_text and "Budi Santoso" in receipt_text

    # The token is single use.
    staff_reply(world, BENDAHARA, digest, f"SETUJU {token}")
    assert "sudah dipakai" in body_of(latest(world, BENDAHARA, "Hasil perintah"))

    # 6. A correction.
    world.deliver(mail(CUSTOMER, f"Re: {delivery['Subject']}", "Halaman 12 kosong, mohon diperbaiki.",
                       reply_to=delivery, attachments=(("layar.png", PNG, "image/png"),)))
    world.smtp.clear()
    world.run_once()
    case = world.case(ref)
    assert case["state"] == "correction" and case["due"] is not None
    fix_note = latest(world, P1, "kesalahan")
    assert "Halaman 12 kosong" in body_of(fix_note)                  # what is wrong, in the customer's words
    assert dict(attachments_of(fix_note)) == {"layar.png": PNG}      # and the screenshot they sent
    staff_reply(world, P1, fix_note, "PERBAIKAN", attachments=(("dda-2025-perbaikan.pdf", PDF, "application/pdf"),))
    assert world.case(ref)["state"] == "delivered"
    fixed = latest(world, CUSTOMER, "Perbaikan")
    assert "dda-2025-perbaikan.pdf" in dict(attachments_of(fixed))

    # 7. Close, satisfaction question, the answer recorded.
    staff_reply(world, P1, fix_note, "TUTUP selesai")
    assert world.case(ref)["state"] == "closed"
    survey = latest(world, CUSTOMER, "penilaian")
    world.deliver(mail(CUSTOMER, f"Re: {survey['Subject']}", "4\n\nterima kasih", reply_to=survey))
    world.run_once()
    assert world.case(ref)["rating"] == 4


def test_tagih_before_jelas_is_refused_with_reason(world):
    ref = open_case(world)
    note = latest(world, P1, ref)
    staff_reply(world, P1, note, "TAGIH")
    text = body_of(latest(world, P1, "Hasil perintah"))
    assert "GAGAL" in text and "belum JELAS" in text
    assert world.case(ref)["state"] == "new"


def test_keywords_run_in_the_order_the_process_needs_and_are_reported_as_written(world):
    """Issue 17: NOL written before JELAS still makes a Rp0 case (it used to be refused, and the case
    went on to be invoiced at full price)."""
    ref = open_case(world)
    note = latest(world, P1, ref)
    complete_requirements(world, ref)
    (world.library / "1101002.16-2025.pdf").write_bytes(PDF)
    staff_reply(world, P1, note, "IDENTITAS OK\nITEM 1101002.16\nNOL Instansi pemerintah daerah\nJELAS")
    case = world.case(ref)
    assert case["state"] == "delivered" and case["total"] == 0, case["events"]
    text = body_of(latest(world, P1, "Hasil perintah"))
    written = ["> IDENTITAS OK", "> ITEM 1101002.16", "> NOL Instansi pemerintah daerah", "> JELAS"]
    assert [text.index(line) for line in written] == sorted(text.index(line) for line in written), text
    assert text.count("Berhasil") == 4 and "GAGAL" not in text, text
    receipt = latest(world, CUSTOMER, "Kuitansi")
    assert "Rp0" in pdf_to_text(dict(attachments_of(receipt))[next(n for n, _ in attachments_of(receipt)
                                                                   if n.startswith("kuitansi"))])


def test_a_name_no_font_can_draw_still_gets_its_invoice_and_the_transcript_says_what_is_missing(
        world, tmp_path, monkeypatch):
    """Issue 13: Arabic and Korean letters with no font for them — the invoice is made and sent, the
    petugas' transcript names the characters and the Debian packages, nothing is quarantined."""
    monkeypatch.setenv("MAILBOT_SYSTEM_FONT_DIRS", str(tmp_path))          # a machine without optional fonts
    world.deliver(mail(CUSTOMER, "Permintaan publikasi", "Saya ingin membeli softcopy Provinsi Sumatera Selatan "
                       "Dalam Angka 2025.", name="محمد 김민준"))
    world.run_once()
    ref = world.cases()[0]["ref"]
    note = latest(world, P1, ref)
    complete_requirements(world, ref)
    result = staff_reply(world, P1, note, "IDENTITAS OK\nITEM #1\nJELAS\nSIAP\nTAGIH",
                         attachments=(("dda.pdf", PDF, "application/pdf"),))
    assert "quarantined" not in result["mail"]
    assert world.case(ref)["state"] == "invoiced"
    invoice = dict(attachments_of(latest(world, CUSTOMER, "Invoice")))
    assert len(invoice) == 1 and pdf_to_text(next(iter(invoice.values())))      # the PDF is made and readable
    text = body_of(latest(world, P1, "Hasil perintah"))
    tagih = text[text.index("> TAGIH"):]
    assert "محد" in tagih and "김민준" in tagih, tagih
    assert "fonts-noto-core" in tagih and "fonts-nanum" in tagih, tagih
    assert "GAGAL" not in text


def test_jelas_says_what_is_missing(world):
    ref = open_case(world)
    staff_reply(world, P1, latest(world, P1, ref), "JELAS")
    text = body_of(latest(world, P1, "Hasil perintah"))
    assert "IDENTITAS OK" in text and "SETUJU" in text


def test_mistyped_keyword_gets_suggestion(world):
    ref = open_case(world)
    staff_reply(world, P1, latest(world, P1, ref), "JELSA")
    text = body_of(latest(world, P1, "Hasil perintah"))
    assert "Tidak dimengerti" in text and "Maksud Anda: JELAS?" in text


def test_balas_goes_to_customer_without_quote(world):
    ref = open_case(world)
    staff_reply(world, P1, latest(world, P1, ref), "BALAS\nMohon kirim foto KTP yang lebih jelas.\n\n"
                "On Mon, 30 Nov 2026 at 10:00, mailbot wrote:\n> kutipan lama")
    reply = latest(world, CUSTOMER, "Tanggapan")
    assert "Mohon kirim foto KTP yang lebih jelas." in body_of(reply)
    assert "kutipan lama" not in body_of(reply)


def test_agreement_and_identity_in_one_mail_get_one_answer_saying_both_were_received(world):
    """Demo step 2: the notice is rendered from the case as the mail leaves it, not after SETUJU alone."""
    ack = latest(world, CUSTOMER, open_case(world))
    world.smtp.clear()
    world.deliver(mail(CUSTOMER, "Re: permintaan", "Setuju\n\nBerikut KTP saya.", reply_to=ack,
                       attachments=(("ktp.jpg", JPEG, "image/jpeg"),)))
    world.run_once()
    answers = [m for m in world.sent_to(CUSTOMER) if "Persyaratan" in str(m["Subject"])]
    assert len(answers) == 1, [str(m["Subject"]) for m in world.sent_to(CUSTOMER)]
    text = body_of(answers[0])
    assert "- kartu identitas: diterima" in text and "- persetujuan syarat pembelian: diterima" in text, text
    assert "BELUM" not in text and "Persyaratan Anda lengkap" in text


def test_buka_opens_case_for_live_chat_customer(world):
    world.deliver(mail(P1, "Kasus live chat", "BUKA siti@yahoo.co.id", auth="pass"))
    world.run_once()
    cases = world.cases()
    assert [c["customer"] for c in cases] == ["siti@yahoo.co.id"]
    (ack,) = world.sent_to("siti@yahoo.co.id")                # asked for her KTP and agreement, as by mail
    assert cases[0]["ref"] in str(ack["Subject"]) and "kartu identitas" in body_of(ack)


def test_bantuan_lists_every_keyword(world):
    from mailbot.app.bootstrap import keyword_registry
    keywords = [*keyword_registry().for_role("petugas"), *keyword_registry().for_role("bendahara")]
    assert len(keywords) == 18          # DESIGN §4: 15 petugas keywords, PERSETUJUAN (issue 17), SETUJU and TOLAK
    world.deliver(mail(P1, "bantuan", "BANTUAN", auth="pass"))
    world.run_once()
    text = body_of(latest(world, P1, "Bantuan"))
    for kw in keywords:
        assert kw.name in text and kw.alias in text


def test_reject_returns_case_to_invoiced_and_tells_customer(world):
    ref = open_case(world)
    note = latest(world, P1, ref)
    complete_requirements(world, ref)
    staff_reply(world, P1, note, "IDENTITAS OK\nITEM #1\nJELAS\nSIAP\nTAGIH",
                attachments=(("dda.pdf", PDF, "application/pdf"),))
    invoice_mail = latest(world, CUSTOMER, "Invoice")
    world.deliver(mail(CUSTOMER, "Re: invoice", "bukti", reply_to=invoice_mail,
                       attachments=(("bukti.pdf", PDF, "application/pdf"),)))
    world.run_once()
    world.smtp.clear()
    world.cli("digest")
    digest = latest(world, BENDAHARA, "Digest")
    token = re.search(r"TOLAK ([A-Z2-9]{6})", body_of(digest)).group(1)
    staff_reply(world, BENDAHARA, digest, f"TOLAK {token} nominal tidak sesuai")
    assert world.case(ref)["state"] == "invoiced"
    told = latest(world, CUSTOMER, "belum dapat diterima")
    assert "nominal tidak sesuai" in body_of(told)


def test_complaint_is_filed_and_answered_with_the_channels(world):
    ref = open_case(world)
    ack = latest(world, CUSTOMER, ref)
    world.deliver(mail(CUSTOMER, f"Re: {ack['Subject']}", "Saya ingin menyampaikan keluhan: balasan lambat.",
                       reply_to=ack))
    world.smtp.clear()
    assert world.run_once()["mail"] == {"complaint": 1}
    answer = body_of(latest(world, CUSTOMER, "Pengaduan"))
    assert "pengaduan.bps.go.id" in answer and "kotak saran" in answer
    assert "PENGADUAN" in str(latest(world, P1, ref)["Subject"])
    assert any(e["kind"] == "complaint" for e in world.case(ref)["events"])


def test_other_words_are_forwarded_to_petugas_and_acknowledged(world):
    ref = open_case(world)
    ack = latest(world, CUSTOMER, ref)
    world.deliver(mail(CUSTOMER, f"Re: {ack['Subject']}", "Apakah tersedia juga dalam format Excel?", reply_to=ack))
    world.smtp.clear()
    assert world.run_once()["mail"] == {"forwarded": 1}
    assert "format Excel" in body_of(latest(world, P1, "Pesan pelanggan"))
    assert "diteruskan" in body_of(latest(world, CUSTOMER, ref))


def test_mail_to_a_closed_case_opens_a_new_linked_case(world):
    ref = open_case(world)
    staff_reply(world, P1, latest(world, P1, ref), "TUTUP permintaan tidak dilanjutkan")
    assert world.case(ref)["state"] == "closed"
    old = latest(world, CUSTOMER, "ditutup")
    assert "permintaan tidak dilanjutkan" in body_of(old)
    world.deliver(mail(CUSTOMER, f"Re: {old['Subject']}", "Saya ingin memesan Statistik Daerah Sumsel 2025.",
                       reply_to=old))
    assert world.run_once()["mail"] == {"new_case_linked": 1}
    new = [c for c in world.cases() if c["ref"] != ref]
    assert len(new) == 1 and new[0]["linked_ref"] == ref and new[0]["state"] == "new"


def test_english_request_gets_english_answers(world):
    world.deliver(mail("john.smith@example.com", "Publication request", "Dear BPS, I would like to buy the "
                       "publication Statistik Daerah Provinsi Sumatera Selatan 2025. Thank you.", name="John Smith"))
    world.run_once()
    ack = world.sent_to("john.smith@example.com")[0]
    assert "Dear John Smith" in body_of(ack) and "AGREE" in body_of(ack)
    # Petugas still read Indonesian.
    assert "Permintaan baru" in str(latest(world, P1, "PUB-")["Subject"])


def test_machine_mail_opens_no_case_and_gets_no_answer(world):
    robot = mail("noreply@bank.example", "Notifikasi", "Transaksi berhasil")
    robot["Auto-Submitted"] = "auto-generated"
    world.deliver(robot)
    assert world.run_once()["mail"] == {"ignored_machine": 1}
    assert world.cases() == [] and world.smtp.messages == []


def test_bounce_of_our_mail_is_attached_to_its_case_and_shown_to_petugas(world):
    ref = open_case(world)
    ack = latest(world, CUSTOMER, ref)
    dsn = (
        "From: MAILER-DAEMON@mx.gmail.com\r\nTo: diseminasi1600@bps.go.id\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn1@mx.gmail.com>\r\nReturn-Path: <>\r\n"
        "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\n<budi.santoso@gmail.com>: mailbox unavailable\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.gmail.com\r\n\r\n"
        "Final-Recipient: rfc822; budi.santoso@gmail.com\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {ack['Message-ID']}\r\n"
        f"Subject: {ack['Subject']}\r\n--B--\r\n").encode()
    world.deliver(dsn)
    world.smtp.clear()
    assert world.run_once()["mail"] == {"bounce": 1}
    assert any(e["kind"] == "bounce" for e in world.case(ref)["events"])
    note = latest(world, P1, "bounce")
    assert "budi.santoso@gmail.com" in body_of(note)
    assert not world.sent_to(CUSTOMER)                         # a bounce is never answered


def test_tagih_with_simponi_billing_code(world):
    ref = open_case(world)
    note = latest(world, P1, ref)
    complete_requirements(world, ref)
    staff_reply(world, P1, note, "IDENTITAS OK\nITEM #1\nJELAS\nSIAP\nTAGIH BILLING 820261130000123",
                attachments=(("dda.pdf", PDF, "application/pdf"),))
    text = body_of(latest(world, P1, "Hasil perintah"))
    assert "GAGAL" in text and "tanggal kedaluwarsa kode billing" in text
    assert world.case(ref)["state"] == "preparing"
    staff_reply(world, P1, note, "TAGIH BILLING 820261130000123 2099-12-07")
    case = world.case(ref)
    assert case["state"] == "invoiced"
    invoice_mail = latest(world, CUSTOMER, "Invoice")
    assert "820261130000123" in body_of(invoice_mail) and "7 Desember 2099" in body_of(invoice_mail)
    pdf_text = pdf_to_text(attachments_of(invoice_mail)[0][1])
    assert "820261130000123" in pdf_text and "7 Desember 2099" in pdf_text
    assert "1234567890" not in pdf_text                  # the billing code replaces the bank transfer


def test_one_person_on_both_lists_acts_as_bendahara_only_on_a_digest(fresh_mailbox, smtp_server, db_url):
    from world import World
    both = World(fresh_mailbox, smtp_server, db_url,
                 roles={"petugas": [P1, BENDAHARA], "bendahara": [BENDAHARA]})
    try:
        both.import_catalog()
        ref = open_case(both)
        staff_reply(both, BENDAHARA, latest(both, BENDAHARA, ref), "CATATAN dicek oleh bendahara")
        assert any(e["kind"] == "note" for e in both.case(ref)["events"])      # as petugas
    finally:
        both.close()


def test_two_bendahara_get_one_digest_and_either_may_approve(fresh_mailbox, smtp_server, db_url):
    from world import World
    second = "bendahara2@bps.go.id"
    two = World(fresh_mailbox, smtp_server, db_url, roles={"petugas": [P1], "bendahara": [BENDAHARA, second]})
    try:
        two.import_catalog()
        ref = open_case(two)
        complete_requirements(two, ref)
        staff_reply(two, P1, latest(two, P1, ref), "IDENTITAS OK\nITEM #1\nJELAS\nSIAP\nTAGIH",
                    attachments=(("dda.pdf", PDF, "application/pdf"),))
        two.deliver(mail(CUSTOMER, "Re: invoice", "bukti", reply_to=latest(two, CUSTOMER, "Invoice"),
                         attachments=(("bukti.pdf", PDF, "application/pdf"),)))
        two.run_once()
        two.smtp.clear()
        two.cli("digest")
        digests = [m for m in two.sent() if "Digest" in str(m["Subject"])]
        assert len(digests) == 1 and len(two.smtp.messages) == 1
        assert {a.addr_spec for a in digests[0]["To"].addresses} == {BENDAHARA, second}
        assert sorted(two.smtp.messages[0].rcpt_tos) == sorted([BENDAHARA, second])
        token = re.search(r"SETUJU ([A-Z2-9]{6})", body_of(digests[0])).group(1)
        staff_reply(two, second, digests[0], f"SETUJU {token}")
        assert two.case(ref)["state"] == "delivered"
    finally:
        two.close()


def test_mail_caused_by_staff_threads_under_the_customers_own_mail(world):
    ref = open_case(world)
    note = latest(world, P1, ref)
    ktp = mail(CUSTOMER, "Re: x", "SETUJU", reply_to=latest(world, CUSTOMER, ref),
               attachments=(("ktp.jpg", JPEG, "image/jpeg"),))
    world.deliver(ktp)
    world.run_once()
    staff_reply(world, P1, note, "BALAS\nMohon ditunggu, sedang kami proses.")
    answer = latest(world, CUSTOMER, "Tanggapan")
    assert answer["In-Reply-To"] == ktp["Message-ID"]            # not the petugas' own message
    staff_msg_ids = {str(m["Message-ID"]) for m in world.sent_to(P1)}
    assert not any(mid in str(answer["References"]) for mid in staff_msg_ids)


def test_a_customer_saying_all_is_well_opens_no_correction():
    from mailbot.inbound.intent import reports_defect
    assert not reports_defect("Terima kasih, tidak ada yang salah dengan filenya.")
    assert not reports_defect("File sudah saya terima, no problems.")
    assert reports_defect("Halaman 12 kosong.") and reports_defect("filenya tidak bisa dibuka")
