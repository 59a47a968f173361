"""Fonts for the PDFs, through fpdf2's public API only.

- **Packaged**: Noto Sans (regular, bold, italic, bold italic) ships in ``mailbot/data/fonts``
  (licence beside it). It draws Latin (every Indonesian and Vietnamese letter), Greek and Cyrillic,
  so every invoice in those scripts renders after a bare ``pip install .``.
- **Optional**: fonts for other scripts (``SCRIPT_FONTS``: Arabic, Hebrew, Indic, Thai, Javanese,
  CJK, Hangul, symbols, …) are looked for by file name in the configured ``[storage] font_dir``
  first, then in the system font directories (``DEFAULT_SYSTEM_FONT_DIRS``, or the colon-separated
  ``MAILBOT_SYSTEM_FONT_DIRS``; set it to an empty directory, or to the empty string, to hide
  them). A script font is registered with ``add_font`` + ``set_fallback_fonts`` only when a
  document draws a character the packaged font lacks and that font has; no font is ever required.
- **Missing glyphs**: a character no available font can draw is drawn as U+FFFD (�, from the
  packaged font) and recorded; ``FontPDF.font_report()`` (and ``glyph_report()`` for a bare text)
  say which characters, their script and the Debian packages that would draw them. Invisible
  format characters no font has (e.g. a stray zero-width joiner) are dropped; unknown spaces
  become a plain space.
- **Shaping**: when the text holds a script that needs it (Arabic, Hebrew, Indic, Thai, …),
  ``set_text_shaping`` (uharfbuzz) is turned on for the document; without uharfbuzz the text is
  drawn unshaped, with a warning.

No font question raises out of rendering: an unreadable optional font is skipped with a warning;
if even the packaged font cannot be loaded (a broken install), fpdf2's core Helvetica is used and
everything outside Latin-1 is reported missing (``mailbot check`` fails on that install).

fpdf2 subsets each embedded font itself at output, and parses each font file per document.
Only the styles a document uses are registered (on its first ``set_font`` of that style).
"""
from __future__ import annotations

import logging
import os
import re
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from fpdf import FPDF

log = logging.getLogger(__name__)

MAIN_FAMILY = "body"
REPLACEMENT = "\ufffd"  # drawn for a character no available font has (U+FFFD REPLACEMENT CHARACTER)
CORE_REPLACEMENT = "?"  # the same with fpdf2's core Helvetica (broken install only)

PACKAGED_FONT_DIR = Path(__file__).resolve().parents[1] / "data" / "fonts"
PACKAGED_FONTS = {
    "": "NotoSans-Regular.ttf",
    "B": "NotoSans-Bold.ttf",
    "I": "NotoSans-Italic.ttf",
    "BI": "NotoSans-BoldItalic.ttf",
}

SYSTEM_FONT_DIRS_ENV = "MAILBOT_SYSTEM_FONT_DIRS"
DEFAULT_SYSTEM_FONT_DIRS: tuple[Path, ...] = (
    Path("/usr/share/fonts/truetype/noto"),  # fonts-noto-core
    Path("/usr/share/fonts/opentype/noto"),  # fonts-noto-cjk
    Path("/usr/share/fonts/truetype/droid"),  # fonts-droid-fallback
    Path("/usr/share/fonts/truetype/nanum"),  # fonts-nanum
    Path("/usr/share/fonts/truetype/dejavu"),  # fonts-dejavu-core
)


def system_font_dirs() -> tuple[Path, ...]:
    """The system font directories: ``$MAILBOT_SYSTEM_FONT_DIRS`` (colon-separated) when set, else the defaults."""
    raw = os.environ.get(SYSTEM_FONT_DIRS_ENV)
    if raw is None:
        return DEFAULT_SYSTEM_FONT_DIRS
    return tuple(Path(p) for p in raw.split(os.pathsep) if p.strip())


# --------------------------------------------------------------------------
# Optional script fonts


