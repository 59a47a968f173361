"""The publication catalog: strict CSV import and matching of free-text requests to catalog entries."""
from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from rapidfuzz import fuzz, process

COLUMNS = ("katalog", "judul", "tahun", "halaman", "file")
KATALOG_RE = re.compile(r"\d{4,}(?:\.\d+)*")
YEAR_MIN, YEAR_MAX = 1945, 2099
PROGRESS_EVERY = 1000


@dataclass(frozen=True)
class CatalogEntry:
    """One publication edition; (katalog, tahun) identifies it: a series keeps its katalog number every year."""

    katalog: str
    judul: str
    tahun: int
    halaman: int
    file: str  # relative to the publication library; "" when not in the library


class CatalogError(ValueError):
    """A catalog file with errors; ``errors`` holds every (line, message), nothing was imported."""

    def __init__(self, errors: list[tuple[int, str]], source: str = "catalog"):
        self.errors = errors
        self.source = source
        lines = "\n".join(f"  line {n}: {msg}" for n, msg in errors)
        super().__init__(f"{source}: {len(errors)} error(s), nothing imported:\n{lines}")


# ---------------------------------------------------------------- CSV import


def _read_text(path_or_text: str | bytes | os.PathLike) -> tuple[str, str]:
    """(text, source name). A str containing a line break is CSV text; any other str is a path."""
    if isinstance(path_or_text, str) and ("\n" in path_or_text or "\r" in path_or_text):
        return path_or_text.lstrip("\ufeff"), "catalog"
    if isinstance(path_or_text, bytes):
        raw, source = path_or_text, "catalog"
    else:
        path = Path(path_or_text)
        source = path.name
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise CatalogError([(0, f"cannot read the file: {exc.strerror or exc}")], source) from None
    try:
        return raw.decode("utf-8-sig"), source
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CatalogError([(line, "not UTF-8 text; save the sheet as 'CSV UTF-8'")], source) from None


def _delimiter(header_line: str) -> str:
    """The separator the header uses: comma, semicolon (Excel in Indonesian locale) or tab."""
    return max((",", ";", "\t"), key=header_line.count)


def _check_file(name: str) -> str | None:
    if not name:
        return None
    p = PurePosixPath(name)
    if "\\" in name or p.is_absolute() or ".." in p.parts or re.match(r"^[A-Za-z]:", name):
        return f"file must be a plain name inside the library, got {name!r}"
    return None


def read_catalog_csv(
    path_or_text: str | bytes | os.PathLike,
    progress: Callable[[int], None] | None = None,
) -> list[CatalogEntry]:
    """Read and validate a catalog CSV (columns katalog, judul, tahun, halaman, file).

    UTF-8 with or without BOM; comma, semicolon or tab separated (taken from the
    header line); column names are case-insensitive, extra columns are ignored,
    empty rows are skipped. Every row is checked: katalog digits and dots
    (e.g. ``1102001.16``), judul present, tahun a year 1945-2099, halaman a
    positive integer, file a relative name (may be empty), no (katalog, tahun)
    or file twice. Any error raises ``CatalogError`` listing every error with
    its line number; nothing is returned partially. ``progress(rows_done)`` is
    called every 1000 rows and at the end.
    """
    text, source = _read_text(path_or_text)
    first = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise CatalogError([(1, "the file is empty; expected a header: " + ",".join(COLUMNS))], source) from None
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise CatalogError([(1, f"missing column(s) {', '.join(missing)}; header must name " + ",".join(COLUMNS))], source)
    dupes = sorted({h for h in header if h in COLUMNS and header.count(h) > 1})
    if dupes:
        raise CatalogError([(1, f"column {dupes[0]!r} appears twice")], source)
    ik, ij, it, ih, iff = (header.index(c) for c in COLUMNS)
    width = len(header)

    entries: list[CatalogEntry] = []
    errors: list[tuple[int, str]] = []
    seen_key: dict[tuple[str, int], int] = {}
    seen_file: dict[str, int] = {}
    line_end = reader.line_num
    try:
        for row in reader:
            line, line_end = line_end + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != width:
                errors.append((line, f"expected {width} fields, got {len(row)} (a separator inside a title? quote it)"))
                continue
            katalog, judul, tahun_s, halaman_s, file = (row[i].strip() for i in (ik, ij, it, ih, iff))
            judul = " ".join(judul.split())
            bad = len(errors)
            if not katalog:
                errors.append((line, "katalog is empty"))
            elif not KATALOG_RE.fullmatch(katalog):
                errors.append((line, f"katalog must be digits and dots like 1102001.16, got {katalog!r}"))
            if not judul:
                errors.append((line, "judul is empty"))
            tahun = int(tahun_s) if tahun_s.isascii() and tahun_s.isdigit() else 0
            if not YEAR_MIN <= tahun <= YEAR_MAX:
                errors.append((line, f"tahun must be a year {YEAR_MIN}-{YEAR_MAX}, got {tahun_s!r}"))
            halaman = int(halaman_s) if halaman_s.isascii() and halaman_s.isdigit() else 0
            if halaman <= 0:
                errors.append((line, f"halaman must be a positive whole number, got {halaman_s!r}"))
            problem = _check_file(file)
            if problem:
                errors.append((line, problem))
            if len(errors) > bad:
                continue
            key = (katalog, tahun)
            if key in seen_key:
                errors.append((line, f"katalog {katalog} tahun {tahun} already on line {seen_key[key]}"))
                continue
            if file and file in seen_file:
                errors.append((line, f"file {file!r} already used on line {seen_file[file]}"))
                continue
            seen_key[key] = line
            if file:
                seen_file[file] = line
            entries.append(CatalogEntry(katalog, judul, tahun, halaman, file))
            if progress and len(entries) % PROGRESS_EVERY == 0:
                progress(len(entries))
    except csv.Error as exc:
        errors.append((reader.line_num, f"CSV format error: {exc}"))
    if errors:
        raise CatalogError(errors, source)
    if progress:
        progress(len(entries))
    return entries


