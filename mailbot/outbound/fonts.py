"""Unicode TrueType fonts for the PDFs: parsed once per process, cloned per document.

fpdf2's ``add_font`` parses the whole TTF for every document (~45 ms a font)
and its output step subsets the full font with fontTools (~3-20 ms a font).
Here each font file is parsed once per process into a ``ParsedFont``. Every
document gets light ``SharedTTFFont`` clones (own subset map, descriptor and
widths cache; cmap and glyph ids shared read-only), and ``UnicodePDF`` embeds
them through ``_SharedFontProducer``, which cuts the glyphs that document used
straight out of the raw TrueType tables (renumbered glyphs, composite glyph
components followed) instead of running fontTools.
"""
from __future__ import annotations

import hashlib
import logging
import struct
import threading
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from fpdf import FPDF
from fpdf.enums import PDFResourceType
from fpdf.fonts import PDFFontDescriptor, SubsetMap, TTFFont
from fpdf.output import (
    CIDSystemInfo,
    OutputProducer,
    PDFFont,
    PDFFontStream,
    _build_cmap_blocks,
    _tt_font_widths,
)
from fpdf.syntax import Name, PDFArray, PDFContentStream

log = logging.getLogger(__name__)

DEFAULT_FONT_DIRS: tuple[Path, ...] = (
    Path("/usr/share/fonts/truetype/dejavu"),  # fonts-dejavu-core, fonts-dejavu-extra
    Path("/usr/share/fonts/truetype/noto"),  # fonts-noto-core
    Path("/usr/share/fonts/truetype/droid"),  # fonts-droid-fallback (CJK)
    Path("/usr/share/fonts/truetype/nanum"),  # fonts-nanum (Hangul), optional
)
# Debian packages that provide the files below (CI must apt-get install them).
DEBIAN_FONT_PACKAGES = (
    "fonts-dejavu-core",
    "fonts-dejavu-extra",
    "fonts-noto-core",
    "fonts-droid-fallback",
)

MAIN_FAMILY = "body"

# Scripts that need HarfBuzz shaping (joining, reordering, right-to-left), whatever font draws them.
SHAPING_RANGES: tuple[tuple[int, int], ...] = (
    (0x0590, 0x08FF),  # Hebrew, Arabic, Syriac, Thaana, NKo, Samaritan, Mandaic, Arabic Ext.
    (0x0900, 0x0DFF),  # Devanagari … Sinhala
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x0F00, 0x0FFF),  # Tibetan
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0xA8E0, 0xA8FF),  # Devanagari Extended
    (0xFB1D, 0xFDFF),  # Hebrew and Arabic presentation forms
    (0xFE70, 0xFEFF),  # Arabic presentation forms B
)


class FontNotFoundError(FileNotFoundError):
    """A font file named by the font set is in none of the font directories."""


@dataclass(frozen=True)
class FallbackSpec:
    """A fallback family for scripts the main font lacks."""

    family: str
    styles: dict[str, str]  # style ("", "B") -> file name
    ranges: tuple[tuple[int, int], ...]  # code point blocks it is tried for
    optional: bool = False  # skipped with a warning when its files are missing