@dataclass(frozen=True)
class Candidate:
    """One font that may be installed: regular (and bold) file names, collection index for .ttc."""

    regular: str
    bold: str | None = None
    index: int = 0


@dataclass(frozen=True)
class ScriptFonts:
    """Fonts tried, in order, for the characters of ``ranges`` the packaged font lacks."""

    script: str
    ranges: tuple[tuple[int, int], ...]
    candidates: tuple[Candidate, ...]
    debian_packages: tuple[str, ...]  # first is the one to suggest

    def has(self, cp: int) -> bool:
        return any(lo <= cp <= hi for lo, hi in self.ranges)


_NOTO = ("fonts-noto-core",)
_DEJAVU = Candidate("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")  # fonts-dejavu-core: wide coverage, plain design


def _noto(script: str, name: str, *ranges: tuple[int, int], dejavu: bool = False) -> ScriptFonts:
    noto = Candidate(f"NotoSans{name}-Regular.ttf", f"NotoSans{name}-Bold.ttf")
    if dejavu:
        return ScriptFonts(script, ranges, (noto, _DEJAVU), (*_NOTO, "fonts-dejavu-core"))
    return ScriptFonts(script, ranges, (noto,), _NOTO)


_CJK_TTC = (
    Candidate("NotoSansCJK-Regular.ttc", "NotoSansCJK-Bold.ttc", 0),
    Candidate("NotoSansCJKjp-Regular.otf", "NotoSansCJKjp-Bold.otf"),
)
SCRIPT_FONTS: tuple[ScriptFonts, ...] = (
    ScriptFonts(
        "Latin/Greek/Cyrillic extensions",  # the rarer letters and marks Noto Sans lacks
        ((0x0000, 0x052F), (0x1AB0, 0x1AFF), (0x1C80, 0x1C8F), (0x1D00, 0x1FFF), (0x2C60, 0x2C7F),
         (0x2DE0, 0x2DFF), (0xA640, 0xA69F), (0xA700, 0xA7FF), (0xAB30, 0xAB6F), (0xFB00, 0xFB06)),
        (_DEJAVU,),
        ("fonts-dejavu-core",),
    ),
    ScriptFonts("Symbols", ((0x2000, 0x2BFF), (0x2E00, 0x2E7F)), (_DEJAVU,), ("fonts-dejavu-core",)),
    _noto("Armenian", "Armenian", (0x0530, 0x058F), (0xFB13, 0xFB17), dejavu=True),
    _noto("Georgian", "Georgian", (0x10A0, 0x10FF), (0x2D00, 0x2D2F), dejavu=True),
    ScriptFonts(
        "Arabic",
        ((0x0600, 0x06FF), (0x0750, 0x077F), (0x0870, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF)),
        (Candidate("NotoSansArabic-Regular.ttf", "NotoSansArabic-Bold.ttf"),
         Candidate("NotoNaskhArabic-Regular.ttf", "NotoNaskhArabic-Bold.ttf"), _DEJAVU),
        (*_NOTO, "fonts-dejavu-core"),
    ),
    _noto("Hebrew", "Hebrew", (0x0590, 0x05FF), (0xFB1D, 0xFB4F), dejavu=True),
    _noto("Devanagari", "Devanagari", (0x0900, 0x097F), (0xA8E0, 0xA8FF)),
    _noto("Bengali", "Bengali", (0x0980, 0x09FF)),
    _noto("Gurmukhi", "Gurmukhi", (0x0A00, 0x0A7F)),
    _noto("Gujarati", "Gujarati", (0x0A80, 0x0AFF)),
    _noto("Oriya", "Oriya", (0x0B00, 0x0B7F)),
    _noto("Tamil", "Tamil", (0x0B80, 0x0BFF)),
    _noto("Telugu", "Telugu", (0x0C00, 0x0C7F)),
    _noto("Kannada", "Kannada", (0x0C80, 0x0CFF)),
    _noto("Malayalam", "Malayalam", (0x0D00, 0x0D7F)),
    _noto("Sinhala", "Sinhala", (0x0D80, 0x0DFF)),
    _noto("Thai", "Thai", (0x0E00, 0x0E7F)),
    _noto("Lao", "Lao", (0x0E80, 0x0EFF)),
    _noto("Myanmar", "Myanmar", (0x1000, 0x109F)),
    _noto("Ethiopic", "Ethiopic", (0x1200, 0x139F), (0x2D80, 0x2DDF), (0xAB00, 0xAB2F)),
    _noto("Khmer", "Khmer", (0x1780, 0x17FF), (0x19E0, 0x19FF)),
    # Indonesian scripts
    _noto("Javanese", "Javanese", (0xA980, 0xA9DF)),
    _noto("Balinese", "Balinese", (0x1B00, 0x1B7F)),
    _noto("Sundanese", "Sundanese", (0x1B80, 0x1BBF), (0x1CC0, 0x1CCF)),
    _noto("Buginese", "Buginese", (0x1A00, 0x1A1F)),
    _noto("Batak", "Batak", (0x1BC0, 0x1BFF)),
    ScriptFonts(
        "Hangul",  # before CJK: Droid Sans Fallback lacks most Hangul syllables
        ((0x1100, 0x11FF), (0x3130, 0x318F), (0xA960, 0xA97F), (0xAC00, 0xD7FF)),
        (Candidate("NanumGothic.ttf", "NanumGothicBold.ttf"), *_CJK_TTC),
        ("fonts-nanum", "fonts-noto-cjk"),
    ),
    ScriptFonts(
        "CJK",
        ((0x2E80, 0x2FDF), (0x3000, 0x312F), (0x3190, 0x33FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF),
         (0xF900, 0xFAFF), (0xFE30, 0xFE4F), (0xFF00, 0xFFEF), (0x20000, 0x3134F)),
        (Candidate("DroidSansFallbackFull.ttf"), Candidate("DroidSansFallback.ttf"), *_CJK_TTC),
        ("fonts-noto-cjk", "fonts-droid-fallback"),
    ),
)

