"""The treasurer's book of a month: one row per kuitansi, as an Excel workbook (openpyxl) or CSV."""
from __future__ import annotations

import csv
from io import BytesIO, StringIO

# (key in the book row, heading, column width) — the same columns in the workbook and the CSV.
RECEIPT_COLUMNS = (
    ("number", "No. kuitansi", 26), ("date", "Tanggal", 11), ("invoice_number", "No. invoice", 26),
    ("case", "Kasus", 15), ("customer", "Pelanggan", 28), ("email", "Email", 28),
    ("publications", "Publikasi", 50), ("amount", "Jumlah (Rp)", 14), ("billing_code", "Kode billing", 17),
    ("payment_reference", "NTPN / referensi bank (dari bukti bayar)", 26), ("approved_by", "Disetujui oleh", 26),
    ("zero_reason", "Alasan Rp0", 28),
)
VOID_COLUMNS = (
    ("number", "No. invoice", 26), ("issued", "Tanggal terbit", 13), ("voided", "Tanggal batal", 13),
    ("case", "Kasus", 15), ("customer", "Pelanggan", 28), ("email", "Email", 28), ("amount", "Jumlah (Rp)", 14),
    ("billing_code", "Kode billing", 17), ("reason", "Alasan", 28),
)
RUPIAH = '#,##0'


def receipts_xlsx(book: dict) -> bytes:
    """Sheet 'Kuitansi' (with its total, equal to the month report's revenue) and sheet 'Invoice batal'."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    sheets = ((wb.active, f"Kuitansi {book['month']}"[:31], RECEIPT_COLUMNS, book["receipts"]),
              (wb.create_sheet(), "Invoice batal", VOID_COLUMNS, book["voided"]))
    for ws, title, columns, rows in sheets:
        ws.title = title
        ws.append([heading for _, heading, _ in columns])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append([row[key] for key, _, _ in columns])
        for i, (key, _, width) in enumerate(columns, 1):
            ws.column_dimensions[get_column_letter(i)].width = width
            if key == "amount":
                for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                    cell.number_format = RUPIAH
        ws.freeze_panes = "A2"
    receipts = sheets[0][0]
    amount_col = [key for key, _, _ in RECEIPT_COLUMNS].index("amount") + 1
    # The total is written as a number, not a formula: the book is a record of what was issued, and a
    # reader that does not compute formulas (a script, a viewer) sees the same figure as Excel.
    total_row = receipts.max_row + 2
    receipts.cell(total_row, amount_col - 1, "Jumlah").font = Font(bold=True)
    total = receipts.cell(total_row, amount_col, book["total"])
    total.font, total.number_format = Font(bold=True), RUPIAH
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def receipts_csv(book: dict) -> bytes:
    """The kuitansi rows only, UTF-8 with a byte-order mark (so Excel reads the names right), comma-separated,
    amounts as plain integers; no total line, so every line is a kuitansi."""
    out = StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow([heading for _, heading, _ in RECEIPT_COLUMNS])
    for row in book["receipts"]:
        w.writerow([row[key] for key, _, _ in RECEIPT_COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
