"""Fonts: the package alone draws every Latin-script document; other scripts' fonts are optional,
used when installed, and reported (character, script, Debian package) when missing."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from fontTools.ttLib import TTFont

from mailbot.outbound import fonts as fonts_module
from mailbot.outbound.fonts import REPLACEMENT, FontPDF, FontSet, MissingGlyphs, glyph_report
from mailbot.outbound.formatting import format_rupiah
from mailbot.outbound.pdf import render_invoice_with_report, render_receipt_with_report
from test_pdf import LINES, embedded_fonts, invoice, receipt, text_of

NOTO = Path("/usr/share/fonts/truetype/noto")
VIETNAMESE = "Nguyễn Thị Minh Khai"


@pytest.fixture
def no_system_fonts(tmp_path, monkeypatch):
    """A machine without fonts-noto-core, fonts-droid-fallback, …: the system font directory is empty."""
    empty = tmp_path / "no-system-fonts"
    empty.mkdir()
    monkeypatch.setenv("MAILBOT_SYSTEM_FONT_DIRS", str(empty))
    return empty


def base_names(pdf: bytes) -> set[str]:
    return {name.split("+", 1)[1] for name in embedded_fonts(pdf)}


def _outline(font: TTFont, glyph_name: str) -> tuple:
    glyf = font["glyf"]
    coords, ends, _ = glyf[glyph_name].getCoordinates(glyf)
    return tuple(coords), tuple(ends)


def drawn_outlines(pdf: bytes, font_name: str) -> set[tuple]:
    """The outlines of the glyphs in the embedded subset of ``font_name`` (e.g. 'NotoSansBold').

    Outlines, not glyph names: fpdf2's subset may drop the names.
    """
    for name, (program, _) in embedded_fonts(pdf).items():
        if name.split("+", 1)[1] == font_name:
            return {_outline(program, g) for g in program.getGlyphOrder()}
    raise AssertionError(f"{font_name} not embedded; embedded: {sorted(embedded_fonts(pdf))}")


def shaped_and_nominal(font_path: Path, text: str) -> tuple[set[tuple], set[tuple]]:
    """Outlines of HarfBuzz's glyphs for ``text`` in that font, and of each character's own (cmap) glyph."""
    import uharfbuzz as hb

    font = hb.Font(hb.Face(hb.Blob.from_file_path(str(font_path))))
    buf = hb.Buffer()
    buf.add_str(text)
    buf.guess_segment_properties()
    hb.shape(font, buf, {})
    tt = TTFont(font_path)
    order = tt.getGlyphOrder()
    shaped = {_outline(tt, order[info.codepoint]) for info in buf.glyph_infos}
    cmap = tt.getBestCmap()
    nominal = {_outline(tt, cmap[ord(ch)]) for ch in text}
    blank = ((), ())
    return shaped - {blank}, nominal - {blank}


# --------------------------------------------------------------------------
# The packaged fonts alone


def test_latin_documents_render_with_the_packaged_fonts_alone(no_system_fonts):
    for rendered in (
        render_invoice_with_report(invoice(customer_name=VIETNAMESE)),
        render_receipt_with_report(receipt(customer_name=VIETNAMESE)),
    ):
        text = text_of(rendered.pdf)
        assert VIETNAMESE in text
        assert REPLACEMENT not in text
        assert rendered.report.missing == ()
        assert format_rupiah(128_700) in text
        assert "seratus dua puluh delapan ribu tujuh ratus rupiah" in text
        for line in LINES:
            assert format_rupiah(line.amount) in text
        # drawn by the packaged Noto Sans: every character of the name has a real glyph in it
        assert base_names(rendered.pdf) <= {"NotoSans", "NotoSansBold", "NotoSansItalic", "NotoSansBoldItalic"}
        covered = set().union(*(chars for _, chars in embedded_fonts(rendered.pdf).values()))
        assert set(VIETNAMESE.replace(" ", "")) <= covered


def test_a_decomposed_name_is_drawn_composed(no_system_fonts):
    import unicodedata

    decomposed = unicodedata.normalize("NFD", VIETNAMESE)
    assert decomposed != VIETNAMESE
    rendered = render_invoice_with_report(invoice(customer_name=decomposed))
    assert VIETNAMESE in text_of(rendered.pdf) and rendered.report.missing == ()


def test_only_the_styles_drawn_are_registered(no_system_fonts):
    pdf = FontPDF()
    pdf.add_page()
    pdf.set_font(fonts_module.MAIN_FAMILY, "B", 10)
    pdf.cell(0, 5, "Rp128.700")
    assert set(pdf.fonts) == {"bodyB"}
    assert base_names(bytes(pdf.output())) == {"NotoSansBold"}


# --------------------------------------------------------------------------
# Scripts without a font


def test_names_without_a_font_still_make_the_document_and_are_reported(no_system_fonts):
    arabic, hangul = "محمد", "김민준"
    name = f"{arabic} {hangul}"
    for rendered in (
        render_invoice_with_report(invoice(customer_name=name)),
        render_receipt_with_report(receipt(customer_name=name)),
    ):
        text = text_of(rendered.pdf)
        assert "Rp128.700" in text and "seratus dua puluh delapan ribu tujuh ratus rupiah" in text
        # each character without a glyph is drawn as U+FFFD, one for one
        assert REPLACEMENT * len(arabic) in text and REPLACEMENT * len(hangul) in text
        assert not set(name) - {" "} & set(text)
        assert rendered.report.missing == (
            MissingGlyphs("محد", "Arabic", ("fonts-noto-core", "fonts-dejavu-core")),  # distinct characters
            MissingGlyphs(hangul, "Hangul", ("fonts-nanum", "fonts-noto-cjk")),
        )
        assert rendered.report.chars == "محد" + hangul
        assert rendered.report.debian_packages == ("fonts-noto-core", "fonts-nanum")
        assert rendered.report.missing[1].debian_package == "fonts-nanum"


def test_cjk_and_other_scripts_are_reported_with_their_package(no_system_fonts):
    report = render_invoice_with_report(invoice(customer_name="李小龙 ꦧꦸꦝꦶ ᠮᠣᠩ ★ 🙂")).report
    assert report.missing == (
        MissingGlyphs("李小龙", "CJK", ("fonts-noto-cjk", "fonts-droid-fallback")),
        MissingGlyphs("ꦧꦸꦝꦶ", "Javanese", ("fonts-noto-core",)),
        # scripts mailbot has no font for: named, no package to suggest
        MissingGlyphs("ᠮᠣᠩ", "Mongolian", ()),
        MissingGlyphs("★", "Symbols", ("fonts-dejavu-core",)),
        MissingGlyphs("🙂", "Other symbols", ()),
    )


def test_glyph_report_checks_a_name_without_rendering(no_system_fonts):
    assert glyph_report(VIETNAMESE, "Σωκράτης", "Дмитрий").missing == ()
    assert glyph_report("김민준 محمد").missing == (
        MissingGlyphs("김민준", "Hangul", ("fonts-nanum", "fonts-noto-cjk")),
        MissingGlyphs("محد", "Arabic", ("fonts-noto-core", "fonts-dejavu-core")),
    )


# --------------------------------------------------------------------------
# Optional fonts, when present


needs_noto = pytest.mark.skipif(not (NOTO / "NotoSansDevanagari-Bold.ttf").is_file(),
                                reason="fonts-noto-core not installed")


@needs_noto
def test_optional_fonts_draw_other_scripts_shaped(monkeypatch):
    monkeypatch.setenv("MAILBOT_SYSTEM_FONT_DIRS", str(NOTO))
    name = "राहुल शर्मा"
    rendered = render_invoice_with_report(invoice(customer_name=name))
    assert rendered.report.missing == ()
    assert name in text_of(rendered.pdf)
    shaped, nominal = shaped_and_nominal(NOTO / "NotoSansDevanagari-Bold.ttf", name)
    assert nominal - shaped  # the precondition: this name needs shaping (reph, ligature)
    drawn = drawn_outlines(rendered.pdf, "NotoSansDevanagariBold")
    assert shaped <= drawn and not (nominal - shaped) & drawn


DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


@pytest.mark.parametrize("font_dir, font_file, embedded_as", [
    (NOTO, "NotoSansArabic-Bold.ttf", "NotoSansArabicBold"),  # fonts-noto-core
    (DEJAVU, "DejaVuSans-Bold.ttf", "DejaVuSansBold"),  # fonts-dejavu-core alone also draws Arabic
])
def test_arabic_is_drawn_shaped_when_a_font_is_installed(font_dir, font_file, embedded_as, monkeypatch):
    if not (font_dir / font_file).is_file():
        pytest.skip(f"{font_dir / font_file} not installed")
    monkeypatch.setenv("MAILBOT_SYSTEM_FONT_DIRS", str(font_dir))
    name = "محمد"
    rendered = render_invoice_with_report(invoice(customer_name=name))
    assert rendered.report.missing == () and name in text_of(rendered.pdf)
    shaped, nominal = shaped_and_nominal(font_dir / font_file, name)
    assert nominal - shaped  # the precondition: joined forms (initial, medial, final) differ
    drawn = drawn_outlines(rendered.pdf, embedded_as)
    assert shaped <= drawn and not (nominal - shaped) & drawn


@needs_noto
def test_glyph_report_counts_installed_optional_fonts(monkeypatch):
    monkeypatch.setenv("MAILBOT_SYSTEM_FONT_DIRS", str(NOTO))
    assert glyph_report("राहुल", "محمد").missing == ()
    assert [m.script for m in glyph_report("김민준").missing] == ["Hangul"]


@needs_noto
def test_the_configured_font_dir_is_searched(no_system_fonts, tmp_path):
    thai = "สมชาย ใจดี"
    missing = render_invoice_with_report(invoice(customer_name=thai))
    assert [(m.script, m.debian_packages) for m in missing.report.missing] == [("Thai", ("fonts-noto-core",))]
    font_dir = tmp_path / "fonts"
    font_dir.mkdir()
    for style in ("Regular", "Bold"):
        shutil.copy(NOTO / f"NotoSansThai-{style}.ttf", font_dir)
    found = render_invoice_with_report(invoice(customer_name=thai), font_dir=font_dir)
    assert found.report.missing == ()
    assert thai in text_of(found.pdf)
    assert "NotoSansThaiBold" in base_names(found.pdf)


DROID = Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf")


@pytest.mark.skipif(not DROID.is_file() or not (NOTO / "NotoSansThai-Regular.ttf").is_file(),
                    reason="fonts-droid-fallback or fonts-noto-core not installed")
def test_a_font_collection_is_read_at_its_index(no_system_fonts, tmp_path):
    """fonts-noto-cjk ships .ttc collections: the face at the candidate's index is the one used."""
    from fontTools.ttLib import TTCollection

    font_dir = tmp_path / "fonts"
    font_dir.mkdir()
    collection = TTCollection()
    collection.fonts = [TTFont(DROID), TTFont(NOTO / "NotoSansThai-Regular.ttf")]
    collection.save(font_dir / "NotoSansCJK-Regular.ttc")
    rendered = render_invoice_with_report(invoice(customer_name="李小龙 สมชาย"), font_dir=font_dir)
    assert "李小龙" in text_of(rendered.pdf)
    # index 0 (the CJK face) draws Han; the Thai face at index 1 is not looked at
    assert [(m.chars, m.script) for m in rendered.report.missing] == [("สมชาย", "Thai")]
    assert "DroidSansFallback" in base_names(rendered.pdf)


