"""Benchmark: read the generated payment proofs; print accuracy per field, the share of amounts accepted by
the confidence rule, wrong among accepted (target 0), verdict safety, and seconds per file.

    python bench/proofs.py [--scale 2] [--seed 2026] [--show]

The proofs come from tests/proof_samples.py (phone screenshots of five m-banking apps in light and dark
mode, ATM and teller slips photographed, harsh variants: JPEG quality 40, half resolution, rotation,
noise; SIMPONI and bank e-receipt PDFs with a text layer, and scanned). Tesseract runs as mailbot runs
it (adapters/ocr.py: ind+eng, mode 6 then 11, OMP_THREAD_LIMIT=1).
"""
from __future__ import annotations

import argparse
import statistics
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from proof_samples import OFFICE_ACCOUNT, samples, same_value  # noqa: E402

from mailbot.adapters import ocr  # noqa: E402
from mailbot.inbound import proof  # noqa: E402

FIELDS = ("amount", "date", "time", "reference", "ntpn", "billing", "ntb", "payer", "account", "dest_name", "berita")


def pct(a: int, b: int) -> str:
    return f"{a}/{b} ({100 * a / b:.0f}%)" if b else "-"


def quantile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, int(round(q * len(values))) - 1))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=int, default=1, help="sets of 62 files (default 1)")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--show", action="store_true", help="one line per file")
    args = ap.parse_args(argv)
    usable, detail = ocr.status()
    print(f"ocr: {detail}")
    if not usable:
        print("images cannot be read here; install tesseract-ocr and tesseract-ocr-ind")
    files = samples(args.seed, args.scale)
    print(f"files: {len(files)} (seed {args.seed}, scale {args.scale})")
    per_field = {f: {"present": 0, "right": 0, "sure": 0, "sure_wrong": 0} for f in FIELDS}
    kinds: dict[str, dict[str, int]] = {}
    seconds: dict[str, list[float]] = {"image": [], "pdf-text": [], "pdf-scan": []}
    false_cocok = false_berbeda = right_cocok = 0
    for s in files:
        r = ocr.read_file(s.data, s.content_type)
        seconds["image" if s.content_type.startswith("image/") else s.kind].append(r.seconds)
        k = kinds.setdefault(s.kind, {"n": 0, "accepted": 0, "wrong": 0, "right_any": 0})
        k["n"] += 1
        amount = r.fields.get("amount")
        k["accepted"] += bool(amount and amount.sure)
        k["wrong"] += bool(amount and amount.sure and amount.value != s.truth["amount"])
        k["right_any"] += bool(amount and amount.value == s.truth["amount"])
        misses = []
        for name, truth in s.truth.items():
            f = r.fields.get(name)
            stat = per_field[name]
            stat["present"] += 1
            right = f is not None and same_value(name, f.value, truth)
            stat["right"] += right
            stat["sure"] += bool(f and f.sure)
            stat["sure_wrong"] += bool(f and f.sure and not right)
            if not right or not (f and f.sure):
                misses.append(f"{name}{'' if right else '≠'}{'' if f and f.sure else '?'}")
        # the verdict against the right invoice, and against invoices of every wrong amount on the proof
        issued = date.fromisoformat(s.truth.get("date", "2026-01-01"))
        berita = s.truth.get("berita", "0001/INV/1600/I/2026")
        right_invoice = proof.InvoiceFacts(berita, s.truth["amount"], issued, s.truth.get("billing"), OFFICE_ACCOUNT)
        v = proof.judge(r, right_invoice, issued)
        right_cocok += v.kind == "cocok"
        false_berbeda += v.kind == "berbeda"
        wrongs = {*s.distractors.values(), s.truth["amount"] - 6500, s.truth["amount"] + 1000} - {s.truth["amount"]}
        for wrong in wrongs:
            false_cocok += proof.judge(r, proof.InvoiceFacts(berita, wrong, issued, s.truth.get("billing"),
                                                             OFFICE_ACCOUNT), issued).kind == "cocok"
        if args.show:
            print(f"  {s.name:26s} {r.seconds:5.2f}s {r.detail or r.method:7s} "
                  f"{'accepted' if amount and amount.sure else 'unsure  '} {v.kind:13s} {' '.join(misses)}")
    print("\nfield        right           surely read     wrong among sure")
    for name, st in per_field.items():
        if st["present"]:
            print(f"  {name:10s} {pct(st['right'], st['present']):15s} {pct(st['sure'], st['present']):15s} "
                  f"{st['sure_wrong']}")
    print("\namount by kind   read right      accepted        wrong among accepted (target 0)")
    for kind, k in kinds.items():
        print(f"  {kind:14s} {pct(k['right_any'], k['n']):15s} {pct(k['accepted'], k['n']):15s} {k['wrong']}")
    total = sum(k["n"] for k in kinds.values())
    print(f"  {'all':14s} {pct(sum(k['right_any'] for k in kinds.values()), total):15s} "
          f"{pct(sum(k['accepted'] for k in kinds.values()), total):15s} {sum(k['wrong'] for k in kinds.values())}")
    print(f"\nverdict against the right invoice: cocok {pct(right_cocok, total)}, "
          f"berbeda {false_berbeda} (false alarms)")
    print(f"verdict 'cocok' against an invoice of a fee, a balance, a total with fee or a wrong amount: "
          f"{false_cocok} (target 0)")
    print("\nseconds per file   median   p95     max")
    for kind, values in seconds.items():
        if values:
            print(f"  {kind:15s} {statistics.median(values):6.3f} {quantile(values, 0.95):7.3f} {max(values):7.3f}"
                  f"  ({len(values)} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