@dataclass(frozen=True)
class FontSetSpec:
    """Which files make the main family and its fallbacks."""

    main: dict[str, str] = field(
        default_factory=lambda: {
            "": "DejaVuSans.ttf",
            "B": "DejaVuSans-Bold.ttf",
            "I": "DejaVuSans-Oblique.ttf",
            "BI": "DejaVuSans-BoldOblique.ttf",
        }
    )
    fallbacks: tuple[FallbackSpec, ...] = (
        FallbackSpec(
            "arabic",
            {"": "NotoSansArabic-Regular.ttf", "B": "NotoSansArabic-Bold.ttf"},
            ((0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF)),
        ),
        FallbackSpec(
            "hebrew",
            {"": "NotoSansHebrew-Regular.ttf", "B": "NotoSansHebrew-Bold.ttf"},
            ((0x0590, 0x05FF), (0xFB1D, 0xFB4F)),
        ),
        FallbackSpec(
            "devanagari",
            {"": "NotoSansDevanagari-Regular.ttf", "B": "NotoSansDevanagari-Bold.ttf"},
            ((0x0900, 0x097F), (0xA8E0, 0xA8FF)),
        ),
        FallbackSpec(
            "thai",
            {"": "NotoSansThai-Regular.ttf", "B": "NotoSansThai-Bold.ttf"},
            ((0x0E00, 0x0E7F),),
        ),
        FallbackSpec(
            "notosans",  # Latin/Greek/Cyrillic extensions DejaVu lacks
            {"": "NotoSans-Regular.ttf", "B": "NotoSans-Bold.ttf", "I": "NotoSans-Italic.ttf"},
            ((0x0000, 0x2FFF), (0xA640, 0xA7FF), (0xAB30, 0xAB6F)),
        ),
        FallbackSpec(
            "cjk",
            {"": "DroidSansFallbackFull.ttf"},
            (
                (0x1100, 0x11FF), (0x2E80, 0x2FDF), (0x3000, 0x9FFF), (0xA960, 0xA97F),
                (0xAC00, 0xD7FF), (0xF900, 0xFAFF), (0xFE30, 0xFE4F), (0xFF00, 0xFFEF),
                (0x20000, 0x2FFFF),
            ),
        ),
        FallbackSpec(
            "hangul",  # DroidSansFallback lacks most Hangul syllables
            {"": "NanumGothic.ttf", "B": "NanumGothicBold.ttf"},
            ((0x1100, 0x11FF), (0x3130, 0x318F), (0xA960, 0xA97F), (0xAC00, 0xD7FF)),
            optional=True,
        ),
    )


def find_font_file(name: str, font_dirs: Sequence[Path | str] | None = None) -> Path:
    """The first ``font_dirs`` entry holding ``name``; FontNotFoundError naming both otherwise."""
    dirs = [Path(d) for d in (font_dirs if font_dirs is not None else DEFAULT_FONT_DIRS)]
    for d in dirs:
        candidate = d / name
        if candidate.is_file():
            return candidate
    searched = ", ".join(str(d) for d in dirs) or "(no directories)"
    raise FontNotFoundError(
        f"font file {name!r} not found in {searched}; install the Debian packages "
        f"{' '.join(DEBIAN_FONT_PACKAGES)} or pass font_dirs"
    )


# --------------------------------------------------------------------------
# One parsed font per file and process


class _GlyphView:
    """The read-only slice of a fontTools TTFont that fpdf2's text shaping reads."""

    def __init__(self, names: list[str], metrics: dict[str, tuple[int, int]]):
        self._names = names
        self._tables = {"hmtx": _Metrics(metrics)}

    def getGlyphName(self, gid: int) -> str:  # noqa: N802 (fontTools API)
        return self._names[gid]

    def __getitem__(self, tag: str):
        return self._tables[tag]

    def __contains__(self, tag: str) -> bool:
        return tag in self._tables

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class _Metrics:
    metrics: dict[str, tuple[int, int]]