# Scripts that need HarfBuzz shaping (joining, reordering, right-to-left), whatever font draws them.
SHAPING_RANGES: tuple[tuple[int, int], ...] = (
    (0x0590, 0x08FF),  # Hebrew, Arabic, Syriac, Thaana, NKo, Samaritan, Mandaic, Arabic Ext.
    (0x0900, 0x0DFF),  # Devanagari … Sinhala
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x0F00, 0x0FFF),  # Tibetan
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x1A00, 0x1AAF),  # Buginese, Tai Tham
    (0x1B00, 0x1BFF),  # Balinese, Sundanese, Batak
    (0x1CC0, 0x1CCF),  # Sundanese supplement
    (0xA980, 0xA9DF),  # Javanese
    (0xA8E0, 0xA8FF),  # Devanagari Extended
    (0xFB1D, 0xFDFF),  # Hebrew and Arabic presentation forms
    (0xFE70, 0xFEFF),  # Arabic presentation forms B
)


_SHAPING = re.compile("[" + "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in SHAPING_RANGES) + "]")


# --------------------------------------------------------------------------
# The report


@dataclass(frozen=True)
class MissingGlyphs:
    """Characters of one script that no available font could draw (each was drawn as U+FFFD)."""

    chars: str  # distinct characters, in order of first appearance
    script: str  # e.g. "Hangul", "Devanagari", "CJK", or the Unicode name's first word
    debian_packages: tuple[str, ...]  # would draw them, first suggested; () when none known

    @property
    def debian_package(self) -> str | None:
        return self.debian_packages[0] if self.debian_packages else None

    def __str__(self) -> str:
        fix = " or ".join(self.debian_packages) if self.debian_packages else "no font known to mailbot"
        return f"{self.script} {self.chars!r}: {fix}"


