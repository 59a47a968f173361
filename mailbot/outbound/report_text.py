"""The monthly report in words: the lines `mailbot report` prints and the PDF's summary table share them."""
from __future__ import annotations

from datetime import date

from .formatting import BULAN, decimal, format_rupiah

KIND = {"service": "layanan", "correction": "perbaikan"}


def month_title(month: str) -> str:
    """'2026-10' -> 'Oktober 2026'."""
    year, m = month.split("-")
    return f"{BULAN[int(m) - 1]} {year}"


def percent(share: float | None) -> str:
    return "-" if share is None else decimal(share * 100, ".0f") + "%"


def _judged(d: dict, share: float | None, days: int) -> str:
    n = d["met"] + d["missed"]
    if not n:
        return f"tidak ada yang dinilai (standar {days} hari kerja)"
    return f"{d['met']} dari {n} tepat waktu ({percent(share)}; standar {days} hari kerja)"


def summary_rows(r: dict) -> list[tuple[str, str]]:
    """(label, value) pairs, in the order a reader wants them."""
    dl = r["deadlines"]
    average = r["satisfaction_average"]
    return [
        ("Permintaan masuk", str(r["cases_opened"])),
        ("Kasus terkirim (kuitansi dan softcopy)", str(r["cases_delivered"])),
        ("Ketepatan waktu layanan", _judged(dl["service"], r["on_time"]["service"], 10)),
        ("Ketepatan waktu perbaikan", _judged(dl["correction"], r["on_time"]["correction"], 5)),
        ("PNBP (penerimaan)", format_rupiah(r["revenue"])),
        ("Kuitansi diterbitkan", f"{r['receipts']} (termasuk {r['zero_rupiah']} layanan Rp0)"),
        ("Invoice diterbitkan", f"{r['invoices_issued']} senilai {format_rupiah(r['invoices_issued_total'])}"),
        ("Invoice batal / kedaluwarsa", f"{r['invoices_voided']} / {r['invoices_expired']}"),
        ("Kasus ditutup / dibatalkan", f"{r['cases_closed']} / {r['cases_cancelled']}"),
        ("Pengaduan", str(r["complaints"]["received"])),
        ("Kepuasan pelanggan (1–4)",
         f"rata-rata {average:.2f} dari {r['satisfaction_responses']} jawaban".replace(".", ",", 1)
         if average is not None else "belum ada jawaban"),
    ]


def summary_text(r: dict, office: str = "", generated: date | None = None) -> str:
    """`mailbot report --month M`: the figures, then the late cases and the Rp0 services by name."""
    lines = [f"Laporan bulanan {month_title(r['month'])} ({r['from']} s.d. {r['to']})" + (f" — {office}" if office
                                                                                        else "")]
    width = max(len(label) for label, _ in summary_rows(r))
    lines += [f"  {label:<{width}}  {value}" for label, value in summary_rows(r)]
    if r["late_cases"]:
        lines.append("Terlambat:")
        lines += [f"  {c['ref']:<15} {KIND[c['kind']]:<10} {c['working_days']} hari kerja "
                  f"(standar {c['standard']}, lewat {c['late_by']})  {c['customer']}" for c in r["late_cases"]]
    if r["revenue_by_publication"]:
        lines.append("PNBP per publikasi:")
        lines += [f"  {p['katalog']:<14} {p['judul'][:48]:<48} {format_rupiah(p['amount']):>14}"
                  for p in r["revenue_by_publication"]]
    if r["zero_rupiah_services"]:
        lines.append("Layanan Rp0:")
        lines += [f"  {z['ref']:<15} {z['receipt_number']}  {z['reason']}" for z in r["zero_rupiah_services"]]
    if generated:
        lines.append(f"Dibuat {generated.isoformat()}")
    return "\n".join(lines)