# ---------------------------------------------------------------- matching

# Abbreviations customers write, expanded on both sides before comparing.
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "sumsel": ("sumatera", "selatan"),
    "sumatra": ("sumatera",),
    "dda": ("dalam", "angka"),
    "prov": ("provinsi",),
    "propinsi": ("provinsi",),
    "kab": ("kabupaten",),
    "kec": ("kecamatan",),
    "statda": ("statistik", "daerah"),
    "pdrb": ("produk", "domestik", "regional", "bruto"),
    "ikr": ("indikator", "kesejahteraan", "rakyat"),
    "inkesra": ("indikator", "kesejahteraan", "rakyat"),
    "ipm": ("indeks", "pembangunan", "manusia"),
    "plg": ("palembang",),
    "oku": ("ogan", "komering", "ulu"),
    "oki": ("ogan", "komering", "ilir"),
    "muba": ("musi", "banyuasin"),
    "mura": ("musi", "rawas"),
    "muratara": ("musi", "rawas", "utara"),
    "pali": ("penukal", "abab", "lematang", "ilir"),
    "pagaralam": ("pagar", "alam"),
    "linggau": ("lubuklinggau",),
    "thn": ("tahun",),
    "dlm": ("dalam",),
}
# BPS's own English titles of its series, as customers who write in English quote them ("Sumatera
# Selatan Province in Figures", "Welfare Indicators of …"): each phrase stands for the Indonesian words.
ENGLISH: dict[tuple[str, ...], tuple[str, ...]] = {
    ("in", "figures"): ("dalam", "angka"),
    ("south", "sumatra"): ("sumatera", "selatan"),
    ("south", "sumatera"): ("sumatera", "selatan"),
    ("regional", "statistics"): ("statistik", "daerah"),
    ("welfare", "indicators"): ("indikator", "kesejahteraan", "rakyat"),
    ("welfare", "statistics"): ("statistik", "kesejahteraan", "rakyat"),
    ("human", "development", "index"): ("indeks", "pembangunan", "manusia"),
    ("gross", "regional", "domestic", "product"): ("produk", "domestik", "regional", "bruto"),
    ("grdp",): ("produk", "domestik", "regional", "bruto"),
    ("by", "industry"): ("menurut", "lapangan", "usaha"),
    ("by", "industrial", "origin"): ("menurut", "lapangan", "usaha"),
    ("by", "expenditure"): ("menurut", "pengeluaran"),
    ("labor", "force", "situation"): ("keadaan", "angkatan", "kerja"),
    ("labour", "force", "situation"): ("keadaan", "angkatan", "kerja"),
    ("labor", "force"): ("angkatan", "kerja"),
    ("labour", "force"): ("angkatan", "kerja"),
    ("august",): ("agustus",),
    ("producer", "price"): ("harga", "produsen"),
    ("producer", "prices"): ("harga", "produsen"),
    ("statistics",): ("statistik",),
}
# English puts the region kind after the name ("Lahat Regency"), Indonesian before it ("Kabupaten
# Lahat"); the kind goes before the word it follows, so a region that is not ours ("Jakarta City")
# is told apart as in Indonesian (see _other_region).
ENGLISH_REGION_KINDS = {"province": "provinsi", "regency": "kabupaten", "city": "kota", "municipality": "kota"}
_NOT_A_NAME = frozenset({"the", "a", "an", "of", "in", "for", "my", "your", "this", "that", "and", "or"})
# Every phrase normalize() reads as the catalog's words, longest first where several start alike.
PHRASES: dict[tuple[str, ...], tuple[str, ...]] = {
    **{(abbreviation,): words for abbreviation, words in ABBREVIATIONS.items()},
    ("lubuk", "linggau"): ("lubuklinggau",),
    **ENGLISH,
}
_PHRASES_BY_FIRST: dict[str, list[tuple[str, ...]]] = {}
for _phrase in sorted(PHRASES, key=len, reverse=True):
    _PHRASES_BY_FIRST.setdefault(_phrase[0], []).append(_phrase)
