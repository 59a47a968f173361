"""The HTML form of a customer mail: the same words as the text part, laid out for a phone screen,
with the case number, the items and the amounts easy to find."""
from __future__ import annotations

import re
from html import escape

_REF = re.compile(r"\b((?:PUB|ADU)-\d{4}-\d{4,})\b")
_AMOUNT = re.compile(r"(Rp ?\d{1,3}(?:\.\d{3})*(?:,\d+)?)")
_URL = re.compile(r"(https?://[^\s<>\"]+[^\s<>\".,;:)])")
_EMAIL = re.compile(r"\b([\w.+-]+@[\w-]+(?:\.[\w-]+)+)\b")
_BULLET = re.compile(r"^\s*[-•]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*(\d+)[.)]\s+(.*)$")
_PAIR = re.compile(r"^\s*([^:]{1,24}?)\s*:\s+(\S.*)$")
# Where the signature starts: everything from this line on is the office's closing.
_CLOSING = re.compile(r"^(Hormat kami|Kind regards|Salam|Best regards),?\s*$")
_ITEM_SPLIT = re.compile(r"^(.*?)\s+[—=-]\s+(Rp ?[\d.,]+.*)$")

_FONT = "font-family:Arial,Helvetica,sans-serif"
_BOX = ("max-width:600px;margin:0 auto;padding:16px;background:#ffffff;color:#1f2933;font-size:16px;"
        "line-height:1.5;overflow-wrap:anywhere;word-wrap:break-word;" + _FONT)
_H1 = "font-size:18px;line-height:1.35;margin:0 0 16px 0;color:#0b3d91"
_P = "margin:0 0 14px 0"
_TABLE = "border-collapse:collapse;width:100%;margin:0 0 14px 0"
_TD_KEY = "padding:4px 8px 4px 0;vertical-align:top;color:#52606d;white-space:nowrap"
_TD_VAL = "padding:4px 0;vertical-align:top"
_LIST = "margin:0 0 14px 0;padding-left:22px"
_ITEM = "margin:0 0 8px 0"
_FOOT = "margin-top:20px;padding-top:12px;border-top:1px solid #d9e2ec;font-size:14px;color:#52606d"


def _inline(text: str) -> str:
    """Escape, then mark what a reader looks for: the case number, amounts, links and addresses."""
    out = escape(text, quote=False)
    out = _URL.sub(lambda m: f'<a href="{m.group(1)}" style="color:#0b5cad">{m.group(1)}</a>', out)
    out = _EMAIL.sub(lambda m: f'<a href="mailto:{m.group(1)}" style="color:#0b5cad">{m.group(1)}</a>', out)
    out = _REF.sub(r'<strong style="white-space:nowrap;background:#e8f0fe;padding:1px 4px;border-radius:3px">'
                   r"\1</strong>", out)
    return _AMOUNT.sub(r'<strong style="white-space:nowrap">\1</strong>', out)


def _list_item(text: str) -> str:
    """An item line "Title (48 pages x1) — Rp48.000": the amount on a line of its own, bold."""
    m = _ITEM_SPLIT.match(text)
    if m:
        return (f'<li style="{_ITEM}">{_inline(m.group(1))}<br>'
                f'<strong style="white-space:nowrap">{escape(m.group(2), quote=False)}</strong></li>')
    return f'<li style="{_ITEM}">{_inline(text)}</li>'


def _block(lines: list[str]) -> str:
    """One paragraph of the text: lists, tables of "label: value" lines (two or more in a row), and
    plain lines, in the order written."""
    pairs = [_PAIR.match(ln) for ln in lines]
    in_table = [bool(m) and ((i > 0 and pairs[i - 1]) or (i + 1 < len(lines) and pairs[i + 1]))
                for i, m in enumerate(pairs)]
    out, para, items, rows = [], [], [], []
    kind = ""

    def flush():
        if para:
            out.append(f'<p style="{_P}">' + "<br>".join(_inline(p) for p in para) + "</p>")
            para.clear()
        if items:
            style = _LIST if kind == "ul" else _LIST + ";list-style:none;padding-left:0"
            out.append(f'<{kind} style="{style}">' + "".join(_list_item(i) for i in items) + f"</{kind}>")
            items.clear()
        if rows:
            out.append(f'<table role="presentation" style="{_TABLE}">' + "".join(
                f'<tr><td style="{_TD_KEY}">{_inline(m.group(1))}</td><td style="{_TD_VAL}">'
                f"{_inline(m.group(2))}</td></tr>" for m in rows) + "</table>")
            rows.clear()

    for i, line in enumerate(lines):
        b, n = _BULLET.match(line), _NUMBERED.match(line)
        if b or n:
            new_kind = "ul" if b else "ol"
            if not items or new_kind != kind:
                flush()
            kind = new_kind
            # numbers stay words of the text (an <ol> would draw its own): the HTML says what the text says
            items.append(b.group(1) if b else f"{n.group(1)}. {n.group(2)}")
        elif items and line.startswith("   ") and line.strip():
            items[-1] += " " + line.strip()          # a wrapped continuation of the item above
        elif in_table[i]:
            if not rows:
                flush()
            rows.append(pairs[i])
        else:
            if items or rows:
                flush()
            para.append(line.strip())
    flush()
    return "".join(out)


def _blocks(text: str) -> str:
    chunks, current = [], []
    for line in text.splitlines():
        if line.strip():
            current.append(line)
        elif current:
            chunks.append(current)
            current = []
    if current:
        chunks.append(current)
    return "".join(_block(c) for c in chunks)


def to_html(subject: str, text: str) -> str:
    """A whole HTML document for the mail's text (one column, no images, no scripts)."""
    lines = text.splitlines()
    cut = next((i for i, ln in enumerate(lines) if _CLOSING.match(ln.strip())), len(lines))
    body, closing = "\n".join(lines[:cut]), "\n".join(lines[cut:])
    foot = f'<div style="{_FOOT}">{_blocks(closing)}</div>' if closing.strip() else ""
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(subject)}</title></head>\n"
            f'<body style="margin:0;padding:0;background:#f0f4f8">\n<div style="{_BOX}">\n'
            f'<h1 style="{_H1}">{_inline(subject)}</h1>\n{_blocks(body)}\n{foot}\n</div>\n</body></html>\n')