class ParsedFont:
    """A TrueType file parsed once: fpdf2 metrics plus the raw tables for fast subsetting."""

    def __init__(self, path: Path):
        self.path = path
        self.data = path.read_bytes()
        if self.data[:4] not in (b"\x00\x01\x00\x00", b"true"):
            raise ValueError(f"{path}: only TrueType-outline .ttf fonts are supported")
        self.tables = self._table_directory(self.data)
        for tag in (b"glyf", b"loca", b"head", b"hhea", b"hmtx", b"maxp", b"post"):
            if tag not in self.tables:
                raise ValueError(f"{path}: TrueType table {tag.decode()} missing")
        # fpdf2's own parse: cmap, widths, descriptor values, names.
        self.proto = TTFFont(FPDF(), path, "proto", "")
        tt = self.proto.ttfont
        self.names: list[str] = list(tt.getGlyphOrder())
        self.gid: dict[str, int] = {n: i for i, n in enumerate(self.names)}
        head = self.table(b"head")
        long_loca = struct.unpack_from(">h", head, 50)[0] == 1
        num_glyphs = struct.unpack_from(">H", self.table(b"maxp"), 4)[0]
        loca = self.table(b"loca")
        if long_loca:
            self.loca = list(struct.unpack_from(f">{num_glyphs + 1}I", loca))
        else:
            self.loca = [2 * x for x in struct.unpack_from(f">{num_glyphs + 1}H", loca)]
        n_hm = struct.unpack_from(">H", self.table(b"hhea"), 34)[0]
        hmtx = self.table(b"hmtx")
        pairs = list(struct.iter_unpack(">Hh", hmtx[: 4 * n_hm]))
        lsbs = struct.unpack_from(f">{num_glyphs - n_hm}h", hmtx, 4 * n_hm)
        pairs.extend((pairs[-1][0], lsb) for lsb in lsbs)
        self.hmtx: list[tuple[int, int]] = pairs
        self.view = _GlyphView(self.names, dict(zip(self.names, pairs)))
        self._glyf_offset = self.tables[b"glyf"][0]
        self.codepoints: dict[int, list[int]] = defaultdict(list)  # gid -> code points
        for cp, gid in self.proto.glyph_ids.items():
            self.codepoints[gid].append(cp)
        tt.close()
        self.proto.ttfont = self.view
        self._hb_lock = threading.Lock()

    @staticmethod
    def _table_directory(data: bytes) -> dict[bytes, tuple[int, int]]:
        (count,) = struct.unpack_from(">H", data, 4)
        out = {}
        for i in range(count):
            tag, _checksum, offset, length = struct.unpack_from(">4sIII", data, 12 + 16 * i)
            out[tag] = (offset, length)
        return out

    def table(self, tag: bytes) -> bytes:
        offset, length = self.tables[tag]
        return self.data[offset : offset + length]

    def hbfont(self):
        """The HarfBuzz font, created once and shared (read-only for shaping)."""
        with self._hb_lock:
            return self.proto.hbfont

    def glyph_bytes(self, gid: int) -> bytes:
        start, end = self.loca[gid], self.loca[gid + 1]
        return self.data[self._glyf_offset + start : self._glyf_offset + end]

    @staticmethod
    def _components(raw: bytes) -> Iterable[tuple[int, int]]:
        """(byte offset of the glyph index, glyph index) of each component of a composite glyph."""
        p = 10
        while True:
            flags, gi = struct.unpack_from(">HH", raw, p)
            yield p + 2, gi
            p += 4 + (4 if flags & 0x0001 else 2)
            if flags & 0x0008:
                p += 2
            elif flags & 0x0040:
                p += 4
            elif flags & 0x0080:
                p += 8
            if not flags & 0x0020:
                return

    def subset(self, glyph_names: Iterable[str]) -> tuple[bytes, dict[str, int]]:
        """A TrueType font with .notdef, the named glyphs and their components, renumbered.

        Returns the font bytes and each kept glyph name's new glyph id.
        """
        wanted = {0} | {self.gid[n] for n in glyph_names if n in self.gid}
        stack = list(wanted)
        while stack:
            raw = self.glyph_bytes(stack.pop())
            if len(raw) >= 10 and struct.unpack_from(">h", raw, 0)[0] < 0:
                for _, comp in self._components(raw):
                    if comp not in wanted:
                        wanted.add(comp)
                        stack.append(comp)
        order = sorted(wanted)
        new_id = {g: i for i, g in enumerate(order)}
        glyf, loca, hmtx = bytearray(), [], bytearray()
        for g in order:
            raw = self.glyph_bytes(g)
            if len(raw) >= 10 and struct.unpack_from(">h", raw, 0)[0] < 0:
                buf = bytearray(raw)
                for pos, comp in self._components(raw):
                    struct.pack_into(">H", buf, pos, new_id[comp])
                raw = bytes(buf)
            loca.append(len(glyf))
            glyf += raw
            glyf += b"\0" * (-len(glyf) % 4)
            hmtx += struct.pack(">Hh", *self.hmtx[g])
        loca.append(len(glyf))
        n = len(order)
        head = bytearray(self.table(b"head"))
        struct.pack_into(">h", head, 50, 1)  # long loca
        hhea = bytearray(self.table(b"hhea"))
        struct.pack_into(">H", hhea, 34, n)
        maxp = bytearray(self.table(b"maxp"))
        struct.pack_into(">H", maxp, 4, n)
        post = bytearray(self.table(b"post")[:32])
        struct.pack_into(">I", post, 0, 0x00030000)  # no glyph names
        tables = {
            b"head": head,
            b"hhea": bytes(hhea),
            b"maxp": bytes(maxp),
            b"hmtx": bytes(hmtx),
            b"loca": struct.pack(f">{n + 1}I", *loca),
            b"glyf": bytes(glyf),
            b"post": bytes(post),
            b"cmap": self._cmap(order),
        }
        for tag in (b"OS/2", b"cvt ", b"fpgm", b"prep"):  # no name table: 15 KB of licence text
            if tag in self.tables:
                tables[tag] = self.table(tag)
        names = {self.names[g]: i for i, g in enumerate(order)}
        return _build_sfnt(tables), names

    def _cmap(self, order: list[int]) -> bytes:
        """A (3,10) format 12 cmap for the subset (PDF readers map through CIDToGIDMap; this keeps the font whole)."""
        pairs = sorted((cp, i) for i, g in enumerate(order) for cp in self.codepoints.get(g, ()))
        groups = b"".join(struct.pack(">III", cp, cp, i) for cp, i in pairs)
        sub = struct.pack(">HHIII", 12, 0, 16 + len(groups), 0, len(pairs)) + groups
        return struct.pack(">HHHHI", 0, 1, 3, 10, 12) + sub


