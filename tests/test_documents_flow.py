"""Issue 5 through the service: library files, missing files, split deliveries, catalog import, numbering."""
from __future__ import annotations

import multiprocessing
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from world import BENDAHARA, PETUGAS, World, attachments_of, body_of, mail

pytestmark = pytest.mark.mail
WIB = ZoneInfo("Asia/Jakarta")
CUSTOMER = "dewi.kusuma@ugm.ac.id"
P1 = PETUGAS[0]
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 30000 + b"\xff\xd9"
T0 = datetime(2027, 2, 1, 9, 0, tzinfo=WIB)


def make_world(imap, smtp, db_url, **sections) -> World:
    w = World(imap, smtp, db_url, **sections)
    w.import_catalog()
    return w


def last_to(world, to, part=""):
    found = [m for m in world.sent_to(to) if part in str(m["Subject"])]
    assert found, [str(m["Subject"]) for m in world.sent_to(to)]
    return found[-1]


def to_payment_review(world: World, staff_lines: str, attachments=()) -> str:
    world.feed(mail(CUSTOMER, "Permintaan", "Saya ingin membeli Provinsi Sumatera Selatan Dalam Angka 2025.\nSETUJU",
                    attachments=(("ktp.jpg", JPEG, "image/jpeg"),)), T0)
    ref = world.cases()[0]["ref"]
    note = last_to(world, P1, ref)
    world.feed(mail(P1, f"Re: {note['Subject']}", "IDENTITAS OK\nITEM #1\nJELAS\n" + staff_lines, reply_to=note,
                    auth="pass", attachments=attachments), T0)
    inv = last_to(world, CUSTOMER, "Invoice")
    world.feed(mail(CUSTOMER, f"Re: {inv['Subject']}", "bukti", reply_to=inv,
                    attachments=(("bukti.jpg", JPEG, "image/jpeg"),)), T0)
    assert world.case(ref)["state"] == "payment_review", world.case(ref)["events"]
    return ref


def approve(world: World) -> None:
    from mailbot.app.digest import send_digest
    with world.app.unit(T0, scheduled=True) as unit:
        send_digest(unit)
    world.drain(T0)
    digest = last_to(world, BENDAHARA, "Digest")
    token = re.search(r"SETUJU ([A-Z2-9]{6})", body_of(digest)).group(1)
    world.feed(mail(BENDAHARA, f"Re: {digest['Subject']}", f"SETUJU {token}", reply_to=digest, auth="pass"), T0)


def test_softcopy_from_the_library_when_siap_has_no_attachment(imap_server, smtp_server, db_url):
    world = make_world(imap_server, smtp_server, db_url)
    try:
        katalog_file = _library_file_of_first_guess(world)
        (world.library / katalog_file).write_bytes(b"%PDF-1.4 library copy\n%%EOF\n")
        ref = to_payment_review(world, "SIAP\nTAGIH")
        approve(world)
        assert world.case(ref)["state"] == "delivered"
        files = dict(attachments_of(last_to(world, CUSTOMER, "Kuitansi")))
        assert files[katalog_file] == b"%PDF-1.4 library copy\n%%EOF\n"
    finally:
        world.close()


def test_missing_file_keeps_the_approval_and_waits_on_petugas(imap_server, smtp_server, db_url):
    world = make_world(imap_server, smtp_server, db_url)
    try:
        ref = to_payment_review(world, "TAGIH")           # no SIAP, and the library lacks the file
        approve(world)
        case = world.case(ref)
        assert case["state"] == "correction" and case["receipt_number"] and case["due"]
        delivery = last_to(world, CUSTOMER, "Kuitansi")
        assert "dikirim terpisah" in body_of(delivery)
        assert [n for n, _ in attachments_of(delivery) if n.startswith("kuitansi")]
        missing = last_to(world, P1, "tidak ditemukan")
        assert _library_file_of_first_guess(world) in body_of(missing)
        world.feed(mail(P1, f"Re: {missing['Subject']}", "PERBAIKAN", reply_to=missing, auth="pass",
                        attachments=(("dda-2025.pdf", b"%PDF-1.4 late\n%%EOF\n", "application/pdf"),)), T0)
        assert world.case(ref)["state"] == "delivered"
        assert "dda-2025.pdf" in dict(attachments_of(last_to(world, CUSTOMER, "Perbaikan")))
    finally:
        world.close()


def test_large_delivery_goes_in_numbered_parts(imap_server, smtp_server, db_url):
    world = make_world(imap_server, smtp_server, db_url,
                       storage={"max_message_mb": 0.15, "max_attachment_mb": 0.15})
    try:
        big = [(f"bab-{i}.pdf", b"%PDF-1.4\n" + bytes([i]) * 60000, "application/pdf") for i in range(3)]
        ref = to_payment_review(world, "SIAP\nTAGIH", attachments=tuple(big))
        world.smtp.clear()
        approve(world)
        parts = [m for m in world.sent_to(CUSTOMER) if "Kuitansi" in str(m["Subject"])]
        assert len(parts) >= 3, ([str(m["Subject"]) for m in world.sent_to(CUSTOMER)], world.case(ref)["events"])
        assert all(f"dari {len(parts)}" in str(m["Subject"]) for m in parts)
        sent = {n for m in parts for n, _ in attachments_of(m)}
        assert {"bab-0.pdf", "bab-1.pdf", "bab-2.pdf"} <= sent
        assert all(len(m.as_bytes()) <= 0.15 * 1024 * 1024 for m in parts)
        assert world.case(ref)["state"] == "delivered"
    finally:
        world.close()


