"""Issue 18, the office's records: the month report as figures, summary, PDF and the treasurer's book;
finding a case; the monthly mail. October 2026 is played through mail at chosen instants (test_report)."""
from __future__ import annotations

import csv
import json
from io import BytesIO, StringIO

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import update

from mailbot.adapters import db
from mailbot.config import load_config
from mailbot.app.bootstrap import App
from test_report import JPEG, PDF, _Server, approve, at, customer, handle, play_october, staff, state
from world import BENDAHARA, PETUGAS, SUPERVISOR, World, attachments_of, body_of, mail

NTPN = "0A1B2C3D4E5F6G7H"
BILLING = "820261012345678"


def play_more_october(app: App) -> dict[str, str]:
    """Three more cases beside A (paid, late) and B (Rp0, correction late, rated 3) of play_october:
    C two publications, SIMPONI billing code, paid on time with an NTPN in the proof mail, rated 4;
    D a complaint; E invoiced, then cancelled (its invoice void)."""
    a, b = play_october(app)
    c = handle(app, mail("rina@yahoo.co.id", "Permintaan", "Mohon softcopy Statistik Daerah 2025", name="Rina Lubis"),
               at("2026-10-12", 9), "new_case")
    customer(app, c, "rina@yahoo.co.id", "SETUJU", at("2026-10-12", 10), (("ktp.jpg", JPEG, "image/jpeg"),))
    staff(app, c, "IDENTITAS OK\nITEM 1101002.16\nITEM 4102004.16\nJELAS", at("2026-10-12", 11))
    staff(app, c, f"SIAP\nTAGIH BILLING {BILLING} 2026-10-20", at("2026-10-13"),
          (("sd.pdf", PDF, "application/pdf"), ("ikr.pdf", PDF + b" ", "application/pdf")))
    customer(app, c, "rina@yahoo.co.id", f"Sudah saya setor Rp160.000, NTPN {NTPN}.", at("2026-10-14"),
             (("bukti.jpg", JPEG, "image/jpeg"),))
    assert state(app, c) == "payment_review"
    approve(app, at("2026-10-15"))
    assert state(app, c) == "delivered"
    staff(app, c, "TUTUP terima kasih", at("2026-10-16"))
    customer(app, c, "rina@yahoo.co.id", "4", at("2026-10-16", 12))

    d = handle(app, mail("andi@gmail.com", "Permintaan", "Mohon softcopy Statistik Daerah 2025"),
               at("2026-10-19", 9), "new_case")
    customer(app, d, "andi@gmail.com", "Saya mau menyampaikan pengaduan: balasan petugas lambat sekali.",
             at("2026-10-20", 9))

    e = handle(app, mail("sari@gmail.com", "Permintaan", "Mohon softcopy Statistik Daerah 2025"),
               at("2026-10-26", 9), "new_case")
    customer(app, e, "sari@gmail.com", "SETUJU", at("2026-10-26", 10), (("ktp.jpg", JPEG, "image/jpeg"),))
    staff(app, e, "IDENTITAS OK\nITEM 1101002.16\nJELAS\nSIAP\nTAGIH", at("2026-10-27"),
          (("sd.pdf", PDF, "application/pdf"),))
    staff(app, e, "BATAL pelanggan tidak jadi membeli", at("2026-10-28"))
    assert state(app, e) == "cancelled"
    return {"A": a, "B": b, "C": c, "D": d, "E": e}


@pytest.fixture
def october(db_url):
    w = World(_Server(), _Server(), db_url)
    w.import_catalog()
    app = App(load_config(w.config))
    refs = play_more_october(app)
    yield w, refs
    app.engine.dispose()
    w.close()


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join((p.extract_text() or "").split()) for p in PdfReader(BytesIO(data)).pages)


