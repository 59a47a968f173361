"""HTML mail body to readable plain text (stdlib html.parser), with quoted history as `> ` lines."""
from __future__ import annotations

import re
from html.parser import HTMLParser

# Elements whose content is never shown.
_SKIP = frozenset({"script", "style", "head", "title", "template", "noscript", "xml"})
# Elements that start and end a line.
_BLOCK = frozenset({
    "div", "section", "article", "header", "footer", "nav", "aside", "main", "center",
    "table", "thead", "tbody", "tfoot", "tr", "form", "fieldset", "address", "dl", "dt", "dd",
    "figure", "figcaption", "ul", "ol", "li", "pre",
})
# Elements set off by a blank line.
_PARAGRAPH = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "hr"})
# Markers of a client's quoted history: everything from them on is the quote.
_QUOTE_CLASSES = frozenset({"gmail_quote", "moz-cite-prefix", "yahoo_quoted", "protonmail_quote"})
_QUOTE_IDS = frozenset({"divrplyfwdmsg", "appendonsend"})

_MAX_SHOWN_DEPTH = 10     # deeper quotes are drawn at this depth (keeps output linear)
_WS = re.compile(r"[ \t\r\n\f\v\u00a0\u200b]+")


class _Converter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[int, str]] = []   # (quote depth, text)
        self.cur: list[str] = []
        self.prefix = ""        # list bullet of the current line
        self.cur_depth = 0
        self.depth = 0          # nesting of <blockquote>
        self.quote_rest = 0     # 1 once a client's quote marker was seen
        self.skip = 0
        self.pre = 0
        self.lists: list[list] = []   # [tag, counter]
        self.links: list[tuple[str | None, int, int]] = []  # href, line count, piece index
        self.tight: list[bool] = []   # open <p>: True for Word/Outlook one-line paragraphs

    # -- line handling
    def _flush(self) -> None:
        text = "".join(self.cur)
        if not self.pre:
            text = _WS.sub(" ", text).strip()
            if text == "--":            # a signature delimiter survives as "-- "
                text = "-- "
        self.lines.append((self.cur_depth, self.prefix + text))
        self.cur = []
        self.prefix = ""
        self.cur_depth = self.depth + self.quote_rest

    def _newline(self) -> None:
        if self.cur and "".join(self.cur).strip(" \t\r\n\u00a0"):
            self._flush()
        else:   # nothing shown yet: a pending list bullet stays for the text to come
            self.cur = []
            self.cur_depth = self.depth + self.quote_rest

    def _blank(self) -> None:
        self._newline()
        if self.lines and self.lines[-1][1] != "":
            self.lines.append((self.cur_depth, ""))

    # -- parser callbacks
    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _SKIP:
            self.skip += 1
            return
        if self.skip:
            return
        a = {k: (v or "") for k, v in attrs}
        if tag == "div" and not self.quote_rest and (
            _QUOTE_CLASSES.intersection(a.get("class", "").split())
            or a.get("id", "").lower() in _QUOTE_IDS
        ):
            self._newline()
            self.quote_rest = 1
            self.cur_depth = self.depth + 1
            return
        if tag == "br":
            if self.cur:
                self._flush()
            else:
                self.lines.append((self.cur_depth, ""))
        elif tag == "blockquote":
            self._blank()
            self.depth += 1
            self.cur_depth = self.depth + self.quote_rest
        elif tag == "p":
            # Outlook writes every line as <p class="MsoNormal"> and blank lines as empty ones.
            tight = "msonormal" in a.get("class", "").lower()
            self.tight.append(tight)
            self._newline() if tight else self._blank()
        elif tag in _PARAGRAPH:
            self._blank()
            if tag == "hr":
                self.lines.append((self.cur_depth, "-" * 20))
        elif tag in ("ul", "ol"):
            self._newline()
            self.lists.append([tag, 0])
        elif tag == "li":
            self._newline()
            indent = "  " * max(len(self.lists) - 1, 0)
            if self.lists and self.lists[-1][0] == "ol":
                self.lists[-1][1] += 1
                self.prefix = f"{indent}{self.lists[-1][1]}. "
            else:
                self.prefix = f"{indent}- "
        elif tag == "pre":
            self._newline()
            self.pre += 1
        elif tag in _BLOCK:
            self._newline()
        elif tag in ("td", "th"):
            self.cur.append(" ")
        elif tag == "a":
            self.links.append((a.get("href"), len(self.lines), len(self.cur)))
        elif tag == "img":
            alt = a.get("alt", "").strip()
            if alt and not a.get("src", "").startswith("cid:"):
                self.cur.append(f"[{alt}]")

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in ("br", "hr", "img"):
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(self.skip - 1, 0)
            return
        if self.skip:
            return
        if tag == "blockquote":
            self._blank()
            self.depth = max(self.depth - 1, 0)
            self.cur_depth = self.depth + self.quote_rest
        elif tag == "p" and self.tight and self.tight.pop():
            if "".join(self.cur).strip(" \t\r\n\u00a0"):
                self._flush()
            else:
                self.cur, self.prefix = [], ""
                self.lines.append((self.depth + self.quote_rest, ""))
        elif tag in _PARAGRAPH:
            self._blank()
        elif tag in ("ul", "ol"):
            self._newline()
            if self.lists:
                self.lists.pop()
        elif tag == "pre":
            self._newline()
            self.pre = max(self.pre - 1, 0)
        elif tag == "li":
            self._newline()
            self.prefix = ""
        elif tag in _BLOCK:
            self._newline()
        elif tag == "a" and self.links:
            href, nlines, idx = self.links.pop()
            if href and nlines == len(self.lines):
                label = _WS.sub(" ", "".join(self.cur[idx:])).strip()
                target = href.strip()
                shown = target[7:] if target.lower().startswith("mailto:") else target
                if (target and not target.startswith(("#", "cid:", "javascript:"))
                        and shown.rstrip("/") != label.rstrip("/")):
                    self.cur.append(f" <{shown}>" if label else shown)

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.pre:
            parts = data.replace("\r\n", "\n").split("\n")
            for i, part in enumerate(parts):
                if i:
                    self._flush()
                self.cur.append(part)
        else:
            self.cur.append(data)

    def result(self) -> str:
        self._newline()
        lines = self.lines
        # Depth of the next non-empty line, for every position (one backward pass).
        nxt: list[int | None] = [None] * len(lines)
        following: int | None = None
        for i in range(len(lines) - 1, -1, -1):
            nxt[i] = following
            if lines[i][1]:
                following = lines[i][0]
        # An empty line takes the shallower depth of its neighbours; runs collapse to one;
        # leading and trailing empty lines go.
        out: list[str] = []
        prev: int | None = None
        last_blank = True
        for i, (depth, text) in enumerate(lines):
            if text:
                out.append(("> " * min(depth, _MAX_SHOWN_DEPTH) + text).rstrip() if depth else text)
                prev, last_blank = depth, False
            elif not last_blank and nxt[i] is not None:
                out.append(("> " * min(prev or 0, nxt[i], _MAX_SHOWN_DEPTH)).rstrip())
                last_blank = True
        return "\n".join(out)


def html_to_text(html: str) -> str:
    """Readable text of an HTML body: paragraphs, line breaks, lists, links; quotes as `> ` lines."""
    conv = _Converter()
    try:
        conv.feed(html)
        conv.close()
    except Exception:  # html.parser is lenient; never let odd markup break a mail
        pass
    return conv.result()