@needs_noto
def test_system_font_dirs_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MAILBOT_SYSTEM_FONT_DIRS", f"{tmp_path}:{NOTO}")
    assert FontSet().dirs == (tmp_path, NOTO)
    assert render_invoice_with_report(invoice(customer_name="राहुल")).report.missing == ()
    monkeypatch.setenv("MAILBOT_SYSTEM_FONT_DIRS", "")
    assert FontSet().dirs == ()
    monkeypatch.delenv("MAILBOT_SYSTEM_FONT_DIRS")
    assert FontSet("/srv/fonts").dirs[0] == Path("/srv/fonts") and NOTO in FontSet().dirs


# --------------------------------------------------------------------------
# No font question raises out of rendering


@needs_noto
def test_a_broken_optional_font_is_skipped(no_system_fonts, tmp_path):
    font_dir = tmp_path / "fonts"
    font_dir.mkdir()
    (font_dir / "NanumGothic.ttf").write_bytes((NOTO / "NotoSansThai-Regular.ttf").read_bytes()[:2000])  # cut short
    rendered = render_invoice_with_report(invoice(customer_name="김민준"), font_dir=font_dir)
    assert rendered.report.missing == (MissingGlyphs("김민준", "Hangul", ("fonts-nanum", "fonts-noto-cjk")),)
    text = text_of(rendered.pdf)
    assert "Rp128.700" in text and REPLACEMENT * 3 in text