def test_month_figures_are_exact(october):
    world, r = october
    code, out = world.cli("report", "--month", "2026-10", "--json")
    assert code == 0, out
    rep = json.loads(out)
    # Prices: 1000 per page; SDA 2025 684 pages, Statistik Daerah 2025 48, IKR 2024 112.
    assert (rep["revenue"], rep["receipts"], rep["zero_rupiah"]) == (684_000 + 160_000, 3, 1)
    assert (rep["invoices_issued"], rep["invoices_issued_total"]) == (3, 684_000 + 160_000 + 48_000)
    assert (rep["invoices_voided"], rep["invoices_expired"]) == (1, 0)
    assert (rep["cases_opened"], rep["cases_delivered"], rep["cases_closed"], rep["cases_cancelled"]) == (5, 3, 2, 1)
    assert rep["deadlines"]["service"] == {"met": 2, "missed": 1, "unknown": 0, "missed_cases": [r["A"]]}
    assert rep["deadlines"]["correction"] == {"met": 0, "missed": 1, "unknown": 0, "missed_cases": [r["B"]]}
    assert rep["on_time"] == {"service": round(2 / 3, 4), "correction": 0.0}
    # B's defect was reported Wed 7 Oct; PERBAIKAN went out Tue 20 Oct: 9 working days (no October holidays).
    assert [(c["ref"], c["kind"], c["working_days"], c["late_by"]) for c in rep["late_cases"]] == [
        (r["A"], "service", 14, 4), (r["B"], "correction", 9, 4)]
    assert rep["revenue_by_publication"] == [
        {"katalog": "1102001.16", "judul": "Provinsi Sumatera Selatan Dalam Angka 2025", "qty": 2, "invoices": 1,
         "receipts": 2, "amount": 684_000},
        {"katalog": "4102004.16", "judul": "Indikator Kesejahteraan Rakyat Provinsi Sumatera Selatan 2024", "qty": 1,
         "invoices": 1, "receipts": 1, "amount": 112_000},
        {"katalog": "1101002.16", "judul": "Statistik Daerah Provinsi Sumatera Selatan 2025", "qty": 1,
         "invoices": 2, "receipts": 1, "amount": 48_000}]
    assert sum(p["amount"] for p in rep["revenue_by_publication"]) == rep["revenue"]
    assert [(z["ref"], z["reason"]) for z in rep["zero_rupiah_services"]] == [(r["B"], "instansi pemerintah")]
    assert rep["complaints"]["received"] == 1 and [c["ref"] for c in rep["complaint_cases"]] == [r["D"]]
    assert "balasan petugas lambat" in rep["complaint_cases"][0]["text"]
    assert (rep["satisfaction_average"], rep["satisfaction_responses"]) == (3.5, 2)
    assert rep["satisfaction_counts"] == {"1": 0, "2": 0, "3": 1, "4": 1}
    # Thu 1 Oct .. Sun 4 Oct, then Monday-to-Sunday weeks; opened A, B, C, D, E; delivered B, C, A.
    assert [(w["from"], w["to"], w["opened"], w["delivered"]) for w in rep["cases_per_week"]] == [
        ("2026-10-01", "2026-10-04", 1, 0), ("2026-10-05", "2026-10-11", 1, 1), ("2026-10-12", "2026-10-18", 1, 1),
        ("2026-10-19", "2026-10-25", 1, 1), ("2026-10-26", "2026-10-31", 1, 0)]