# Words that say little about which publication is meant: the office's own province is implied
# by writing to it, and region kinds and fillers are everywhere. They count a quarter.
# Another office passes its own set to CatalogIndex(implicit_words=...).
IMPLICIT_WORDS = frozenset(
    {"provinsi", "sumatera", "selatan", "kabupaten", "kota", "menurut", "dan", "di", "tahun", "publikasi", "buku"}
)
IMPLICIT_WEIGHT = 0.25
MIN_SCORE = 60          # below this a title is not offered at all
MISSING_YEAR_PENALTY = 10
GAP_PENALTY = 8         # per unrelated word inside a mention ("angka yang berbeda dalam")
FILLERS = frozenset({"tahun", "edisi", "dan", "buku", "publikasi", "softcopy", "of", "the", "edition"})
WINDOW_SLACK = 3        # extra request words allowed inside one mention of a title
YEAR_REACH = (0, 4)     # years inside a mention or up to 4 tokens after it ("... Selatan tahun 2023 dan 2024") belong to it
REGION_KINDS = frozenset({"provinsi", "kabupaten", "kota", "kecamatan"})
REGION_REACH = (5, 1)   # a region named this many tokens before/after a mention belongs to it
FUZZY_MIN_LEN = 5
FUZZY_CUTOFF = 80
FIX_CACHE_MAX = 100_000

_TOKEN_RE = re.compile(r"\d+(?:\.\d+)+|[a-z]+|\d+")


def _fold(text: str) -> str:
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def _year(tok: str) -> int | None:
    if len(tok) == 4 and tok.isdigit() and YEAR_MIN <= int(tok) <= YEAR_MAX:
        return int(tok)
    return None


def normalize(text: str) -> list[str]:
    """Lower-case, accent-free word tokens with PHRASES read as the catalog's words; dotted numbers kept whole."""
    out: list[str] = []
    toks = _TOKEN_RE.findall(_fold(text))
    i = 0
    while i < len(toks):
        tok = toks[i]
        phrase = next((p for p in _PHRASES_BY_FIRST.get(tok, ()) if tuple(toks[i:i + len(p)]) == p), None)
        if phrase:
            out.extend(PHRASES[phrase])
            i += len(phrase)
            continue
        if tok in ENGLISH_REGION_KINDS:
            named = bool(out) and out[-1].isalpha() and out[-1] not in _NOT_A_NAME
            out.insert(len(out) - named, ENGLISH_REGION_KINDS[tok])
        else:
            out.append(tok)
        i += 1
    return out


@dataclass(frozen=True)
class Match:
    """One guess: the entry, how sure (0-100) and why ("katalog": number written; "judul": title)."""

    entry: CatalogEntry
    score: int
    reason: Literal["katalog", "judul"]


@dataclass
class _Series:
    """Entries sharing one title apart from its years, newest first."""

    words: frozenset[str]
    weights: dict[str, float]
    total: float
    implicit: float  # the part of total carried by implicit words
    entries: list[tuple[frozenset[int], CatalogEntry]]


