"""A footer naming the buyer and the invoice on every page of a delivered PDF; the original is untouched."""
from __future__ import annotations

import io
import logging
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError

from .fonts import MAIN_FAMILY, FontPDF, FontSet

log = logging.getLogger("mailbot")


def _overlay(text: str, width_pt: float, height_pt: float, font_dir: Path | str | None = None) -> bytes:
    pdf = FontPDF(unit="pt", format=(width_pt, height_pt), text=text, fonts=FontSet(font_dir))
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_font(MAIN_FAMILY, "", 7)
    pdf.set_text_color(110, 110, 110)
    pdf.set_xy(18, height_pt - 16)
    pdf.cell(width_pt - 36, 9, text, align="C")
    return bytes(pdf.output())


def stamp_pdf(data: bytes, text: str, font_dir: Path | str | None = None) -> bytes:
    """`data` with `text` at the foot of each page; a PDF that cannot be read is returned unchanged.

    `font_dir`: the `[storage] font_dir` setting (optional fonts for names in other scripts)."""
    try:
        if PdfReader(io.BytesIO(data)).is_encrypted:
            return data
        writer = PdfWriter(clone_from=io.BytesIO(data))
        overlays: dict[tuple[float, float], object] = {}
        for page in writer.pages:
            size = (float(page.mediabox.width), float(page.mediabox.height))
            if size not in overlays:
                overlays[size] = PdfReader(io.BytesIO(_overlay(text, *size, font_dir=font_dir))).pages[0]
            page.merge_page(overlays[size])
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        log.warning("action=stamp_skipped error=%s", exc)
        return data