def test_summary_pdf_and_workbook_in_one_call_agree_with_the_figures(october):
    world, r = october
    pdf, xlsx = world.dir / "oktober.pdf", world.dir / "kuitansi.xlsx"
    code, out = world.cli("report", "--month", "2026-10", "--pdf", str(pdf), "--receipts", str(xlsx))
    assert code == 0, out
    assert "Laporan bulanan Oktober 2026" in out and "Rp844.000" in out
    assert f"{r['A']}   layanan    14 hari kerja (standar 10, lewat 4)" in out

    text = pdf_text(pdf.read_bytes())
    for expected in ("Laporan Bulanan Oktober 2026", "Rp844.000", "3 (termasuk 1 layanan Rp0)",
                     "2 dari 3 tepat waktu (67%", "0 dari 1 tepat waktu (0%", r["A"], r["B"], "instansi pemerintah",
                     "Rp684.000", "Rp112.000", "Rp48.000", "balasan petugas lambat", "rata-rata 3,50 dari 2 jawaban"):
        assert expected in text, expected
    # Three charts, embedded as images: cases per week, the on-time share, the revenue by publication.
    assert sum(len(page.images) for page in PdfReader(BytesIO(pdf.read_bytes())).pages) == 3

    wb = load_workbook(xlsx)
    sheet = wb.worksheets[0]
    head = [c.value for c in sheet[1]]
    amount = head.index("Jumlah (Rp)")
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=2) if row[0].value]
    assert sum(row[amount] for row in rows) == 844_000
    assert sheet.cell(sheet.max_row, amount + 1).value == 844_000      # the printed total line
    by_case = {row[head.index("Kasus")]: dict(zip(head, row)) for row in rows}
    assert set(by_case) == {r["A"], r["B"], r["C"]}
    c = by_case[r["C"]]
    # Numbers follow the order of issue: play_october issued A's invoice (20 Oct) and B's and A's kuitansi first.
    assert (c["No. kuitansi"], c["Tanggal"], c["No. invoice"]) == ("0003/KWT/1600/X/2026", "2026-10-15",
                                                                    "0002/INV/1600/X/2026")
    assert (c["Pelanggan"], c["Jumlah (Rp)"], c["Kode billing"]) == ("Rina Lubis", 160_000, BILLING)
    assert c["NTPN / referensi bank (dari bukti bayar)"] == f"NTPN {NTPN}" and c["Disetujui oleh"] == BENDAHARA
    assert "Indikator Kesejahteraan Rakyat" in c["Publikasi"] and "Statistik Daerah" in c["Publikasi"]
    a = by_case[r["A"]]
    assert (a["No. invoice"], a["Jumlah (Rp)"], a["Disetujui oleh"]) == ("0001/INV/1600/X/2026", 684_000, BENDAHARA)
    b = by_case[r["B"]]
    assert (b["Jumlah (Rp)"], b["No. invoice"], b["Disetujui oleh"], b["Alasan Rp0"]) == (
        0, None, PETUGAS[0], "instansi pemerintah")
    void = wb["Invoice batal"]
    voided = [[c.value for c in row] for row in void.iter_rows(min_row=2)]
    assert [(v[0], v[3], v[6], v[8]) for v in voided] == [("0003/INV/1600/X/2026", r["E"], 48_000, "dibatalkan")]


def test_receipts_as_csv_and_a_wrong_extension(october, capsys):
    world, r = october
    target = world.dir / "kuitansi.csv"
    code, _ = world.cli("report", "--month", "2026-10", "--json", "--receipts", str(target))
    assert code == 0
    rows = list(csv.DictReader(StringIO(target.read_bytes().decode("utf-8-sig"))))
    assert [row["Kasus"] for row in rows] == [r["B"], r["A"], r["C"]]          # in the order they were issued
    assert sum(int(row["Jumlah (Rp)"]) for row in rows) == 844_000
    code, _ = world.cli("report", "--month", "2026-10", "--receipts", str(world.dir / "kuitansi.txt"))
    assert code == 1 and ".xlsx (Excel) or .csv" in capsys.readouterr().err