def _library_file_of_first_guess(world: World) -> str:
    import csv
    from world import CATALOG
    rows = list(csv.DictReader(CATALOG.open(encoding="utf-8-sig")))
    dda = [r for r in rows if r["judul"] == "Provinsi Sumatera Selatan Dalam Angka 2025"]
    return dda[0]["file"]


def test_catalog_import_reports_every_bad_line_and_imports_nothing(imap_server, smtp_server, db_url, tmp_path):
    world = World(imap_server, smtp_server, db_url)
    try:
        bad = tmp_path / "katalog.csv"
        bad.write_text("katalog;judul;tahun;halaman;file\n1102001.16;Sumsel Dalam Angka;2025;400;a.pdf\n"
                       "abc;;2025;-3;b.pdf\n1102002.16;Statistik Daerah;20x5;120;c.pdf\n", encoding="utf-8")
        code, _ = world.cli("catalog", "import", str(bad))
        assert code == 1
        from sqlalchemy import func, select

        from mailbot.adapters import db
        with world.app.sessions() as s:
            assert s.scalar(select(func.count()).select_from(db.CatalogRow)) == 0
        good = tmp_path / "ok.csv"
        good.write_text("katalog,judul,tahun,halaman,file\n1102001.16,Sumsel Dalam Angka 2025,2025,400,a.pdf\n")
        assert world.cli("catalog", "import", str(good))[0] == 0
        good.write_text("katalog,judul,tahun,halaman,file\n1102001.16,Sumsel Dalam Angka 2025,2025,410,a.pdf\n")
        assert world.cli("catalog", "import", str(good))[1].strip().endswith("0 added, 1 updated")
        with world.app.sessions() as s:
            assert s.get(db.CatalogRow, ("1102001.16", 2025)).halaman == 410
    finally:
        world.close()


def test_catalog_import_error_names_lines(capsys, imap_server, smtp_server, db_url, tmp_path):
    world = World(imap_server, smtp_server, db_url)
    try:
        bad = tmp_path / "katalog.csv"
        bad.write_text("katalog,judul,tahun,halaman,file\n1102001.16,Judul,2025,400,a.pdf\nabc,,2025,-3,b.pdf\n")
        capsys.readouterr()
        assert world.cli("catalog", "import", str(bad))[0] == 1
        err = capsys.readouterr().err
        assert "3" in err and "Traceback" not in err
    finally:
        world.close()


# --- gap-free numbers under concurrency -------------------------------------------------------
def _issue_numbers(url: str, count: int, queue) -> None:
    from mailbot.adapters.db import make_engine, next_seq, session_factory
    sessions = session_factory(make_engine(url))
    got = []
    for _ in range(count):
        with sessions.begin() as s:
            got.append(next_seq(s, "invoice-2027"))
    queue.put(got)


def test_numbers_are_gap_free_and_unique_across_two_processes(db_url):
    from mailbot.adapters import migrations
    from mailbot.adapters.db import make_engine
    migrations.upgrade(make_engine(db_url))
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_issue_numbers, args=(db_url, 60, queue)) for _ in range(2)]
    for p in procs:
        p.start()
    numbers = queue.get(timeout=60) + queue.get(timeout=60)
    for p in procs:
        p.join(timeout=30)
    assert sorted(numbers) == list(range(1, 121))


def test_a_rolled_back_transaction_returns_its_number(db_url):
    from mailbot.adapters import migrations
    from mailbot.adapters.db import make_engine, next_seq, session_factory
    engine = make_engine(db_url)
    migrations.upgrade(engine)
    sessions = session_factory(engine)
    with sessions.begin() as s:
        assert next_seq(s, "receipt-2027") == 1
    with pytest.raises(RuntimeError):
        with sessions.begin() as s:
            assert next_seq(s, "receipt-2027") == 2
            raise RuntimeError("the mail failed")
    with sessions.begin() as s:
        assert next_seq(s, "receipt-2027") == 2
    engine.dispose()


def test_stamped_delivery_names_buyer_and_invoice_and_keeps_library_file(imap_server, smtp_server, db_url):
    from io import BytesIO

    from fpdf import FPDF
    from pypdf import PdfReader
    world = make_world(imap_server, smtp_server, db_url, storage={"stamp_deliveries": True})
    try:
        book = FPDF()
        for n in range(3):
            book.add_page()
            book.set_font("helvetica", size=14)
            book.cell(0, 10, f"Halaman isi {n + 1}")
        original = bytes(book.output())
        katalog_file = _library_file_of_first_guess(world)
        (world.library / katalog_file).write_bytes(original)
        ref = to_payment_review(world, "SIAP\nTAGIH")
        approve(world)
        sent = dict(attachments_of(last_to(world, CUSTOMER, "Kuitansi")))[katalog_file]
        pages = PdfReader(BytesIO(sent)).pages
        invoice = world.case(ref)["invoice_number"]
        assert len(pages) == 3
        for n, page in enumerate(pages, 1):
            text = page.extract_text()
            assert f"Halaman isi {n}" in text and invoice in text and ref in text
        assert (world.library / katalog_file).read_bytes() == original
    finally:
        world.close()