@dataclass(frozen=True)
class RenderReport:
    """What a document could not draw; empty ``missing`` when every character has a glyph."""

    missing: tuple[MissingGlyphs, ...] = ()
    replacement: str = REPLACEMENT

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def chars(self) -> str:
        return "".join(m.chars for m in self.missing)

    @property
    def debian_packages(self) -> tuple[str, ...]:
        """The packages to install, one per script (its first suggestion), without repeats."""
        return tuple(dict.fromkeys(m.debian_package for m in self.missing if m.debian_package))

    def summary(self) -> str:
        if not self.missing:
            return "all characters drawn"
        return f"drawn as {self.replacement!r}: " + "; ".join(str(m) for m in self.missing)


def _script_of(ch: str) -> tuple[str, tuple[str, ...]]:
    cp = ord(ch)
    for row in SCRIPT_FONTS:
        if row.has(cp):
            return row.script, row.debian_packages
    if unicodedata.category(ch).startswith("S"):
        return "Other symbols", ()
    name = unicodedata.name(ch, "")
    return (name.split(" ")[0].title() if name else "Unknown"), ()


def make_report(chars: Iterable[str], replacement: str = REPLACEMENT) -> RenderReport:
    """Group missing characters by script, keeping their order of first appearance."""
    groups: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for ch in dict.fromkeys(chars):
        groups.setdefault(_script_of(ch), []).append(ch)
    return RenderReport(
        tuple(MissingGlyphs("".join(cs), script, pkgs) for (script, pkgs), cs in groups.items()), replacement
    )


# --------------------------------------------------------------------------
# Font files and their character coverage


@dataclass(frozen=True)
class FontFile:
    path: Path
    index: int = 0  # font number inside a .ttc collection


_cmaps: dict[tuple[str, int], tuple[tuple[int, int], frozenset[int]]] = {}
_cmaps_lock = threading.Lock()


def coverage(font: FontFile) -> frozenset[int]:
    """The code points ``font`` maps (read once per process and file version); empty if unreadable."""
    key = (str(font.path), font.index)
    try:
        st = font.path.stat()
        stamp = (st.st_mtime_ns, st.st_size)
    except OSError:
        return frozenset()
    with _cmaps_lock:
        hit = _cmaps.get(key)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    try:
        from fontTools.ttLib import TTFont

        with TTFont(font.path, fontNumber=font.index, lazy=True) as tt:
            cps = frozenset(tt.getBestCmap() or ())
    except Exception as exc:  # noqa: BLE001 - a broken font is skipped, never fatal
        log.warning("action=font_unreadable path=%s error=%s", font.path, exc)
        cps = frozenset()
    with _cmaps_lock:
        _cmaps[key] = (stamp, cps)
    return cps


class FontSet:
    """Where a document's fonts come from: the packaged family, then optional fonts in ``dirs``.

    ``font_dir`` (the ``[storage] font_dir`` setting) is searched before the system directories;
    ``system_dirs`` defaults to ``system_font_dirs()``. Files are looked up when needed, so fonts
    installed while mailbot runs are used from the next document on.
    """

    def __init__(self, font_dir: Path | str | None = None, system_dirs: Sequence[Path | str] | None = None):
        system = system_font_dirs() if system_dirs is None else tuple(Path(d) for d in system_dirs)
        self._configured: tuple[Path, ...] = (Path(font_dir),) if font_dir else ()
        self._system = system
        self.dirs: tuple[Path, ...] = self._configured + system

    @staticmethod
    def packaged(style: str) -> FontFile:
        return FontFile(PACKAGED_FONT_DIR / PACKAGED_FONTS[style])

    def find(self, row: ScriptFonts) -> tuple[FontFile, FontFile | None] | None:
        """(regular, bold or None) of the first installed candidate for ``row``.

        Any candidate in ``font_dir`` wins; then the candidates in ``row``'s order, each looked for
        in every system directory.
        """
        order = [(d, c) for d in self._configured for c in row.candidates]
        order += [(d, c) for c in row.candidates for d in self._system]
        for d, cand in order:
            regular = d / cand.regular
            try:
                if not regular.is_file():
                    continue
                bold = d / cand.bold if cand.bold else None
                bold_ok = bold is not None and bold.is_file()
            except OSError:
                continue
            return FontFile(regular, cand.index), (FontFile(bold, cand.index) if bold and bold_ok else None)
        return None

    def unavailable(self) -> list[ScriptFonts]:
        """The optional scripts with no font installed (for ``mailbot check``)."""
        return [row for row in SCRIPT_FONTS if self.find(row) is None]

    def drawable(self, ch: str, style: str = "") -> bool:
        """Whether ``ch`` has a glyph in the packaged ``style`` or an installed optional font."""
        cp = ord(ch)
        if cp in coverage(self.packaged(style)):
            return True
        for row in SCRIPT_FONTS:
            if row.has(cp):
                found = self.find(row)
                if found and cp in coverage(found[0]):
                    return True
        return False