def _build_sfnt(tables: dict[bytes, bytes | bytearray]) -> bytes:
    """Assemble an sfnt file: directory, 4-byte aligned tables, checksums and head.checkSumAdjustment."""
    count = len(tables)
    entry_selector = count.bit_length() - 1
    search_range = 16 * (1 << entry_selector)
    header = struct.pack(">IHHHH", 0x00010000, count, search_range, entry_selector, count * 16 - search_range)
    offset = 12 + 16 * count
    head = tables.get(b"head")
    if isinstance(head, bytearray):
        struct.pack_into(">I", head, 8, 0)
    directory, body = bytearray(), bytearray()
    head_at = None
    for tag in sorted(tables):
        data = bytes(tables[tag])
        padded = data + b"\0" * (-len(data) % 4)
        if tag == b"head":
            head_at = offset + len(body)
        directory += struct.pack(">4sIII", tag, _checksum(padded), offset + len(body), len(data))
        body += padded
    font = bytearray(header + directory + body)
    if head_at is not None:
        struct.pack_into(">I", font, head_at + 8, (0xB1B0AFBA - _checksum(bytes(font))) & 0xFFFFFFFF)
    return bytes(font)


def _checksum(data: bytes) -> int:
    data += b"\0" * (-len(data) % 4)
    return sum(struct.unpack(f">{len(data) // 4}I", data)) & 0xFFFFFFFF


_parsed: dict[Path, ParsedFont] = {}
_parsed_lock = threading.Lock()


def parsed_font(path: Path) -> ParsedFont:
    """The process-wide parse of ``path`` (parsed on first use)."""
    key = path.resolve()
    with _parsed_lock:
        font = _parsed.get(key)
        if font is None:
            font = _parsed[key] = ParsedFont(key)
        return font


# --------------------------------------------------------------------------
# Per-document clones


class SharedTTFFont(TTFFont):
    """A per-document TTFFont whose parsed data is shared with the process-wide ParsedFont."""

    __slots__ = ("parsed", "_widths")

    def get_text_width(self, text, font_size_pt, text_shaping_params):  # type: ignore[override]
        """fpdf2's width, memoised: its line breaker re-measures every growing prefix of a line."""
        if text_shaping_params or self.is_symbol:
            return super().get_text_width(text, font_size_pt, text_shaping_params)
        if font_size_pt > self.biggest_size_pt:
            self.biggest_size_pt = font_size_pt
        units = self._widths.get(text)
        if units is None:
            prefix = self._widths.get(text[:-1]) if text else None
            if prefix is not None:
                units = prefix + self.cw[ord(text[-1])]
            else:
                units = sum(self.cw[ord(c)] for c in text)
            self._widths[text] = units
        return len(text), units * font_size_pt * 0.001


def _clone(parsed: ParsedFont, pdf: FPDF, fontkey: str, style: str, shaping: bool) -> SharedTTFFont:
    proto = parsed.proto
    font = SharedTTFFont.__new__(SharedTTFFont)
    font.parsed = parsed
    font.i = len(pdf.fonts) + 1
    font.type = "TTF"
    font.ttffile = proto.ttffile
    font.fontkey = fontkey
    font.emphasis = type(proto.emphasis).coerce(style)
    font.scale = proto.scale
    font.name = proto.name
    font.up, font.ut, font.sp, font.ss = proto.up, proto.ut, proto.sp, proto.ss
    font.is_compressed = False
    font.is_cff = font.is_cid_keyed = font.is_symbol = False
    font.cff_ros = None
    font.collection_font_number = 0
    font.ttfont = parsed.view  # read-only view until output
    font.cmap = proto.cmap  # shared, read-only
    font.glyph_ids = proto.glyph_ids  # shared, read-only
    cw = defaultdict(proto.cw.default_factory)
    cw.update(proto.cw)
    font.cw = cw
    d = proto.desc
    font.desc = PDFFontDescriptor(
        ascent=d.ascent,
        descent=d.descent,
        cap_height=d.cap_height,
        flags=d.flags,
        font_b_box=d.font_b_box,
        italic_angle=d.italic_angle,
        stem_v=d.stem_v,
        missing_width=d.missing_width,
    )
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font.color_font = None
    font.palette_index = 0
    font.unicode_range = None
    font._hbfont = parsed.hbfont() if shaping else None
    font.subset = SubsetMap(font)
    font._widths = {}
    return font