class CatalogIndex:
    """Normalised titles, an inverted word index and a typo cache, built once per catalog."""

    def __init__(
        self,
        entries: Sequence[CatalogEntry],
        min_score: int = MIN_SCORE,
        implicit_words: frozenset[str] = IMPLICIT_WORDS,
    ):
        self.min_score = min_score
        self._implicit = implicit_words
        self._by_katalog: dict[str, list[CatalogEntry]] = {}
        series: dict[frozenset[str], _Series] = {}
        for e in entries:
            self._by_katalog.setdefault(e.katalog, []).append(e)
            toks = normalize(e.judul)
            years = frozenset({e.tahun} | {y for t in toks if (y := _year(t))})
            words = frozenset(t for t in toks if not t.isdigit())
            if not words:
                continue
            s = series.get(words)
            if s is None:
                weights = {w: (IMPLICIT_WEIGHT if w in implicit_words else 1.0) for w in words}
                implicit = sum(v for w, v in weights.items() if w in implicit_words)
                s = series[words] = _Series(words, weights, sum(weights.values()), implicit, [])
            s.entries.append((years, e))
        for lst in self._by_katalog.values():
            lst.sort(key=lambda e: -e.tahun)
        self._series = list(series.values())
        for s in self._series:
            s.entries.sort(key=lambda ye: -ye[1].tahun)
        self._postings: dict[str, list[int]] = {}
        for i, s in enumerate(self._series):
            for w in s.words:
                self._postings.setdefault(w, []).append(i)
        self._vocab = list(self._postings)
        self._fix_cache: dict[str, tuple[str, float] | None] = {}

    def __len__(self) -> int:
        return sum(len(s.entries) for s in self._series)

    def lookup(self, katalog: str, tahun: int | None = None) -> CatalogEntry | None:
        """The entry with that katalog number and year, or the newest edition when ``tahun`` is None."""
        for e in self._by_katalog.get(katalog.strip(), ()):
            if tahun is None or e.tahun == tahun:
                return e
        return None

    def editions(self, katalog: str) -> list[CatalogEntry]:
        """All entries of one katalog number, newest first."""
        return list(self._by_katalog.get(katalog.strip(), ()))

    def _fix(self, tok: str) -> tuple[str, float] | None:
        """The catalog word a request word stands for, with similarity 0-1; typos allowed from 5 letters."""
        if tok in self._postings:
            return tok, 1.0
        if tok in self._fix_cache:
            return self._fix_cache[tok]
        found = None
        if len(tok) >= FUZZY_MIN_LEN and tok.isalpha():
            hit = process.extractOne(tok, self._vocab, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
            if hit:
                found = (hit[0], hit[1] / 100.0)
        if len(self._fix_cache) >= FIX_CACHE_MAX:  # a long-running daemon sees endless new words
            self._fix_cache.clear()
        self._fix_cache[tok] = found
        return found

    def match(self, text: str, limit: int = 5) -> list[Match]:
        """Guesses for a free-text request: written katalog numbers first, then titles by score.

        A year written near a mention selects that year's edition (several years:
        several editions); without a year the newest edition is offered; a year the
        catalog lacks offers the newest at a lower score. Titles scoring below
        ``min_score`` are not offered: no good match gives [].
        """
        toks = normalize(text)
        years_at = {i: y for i, t in enumerate(toks) if (y := _year(t))}
        out: list[Match] = []
        seen: set[CatalogEntry] = set()

        def add(entry: CatalogEntry, score: int, reason: Literal["katalog", "judul"]) -> None:
            if entry not in seen:
                seen.add(entry)
                out.append(Match(entry, score, reason))

        for i, t in enumerate(toks):
            if t in self._by_katalog:
                near = _years_near(years_at, i, i)
                eds = self._by_katalog[t]
                chosen = [e for e in eds if e.tahun in near] or eds[:1]
                for e in chosen:
                    add(e, 100, "katalog")

        hits: dict[str, list[tuple[int, float]]] = {}
        word_at: dict[int, str] = {}
        for i, t in enumerate(toks):
            fixed = self._fix(t) if t.isalpha() else None
            if fixed:
                hits.setdefault(fixed[0], []).append((i, fixed[1]))
                word_at[i] = fixed[0]
        bound: dict[int, float] = {}
        for w, occ in hits.items():
            if w in self._implicit:
                continue
            best = max(sim for _, sim in occ)
            for si in self._postings[w]:
                bound[si] = bound.get(si, 0.0) + best
        threshold = self.min_score / 100.0
        found: list[tuple[int, frozenset[int], list[CatalogEntry]]] = []
        for si, strong in bound.items():
            s = self._series[si]
            if (strong + s.implicit) / s.total < threshold:
                continue
            cover, at = _best_window(s, hits)
            if not at:
                continue
            lo, hi = min(at), max(at)
            if _other_region(toks, word_at, s.words, lo, hi):
                continue
            gaps = sum(1 for i in range(lo, hi + 1) if i not in at and toks[i] not in FILLERS and i not in years_at)
            score = round(100 * cover) - GAP_PENALTY * gaps
            near = _years_near(years_at, lo, hi)
            best = max((len(ys & near) for ys, _ in s.entries), default=0)
            chosen = [e for ys, e in s.entries if best and len(ys & near) == best]
            if not chosen:
                chosen = [s.entries[0][1]]
                if near:
                    score -= MISSING_YEAR_PENALTY
            if score >= self.min_score:
                found.append((score, at, chosen))
        # A title explained by a strict subset of the words another title explains is dropped:
        # "sumsel dalam angka" is the province book, not every regency's "Dalam Angka".
        kept = [f for f in found if not any(f[1] < g[1] and g[0] >= f[0] for g in found)]
        scored = sorted(((sc, e) for sc, _, es in kept for e in es), key=lambda x: (-x[0], -x[1].tahun, x[1].judul))
        for score, e in scored:
            add(e, score, "judul")
        return out[:limit]


def _other_region(toks: list[str], word_at: dict[int, str], words: frozenset[str], lo: int, hi: int) -> bool:
    """True when the mention names a region this title is not about ("Provinsi Jawa Barat", "Kota Palembang").

    A region kind (provinsi, kabupaten, kota, kecamatan) inside the mention decides; only when
    the mention has none, one just before or after it does.
    """
    def names_other(i: int) -> bool:
        nxt = toks[i + 1] if i + 1 < len(toks) else ""
        return nxt.isalpha() and nxt not in FILLERS and word_at.get(i + 1, nxt) not in words

    inside = [i for i in range(lo, hi + 1) if toks[i] in REGION_KINDS]
    if inside:
        return any(names_other(i) for i in inside)
    before, after = REGION_REACH
    around = [*range(max(0, lo - before), lo), *range(hi + 1, min(hi + 1 + after, len(toks)))]
    return any(toks[i] in REGION_KINDS and names_other(i) for i in around)


def _years_near(years_at: dict[int, int], lo: int, hi: int) -> frozenset[int]:
    before, after = YEAR_REACH
    return frozenset(y for i, y in years_at.items() if lo - before <= i <= hi + after)


def _best_window(s: _Series, hits: dict[str, list[tuple[int, float]]]) -> tuple[float, frozenset[int]]:
    """Best weighted share of the title's words found within one short stretch of the request.

    Returns the share (0-1) and the request positions that supplied the title's words; of
    equally good stretches the tightest wins.
    """
    found = sorted((i, w, sim) for w in s.words for i, sim in hits.get(w, ()))
    span = len(s.words) + WINDOW_SLACK
    best, best_width, best_at = 0.0, 0, frozenset()
    for a, (start, _, _) in enumerate(found):
        got: dict[str, tuple[float, int]] = {}
        for i, w, sim in found[a:]:
            if i - start >= span:
                break
            if w not in got or sim > got[w][0]:
                got[w] = (sim, i)
        cover = sum(s.weights[w] * sim for w, (sim, _) in got.items()) / s.total
        if cover < best - 1e-9:
            continue
        at = frozenset(i for _, i in got.values())
        width = max(at) - min(at)
        if cover > best + 1e-9 or width < best_width:
            best, best_width, best_at = cover, width, at
    return best, best_at


def match_request(
    text: str, entries: Sequence[CatalogEntry] | CatalogIndex, limit: int = 5
) -> list[Match]:
    """Guesses for ``text``; pass a prebuilt ``CatalogIndex`` when matching many mails."""
    index = entries if isinstance(entries, CatalogIndex) else CatalogIndex(entries)
    return index.match(text, limit)
