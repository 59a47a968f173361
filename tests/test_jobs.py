"""Issue 6: deadlines by time travel — expiry, reminders, service and correction clocks, warnings,
digest, auto-close, retention. The SMTP server is real; instants are arguments, never the clock."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from world import BENDAHARA, PETUGAS, SUPERVISOR, World, body_of, mail

pytestmark = pytest.mark.mail
WIB = ZoneInfo("Asia/Jakarta")
CUSTOMER = "rina.lubis@yahoo.co.id"
P1 = PETUGAS[0]
PDF = b"%PDF-1.4\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 30000 + b"\xff\xd9"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=WIB)


def last_to(world: World, to: str, part: str = ""):
    found = [m for m in world.sent_to(to) if part in str(m["Subject"])]
    assert found, [str(m["Subject"]) for m in world.sent_to(to)]
    return found[-1]


def prepared(world: World, when: datetime) -> str:
    """A case made clear (JELAS) at `when`; returns its ref."""
    world.feed(mail(CUSTOMER, "Permintaan", "Saya ingin membeli Provinsi Sumatera Selatan Dalam Angka 2025.\nSETUJU",
                    attachments=(("ktp.jpg", JPEG, "image/jpeg"),)), when)
    ref = world.cases()[0]["ref"]
    note = last_to(world, P1, ref)
    world.feed(mail(P1, f"Re: {note['Subject']}", "IDENTITAS OK\nITEM #1\nJELAS", reply_to=note, auth="pass"), when)
    assert world.case(ref)["state"] == "preparing", world.case(ref)["events"]
    return ref


def invoiced(world: World, clear_at: datetime, invoice_at: datetime) -> str:
    ref = prepared(world, clear_at)
    note = last_to(world, P1, ref)
    world.feed(mail(P1, f"Re: {note['Subject']}", "SIAP\nTAGIH", reply_to=note, auth="pass",
                    attachments=(("dda.pdf", PDF, "application/pdf"),)), invoice_at)
    assert world.case(ref)["state"] == "invoiced", world.case(ref)["events"]
    return ref


def test_service_deadline_skips_idul_fitri_2026_and_cuti_bersama(world):
    # Tue 17 Mar 2026 is the last working day before Nyepi (18 cuti, 19) and Idul Fitri
    # (20 cuti, 21-22, 23-24 cuti). Working days after it: 25, 26, 27, 30, 31 Mar, 1, 2 Apr,
    # (3 Apr Good Friday), 6, 7, 8 Apr -> the 10th is Wed 8 Apr 2026.
    ref = prepared(world, at("2026-03-17T10:00"))
    assert world.case(ref)["due"] == "2026-04-08"


def test_invoice_of_31_january_expires_after_end_of_february_not_before(world):
    ref = invoiced(world, at("2027-01-29T09:00"), at("2027-01-31T09:00"))
    case = world.case(ref)
    assert case["invoice_expires"] == "2027-02-28"
    assert world.jobs("2027-02-28T23:59+07:00")["expire"] == 0
    assert world.case(ref)["state"] == "invoiced"
    assert world.jobs("2027-03-01T00:01+07:00")["expire"] == 1
    assert world.case(ref)["state"] == "expired"
    assert "kedaluwarsa" in str(last_to(world, CUSTOMER, "kedaluwarsa")["Subject"])
    assert last_to(world, P1, "kedaluwarsa")
    assert world.jobs("2027-03-01T00:05+07:00")["expire"] == 0      # idempotent


def test_reissue_after_expiry_gets_new_number_and_voids_old(world):
    ref = invoiced(world, at("2027-01-29T09:00"), at("2027-01-31T09:00"))
    first = world.case(ref)["invoice_number"]
    world.jobs("2027-03-01T08:00+07:00")
    note = last_to(world, P1, "kedaluwarsa")
    world.feed(mail(P1, f"Re: {note['Subject']}", "TAGIH", reply_to=note, auth="pass"), at("2027-03-02T09:00"))
    case = world.case(ref)
    assert case["state"] == "invoiced" and case["invoice_number"] != first
    assert case["invoice_expires"] == "2027-04-02"
    assert any(e["kind"] == "invoice_void" and first in e["detail"] for e in case["events"])


def test_a_proof_after_expiry_reaches_the_petugas_with_the_proof_attached(world):
    ref = invoiced(world, at("2027-01-29T09:00"), at("2027-01-31T09:00"))
    world.jobs("2027-03-01T08:00+07:00")
    assert world.case(ref)["state"] == "expired"
    invoice_mail = last_to(world, CUSTOMER, "Invoice")
    world.smtp.clear()
    world.feed(mail(CUSTOMER, f"Re: {invoice_mail['Subject']}", "Sudah saya transfer kemarin.", reply_to=invoice_mail,
                    attachments=(("bukti-transfer.jpg", JPEG, "image/jpeg"),)), at("2027-03-01T10:00"))
    assert world.case(ref)["state"] == "expired"
    note = last_to(world, P1, "kedaluwarsa")
    assert "bukti terlampir" in body_of(note)
    assert [(a.get_filename(), a.get_content()) for a in note.iter_attachments()] == [("bukti-transfer.jpg", JPEG)]


def test_reminders_fire_once_each_with_invoice_attached(world):
    invoiced(world, at("2027-01-29T09:00"), at("2027-01-31T09:00"))        # valid until 28 Feb
    world.smtp.clear()
    assert world.jobs("2027-02-20T08:00+07:00")["reminders"] == 0           # 8 days left
    assert world.jobs("2027-02-21T08:00+07:00")["reminders"] == 1           # 7 days left
    assert world.jobs("2027-02-21T09:00+07:00")["reminders"] == 0
    assert world.jobs("2027-02-25T09:00+07:00")["reminders"] == 0
    assert world.jobs("2027-02-27T08:00+07:00")["reminders"] == 1           # 1 day left
    reminders = [m for m in world.sent_to(CUSTOMER) if "Pengingat" in str(m["Subject"])]
    assert len(reminders) == 2
    assert all(any(a.get_filename().endswith(".pdf") for a in m.iter_attachments()) for m in reminders)
    assert "28 Februari 2027" in body_of(reminders[0])


def test_after_downtime_only_the_nearest_reminder_goes(world):
    invoiced(world, at("2027-01-29T09:00"), at("2027-01-31T09:00"))
    world.smtp.clear()
    assert world.jobs("2027-02-27T10:00+07:00")["reminders"] == 1            # both 7 and 1 are past
    assert world.jobs("2027-02-27T11:00+07:00")["reminders"] == 0
    assert len([m for m in world.sent_to(CUSTOMER) if "Pengingat" in str(m["Subject"])]) == 1


def test_clock_pauses_while_invoiced_and_resumes_with_proof(world):
    # JELAS Mon 4 Jan 2027 (5 Jan is Isra Mi'raj) -> due Tue 19 Jan. TAGIH Wed 6 Jan: 1 working day used.
    ref = invoiced(world, at("2027-01-04T09:00"), at("2027-01-06T09:00"))
    assert world.case(ref)["due"] is None
    inv = last_to(world, CUSTOMER, "Invoice")
    # Proof on Mon 18 Jan: 9 working days left -> 19,20,21,22,25,26,27,28,29 Jan -> due Fri 29 Jan.
    world.feed(mail(CUSTOMER, f"Re: {inv['Subject']}", "bukti transfer", reply_to=inv,
                    attachments=(("bukti.jpg", JPEG, "image/jpeg"),)), at("2027-01-18T09:00"))
    assert world.case(ref)["state"] == "payment_review"
    assert world.case(ref)["due"] == "2027-01-29"


def test_warning_two_working_days_before_and_supervisor_once_when_missed(world):
    ref = prepared(world, at("2027-01-04T09:00"))            # 5 Jan is Isra Mi'raj: due Tue 19 Jan 2027
    assert world.case(ref)["due"] == "2027-01-19"
    world.smtp.clear()
    assert world.jobs("2027-01-14T08:00+07:00")["warnings"] == 0     # 3 working days left (15, 18, 19)
    assert world.jobs("2027-01-15T08:00+07:00")["warnings"] == 1     # 2 working days left
    assert world.jobs("2027-01-18T08:00+07:00")["warnings"] == 0
    assert len([m for m in world.sent_to(P1) if "Tenggat" in str(m["Subject"])]) == 1
    assert world.jobs("2027-01-20T08:00+07:00")["warnings"] == 1     # missed
    assert world.jobs("2027-01-21T08:00+07:00")["warnings"] == 0
    missed = [m for m in world.sent_to(SUPERVISOR) if "TERLEWAT" in str(m["Subject"])]
    assert len(missed) == 1 and ref in str(missed[0]["Subject"])
    from sqlalchemy import select

    from mailbot.adapters import db
    from mailbot.app.cases import overdue
    with world.app.sessions() as s:
        row = s.scalar(select(db.CaseRow).where(db.CaseRow.ref == ref))
        assert not overdue(row, at("2027-01-19T08:00").date()) and overdue(row, at("2027-01-20T08:00").date())


def test_digest_on_working_days_only_when_something_waits(world):
    assert world.jobs("2027-01-05T08:30+07:00")["digest"] == 0       # nothing waits: nothing sent
    assert not world.sent_to(BENDAHARA)
    ref = invoiced(world, at("2027-01-04T09:00"), at("2027-01-05T09:00"))
    inv = last_to(world, CUSTOMER, "Invoice")
    world.feed(mail(CUSTOMER, f"Re: {inv['Subject']}", "bukti", reply_to=inv,
                    attachments=(("bukti.jpg", JPEG, "image/jpeg"),)), at("2027-01-08T15:00"))
    assert world.jobs("2027-01-09T08:30+07:00")["digest"] == 0       # Saturday
    assert world.jobs("2027-01-11T07:59+07:00")["digest"] == 0       # before digest_time
    assert world.jobs("2027-01-11T08:00+07:00")["digest"] == 1
    assert world.jobs("2027-01-11T09:00+07:00")["digest"] == 0       # once a day
    digests = [m for m in world.sent_to(BENDAHARA) if "Digest" in str(m["Subject"])]
    assert len(digests) == 1 and ref in body_of(digests[0])


def test_auto_close_after_silence_sends_survey_and_records_answer(world):
    ref = prepared(world, at("2027-01-04T09:00"))
    note = last_to(world, P1, ref)
    world.feed(mail(P1, f"Re: {note['Subject']}", "SIAP\nNOL instansi pemerintah", reply_to=note, auth="pass",
                    attachments=(("dda.pdf", PDF, "application/pdf"),)), at("2027-01-05T09:00"))
    case = world.case(ref)
    assert case["state"] == "delivered" and case["total"] == 0 and case["receipt_number"]
    assert world.jobs("2027-01-18T09:00+07:00")["auto_close"] == 0    # 13 days
    assert world.jobs("2027-01-19T09:00+07:00")["auto_close"] == 1    # 14 days
    assert world.case(ref)["state"] == "closed"
    survey = last_to(world, CUSTOMER, "penilaian")
    assert "Sangat puas" in body_of(survey)
    world.feed(mail(CUSTOMER, f"Re: {survey['Subject']}", "3", reply_to=survey), at("2027-01-20T09:00"))
    assert world.case(ref)["rating"] == 3


def test_identity_documents_purged_after_retention_proofs_kept(world):
    ref = prepared(world, at("2027-01-04T09:00"))
    note = last_to(world, P1, ref)
    world.feed(mail(P1, f"Re: {note['Subject']}", "BATAL pelanggan membatalkan", reply_to=note, auth="pass"),
               at("2027-01-05T09:00"))
    from sqlalchemy import select

    from mailbot.adapters import db
    with world.app.sessions() as s:
        ids = [f.sha256 for f in s.scalars(select(db.FileRow).where(db.FileRow.role == "identity"))]
    assert ids and all(world.app.storage.exists(sha) for sha in ids)
    assert world.jobs("2027-04-04T09:00+07:00")["retention"] == 0     # 89 days after the end
    assert world.jobs("2027-04-05T09:00+07:00")["retention"] == len(ids)
    assert not any(world.app.storage.exists(sha) for sha in ids)
    assert any(e["kind"] == "identity_purged" for e in world.case(ref)["events"])
    assert world.jobs("2027-04-06T09:00+07:00")["retention"] == 0


def test_year_without_holiday_data_is_reported_not_computed(world):
    # JELAS on 24 Dec 2027: ten working days run into 2028, whose cuti bersama are not published.
    world.feed(mail(CUSTOMER, "Permintaan", "Saya ingin membeli Statistik Daerah Provinsi Sumatera Selatan 2025.\n"
                    "SETUJU", attachments=(("ktp.jpg", JPEG, "image/jpeg"),)), at("2027-12-23T09:00"))
    ref = world.cases()[0]["ref"]
    note = last_to(world, P1, ref)
    world.feed(mail(P1, f"Re: {note['Subject']}", "IDENTITAS OK\nITEM #1\nJELAS", reply_to=note, auth="pass"),
               at("2027-12-23T10:00"))
    assert world.case(ref)["state"] == "new"
    text = body_of(last_to(world, P1, "Hasil perintah"))
    assert "2028" in text and "GAGAL" in text
