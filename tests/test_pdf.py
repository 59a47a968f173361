"""Invoice and kuitansi PDFs: rendered, read back with pypdf, checked as a customer would read them."""

from __future__ import annotations

import io
import re
import shutil
from dataclasses import replace
from datetime import date

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from mailbot.outbound.documents import DocLine, InvoiceDocument, Office, ReceiptDocument
from mailbot.outbound.fonts import glyph_report
from mailbot.outbound.formatting import format_rupiah, tanggal
from mailbot.outbound.pdf import TemplateError, render_invoice, render_invoice_with_report, render_receipt, template_path

REGULATION = "PP Nomor 13 Tahun 2024 tentang Jenis dan Tarif atas Jenis PNBP yang Berlaku pada BPS"
OFFICE = Office(
    name="Badan Pusat Statistik Provinsi Sumatera Selatan",
    address="Jalan Kapten P. Tendean No. 73, Palembang 30128",
    city="Palembang",
    phone="(0711) 312139",
    email="diseminasi1600@bps.go.id",
    logo_path=None,
    signatory="Dra. Siti Aminah Lubis, M.Si.",
    signatory_title="Kepala Bagian Umum",
    nip="197203151994012001",
)
LINES = (
    DocLine("1102001.16", "Provinsi Sumatera Selatan Dalam Angka 2025", 612, 1, 150, 91_800),
    DocLine("3101015.16", "Statistik Kesejahteraan Rakyat Provinsi Sumatera Selatan 2025", 154, 1, 150, 23_100),
    DocLine("6202004.1671", "Indeks Harga Konsumen Kota Palembang 2025", 46, 2, 150, 13_800),
)


def invoice(**changes) -> InvoiceDocument:
    doc = InvoiceDocument(
        office=OFFICE,
        number="0042/INV/1600/XI/2026",
        issued=date(2026, 11, 30),
        case_ref="PUB-2026-0042",
        customer_name="Renée Marpaung",
        customer_address="Jl. Merdeka No. 12, Palembang 30135",
        customer_email="renee@example.co.id",
        lines=LINES,
        total=128_700,
        valid_until=date(2026, 12, 30),
        bank="Bank Rakyat Indonesia",
        account_number="0123-01-000456-30-9",
        account_name="RPL 028 BPS Prov Sumsel",
        billing_code=None,
        billing_expires=None,
        regulation=REGULATION,
    )
    return replace(doc, **changes)


def receipt(**changes) -> ReceiptDocument:
    doc = ReceiptDocument(
        office=OFFICE,
        number="0017/KW/1600/XII/2026",
        issued=date(2026, 12, 3),
        case_ref="PUB-2026-0042",
        invoice_number="0042/INV/1600/XI/2026",
        customer_name="Renée Marpaung",
        customer_address="Jl. Merdeka No. 12, Palembang 30135",
        lines=LINES,
        total=128_700,
        paid_on=date(2026, 12, 2),
        zero_reason=None,
        regulation=REGULATION,
    )
    return replace(doc, **changes)


def text_of(pdf: bytes) -> str:
    """All pages' text, whitespace collapsed (table cells wrap long titles over lines)."""
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def embedded_fonts(pdf: bytes) -> dict[str, tuple[TTFont, set[str]]]:
    """Base font name -> (embedded TrueType program, characters its ToUnicode map covers)."""
    reader = PdfReader(io.BytesIO(pdf))
    out = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendant = font["/DescendantFonts"][0].get_object()
            program = descendant["/FontDescriptor"]["/FontFile2"].get_data()
            cmap = font["/ToUnicode"].get_data().decode("latin-1")
            # a shaped glyph (ligature, conjunct) maps to several characters
            chars = set(
                "".join(
                    bytes.fromhex(hexcode).decode("utf-16-be")
                    for hexcode in re.findall(r"<[0-9A-F]{4}> <([0-9A-F]+)>", cmap)
                )
            )
            out[str(font["/BaseFont"])] = (TTFont(io.BytesIO(program)), chars)
    return out


def needs_fonts_for(text: str) -> None:
    """Skip unless an installed font draws every character of ``text``."""
    report = glyph_report(text)
    if report.missing:
        pytest.skip(f"optional fonts not installed: {report.summary()}")


# --------------------------------------------------------------------------


def test_formatting():
    assert format_rupiah(125_500) == "Rp125.500"
    assert format_rupiah(0) == "Rp0"
    assert format_rupiah(1_000_000) == "Rp1.000.000"
    assert tanggal(date(2026, 11, 30)) == "30 November 2026"
    assert tanggal(date(2027, 2, 1)) == "1 Februari 2027"
    assert tanggal(date(2026, 8, 17)) == "17 Agustus 2026"


