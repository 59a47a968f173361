"""Invoice and receipt (kuitansi) PDFs with fpdf2; wording and layout come from templates/*.toml."""

from __future__ import annotations

import string
import threading
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from fpdf.enums import Align, XPos, YPos

from mailbot.outbound.documents import DocLine, InvoiceDocument, Office, ReceiptDocument
from mailbot.outbound.fonts import MAIN_FAMILY, FontPDF, FontSet, RenderReport
from mailbot.outbound.formatting import thousands, format_rupiah, tanggal
from mailbot.outbound.terbilang import terbilang

INVOICE_TEMPLATE = "invoice.toml"
RECEIPT_TEMPLATE = "kuitansi.toml"
_DEV_TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
_WIB = timezone(timedelta(hours=7))


class TemplateError(ValueError):
    """A document template is missing, unreadable, or lacks a key or placeholder."""


# --------------------------------------------------------------------------
# Templates


def template_path(name: str, override_dir: Path | str | None = None) -> Path:
    """Where template ``name`` is read from: ``override_dir`` first, then the packaged templates."""
    candidates: list[Path] = []
    if override_dir is not None:
        candidates.append(Path(override_dir) / name)
    try:
        candidates.append(Path(str(resources.files("mailbot.templates").joinpath(name))))
    except (ModuleNotFoundError, TypeError):
        pass  # not installed: the source tree's templates/ below
    candidates.append(_DEV_TEMPLATES / name)
    for path in candidates:
        if path.is_file():
            return path
    raise TemplateError(f"template {name!r} not found in: " + ", ".join(str(p.parent) for p in candidates))


_cache: dict[Path, tuple[float, dict[str, Any]]] = {}
_cache_lock = threading.Lock()


def load_template(name: str, override_dir: Path | str | None = None) -> "Template":
    """The parsed template; re-read when its file changes, so office edits apply without a restart."""
    path = template_path(name, override_dir)
    mtime = path.stat().st_mtime
    with _cache_lock:
        hit = _cache.get(path)
    if hit is None or hit[0] != mtime:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise TemplateError(f"{path}: {exc}") from exc
        hit = (mtime, data)
        with _cache_lock:
            _cache[path] = hit
    return Template(path, hit[1])


class Template:
    """Dotted-key access to a template with errors that name the file and key."""

    def __init__(self, path: Path, data: dict[str, Any]):
        self.path = path
        self.data = data

    def raw(self, key: str) -> Any:
        node: Any = self.data
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                raise TemplateError(f"{self.path}: key {key!r} is missing")
            node = node[part]
        return node

    def num(self, key: str) -> float:
        value = self.raw(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TemplateError(f"{self.path}: {key!r} must be a number")
        return float(value)

    def text(self, key: str, values: Mapping[str, str]) -> str:
        pattern = self.raw(key)
        if not isinstance(pattern, str):
            raise TemplateError(f"{self.path}: {key!r} must be text")
        return fill(pattern, values, f"{self.path}: {key!r}")

    def columns(self) -> list[dict[str, Any]]:
        cols = self.raw("columns")
        known = {"no", "katalog", "judul", "halaman", "qty", "rate", "amount"}
        if not isinstance(cols, list) or not cols:
            raise TemplateError(f"{self.path}: [[columns]] must list at least one column")
        for c in cols:
            if c.get("key") not in known or not isinstance(c.get("width"), (int, float)):
                raise TemplateError(f"{self.path}: column {c!r} needs key (one of {sorted(known)}) and width")
        return cols


def fill(pattern: str, values: Mapping[str, str], where: str = "template") -> str:
    """``pattern`` with its {placeholders} replaced; an unknown placeholder is a TemplateError."""
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(pattern) if f is not None]
    except ValueError as exc:
        raise TemplateError(f"{where}: {exc}") from exc
    unknown = [f for f in fields if f not in values]
    if unknown:
        raise TemplateError(f"{where}: unknown placeholder {{{unknown[0]}}}; known: {', '.join(sorted(values))}")
    if any(not f.isidentifier() for f in fields):
        raise TemplateError(f"{where}: placeholders must be plain names")
    # A " · "-separated part whose placeholders are all empty is left out ("Telepon  · Email x" -> "Email x").
    parts = pattern.split(" · ")
    if len(parts) > 1:
        kept = [p for p in parts if not _placeholders(p) or any(str(values[f]).strip() for f in _placeholders(p))]
        pattern = " · ".join(kept)
    return pattern.format_map(values)