class _SharedFontProducer(OutputProducer):
    """OutputProducer that embeds SharedTTFFont clones from ParsedFont.subset, without fontTools.

    Other fonts (core fonts, fonts added with ``add_font``) go through fpdf2's own path.
    Installed clones that drew nothing are not embedded.
    """

    def _add_fonts(  # type: ignore[override]
        self, image_objects_per_index, gfxstate_objs_per_name, pattern_objs_per_name
    ):
        catalog = self.fpdf._resource_catalog
        fonts = catalog.font_registry
        shared = [f for f in fonts.values() if isinstance(f, SharedTTFFont)]
        catalog.font_registry = {k: f for k, f in fonts.items() if not isinstance(f, SharedTTFFont)}
        try:
            objs = super()._add_fonts(image_objects_per_index, gfxstate_objs_per_name, pattern_objs_per_name)
        finally:
            catalog.font_registry = fonts
        used = {
            int(res)
            for (_page, kind), resources in catalog.resources_per_page.items()
            if kind == PDFResourceType.FONT
            for res in resources
        }
        for font in sorted(shared, key=lambda f: f.i):
            if font.i in used:
                objs[font.i] = self._embed(font)
        # SubsetMap's method caches are class-wide and hold each map: let them go.
        SubsetMap.pick.cache_clear()
        SubsetMap.get_glyph.cache_clear()
        return objs

    def _embed(self, font: "SharedTTFFont") -> PDFFont:
        glyphs = [(glyph, code) for glyph, code in font.subset.items() if glyph is not None]
        data, new_gid = font.parsed.subset(g.glyph_name for g, _ in glyphs)
        digest = hashlib.sha1(data).digest()
        fontname = "".join(chr(65 + b % 26) for b in digest[:6]) + "+" + font.name

        composite = PDFFont(subtype="Type0", base_font=fontname, encoding="Identity-H")
        self._add_pdf_obj(composite, "fonts")
        cid_font = PDFFont(
            subtype="CIDFontType2", base_font=fontname, d_w=font.desc.missing_width, w=_tt_font_widths(font)
        )
        self._add_pdf_obj(cid_font, "fonts")
        composite.descendant_fonts = PDFArray([cid_font])

        bfchar = [
            f"<{code:04X}> <{''.join(chr(u).encode('utf-16-be').hex().upper() for u in glyph.unicode)}>\n"
            for glyph, code in glyphs
            if isinstance(glyph.unicode, tuple) and glyph.unicode
        ]
        to_unicode = PDFContentStream(
            (
                "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
                "/CIDSystemInfo\n<</Registry (Adobe)\n/Ordering (UCS)\n/Supplement 0\n>> def\n"
                "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
                "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
                f"{_build_cmap_blocks(bfchar, 'bfchar')}"
                "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend"
            ).encode("latin-1"),
            compress=self.fpdf.compress,
        )
        self._add_pdf_obj(to_unicode, "fonts")
        composite.to_unicode = to_unicode

        info = CIDSystemInfo()
        self._add_pdf_obj(info, "fonts")
        cid_font.c_i_d_system_info = info

        desc = font.desc
        desc.font_name = Name(fontname)
        self._add_pdf_obj(desc, "fonts")
        cid_font.font_descriptor = desc

        top = max((code for _, code in glyphs), default=0)
        cid_to_gid = bytearray(2 * (top + 1))
        for glyph, code in glyphs:
            struct.pack_into(">H", cid_to_gid, 2 * code, new_gid.get(glyph.glyph_name, 0))
        cid_map = PDFContentStream(contents=bytes(cid_to_gid), compress=True)
        self._add_pdf_obj(cid_map, "fonts")
        cid_font.c_i_d_to_g_i_d_map = cid_map

        stream = PDFFontStream(contents=data)
        self._add_pdf_obj(stream, "fonts")
        desc.font_file2 = stream  # type: ignore[attr-defined]
        return composite


