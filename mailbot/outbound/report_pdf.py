"""The monthly report as a PDF for the head of the office: figures, charts and the cases behind them (fpdf2)."""
from __future__ import annotations

from datetime import date
from io import BytesIO
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from . import charts
from .formatting import decimal, format_rupiah, tanggal
from .report_text import KIND, month_title, percent, summary_rows

FAMILY = "report"
_SANS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")


def report_font() -> tuple[Path, Path] | None:
    """Regular and bold TrueType files for the report: a font shipped in mailbot/data/fonts if present,
    else Debian's DejaVu Sans, else the copy matplotlib ships; None means fpdf2's core Helvetica
    (Latin-1 only). The one place to point the report at the shared font set."""
    dirs = [Path(__file__).resolve().parents[1] / "data" / "fonts", Path("/usr/share/fonts/truetype/dejavu")]
    try:
        import matplotlib
        dirs.append(Path(matplotlib.get_data_path()) / "fonts" / "ttf")
    except ImportError:       # pragma: no cover - matplotlib is a dependency; the core font still works
        pass
    for d in dirs:
        regular, bold = d / _SANS[0], d / _SANS[1]
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


class _Report(FPDF):
    def __init__(self, title: str):
        super().__init__(format="A4")
        self.title_text = title
        self.set_margins(18, 16, 18)
        self.set_auto_page_break(True, 18)
        font = report_font()
        if font:
            self.add_font(FAMILY, "", str(font[0]))
            self.add_font(FAMILY, "B", str(font[1]))
            self.face = FAMILY
        else:
            self.core_fonts_encoding = "windows-1252"
            self.face = "helvetica"

    def clean(self, value: str) -> str:
        """Text the font can draw: the core font knows only Windows-1252."""
        if self.face == FAMILY:
            return value
        return value.encode("windows-1252", "replace").decode("windows-1252")

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.face, "", 7)
        self.cell(0, 5, self.clean(f"{self.title_text} — halaman {self.page_no()}/{{nb}}"), align="C")


def render_report(report: dict, office: str, generated: date) -> bytes:
    """The PDF of `month_report(...)` for `office`, dated `generated`."""
    title = f"Laporan Bulanan {month_title(report['month'])}"
    pdf = _Report(title)
    pdf.add_page()
    t = pdf.clean

    def heading(text: str) -> None:
        if pdf.get_y() > pdf.h - 60:
            pdf.add_page()
        pdf.ln(3)
        pdf.set_font(pdf.face, "B", 11)
        pdf.cell(0, 7, t(text), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(pdf.face, "", 9)

    def para(text: str) -> None:
        pdf.multi_cell(0, 5, t(text), new_x="LMARGIN", new_y="NEXT")

    def table(head: tuple[str, ...], rows: list[tuple], widths: tuple[int, ...], align: str) -> None:
        with pdf.table(col_widths=widths, text_align=tuple("RIGHT" if a == "R" else "LEFT" for a in align),
                       line_height=5, headings_style=FontFace(emphasis="BOLD", fill_color=(225, 232, 240)),
                       padding=1) as tbl:
            for cells in [head, *rows]:
                row = tbl.row()
                for value in cells:
                    row.cell(t(str(value)))

    def chart(png: bytes, width: float = 165) -> None:
        pdf.image(BytesIO(png), w=width)

    pdf.set_font(pdf.face, "B", 14)
    pdf.multi_cell(0, 7, t(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(pdf.face, "", 10)
    para(f"Penjualan publikasi softcopy — {office}")
    para(f"Periode {tanggal(date.fromisoformat(report['from']))} s.d. {tanggal(date.fromisoformat(report['to']))}; "
         f"dibuat {tanggal(generated)}")

    heading("Ringkasan")
    table(("Uraian", "Nilai"), summary_rows(report), (74, 100), "LL")

    heading("Permintaan dan pengiriman per minggu")
    chart(charts.cases_per_week(report["cases_per_week"]))

    heading("Ketepatan waktu")
    dl = report["deadlines"]
    para(f"Layanan (10 hari kerja): {percent(report['on_time']['service'])} tepat waktu; "
         f"perbaikan (5 hari kerja): {percent(report['on_time']['correction'])} tepat waktu. "
         f"Peringatan tenggat terlewat dikirim ke supervisor untuk {dl['missed_alerts']} kasus.")
    chart(charts.on_time(dl["service"], dl["correction"]), 150)
    if report["late_cases"]:
        table(("Kasus", "Jenis", "Pelanggan", "Hari kerja", "Lewat"),
              [(c["ref"], KIND[c["kind"]], c["customer"], f"{c['working_days']} / {c['standard']}", c["late_by"])
               for c in report["late_cases"]], (30, 22, 78, 24, 20), "LLLRR")
    else:
        para("Tidak ada kasus yang terlambat.")

    heading("PNBP per publikasi")
    pubs = report["revenue_by_publication"]
    if pubs:
        table(("Katalog", "Judul", "Invoice", "Kuitansi", "Jumlah"),
              [(p["katalog"], p["judul"], p["invoices"], p["receipts"], format_rupiah(p["amount"])) for p in pubs]
              + [("", "Jumlah", report["invoices_issued"], report["receipts"], format_rupiah(report["revenue"]))],
              (24, 84, 16, 18, 32), "LLRRR")
        if any(p["amount"] for p in pubs):
            pdf.ln(2)
            chart(charts.revenue_by_publication(pubs))
    else:
        para("Tidak ada kuitansi bulan ini.")

    heading("Layanan Rp0")
    zero = report["zero_rupiah_services"]
    if zero:
        table(("Kasus", "Kuitansi", "Pelanggan", "Alasan"),
              [(z["ref"], z["receipt_number"], z["customer"], z["reason"]) for z in zero], (28, 42, 52, 52), "LLLL")
    else:
        para("Tidak ada layanan Rp0 bulan ini.")

    heading("Pengaduan")
    if report["complaint_cases"]:
        table(("Tanggal", "Kasus", "Isi"), [(c["date"], c["ref"] or "-", c["text"]) for c in report["complaint_cases"]],
              (22, 30, 122), "LLL")
    else:
        para("Tidak ada pengaduan bulan ini.")

    heading("Kepuasan pelanggan")
    counts = report["satisfaction_counts"]
    table(("Nilai", "1 (tidak puas)", "2 (kurang puas)", "3 (puas)", "4 (sangat puas)", "Rata-rata"),
          [("Jawaban", counts["1"], counts["2"], counts["3"], counts["4"],
            decimal(report["satisfaction_average"], ".2f") if report["satisfaction_average"] is not None
            else "-")], (20, 28, 32, 26, 36, 32), "LRRRRR")
    return bytes(pdf.output())