def _placeholders(pattern: str) -> list[str]:
    return [f for _, f, _, _ in string.Formatter().parse(pattern) if f]


# --------------------------------------------------------------------------
# Page scaffolding shared by both documents


class _DocPDF(FontPDF):
    footer_text: Callable[[int], str] | None = None
    footer_size = 7.5

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._widths: dict[tuple[str, str, float, str], float] = {}

    def multi_cell(  # type: ignore[override]
        self, w, h=None, text="", border=0, align="J", fill=False, *, new_x=XPos.RIGHT, new_y=YPos.NEXT, **kwargs
    ):
        """multi_cell for plain text, wrapped word by word and drawn with cell().

        fpdf2's own line breaker re-measures the line for every character (quadratic);
        it is still used for shaped (RTL, Indic) text, borders, fills and words longer than a line.
        """
        width = w if w else self.w - self.r_margin - self.x
        lines = None
        if not kwargs and not border and not fill and not self.text_shaping and h:
            lines = self._wrap(text, width)
        if lines is None:
            return super().multi_cell(w, h, text, border, align, fill, new_x=new_x, new_y=new_y, **kwargs)
        align = Align.coerce(align)
        if align == Align.J:
            align = Align.L  # the office texts are set ragged-right
        x0, y0, page0 = self.x, self.y, self.page
        for line in lines:
            self.cell(width, h, line, align=align, new_x=XPos.LEFT, new_y=YPos.NEXT)
        if new_x == XPos.LMARGIN:
            self.x = self.l_margin
        elif new_x in (XPos.RIGHT, XPos.END):
            self.x = x0 + width
        else:
            self.x = x0
        if new_y == YPos.TOP and self.page == page0:
            self.y = y0
        return None

    def _wrap(self, text: str, width: float) -> list[str] | None:
        """Greedy word wrap of ``text`` into ``width``; None when a word alone is too wide."""
        avail = width - 2 * self.c_margin
        space = self._width(" ")
        lines: list[str] = []
        for paragraph in text.split("\n"):
            current, current_w = "", 0.0
            for word in paragraph.split(" "):
                word_w = self._width(word)
                if word_w > avail:
                    return None
                if current and current_w + space + word_w <= avail:
                    current, current_w = current + " " + word, current_w + space + word_w
                elif not current:
                    current, current_w = word, word_w
                else:
                    lines.append(current)
                    current, current_w = word, word_w
            lines.append(current)
        return lines

    def _width(self, text: str) -> float:
        """get_string_width, remembered per font, style and size (table cells repeat their words)."""
        key = (self.font_family, self.font_style, self.font_size_pt, text)
        width = self._widths.get(key)
        if width is None:
            width = self._widths[key] = self.get_string_width(text)
        return width

    def line_count(self, width: float, text: str, line_h: float) -> int:
        """How many lines ``text`` takes in a multi_cell of ``width``."""
        lines = None if self.text_shaping else self._wrap(text, width)
        if lines is not None:
            return len(lines)
        return len(super().multi_cell(width, line_h, text, dry_run=True, output="LINES"))

    def footer(self) -> None:
        if self.footer_text is None:
            return
        self.set_y(-12)
        self.set_font(MAIN_FAMILY, "", self.footer_size)
        self.set_text_color(110)
        self.cell(0, 4, self.footer_text(self.page_no()), align="C")
        self.set_text_color(0)