def test_without_the_packaged_fonts_a_document_is_still_made(no_system_fonts, tmp_path, monkeypatch):
    monkeypatch.setattr(fonts_module, "PACKAGED_FONT_DIR", tmp_path / "gone")
    assert fonts_module.packaged_font_problems()  # `mailbot check` fails on such an install
    rendered = render_invoice_with_report(invoice(customer_name=VIETNAMESE))
    text = text_of(rendered.pdf)
    assert "Rp128.700" in text and "Nguy?n Th? Minh Khai" in text
    assert rendered.report.replacement == "?" and rendered.report.chars == "ễị"


# --------------------------------------------------------------------------
# mailbot check


def test_check_warns_about_missing_optional_fonts_without_failing(no_system_fonts, capsys, monkeypatch):
    from mailbot.cli import checks

    monkeypatch.setattr(checks, "CHECKS", (checks.check_templates, checks.check_fonts))
    cfg = SimpleNamespace(templates_dir=None, storage=SimpleNamespace(font_dir=None))
    assert checks.run_checks(cfg, datetime(2026, 12, 1)) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("PASS  templates ")
    assert out[1].startswith("WARN  fonts     packaged Noto Sans") and "no font for " in out[1]
    for script, package in [("Devanagari", "fonts-noto-core"), ("Hangul", "fonts-nanum"), ("CJK", "fonts-noto-cjk")]:
        assert script in out[1] and package in out[1]
    assert out[2] == "2 of 2 checks passed; warning: fonts"


@needs_noto
def test_check_counts_fonts_in_the_configured_font_dir(no_system_fonts, tmp_path, capsys, monkeypatch):
    from mailbot.cli import checks

    font_dir = tmp_path / "fonts"
    font_dir.mkdir()
    shutil.copy(NOTO / "NotoSansThai-Regular.ttf", font_dir)
    result = checks.check_fonts(SimpleNamespace(templates_dir=None, storage=SimpleNamespace(font_dir=font_dir)),
                                datetime(2026, 12, 1))
    assert result.ok and result.warn
    missing = result.detail.split("no font for ")[1]
    assert "Thai" not in missing and "Devanagari" in missing


def test_check_fails_when_the_packaged_fonts_are_broken(tmp_path, monkeypatch):
    from mailbot.cli import checks

    monkeypatch.setattr(fonts_module, "PACKAGED_FONT_DIR", tmp_path)
    result = checks.check_fonts(SimpleNamespace(templates_dir=None, storage=SimpleNamespace(font_dir=None)),
                                datetime(2026, 12, 1))
    assert not result.ok and "NotoSans-Regular.ttf missing" in result.detail