def packaged_font_problems() -> list[str]:
    """What is wrong with the packaged fonts (empty when all four load); for ``mailbot check``."""
    problems = []
    for style in PACKAGED_FONTS:
        font = FontSet.packaged(style)
        if not font.path.is_file():
            problems.append(f"{font.path} missing")
        elif 0x20AC not in coverage(font):  # the euro sign: any real Noto Sans has it
            problems.append(f"{font.path} unreadable")
    return problems


def _invisible(ch: str) -> str | None:
    """What an uncovered character becomes when it needs no glyph: '' (dropped), ' ', or None (it does)."""
    cat = unicodedata.category(ch)
    if cat in ("Cc", "Cf"):
        return ""
    if cat in ("Zs", "Zl", "Zp"):
        return " "
    return None


def glyph_report(*texts: str, font_dir: Path | str | None = None, fonts: FontSet | None = None) -> RenderReport:
    """Which characters of ``texts`` no available font can draw (regular style), without rendering.

    A quick check of a name before a document is made; the document's own report is
    ``render_invoice_with_report(...).report``.
    """
    fs = fonts or FontSet(font_dir)
    chars = []
    for text in texts:
        for ch in unicodedata.normalize("NFC", text or ""):
            if ch in "\n\r\t" or ch.isascii() and ch.isprintable():
                continue
            if not fs.drawable(ch) and _invisible(ch) is None:
                chars.append(ch)
    return make_report(chars)


# --------------------------------------------------------------------------
# The document


_PLAIN = re.compile(r"[\x20-\x7e\n\r\t]*")
_CORE = frozenset(range(0x20, 0x7F)) | frozenset(range(0xA0, 0x100))


def _family_of(font: FontFile) -> str:
    # fpdf2 family names: lower case (set_fallback_fonts strips upper-case B and I from font keys)
    return "x" + re.sub(r"[^a-z0-9]", "", font.path.stem.lower()) + (str(font.index) if font.index else "")


def _style_key(style: object) -> str:
    s = str(getattr(style, "style", style) or "").upper()
    return ("B" if "B" in s else "") + ("I" if "I" in s else "")