def test_invoice_with_bank_account_shows_every_field():
    text = text_of(render_invoice(invoice()))
    for expected in [
        "Badan Pusat Statistik Provinsi Sumatera Selatan".upper(),
        "diseminasi1600@bps.go.id",
        "INVOICE",
        "0042/INV/1600/XI/2026",
        "30 November 2026",
        "PUB-2026-0042",
        "Renée Marpaung",
        "Jl. Merdeka No. 12, Palembang 30135",
        "renee@example.co.id",
        "Rp128.700",
        "Terbilang: seratus dua puluh delapan ribu tujuh ratus rupiah",
        "Bank Rakyat Indonesia",
        "0123-01-000456-30-9",
        "RPL 028 BPS Prov Sumsel",
        "Mohon tuliskan nomor invoice 0042/INV/1600/XI/2026 pada kolom berita",
        "Invoice ini berlaku sampai dengan 30 Desember 2026",
        REGULATION,
        "Palembang, 30 November 2026",
        "Kepala Bagian Umum",
        "Dra. Siti Aminah Lubis, M.Si.",
        "NIP. 197203151994012001",
    ]:
        assert expected in text, expected
    for line in LINES:
        for field in (line.katalog, line.judul, str(line.halaman), format_rupiah(line.rate), format_rupiah(line.amount)):
            assert field in text, field
    assert "Kode Billing" not in text


def test_invoice_with_billing_code_supersedes_bank():
    doc = invoice(billing_code="820261130004217", billing_expires=date(2026, 12, 7))
    text = text_of(render_invoice(doc))
    assert "820261130004217" in text
    assert "Kode billing berlaku sampai : 7 Desember 2026" in text
    assert "menggantikan transfer ke rekening" in text
    assert "dapat lebih awal daripada masa berlaku invoice" in text
    assert "0123-01-000456-30-9" not in text  # the account is not offered beside a billing code
    assert "Invoice ini berlaku sampai dengan 30 Desember 2026" in text


def test_invoice_refuses_inconsistent_documents():
    with pytest.raises(ValueError, match="total"):
        render_invoice(invoice(total=1))
    with pytest.raises(ValueError, match="billing code or a bank"):
        render_invoice(invoice(bank=None, account_number=None))
    with pytest.raises(ValueError, match="expiry"):
        render_invoice(invoice(billing_code="820261130004217"))


NAMES = [
    "Renée Marpaung",
    "Nguyễn Thị Hoa",
    "Σωκράτης",
    "李小龙",
    "محمد",
    "Дмитрий Шостакович",
    "राहुल शर्मा",
    "Øystein Ærø-Çelik",
]


@pytest.mark.parametrize("name", NAMES)
def test_any_customer_name_renders_and_extracts(name):
    # names in scripts Noto Sans lacks need the optional system fonts (CI installs them)
    needs_fonts_for(name)
    rendered = render_invoice_with_report(invoice(customer_name=name))
    assert rendered.report.missing == ()
    pdf = rendered.pdf
    text = text_of(pdf)
    assert name in text
    # every character of the name has a real glyph in some embedded font
    covered = set().union(*(chars for _, chars in embedded_fonts(pdf).values()))
    assert set(name.replace(" ", "")) <= covered


def test_fonts_are_subset():
    needs_fonts_for("李小龙")
    pdf = render_invoice(invoice(customer_name="李小龙"))
    fonts = embedded_fonts(pdf)
    assert len(fonts) >= 4  # regular, bold, italic, CJK fallback
    for name, (program, chars) in fonts.items():
        assert re.match(r"^/[A-Z]{6}\+", name), name
        assert program["maxp"].numGlyphs <= len(chars) + 10, name  # only what was drawn
    assert len(pdf) < 80_000


def test_two_documents_in_a_row_do_not_share_subsets():
    needs_fonts_for("李小龙")
    first = render_invoice(invoice(customer_name="李小龙", number="0001/INV/1600/XI/2026"))
    second = render_invoice(invoice(customer_name="Σωκράτης", number="0002/INV/1600/XI/2026"))
    third = render_invoice(invoice(customer_name="李小龙", number="0003/INV/1600/XI/2026"))
    t1, t2, t3 = text_of(first), text_of(second), text_of(third)
    assert "李小龙" in t1 and "0001/INV" in t1 and "Σωκράτης" not in t1
    assert "Σωκράτης" in t2 and "0002/INV" in t2 and "李小龙" not in t2
    assert "李小龙" in t3 and "0003/INV" in t3
    chars2 = set().union(*(chars for _, chars in embedded_fonts(second).values()))
    assert "李" not in chars2 and "Σ" in chars2
    chars1 = set().union(*(chars for _, chars in embedded_fonts(first).values()))
    assert "Σ" not in chars1
    assert len(embedded_fonts(second)) < len(embedded_fonts(first))  # no CJK font in the second


