"""Every customer mail in both languages (issue 17): it names its case, leaves no placeholder and no
internal state name, and its HTML part says the same words and fits a 360-px phone screen."""
from __future__ import annotations

import html as htmllib
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import mail_screenshots as shots  # noqa: E402

STATES = ("new", "preparing", "invoiced", "payment_review", "delivered", "correction", "closed", "expired",
          "cancelled")
MAILS = shots.render_all()


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def test_every_mail_sent_to_a_customer_has_an_indonesian_and_an_english_template():
    names = shots.customer_templates()
    # the code's notices, read from its source: new ones are found without editing this test
    assert {"ack", "invoice", "delivery", "correction", "complaint", "too_large", "proof_after_expiry",
            "new_reminder", "new_expired", "cancel_confirm", "cancelled_by_customer"} <= set(names)
    for name in names:
        for lang in ("id", "en"):
            assert (ROOT / "templates" / "mail" / f"{name}.{lang}.txt").exists(), f"{name}.{lang}.txt"


@pytest.mark.parametrize("mail", MAILS, ids=[f"{m['name']}-{m['variant'] or 'case'}-{m['lang']}" for m in MAILS])
def test_the_mail_names_its_case_and_shows_nothing_internal(mail):
    text = mail["subject"] + "\n" + mail["text"]
    if mail["case"] is not None:
        assert mail["case"].ref in mail["subject"] or mail["case"].ref in mail["text"]
    elif mail["complaint_ref"]:
        assert mail["complaint_ref"] in mail["subject"] and mail["complaint_ref"] in mail["text"]
    else:
        assert mail["name"] in shots.NO_CASE
    for leftover in ("{{", "}}", "{%", "%}", "None", "(internal)"):
        assert leftover not in text, leftover
    # no contract state name: petugas read "menunggu pembayaran (invoiced)", customers what it means
    # (in English "invoiced" or "closed" are words of the language; "payment_review" and "(invoiced)" are not)
    internal = {"payment_review"} if mail["lang"] == "en" else set(STATES)
    assert not internal & set(_words(text)), internal & set(_words(text))
    assert not re.search(r"\((?:%s)\)" % "|".join(STATES), text)
    greeting = "Dear" if mail["lang"] == "en" else "Yth."
    assert mail["text"].startswith(greeting)


def test_english_mails_are_written_in_english():
    """A foreign researcher reads English dates and words, not Indonesian left in the English text."""
    for mail in (m for m in MAILS if m["lang"] == "en" and m["name"] != "reply"):   # BALAS: the petugas' words
        text = mail["subject"] + " " + mail["text"]
        for word in ("Desember", "Januari", "Yth", "Hormat kami", "Terlampir", "Mohon"):
            assert word not in text, (mail["name"], word)


@pytest.mark.parametrize("mail", [m for m in MAILS if m["name"] in ("invoice", "clear", "delivery", "complaint")],
                         ids=lambda m: f"{m['name']}-{m['variant'] or 'case'}-{m['lang']}")
def test_the_html_part_says_the_same_words_and_marks_what_a_reader_looks_for(mail):
    page = mail["html"]
    shown = htmllib.unescape(re.sub(r"<[^>]+>", " ", page.split("<body", 1)[1].split(">", 1)[1]))
    assert _words(shown) == _words(mail["subject"] + " " + mail["text"])
    ref = mail["case"].ref if mail["case"] else mail["complaint_ref"]
    assert re.search(r"<strong[^>]*>%s</strong>" % re.escape(ref), page)
    for amount in re.findall(r"Rp[\d.]+", mail["text"]):
        assert re.search(r"<strong[^>]*>%s</strong>" % re.escape(amount), page), amount
    assert 'name="viewport"' in page and "<script" not in page and "<img" not in page


@pytest.mark.skipif(shots.chromium() is None, reason="Debian chromium is not installed (.ci/run installs it)")
def test_every_customer_mail_fits_a_360_px_phone_screen_in_headless_chromium(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "mail_screenshots.py"), str(tmp_path)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    lines = [ln for ln in result.stdout.splitlines() if ln.strip()]
    assert len(lines) == len(MAILS) and all(ln.endswith(" 360 px") for ln in lines), lines
    pngs = list(tmp_path.glob("*.png"))
    assert len([p for p in pngs if not p.name.startswith("_")]) == len(MAILS)
    from PIL import Image
    with Image.open(tmp_path / "invoice.id.png") as im:
        assert im.size == (360, 800)
        low, high = im.convert("L").getextrema()
        assert high - low > 100                                  # a page was drawn, not a blank frame