class FontPDF(FPDF):
    """FPDF drawing ``MAIN_FAMILY`` with the packaged fonts plus optional script fonts as fallbacks.

    ``text``: the document's text, known in advance, decides whether shaping is turned on.
    """

    def __init__(self, *args, fonts: FontSet | None = None, text: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.font_set = fonts or FontSet()
        self._styles: dict[str, frozenset[int]] = {}  # registered main style -> its coverage
        self._rows: dict[str, tuple[FontFile, FontFile | None, set[str]]] = {}  # family -> files, styles added
        self._fallback_cover: frozenset[int] = frozenset()
        self._tried: set[str] = set()  # characters already looked up in the optional fonts
        self._missing: dict[str, None] = {}
        self._core = False  # the packaged font failed to load: core Helvetica
        chars = set(_SHAPING.findall(unicodedata.normalize("NFC", text)))
        if chars and any(self.font_set.drawable(ch) for ch in chars):
            try:
                self.set_text_shaping(True)
            except Exception as exc:  # noqa: BLE001 - uharfbuzz missing: unshaped rather than no document
                log.warning("action=text_shaping_unavailable error=%s", exc)

    # ---- what was not drawn

    def font_report(self) -> RenderReport:
        return make_report(self._missing, CORE_REPLACEMENT if self._core else REPLACEMENT)

    # ---- registration, on first use

    def set_font(self, family=None, style="", size=0):  # type: ignore[override]
        fam = (family or self.font_family or "").lower()
        if fam == MAIN_FAMILY:
            key = _style_key(style)
            if key not in self._styles:
                self._register_main(key)
            if self._core:
                family = "helvetica"
                style = str(getattr(style, "style", style) or "")
        super().set_font(family, style, size)

    def _register_main(self, key: str) -> None:
        font = self.font_set.packaged(key)
        try:
            cover = coverage(font)
            if not cover:
                raise OSError(f"{font.path}: missing or unreadable")
            self.add_font(MAIN_FAMILY, key, str(font.path))
        except Exception as exc:  # noqa: BLE001 - a broken install still makes a document
            log.error("action=packaged_font_failed style=%r error=%s; using core Helvetica", key, exc)
            self._core = True
            cover = _CORE
        self._styles[key] = cover
        if "B" in key:  # bold variants of the script fonts already in use
            for family in list(self._rows):
                self._register_fallback(family, "B")

    def _register_fallback(self, family: str, style: str) -> None:
        regular, bold, registered = self._rows[family]
        if style in registered:
            return
        font = regular if style == "" else bold
        if font is None:
            return
        try:
            self.add_font(family, style, str(font.path), collection_font_number=font.index)
        except Exception as exc:  # noqa: BLE001 - an optional font that fails is skipped
            log.warning("action=optional_font_failed path=%s error=%s", font.path, exc)
            if style == "":
                del self._rows[family]
            return
        registered.add(style)
        if style == "":
            self._fallback_cover |= coverage(regular)
        self._apply_fallbacks()

    def _apply_fallbacks(self) -> None:
        families = [f for f, (_, _, reg) in self._rows.items() if "" in reg]
        if families:
            self.set_fallback_fonts(families, exact_match=False)

    def _add_script_font(self, ch: str) -> bool:
        """Register the optional font that draws ``ch``, if one is installed; whether one now does."""
        cp = ord(ch)
        for row in SCRIPT_FONTS:
            found = self.font_set.find(row) if row.has(cp) else None
            if found is None:
                continue
            regular, bold = found
            family = _family_of(regular)
            if family in self._rows or cp not in coverage(regular):
                continue
            self._rows[family] = (regular, bold, set())
            self._register_fallback(family, "")
            if family in self._rows and any("B" in k for k in self._styles):
                self._register_fallback(family, "B")
            break
        return cp in self._fallback_cover

    # ---- every text drawn or measured passes here

    def normalize_text(self, text: str) -> str:  # type: ignore[override]
        if not _PLAIN.fullmatch(text):
            try:
                text = self._drawable(text)
            except Exception as exc:  # noqa: BLE001 - never let a font question stop a document
                log.error("action=glyph_check_failed error=%s", exc)
        return super().normalize_text(text)

    def _drawable(self, text: str) -> str:
        if self.font_family != MAIN_FAMILY and not (self._core and self.font_family == "helvetica"):
            return text
        text = unicodedata.normalize("NFC", text)
        cover = _CORE if self._core else self._styles.get(self.font_style, _CORE)
        out = []
        for ch in text:
            cp = ord(ch)
            if cp in cover or cp in self._fallback_cover and not self._core:
                out.append(ch)
                continue
            if ch in "\n\r\t":
                out.append(ch)
                continue
            if not self._core and ch not in self._tried:
                self._tried.add(ch)
                if self._add_script_font(ch):
                    out.append(ch)
                    continue
            blank = _invisible(ch)
            if blank is not None:
                out.append(blank)
                continue
            self._missing[ch] = None
            out.append(CORE_REPLACEMENT if self._core else REPLACEMENT)
        return "".join(out)