def test_long_invoice_breaks_pages_with_header_and_footer():
    lines = tuple(DocLine(f"1102001.{i:02d}", f"Publikasi nomor {i} Provinsi Sumatera Selatan", 100, 1, 150, 15_000) for i in range(40))
    pdf = render_invoice(invoice(lines=lines, total=40 * 15_000))
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 2
    second = " ".join(reader.pages[1].extract_text().split())
    assert "No Katalog Judul Publikasi" in second  # table header repeated after the break
    last = " ".join(reader.pages[-1].extract_text().split())
    assert f"Halaman {len(reader.pages)} dari {len(reader.pages)}" in last
    text = text_of(pdf)
    assert "Publikasi nomor 39 Provinsi" in text and "Rp600.000" in text
    assert "enam ratus ribu rupiah" in text


def test_logo_is_drawn_when_the_file_exists(tmp_path):
    from PIL import Image

    logo = tmp_path / "logo.png"
    Image.new("RGB", (60, 60), (0, 80, 160)).save(logo)
    with_logo = render_invoice(invoice(office=replace(OFFICE, logo_path=logo)))
    missing = render_invoice(invoice(office=replace(OFFICE, logo_path=tmp_path / "none.png")))
    assert PdfReader(io.BytesIO(with_logo)).pages[0].images
    assert not PdfReader(io.BytesIO(missing)).pages[0].images


def test_receipt_shows_every_field():
    text = text_of(render_receipt(receipt()))
    for expected in [
        "KUITANSI",
        "0017/KW/1600/XII/2026",
        "Telah terima dari : Renée Marpaung",
        "Uang sejumlah : seratus dua puluh delapan ribu tujuh ratus rupiah",
        "Untuk pembayaran",
        "0042/INV/1600/XI/2026",
        "PUB-2026-0042",
        "Rp128.700",
        "Tanggal pembayaran: 2 Desember 2026",
        "Palembang, 3 Desember 2026",
        "Dra. Siti Aminah Lubis, M.Si.",
        "NIP. 197203151994012001",
        REGULATION,
    ]:
        assert expected in text, expected
    for line in LINES:
        assert line.judul in text and format_rupiah(line.amount) in text


def test_zero_tariff_receipt():
    zero_lines = tuple(replace(l, rate=0, amount=0) for l in LINES)
    doc = receipt(lines=zero_lines, total=0, paid_on=None, invoice_number=None,
                  zero_reason="Keperluan penelitian skripsi mahasiswa")
    text = text_of(render_receipt(doc))
    assert "Uang sejumlah : nol rupiah" in text
    assert "Rp0" in text
    assert "tidak dikenakan biaya (Rp0). Alasan: Keperluan penelitian skripsi mahasiswa" in text
    assert "Tanggal pembayaran" not in text
    with pytest.raises(ValueError, match="zero_reason"):
        render_receipt(replace(doc, zero_reason=None))


def test_wording_comes_from_an_override_template(tmp_path):
    src = template_path("invoice.toml")
    shutil.copy(src, tmp_path / "invoice.toml")
    edited = (tmp_path / "invoice.toml").read_text(encoding="utf-8").replace('title = "INVOICE"', 'title = "TAGIHAN"')
    (tmp_path / "invoice.toml").write_text(edited, encoding="utf-8")
    assert template_path("invoice.toml", tmp_path) == tmp_path / "invoice.toml"
    assert "TAGIHAN" in text_of(render_invoice(invoice(), template_dir=tmp_path))
    # the kuitansi has no override there and falls back to the packaged one
    assert "KUITANSI" in text_of(render_receipt(receipt(), template_dir=tmp_path))


def test_template_errors_name_the_file_and_key(tmp_path):
    good = template_path("invoice.toml").read_text(encoding="utf-8")
    (tmp_path / "invoice.toml").write_text(good.replace("{valid_until}.", "{valid_untill}."), encoding="utf-8")
    with pytest.raises(TemplateError, match=r"valid_untill"):
        render_invoice(invoice(), template_dir=tmp_path)
    (tmp_path / "invoice.toml").write_text(good.replace('title = "INVOICE"\n', ""), encoding="utf-8")
    with pytest.raises(TemplateError, match=r"invoice\.toml.*labels\.title"):
        render_invoice(invoice(), template_dir=tmp_path)


def test_same_document_gives_the_same_bytes():
    assert render_invoice(invoice()) == render_invoice(invoice())


def test_contact_line_leaves_out_an_empty_phone():
    from mailbot.outbound.pdf import fill
    values = {"office_phone": "", "office_email": "diseminasi1600@bps.go.id"}
    assert fill("Telepon {office_phone} · Email {office_email}", values) == "Email diseminasi1600@bps.go.id"
    values["office_phone"] = "(0711) 123456"
    assert fill("Telepon {office_phone} · Email {office_email}", values).startswith("Telepon (0711) 123456 · ")