class UnicodePDF(FPDF):
    """FPDF whose SharedTTFFont clones are embedded by _SharedFontProducer."""

    def output(self, *args, **kwargs):  # type: ignore[override]
        if kwargs.get("linearize"):
            raise ValueError("linearized output is not supported with shared fonts")
        kwargs.setdefault("output_producer_class", _SharedFontProducer)
        return super().output(*args, **kwargs)


class FontSet:
    """The main family plus fallbacks, resolved against font directories."""

    def __init__(self, spec: FontSetSpec | None = None, font_dirs: Sequence[Path | str] | None = None):
        self.spec = spec or FontSetSpec()
        self.font_dirs = font_dirs
        # Resolve every file now so a missing font fails loudly at start-up.
        self.main_paths = {s: find_font_file(f, font_dirs) for s, f in self.spec.main.items()}
        self.fallback_paths: dict[str, dict[str, Path]] = {}
        for fb in self.spec.fallbacks:
            try:
                self.fallback_paths[fb.family] = {s: find_font_file(f, font_dirs) for s, f in fb.styles.items()}
            except FontNotFoundError as exc:
                if not fb.optional:
                    raise
                log.info("optional fallback font %s not installed: %s", fb.family, exc)

    def warm(self, all_fonts: bool = False) -> None:
        """Parse the main family (and every fallback with ``all_fonts``) ahead of the first document."""
        for path in self.main_paths.values():
            parsed_font(path)
        if all_fonts:
            for paths in self.fallback_paths.values():
                for path in paths.values():
                    parsed_font(path)

    def install(self, pdf: FPDF, text: str = "", cached: bool = True) -> None:
        """Register the main family on ``pdf`` and the fallbacks that ``text`` needs.

        ``cached=False`` uses fpdf2's plain ``add_font`` (parse and subset per document):
        slower, kept for comparison and as an escape hatch.
        """
        chars = set(text)
        main_cmap = parsed_font(self.main_paths[""]).proto.cmap
        missing = {
            ord(ch): ch
            for ch in chars
            if ord(ch) not in main_cmap and not unicodedata.category(ch).startswith(("C", "Z"))
        }
        fallbacks = []
        shaping = any(lo <= ord(ch) <= hi for ch in chars for lo, hi in SHAPING_RANGES)
        for fb in self.spec.fallbacks:
            if fb.family not in self.fallback_paths:
                continue
            if not missing or not any(lo <= cp <= hi for cp in missing for lo, hi in fb.ranges):
                continue
            cmap = parsed_font(self.fallback_paths[fb.family][""]).proto.cmap
            hit = [cp for cp in missing if cp in cmap]
            if not hit:
                continue
            fallbacks.append(fb)
            for cp in hit:
                del missing[cp]
        if missing:
            log.warning("no font has glyphs for %s", "".join(sorted(missing.values())))
        if shaping:
            shaping = _enable_shaping(pdf)
        families = [(MAIN_FAMILY, self.main_paths)] + [(fb.family, self.fallback_paths[fb.family]) for fb in fallbacks]
        for family, paths in families:
            for style, path in paths.items():
                if cached:
                    pdf.fonts[family + style] = _clone(parsed_font(path), pdf, family + style, style, shaping)
                else:
                    pdf.add_font(family, style, path)
        if fallbacks:
            pdf.set_fallback_fonts([fb.family for fb in fallbacks], exact_match=False)


def _enable_shaping(pdf: FPDF) -> bool:
    try:
        pdf.set_text_shaping(True)
    except Exception as exc:  # uharfbuzz missing: render unshaped rather than fail
        log.warning("text shaping unavailable (%s); complex scripts render unshaped", exc)
        return False
    return True


_default_sets: dict[tuple[str, ...] | None, FontSet] = {}


def default_font_set(font_dirs: Sequence[Path | str] | None = None) -> FontSet:
    """A cached FontSet for the default spec and ``font_dirs``."""
    key = tuple(str(d) for d in font_dirs) if font_dirs is not None else None
    with _parsed_lock:
        fs = _default_sets.get(key)
    if fs is None:
        fs = FontSet(font_dirs=font_dirs)
        with _parsed_lock:
            _default_sets[key] = fs
    return fs