class _Writer:
    """Layout helpers over one _DocPDF with the template's sizes."""

    def __init__(self, pdf: _DocPDF, tpl: Template, values: dict[str, str]):
        self.pdf = pdf
        self.tpl = tpl
        self.values = values
        self.size = tpl.num("layout.font_size")
        self.small = tpl.num("layout.small_size")
        self.lh = tpl.num("layout.line_mm")

    def t(self, key: str, **extra: str) -> str:
        return self.tpl.text(key, {**self.values, **extra} if extra else self.values)

    def font(self, style: str = "", size: float | None = None) -> None:
        self.pdf.set_font(MAIN_FAMILY, style, size or self.size)

    def para(
        self, text: str, style: str = "", size: float | None = None, align: str = "L", h: float | None = None
    ) -> None:
        self.font(style, size)
        self.pdf.multi_cell(0, h or self.lh, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def gap(self, mm: float) -> None:
        self.pdf.ln(mm)

    def keep(self, height: float) -> None:
        """Start a new page unless ``height`` mm still fit on this one."""
        if self.pdf.get_y() + height > self.pdf.page_break_trigger:
            self.pdf.add_page()

    def letterhead(self, office: Office) -> None:
        pdf = self.pdf
        top = pdf.get_y()
        logo_w = self.tpl.num("layout.logo_width_mm")
        logo = Path(office.logo_path) if office.logo_path else None
        has_logo = logo is not None and logo.is_file()
        if has_logo:
            pdf.image(str(logo), x=pdf.l_margin, y=top, w=logo_w)
        text_x = pdf.l_margin + (logo_w + 3 if has_logo else 0)
        width = pdf.w - pdf.r_margin - text_x
        pdf.set_xy(text_x, top + (1 if has_logo else 0))
        self.font("B", self.tpl.num("layout.letterhead_size"))
        pdf.multi_cell(width, self.lh + 1, office.name.upper(), align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
        self.font("", self.small)
        pdf.multi_cell(width, self.lh - 0.8, office.address, align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.multi_cell(width, self.lh - 0.8, self.t("letterhead.contact"), align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
        bottom = max(pdf.get_y(), top + (logo_w if has_logo else 0)) + 2
        pdf.set_line_width(0.7)
        pdf.line(pdf.l_margin, bottom, pdf.w - pdf.r_margin, bottom)
        pdf.set_line_width(0.2)
        pdf.line(pdf.l_margin, bottom + 1, pdf.w - pdf.r_margin, bottom + 1)
        pdf.set_xy(pdf.l_margin, bottom + 5)

    def title(self) -> None:
        self.font("B", self.tpl.num("layout.title_size"))
        self.pdf.cell(0, 8, self.t("labels.title"), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.font("", self.size)
        self.pdf.cell(0, self.lh, self.t("labels.number"), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.gap(5)

    def lines_table(self, lines: Sequence[DocLine], total_label: str, total: int) -> None:
        """The table of publications with its header (repeated after a page break) and total row."""
        pdf = self.pdf
        cols = self.tpl.columns()
        scale = pdf.epw / sum(float(c["width"]) for c in cols)
        widths = [float(c["width"]) * scale for c in cols]
        aligns = [str(c.get("align", "L")).upper() for c in cols]
        size = self.tpl.num("layout.table_font_size")
        lh = self.lh * size / self.size
        pad = 1.0

        def draw_row(
            texts: Sequence[str], row_aligns: Sequence[str], spans: Sequence[float], style: str, fill: bool
        ) -> None:
            self.font(style, size)
            heights = [pdf.line_count(w, t, lh) for w, t in zip(spans, texts)]
            row_h = max(heights) * lh + 2 * pad
            if pdf.get_y() + row_h > pdf.page_break_trigger and not fill:
                pdf.add_page()
                draw_header()
                self.font(style, size)
            x, y = pdf.l_margin, pdf.get_y()
            if fill:
                pdf.set_fill_color(225, 230, 238)
            for w, text, align in zip(spans, texts, row_aligns):
                pdf.rect(x, y, w, row_h, style="DF" if fill else "D")
                pdf.set_xy(x, y + pad)
                pdf.multi_cell(w, lh, text, align=align, new_x=XPos.RIGHT, new_y=YPos.TOP)
                x += w
            pdf.set_xy(pdf.l_margin, y + row_h)

        def draw_header() -> None:
            draw_row([str(c.get("label", "")) for c in cols], ["C"] * len(cols), widths, "B", True)

        pdf.set_line_width(0.2)
        self.keep(4 * lh + 4 * pad)  # never a lone header at the foot of a page
        draw_header()
        for n, line in enumerate(lines, start=1):
            draw_row([_cell_value(c["key"], n, line) for c in cols], aligns, widths, "", False)
        draw_row([total_label, format_rupiah(total)], ["R", "R"], [sum(widths[:-1]), widths[-1]], "B", False)
        self.gap(1.5)

    def key_values(self, rows: Sequence[tuple[str, str]], x: float, label_w: float, bold_values: bool = False) -> None:
        pdf = self.pdf
        value_w = pdf.w - pdf.r_margin - x - label_w - 3
        for label, value in rows:
            pdf.set_x(x)
            self.font("", self.size)
            pdf.cell(label_w, self.lh, label)
            pdf.cell(3, self.lh, ":")
            self.font("B" if bold_values else "", self.size)
            pdf.multi_cell(value_w, self.lh, value, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def signature(self, office: Office) -> None:
        pdf = self.pdf
        space = self.tpl.num("layout.signature_space_mm")
        self.keep(space + 5 * self.lh + 4)
        x = pdf.l_margin + pdf.epw * 0.55
        w = pdf.w - pdf.r_margin - x
        self.gap(4)
        self.font("", self.size)
        for text in (self.t("closing.place_date"), office.signatory_title):
            pdf.set_x(x)
            pdf.multi_cell(w, self.lh, text, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.gap(space)
        pdf.set_x(x)
        self.font("BU", self.size)
        pdf.multi_cell(w, self.lh, office.signatory, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_x(x)
        self.font("", self.size)
        nip = self.t("closing.nip", nip=office.nip)
        pdf.multi_cell(w, self.lh, nip, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _cell_value(key: str, n: int, line: DocLine) -> str:
    return {
        "no": lambda: str(n),
        "katalog": lambda: line.katalog,
        "judul": lambda: line.judul,
        "halaman": lambda: thousands(line.halaman),
        "qty": lambda: thousands(line.qty),
        "rate": lambda: format_rupiah(line.rate),
        "amount": lambda: format_rupiah(line.amount),
    }[key]()


def _new_pdf(
    tpl: Template,
    values: dict[str, str],
    texts: Sequence[str],
    title: str,
    office: Office,
    issued: date,
    fonts: FontSet,
) -> _DocPDF:
    # Every string that may be drawn decides whether text shaping is needed.
    every_text = "".join(texts) + "".join(str(v) for v in values.values()) + _template_text(tpl)
    pdf = _DocPDF(orientation="P", unit="mm", format="A4", fonts=fonts, text=every_text)
    margin = tpl.num("layout.margin_mm")
    pdf.set_margins(margin, tpl.num("layout.top_mm"), margin)
    pdf.set_auto_page_break(True, margin=16)
    pdf.set_title(title)
    pdf.set_author(office.name)
    pdf.set_creator("mailbot")
    pdf.set_creation_date(datetime(issued.year, issued.month, issued.day, tzinfo=_WIB))
    pdf.set_lang("id")
    footer = tpl.raw("closing.footer")
    where = f"{tpl.path}: 'closing.footer'"
    pdf.footer_text = lambda page: fill(footer, {**values, "page": str(page), "pages": "{nb}"}, where)
    pdf.add_page()
    return pdf


def _template_text(tpl: Template) -> str:
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, dict):
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(tpl.data)
    return "".join(out)


def _office_values(office: Office) -> dict[str, str]:
    return {
        "office_name": office.name,
        "office_city": office.city,
        "office_phone": office.phone,
        "office_email": office.email,
    }


def _check_lines(lines: Sequence[DocLine], total: int) -> None:
    if sum(line.amount for line in lines) != total:
        raise ValueError(f"lines add up to {sum(l.amount for l in lines)}, total says {total}")


# --------------------------------------------------------------------------
# Invoice


@dataclass(frozen=True)
class RenderedDocument:
    """A rendered PDF and what its fonts could not draw."""

    pdf: bytes
    report: RenderReport


def render_invoice(
    doc: InvoiceDocument,
    template_dir: Path | str | None = None,
    *,
    font_dir: Path | str | None = None,
    fonts: FontSet | None = None,
) -> bytes:
    """The invoice as PDF bytes (A4); see render_invoice_with_report."""
    return render_invoice_with_report(doc, template_dir, font_dir=font_dir, fonts=fonts).pdf


def render_invoice_with_report(
    doc: InvoiceDocument,
    template_dir: Path | str | None = None,
    *,
    font_dir: Path | str | None = None,
    fonts: FontSet | None = None,
) -> RenderedDocument:
    """The invoice (A4) and the report of characters no font could draw (drawn as U+FFFD).

    ``font_dir``: the ``[storage] font_dir`` setting, searched for optional fonts before the
    system font directories; ``fonts`` overrides both.
    """
    _check_lines(doc.lines, doc.total)
    if not doc.billing_code and not (doc.bank and doc.account_number):
        raise ValueError("an invoice needs a SIMPONI billing code or a bank account to pay into")
    if doc.billing_code and doc.billing_expires is None:
        raise ValueError("a SIMPONI billing code needs its expiry date")
    tpl = load_template(INVOICE_TEMPLATE, template_dir)
    values = {
        **_office_values(doc.office),
        "number": doc.number,
        "issued": tanggal(doc.issued),
        "case_ref": doc.case_ref,
        "valid_until": tanggal(doc.valid_until),
        "total": format_rupiah(doc.total),
        "terbilang": terbilang(doc.total),
        "customer_name": doc.customer_name,
        "customer_email": doc.customer_email,
        "bank": doc.bank or "",
        "account_number": doc.account_number or "",
        "account_name": doc.account_name or "",
        "billing_code": doc.billing_code or "",
        "billing_expires": tanggal(doc.billing_expires) if doc.billing_expires else "",
        "regulation": doc.regulation,
    }
    texts = [doc.customer_name, doc.customer_address, doc.office.address, doc.office.signatory,
             doc.office.signatory_title, doc.office.nip] + [l.judul + l.katalog for l in doc.lines]
    pdf = _new_pdf(tpl, values, texts, f"Invoice {doc.number}", doc.office, doc.issued, fonts or FontSet(font_dir))
    w = _Writer(pdf, tpl, values)
    w.letterhead(doc.office)
    w.title()

    # Customer on the left, invoice facts on the right.
    top = pdf.get_y()
    left_w = pdf.epw * 0.56
    w.font("", w.size)
    pdf.cell(left_w, w.lh, w.t("labels.to"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    w.font("B", w.size)
    pdf.multi_cell(left_w - 4, w.lh, doc.customer_name, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    w.font("", w.size)
    if doc.customer_address:
        pdf.multi_cell(left_w - 4, w.lh, doc.customer_address, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if doc.customer_email:
        pdf.multi_cell(left_w - 4, w.lh, w.t("labels.email"), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    left_bottom = pdf.get_y()
    pdf.set_y(top)
    w.key_values(
        [
            (w.t("labels.issued"), values["issued"]),
            (w.t("labels.case_ref"), doc.case_ref),
            (w.t("labels.valid_until"), values["valid_until"]),
        ],
        x=pdf.l_margin + left_w,
        label_w=28,
    )
    pdf.set_y(max(left_bottom, pdf.get_y()) + 4)

    w.lines_table(doc.lines, w.t("labels.total"), doc.total)
    w.para(w.t("labels.terbilang"), style="I")
    w.gap(4)

    # Payment instructions in a light box.
    w.keep(9 * w.lh)
    w.font("B", w.size)
    pdf.cell(0, w.lh + 1, w.t("payment.heading"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    box_top, box_page = pdf.get_y(), pdf.page_no()
    inner = pdf.l_margin + 3
    pdf.set_left_margin(inner)
    pdf.set_right_margin(pdf.r_margin + 3)
    pdf.ln(2)
    if doc.billing_code:
        w.para(w.t("payment.billing_intro"))
        w.key_values(
            [
                (w.t("payment.billing_code"), doc.billing_code),
                (w.t("payment.billing_expires"), values["billing_expires"]),
            ],
            x=inner, label_w=48, bold_values=True,
        )
        w.gap(1)
        w.para(w.t("payment.billing_note"), size=w.small, h=w.lh - 0.6)
    else:
        w.para(w.t("payment.bank_intro"))
        w.key_values(
            [
                (w.t("payment.bank"), doc.bank or ""),
                (w.t("payment.account_number"), doc.account_number or ""),
                (w.t("payment.account_name"), doc.account_name or ""),
            ],
            x=inner, label_w=30, bold_values=True,
        )
        w.gap(1)
        w.para(w.t("payment.berita"), style="B", size=w.small, h=w.lh - 0.6)
    w.para(w.t("payment.proof"), size=w.small, h=w.lh - 0.6)
    pdf.ln(2)
    margin = tpl.num("layout.margin_mm")
    pdf.set_left_margin(margin)
    pdf.set_right_margin(margin)
    if pdf.page_no() == box_page:  # no frame when the box broke across pages
        pdf.set_draw_color(150)
        pdf.set_line_width(0.3)
        pdf.rect(margin, box_top, pdf.epw, pdf.get_y() - box_top)
        pdf.set_draw_color(0)
    pdf.set_x(margin)
    w.gap(3)
    w.para(w.t("closing.validity"), style="B")
    w.para(w.t("closing.regulation"), size=w.small)
    w.signature(doc.office)
    return RenderedDocument(bytes(pdf.output()), pdf.font_report())


# --------------------------------------------------------------------------
# Receipt (kuitansi)


def render_receipt(
    doc: ReceiptDocument,
    template_dir: Path | str | None = None,
    *,
    font_dir: Path | str | None = None,
    fonts: FontSet | None = None,
) -> bytes:
    """The receipt (kuitansi) as PDF bytes (A4); see render_receipt_with_report."""
    return render_receipt_with_report(doc, template_dir, font_dir=font_dir, fonts=fonts).pdf


def render_receipt_with_report(
    doc: ReceiptDocument,
    template_dir: Path | str | None = None,
    *,
    font_dir: Path | str | None = None,
    fonts: FontSet | None = None,
) -> RenderedDocument:
    """The receipt (kuitansi, A4; ``total`` 0 renders the zero-tariff variant) and its font report."""
    _check_lines(doc.lines, doc.total)
    zero = doc.total == 0
    if zero and not doc.zero_reason:
        raise ValueError("a zero-rupiah receipt needs its zero_reason")
    tpl = load_template(RECEIPT_TEMPLATE, template_dir)
    values = {
        **_office_values(doc.office),
        "number": doc.number,
        "issued": tanggal(doc.issued),
        "case_ref": doc.case_ref,
        "invoice_number": doc.invoice_number or "",
        "total": format_rupiah(doc.total),
        "terbilang": terbilang(doc.total),
        "customer_name": doc.customer_name,
        "paid_on": tanggal(doc.paid_on) if doc.paid_on else "",
        "zero_reason": doc.zero_reason or "",
        "regulation": doc.regulation,
    }
    texts = [doc.customer_name, doc.customer_address, doc.office.address, doc.office.signatory,
             doc.office.signatory_title, doc.office.nip] + [l.judul + l.katalog for l in doc.lines]
    pdf = _new_pdf(tpl, values, texts, f"Kuitansi {doc.number}", doc.office, doc.issued, fonts or FontSet(font_dir))
    w = _Writer(pdf, tpl, values)
    w.letterhead(doc.office)
    w.title()

    label_w = tpl.num("layout.label_width_mm")
    x_value = pdf.l_margin + label_w + 4
    value_w = pdf.w - pdf.r_margin - x_value

    def row(label: str, render: Callable[[], None]) -> None:
        y = pdf.get_y()
        w.font("", w.size)
        pdf.cell(label_w, w.lh + 0.6, label)
        pdf.cell(4, w.lh + 0.6, ":")
        pdf.set_xy(x_value, y)
        render()
        pdf.set_x(pdf.l_margin)
        w.gap(2)

    def value(text: str, style: str = "") -> Callable[[], None]:
        def draw() -> None:
            w.font(style, w.size)
            pdf.multi_cell(value_w, w.lh + 0.6, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        return draw

    def customer() -> None:
        w.font("B", w.size)
        pdf.multi_cell(value_w, w.lh + 0.6, doc.customer_name, align="L", new_x=XPos.LEFT, new_y=YPos.NEXT)
        if doc.customer_address:
            w.font("", w.size)
            pdf.multi_cell(value_w, w.lh, doc.customer_address, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    row(w.t("labels.received_from"), customer)
    row(w.t("labels.amount_words"), value(terbilang(doc.total), "BI"))
    if zero:
        purpose = w.t("labels.zero_purpose")
    elif doc.invoice_number:
        purpose = w.t("labels.purpose")
    else:
        purpose = w.t("labels.purpose_no_invoice")
    row(w.t("labels.for_payment"), value(purpose))
    w.lines_table(doc.lines, w.t("labels.total"), doc.total)
    if zero:
        w.para(w.t("labels.zero"), style="B")
    elif doc.paid_on:
        w.para(w.t("labels.paid_on"))
    w.para(w.t("closing.regulation"), size=w.small)

    # The amount box on the left, at the height of the signature block.
    w.keep(tpl.num("layout.signature_space_mm") + 5 * w.lh + 8)
    y = pdf.get_y() + 4 + w.lh * 2
    w.font("B", w.tpl.num("layout.title_size") - 2)
    pdf.set_xy(pdf.l_margin, y)
    pdf.set_fill_color(235, 238, 243)
    pdf.set_line_width(0.5)
    pdf.cell(pdf.epw * 0.4, 11, w.t("labels.amount_box"), border=1, align="C", fill=True)
    pdf.set_line_width(0.2)
    pdf.set_xy(pdf.l_margin, y - 4 - w.lh * 2)
    w.signature(doc.office)
    return RenderedDocument(bytes(pdf.output()), pdf.font_report())
