"""Benchmark: render N invoices with the Unicode fonts; print median/p95 ms per invoice and peak RSS.

    python bench/pdf.py [-n 200] [--out DIR] [--no-system-fonts]

Every invoice parses and subsets its fonts through fpdf2 (nothing is shared between
documents). The first invoice (imports, the packaged fonts' coverage read once per process)
is timed separately and left out of the median and p95.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))

from render_samples import sample_invoice, sample_office  # noqa: E402

from mailbot.outbound.pdf import render_invoice  # noqa: E402

NAMES = ("Renée Marpaung", "Budi Santoso", "Nguyễn Thị Hoa", "Σωκράτης Παπαδόπουλος", "Дмитрий Иванов", "Siti Nurhaliza")


def p95(values: list[float]) -> float:
    return sorted(values)[min(len(values) - 1, int(round(0.95 * len(values))) - 1)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=200)
    ap.add_argument("--out", type=Path, default=None, help="also write the PDFs here")
    ap.add_argument("--no-system-fonts", action="store_true", help="hide the system fonts: packaged fonts only")
    args = ap.parse_args(argv)
    if args.no_system_fonts:
        os.environ["MAILBOT_SYSTEM_FONT_DIRS"] = ""
    office = sample_office()
    base = sample_invoice(office)
    t0 = time.perf_counter()
    first = render_invoice(base)
    cold_ms = (time.perf_counter() - t0) * 1000
    times, cpu, sizes = [], [], []
    for i in range(args.n):
        doc = replace(base, number=f"{i + 1:04d}/INV/1600/XI/2026", customer_name=f"{NAMES[i % len(NAMES)]} {i}")
        t, c = time.perf_counter(), time.process_time()
        data = render_invoice(doc)
        times.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
        sizes.append(len(data))
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / f"invoice-{i:04d}.pdf").write_bytes(data)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"invoices: {args.n} (+1 cold: {cold_ms:.1f} ms, {len(first)} bytes)")
    print(f"median:   {statistics.median(times):.2f} ms/invoice")
    print(f"p95:      {p95(times):.2f} ms/invoice")
    print(f"CPU:      median {statistics.median(cpu):.2f} ms, p95 {p95(cpu):.2f} ms/invoice (the process's own time)")
    print(f"size:     {statistics.median(sizes) / 1024:.1f} KiB median PDF")
    print(f"peak RSS: {rss_mb:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