def test_finding_a_case_by_text_and_dates(october):
    world, r = october

    def refs(*args: str) -> list[str]:
        return [c["ref"] for c in world.cases(*args)]

    assert refs("--search", "0002/inv") == [r["C"]]                 # invoice number, any case
    assert refs("--search", "0002/KWT/1600") == [r["A"]]            # kuitansi number
    assert refs("--search", "0003/INV") == [r["E"]]                 # a void invoice still finds its case
    assert refs("--search", "kesejahteraan") == [r["C"]]            # a title
    assert refs("--search", "LUBIS") == [r["C"]]                    # the customer's name
    assert refs("--search", "gmail.com") == [r["A"], r["D"], r["E"]]
    assert refs("--search", r["B"].lower()) == [r["B"]]
    assert refs("--search", "%") == [] and refs("--search", "_") == []   # no wildcards
    assert refs("--since", "2026-10-12", "--until", "2026-10-19") == [r["C"], r["D"]]
    assert refs("--search", "gmail", "--since", "2026-10-12") == [r["D"], r["E"]]
    assert refs("--search", "gmail", "--state", "cancelled") == [r["E"]]
    code, _ = world.cli("cases", "--since", "12-10-2026")
    assert code == 1



def test_finding_a_case_by_a_name_outside_ascii_ignores_case(october):
    """SQLite's own lower() folds only A–Z: "đoàn" would not find "ĐOÀN" there (PostgreSQL folds all)."""
    world, r = october
    with world.app.sessions() as s, s.begin():
        s.execute(update(db.CaseRow).where(db.CaseRow.ref == r["D"]).values(customer_name="ĐOÀN Thị Ánh"))
    for text in ("đoàn thị ánh", "Đoàn", "THỊ ÁNH"):
        assert [c["ref"] for c in world.cases("--search", text)] == [r["D"]], text

@pytest.fixture
def office_with_smtp(smtp_server, db_url):
    w = World(_Server(), smtp_server, db_url)
    w.import_catalog()
    yield w
    w.close()


def test_the_monthly_report_goes_out_on_the_first_working_day_once(office_with_smtp):
    world = office_with_smtp
    assert world.jobs("2026-10-01T09:00+07:00")["monthly_report"] == 0     # no case before October: nothing
    refs = play_more_october(world.app)
    world.smtp.clear()
    # Sun 1 Nov is no working day; Mon 2 Nov is, from digest_time (08:00).
    assert world.jobs("2026-11-01T09:00+07:00")["monthly_report"] == 0
    assert world.jobs("2026-11-02T07:59+07:00")["monthly_report"] == 0
    assert world.jobs("2026-11-02T08:00+07:00")["monthly_report"] == 1
    assert world.jobs("2026-11-02T09:00+07:00")["monthly_report"] == 0
    assert world.jobs("2026-11-03T09:00+07:00")["monthly_report"] == 0
    mails = [m for m in world.sent() if "Laporan bulanan" in str(m["Subject"])]
    assert len(mails) == 1
    assert {a.strip() for a in str(mails[0]["To"]).split(",")} == {SUPERVISOR, BENDAHARA}
    assert "2026-10" in str(mails[0]["Subject"])
    body = body_of(mails[0])
    assert "PNBP: Rp844.000 dari 3 kuitansi" in body and f"{refs['A']} (layanan)" in body
    files = dict(attachments_of(mails[0]))
    assert set(files) == {"laporan-2026-10.pdf", "kuitansi-2026-10.xlsx"}
    assert "Rp844.000" in pdf_text(files["laporan-2026-10.pdf"])
    sheet = load_workbook(BytesIO(files["kuitansi-2026-10.xlsx"])).worksheets[0]
    assert sum(row[7].value or 0 for row in sheet.iter_rows(min_row=2, max_row=4)) == 844_000


def test_the_monthly_report_can_be_switched_off(smtp_server, db_url):
    world = World(_Server(), smtp_server, db_url, report={"monthly_mail": False})
    try:
        world.import_catalog()
        handle(world.app, mail("budi@gmail.com", "Permintaan", "Mohon softcopy Statistik Daerah 2025"),
               at("2026-10-01", 9), "new_case")
        assert world.jobs("2026-11-02T08:00+07:00")["monthly_report"] == 0
        assert not [m for m in world.sent() if "Laporan bulanan" in str(m["Subject"])]
    finally:
        world.close()
