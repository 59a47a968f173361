"""Render every customer mail in both languages (text and HTML) and photograph the HTML as a phone
shows it: headless Chromium at 360 px wide. Writes NAME.LANG.html, .txt and .png into OUT_DIR and
prints each page's width; exits 1 when a page is wider than the screen.

    python tools/mail_screenshots.py OUT_DIR [--no-png]

Needs Debian's `chromium` for the PNGs and the widths (the HTML and text are written without it).
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import date
from html import escape
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mailbot.outbound.html import to_html  # noqa: E402
from mailbot.outbound.templates import Templates  # noqa: E402

WIDTH, HEIGHT = 360, 800
LANGS = ("id", "en")
# Mails that name no case on purpose: a stranger's message (nothing about the case is told to
# someone who may have guessed its number) and a mail too large to read.
NO_CASE = frozenset({"received_other", "too_large"})


def customer_templates(root: Path | None = None) -> list[str]:
    """Every template mailbot sends to a customer, read from the code that sends them."""
    root = root or Path(__file__).resolve().parents[1] / "mailbot"
    names: set[str] = set()
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        names.update(re.findall(r'"customer",\s*"([a-z_]+)"', text))
        names.update(re.findall(r'send_in_parts\(\s*unit,\s*row,\s*"([a-z_]+)"', text))
    return sorted(names)


def _item(n: int, katalog: str, judul: str, halaman: int, amount: int):
    return SimpleNamespace(katalog=katalog, judul=judul, halaman=halaman, qty=1, amount=amount, n=n)


def sample_case(state: str = "invoiced"):
    items = [_item(1, "1102001.16", "Provinsi Sumatera Selatan Dalam Angka 2025", 684, 684_000),
             _item(2, "1101002.16", "Statistik Daerah Provinsi Sumatera Selatan 2025", 48, 48_000)]
    invoice = SimpleNamespace(number="0042/INV/1600/XII/2026", total=732_000, valid_until=date(2027, 1, 3),
                              billing_code=None, billing_expires=None)
    return SimpleNamespace(
        ref="PUB-2026-0042", state=state, state_label="(internal)", customer="renee.marpaung@example.co.id",
        customer_name="Renée Marpaung", items=items, total=732_000, due=date(2026, 12, 17),
        service_due=date(2026, 12, 17), correction_due=date(2026, 12, 10), invoice=invoice, receipt=None,
        invoice_expires=date(2027, 1, 3), request_text="Saya ingin membeli Provinsi Sumatera Selatan Dalam Angka 2025.",
        guesses=[{"katalog": i.katalog, "judul": i.judul, "tahun": 2025, "halaman": i.halaman, "amount": i.amount,
                  "score": 92} for i in items],
        zero_reason="", identity_ok=False, agreed=False, identity_received=True, thread_token="ABCDE12345",
        linked_ref=None)


def contexts(name: str) -> list[tuple[str, dict]]:
    """(variant, template context) for one template: every variable it may use, filled as the mailer does."""
    office = SimpleNamespace(name="Badan Pusat Statistik Provinsi Sumatera Selatan", website="https://sumsel.bps.go.id",
                             service_address="diseminasi1600@bps.go.id")
    base = {"office": office, "payment": SimpleNamespace(bank="Bank Rakyat Indonesia (BRI)",
                                                         account_number="0123-01-000456-30-9",
                                                         account_name="RPL 028 BPS Prov Sumsel"),
            "tariffs": SimpleNamespace(regulation="PP 13/2024", zero_categories=(), zero_basis=""),
            "today": date(2026, 12, 3), "service_address": "diseminasi1600@bps.go.id", "audience": "customer",
            "reason": "", "message": "", "attached": 0, "rejected_files": [], "attachment_limit_mb": "20"}
    doc = sample_case().invoice
    extra = {
        "reply": {"message": "Mohon kirim foto KTP yang lebih jelas; tulisan NIK belum terbaca."},
        "cancelled": {"reason": "permintaan ganda"},
        "invoice": {"document": doc}, "reminder": {"document": doc, "days_left": 7},
        "delivery": {"part": 1, "parts": 1, "files": ["kuitansi-0001-KWT-1600-XII-2026.pdf",
                                                      "1102001.16-2025.pdf"], "missing": []},
        "correction": {"part": 1, "parts": 1, "files": ["1102001.16-2025-perbaikan.pdf"], "missing": []},
        "proof_rejected": {"reason": "nominal transfer tidak sesuai invoice"},
        "too_large": {"size_mb": 31.4, "limit_mb": 25, "subject": "Permintaan publikasi + KTP"},
        "cancel_confirm": {"confirm_days": 7}, "new_reminder": {"cancel_on": date(2027, 1, 2)},
        "complaint": {"complaint_ref": "ADU-2026-0007", "customer_name": "Renée Marpaung"},
        "proof_received": _proof_context(doc), "proof_after_expiry": _proof_context(doc),
    }.get(name, {})
    case = None if name in NO_CASE else sample_case("delivered" if name in ("forwarded",) else "invoiced")
    out = [("", {**base, "case": case, **extra})]
    if name == "proof_received":     # the amount read differs from the invoice: both are said
        short = {"read": doc.total - 6500, "invoice": doc.total, "short": 6500, "over": 0, "several": False}
        out.append(("short", {**base, "case": case, **extra, "mismatch": short}))
    if name in ("ack", "requirements", "forwarded"):   # the answer that names files we could not take
        rejected = [{"filename": "KTP scan resolusi tinggi.jpg", "size_mb": "31,4", "too_large": True},
                    {"filename": "formulir.exe", "size_mb": "0,2", "too_large": False}]
        out.append(("rejected", {**base, "case": case, **extra, "rejected_files": rejected}))
    if name == "complaint":          # a complaint with no case at all
        out.append(("no-case", {**base, "case": None, **extra}))
    if name == "forwarded":          # the holding reply speaks of every state in plain words
        out += [(s, {**base, "case": sample_case(s), **extra}) for s in
                ("new", "preparing", "invoiced", "payment_review", "correction", "expired", "closed")]
    return out


def _proof_context(invoice) -> dict:
    """What the proof notices are told of the files read (app/proofs.py)."""
    read = SimpleNamespace(name="bukti-transfer.jpg", amount=invoice.total, date=date(2026, 12, 2),
                           ref="0A1B2C3D4E5F6G7H", message_id="m1")
    return {"received": [read], "proofs": [read], "mismatch": None, "invoice": invoice}


def render_all(templates: Templates | None = None) -> list[dict]:
    """Every customer mail, each language and variant: subject, text and HTML."""
    templates = templates or Templates()
    out = []
    for name in customer_templates():
        for lang in LANGS:
            for variant, ctx in contexts(name):
                subject, text = templates.render_mail(name, lang, **ctx)
                out.append({"name": name, "lang": lang, "variant": variant, "subject": subject, "text": text,
                            "html": to_html(subject, text), "case": ctx["case"],
                            "complaint_ref": ctx.get("complaint_ref")})
    return out


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def _run(browser: str, width: int, height: int, *args: str) -> subprocess.CompletedProcess:
    profile = tempfile.mkdtemp(prefix="mailbot-chromium-")
    try:
        return subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                               f"--user-data-dir={profile}", f"--window-size={width},{height}",
                               "--virtual-time-budget=10000", *args], capture_output=True, text=True, timeout=180)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


_COLUMNS, _GAP, _LABEL = 6, 20, 24


def _sheet(stems: list[str], pages: list[str], probe: bool) -> tuple[str, int, int]:
    """One page holding every mail in a 360x800 frame (a phone screen each): one browser start for all."""
    cells = "".join(
        f'<div style="position:absolute;left:{(i % _COLUMNS) * (WIDTH + _GAP)}px;'
        f'top:{(i // _COLUMNS) * (HEIGHT + _LABEL + _GAP)}px"><div style="height:{_LABEL}px;font:14px sans-serif">'
        f'{escape(stem)}</div><iframe srcdoc="{escape(page, quote=True)}" width="{WIDTH}" height="{HEIGHT}" '
        f'style="border:0;display:block" scrolling="no"></iframe></div>' for i, (stem, page) in enumerate(zip(stems, pages)))
    script = ("<script>window.addEventListener('load',()=>{document.title=JSON.stringify([...document"
              ".querySelectorAll('iframe')].map(f=>f.contentDocument.documentElement.scrollWidth))})</script>"
              if probe else "")
    rows = (len(pages) + _COLUMNS - 1) // _COLUMNS
    width, height = _COLUMNS * (WIDTH + _GAP), rows * (HEIGHT + _LABEL + _GAP)
    return (f"<!DOCTYPE html><html><head><title>-</title></head><body style=\"margin:0\">{cells}{script}"
            f"</body></html>", width, height)


def photograph(browser: str, out: Path, stems: list[str], pages: list[str]) -> dict[str, int]:
    """Each page's PNG (cut from one screenshot of the sheet) and its laid-out width at 360 px."""
    from PIL import Image

    html, width, height = _sheet(stems, pages, probe=True)
    sheet = out / "_sheet.html"
    sheet.write_text(html, encoding="utf-8")
    dom = _run(browser, width, height, "--dump-dom", sheet.as_uri()).stdout
    m = re.search(r"<title>(\[[\d,]*\])</title>", dom)
    if not m:
        raise RuntimeError(f"chromium gave no widths: {dom[:300]!r}")
    widths = dict(zip(stems, json.loads(m.group(1))))
    html, width, height = _sheet(stems, pages, probe=False)
    sheet.write_text(html, encoding="utf-8")
    png = out / "_sheet.png"
    result = _run(browser, width, height, f"--screenshot={png}", sheet.as_uri())
    if not png.exists():
        raise RuntimeError(f"chromium made no screenshot: {result.stderr[-500:]}")
    with Image.open(png) as image:
        for i, stem in enumerate(stems):
            x, y = (i % _COLUMNS) * (WIDTH + _GAP), (i // _COLUMNS) * (HEIGHT + _LABEL + _GAP) + _LABEL
            image.crop((x, y, x + WIDTH, y + HEIGHT)).save(out / f"{stem}.png")
    return widths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--no-png", action="store_true", help="write HTML and text only")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    browser = None if args.no_png else chromium()
    if not args.no_png and browser is None:
        print("chromium not found (apt-get install chromium): writing HTML and text only", file=sys.stderr)
    stems, pages = [], []
    for mail in render_all():
        stem = f"{mail['name']}{'-' + mail['variant'] if mail['variant'] else ''}.{mail['lang']}"
        (args.out / f"{stem}.html").write_text(mail["html"], encoding="utf-8")
        (args.out / f"{stem}.txt").write_text(f"Subject: {mail['subject']}\n\n{mail['text']}", encoding="utf-8")
        stems.append(stem)
        pages.append(mail["html"])
    if not browser:
        print("\n".join(stems))
        return 0
    widths = photograph(browser, args.out, stems, pages)
    for stem in stems:
        print(f"{stem:40} {widths[stem]:4d} px{'  TOO WIDE' if widths[stem] > WIDTH else ''}")
    return 1 if any(w > WIDTH for w in widths.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
