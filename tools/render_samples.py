"""Write a sample invoice and kuitansi (PDF and PNG pages) into a directory, for a look by eye.

    python tools/render_samples.py OUT_DIR [--template-dir DIR] [--logo FILE]

PNGs need pdftoppm (Debian poppler-utils); without it only the PDFs are written.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mailbot.outbound.documents import DocLine, InvoiceDocument, Office, ReceiptDocument  # noqa: E402
from mailbot.outbound.pdf import render_invoice, render_receipt  # noqa: E402


def sample_office(logo: Path | None = None) -> Office:
    return Office(
        name="Badan Pusat Statistik Provinsi Sumatera Selatan",
        address="Jalan Kapten P. Tendean No. 73, Palembang 30128",
        city="Palembang",
        phone="(0711) 312139",
        email="diseminasi1600@bps.go.id",
        logo_path=logo,
        signatory="Dra. Siti Aminah Lubis, M.Si.",
        signatory_title="Kepala Bagian Umum",
        nip="197203151994012001",
    )


def sample_lines() -> tuple[DocLine, ...]:
    return (
        DocLine("1102001.16", "Provinsi Sumatera Selatan Dalam Angka 2025", 612, 1, 150, 91_800),
        DocLine("3101015.16", "Statistik Kesejahteraan Rakyat Provinsi Sumatera Selatan 2025 (Hasil Susenas Maret 2025)", 154, 1, 150, 23_100),
        DocLine("6202004.1671", "Indeks Harga Konsumen Kota Palembang 2025", 46, 2, 150, 13_800),
    )


def sample_invoice(office: Office, billing: bool = False, name: str = "Renée Marpaung") -> InvoiceDocument:
    lines = sample_lines()
    return InvoiceDocument(
        office=office,
        number="0042/INV/1600/XI/2026",
        issued=date(2026, 11, 30),
        case_ref="PUB-2026-0042",
        customer_name=name,
        customer_address="Jl. Merdeka No. 12, RT 03/RW 05, Kelurahan Talang Semut, Kecamatan Bukit Kecil, Palembang 30135",
        customer_email="renee.marpaung@example.co.id",
        lines=lines,
        total=sum(l.amount for l in lines),
        valid_until=date(2026, 12, 30),
        bank="Bank Rakyat Indonesia (BRI)",
        account_number="0123-01-000456-30-9",
        account_name="RPL 028 BPS Prov Sumsel untuk Penerimaan",
        billing_code="820261130004217" if billing else None,
        billing_expires=date(2026, 12, 7) if billing else None,
        regulation="PP Nomor 13 Tahun 2024 tentang Jenis dan Tarif atas Jenis PNBP yang Berlaku pada BPS",
    )


def sample_receipt(office: Office, zero: bool = False, name: str = "Renée Marpaung") -> ReceiptDocument:
    lines = sample_lines()
    if zero:
        lines = tuple(DocLine(l.katalog, l.judul, l.halaman, l.qty, 0, 0) for l in lines)
    return ReceiptDocument(
        office=office,
        number="0017/KW/1600/XII/2026",
        issued=date(2026, 12, 3),
        case_ref="PUB-2026-0042",
        invoice_number=None if zero else "0042/INV/1600/XI/2026",
        customer_name=name,
        customer_address="Jl. Merdeka No. 12, Palembang 30135",
        lines=lines,
        total=sum(l.amount for l in lines),
        paid_on=None if zero else date(2026, 12, 2),
        zero_reason="Keperluan penelitian skripsi mahasiswa (surat Universitas Sriwijaya No. 123/UN9/2026)" if zero else None,
        regulation="PP Nomor 13 Tahun 2024 tentang Jenis dan Tarif atas Jenis PNBP yang Berlaku pada BPS",
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--template-dir", type=Path, default=None)
    ap.add_argument("--logo", type=Path, default=None, help="a PNG/JPEG logo for the letterhead")
    args = ap.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    office = sample_office(args.logo)
    docs = {
        "invoice-bank": render_invoice(sample_invoice(office), args.template_dir),
        "invoice-billing": render_invoice(sample_invoice(office, billing=True, name="محمد بن سلمان · 李小龙 · Σωκράτης"), args.template_dir),
        "kuitansi": render_receipt(sample_receipt(office), args.template_dir),
        "kuitansi-nol": render_receipt(sample_receipt(office, zero=True, name="Nguyễn Thị Hoa"), args.template_dir),
    }
    have_pdftoppm = shutil.which("pdftoppm") is not None
    for stem, data in docs.items():
        pdf_path = args.out_dir / f"{stem}.pdf"
        pdf_path.write_bytes(data)
        print(pdf_path)
        if have_pdftoppm:
            subprocess.run(["pdftoppm", "-png", "-r", "80", str(pdf_path), str(args.out_dir / stem)], check=True)
            for png in sorted(args.out_dir.glob(f"{stem}*.png")):
                print(png)
    if not have_pdftoppm:
        print("pdftoppm not found (apt-get install poppler-utils): PNGs not written", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
