"""Reading a payment proof: amount, date and time, NTPN / billing code / NTB / bank reference, payer,
destination account and name, transfer note — each with a confidence — and a verdict against the
invoice. Pure: the words come in from the OCR adapter or a PDF's text layer. Evidence, never payment."""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from datetime import date

from ..outbound.formatting import format_rupiah, tanggal

SURE = 80.0          # a value is taken as read when its words' OCR confidence is at least this
TEXT = 100.0         # a text layer or a typed mail is read exactly


# --- words and lines --------------------------------------------------------------------------
@dataclass(frozen=True)
class Word:
    """One word as OCR saw it (a text layer's words have no box and full confidence)."""

    text: str
    conf: float = TEXT
    left: int = 0
    top: int = 0
    width: int = 0
    height: int = 0
    group: int = 0        # OCR's own line: words with one group were read as one line


@dataclass(frozen=True)
class Line:
    text: str
    spans: tuple[tuple[int, int, float], ...] = ()     # (start, end, confidence) of each word

    def conf(self, start: int, end: int) -> float:
        """The lowest confidence of the words under text[start:end]."""
        found = [c for s, e, c in self.spans if s < end and e > start]
        return min(found) if found else 0.0

    def __add__(self, other: "Line") -> "Line":
        shift = len(self.text) + 1
        return Line(f"{self.text} {other.text}", self.spans + tuple((s + shift, e + shift, c)
                                                                     for s, e, c in other.spans))


def _line(words: list[Word]) -> Line:
    spans, pos = [], 0
    for w in words:
        spans.append((pos, pos + len(w.text), w.conf))
        pos += len(w.text) + 1
    return Line(" ".join(w.text for w in words), tuple(spans))


def lines_from_text(text: str) -> list[Line]:
    """A text layer or a mail: one line per text line, every word exact."""
    return [_line([Word(t) for t in raw.split()]) for raw in text.splitlines() if raw.strip()]


def lines_from_words(words: list[Word]) -> list[Line]:
    """OCR words into rows: OCR's own lines first, then lines side by side at one height joined (sparse
    reading finds a label and its value as two lines). Heights are taken along the page's slant, so a
    photo turned a few degrees still pairs a label with its value."""
    groups: dict[int, list[Word]] = {}
    for w in words:
        groups.setdefault(w.group, []).append(w)
    segments = [sorted(g, key=lambda w: w.left) for g in groups.values()]
    slopes = sorted((_mid(s[-1]) - _mid(s[0])) / (s[-1].left - s[0].left)
                    for s in segments if len(s) > 1 and s[-1].left - s[0].left > 50)
    slope = slopes[len(slopes) // 2] if slopes else 0.0

    def span(seg: list[Word]) -> tuple[float, float]:
        return (min(w.top - slope * w.left for w in seg), max(w.top + w.height - slope * w.left for w in seg))

    rows: list[list[list[Word]]] = []
    for seg in sorted(segments, key=lambda s: span(s)[0]):
        top, bottom = span(seg)
        left, right = seg[0].left, seg[-1].left + seg[-1].width
        for row in rows:
            r_top, r_bottom = min(span(s)[0] for s in row), max(span(s)[1] for s in row)
            overlap = min(bottom, r_bottom) - max(top, r_top)
            apart = all(left >= s[-1].left + s[-1].width or right <= s[0].left for s in row)
            if apart and overlap > 0.5 * min(bottom - top, r_bottom - r_top):
                row.append(seg)
                break
        else:
            rows.append([seg])
    return [_line([w for s in sorted(row, key=lambda s: s[0].left) for w in s]) for row in rows]


def _mid(w: Word) -> float:
    return w.top + w.height / 2


# --- fields -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Field:
    value: int | str
    conf: float
    sure: bool
    note: str = ""


@dataclass(frozen=True)
class Reading:
    """What one proof file says. `method`: text (PDF text layer), ocr, mail (the customer's words),
    no_ocr (an image, and Tesseract is not installed), unreadable, not_proof (the office's own invoice or
    kuitansi sent back)."""

    method: str
    fields: dict = field(default_factory=dict)       # name -> Field
    detail: str = ""
    seconds: float = 0.0

    @property
    def confident(self) -> bool:
        """The amount is read surely: the rule that decides whether OCR tries again."""
        return self.sure("amount") is not None

    def sure(self, name: str):
        f = self.fields.get(name)
        return f.value if f is not None and f.sure else None

    def timed(self, seconds: float) -> "Reading":
        return replace(self, seconds=round(seconds, 3))

    def to_json(self) -> str:
        return json.dumps({"method": self.method, "detail": self.detail, "seconds": self.seconds,
                           "fields": {k: asdict(v) for k, v in self.fields.items()}}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> "Reading":
        d = json.loads(text)
        return cls(d["method"], {k: Field(**v) for k, v in d["fields"].items()}, d.get("detail", ""),
                   d.get("seconds", 0.0))


def better(a: Reading, b: Reading) -> bool:
    """Whether reading `a` beats `b`: a sure amount first, then more sure fields, then more fields."""
    def score(r: Reading):
        return (r.confident, sum(f.sure for f in r.fields.values()), len(r.fields))
    return score(a) > score(b)


# Labels, matched at the start of a line (after the optional bullet); the first kind that matches wins.
_LABELS: tuple[tuple[str, str], ...] = (
    ("ntpn", r"ntpn"),
    ("billing", r"kode\s*billing|billing\s*code|id\s*billing"),
    ("ntb", r"ntb"),
    ("reference", r"no(?:mor)?\.?\s*ref(?:erensi)?\.?|kode\s+ref(?:erensi)?|ref(?:erence)?\.?(?:\s*(?:no\.?|number))?"
                  r"|id\s+transaksi|no(?:mor)?\.?\s*transaksi|transaction\s+id|trx\s*id"),
    ("payer", r"sumber\s+dana|nama\s+pengirim|pengirim|nama\s+penyetor|penyetor"
              r"|nama\s+wajib\s+(?:bayar|setor)(?:\s*/\s*setor)?|dari|from"),
    ("account", r"rekening\s+tujuan|no(?:mor)?\.?\s*rek(?:ening)?\.?(?:\s+tujuan)?|ke\s+rek(?:ening)?\.?"
                r"|rek(?:ening)?\s+penerima|tujuan|to\s+account|account\s+number|bank\s+[a-z]+"),
    ("dest_name", r"nama\s+penerima|penerima|atas\s+nama|nama\s+pemilik(?:\s+rekening)?|nama\s+tujuan|nama"),
    ("berita", r"berita(?:\s+transfer)?|catatan|keterangan|pesan|remark|deskripsi|description|note|news"),
)
_LABEL_RE = [(kind, re.compile(rf"^[\W_]*(?:{pattern})\b\s*[:.]?\s*", re.I)) for kind, pattern in _LABELS]
# Labels of amounts and dates, which are read wherever they stand on a line.
_OTHER_LABELS = (r"nominal|jumlah(?:\s+[a-z]+)?|total(?:\s+[a-z]+)?|biaya(?:\s+[a-z]+)?|admin|saldo(?:\s+[a-z]+)?"
                 r"|amount|tanggal(?:\s+[a-z]+)?|tgl|waktu|jam(?:\s+[a-z]+)?|terbilang")
_BARE_LABEL = re.compile(rf"^[\W_]*(?:{'|'.join(p for _, p in _LABELS)}|{_OTHER_LABELS})\s*[:.]?\s*$", re.I)

# Amounts. A currency mark, then 1.250.000 / 1,250,000 / 1250000, with ,00 .00 ,- after it.
# OCR sometimes puts a space beside a separator ('82 .000').
_NUMBER = r"\d{1,3}(?:\s?[.,]\s?\d{3})+(?:[.,]\d{1,2})?(?:\s?,-|\.-)?|\d+(?:[.,]\d{2})?(?:\s?,-|\.-)?"
_MONEY = re.compile(rf"(?<![A-Za-z])(?:rp|idr)\.?\s*({_NUMBER})(?![\d])", re.I)
_BARE_MONEY = re.compile(r"(?<![\w.,/:])(\d{1,3}(?:[.,]\d{3})+(?:[.,]\d{2})?(?:\s?,-|\.-)?)(?![\w/:]|[.,]\d)")
_FEE = re.compile(r"biaya|admin|fee|charge|provisi|ongkos|potongan", re.I)
_BALANCE = re.compile(r"saldo|balance|sisa|limit", re.I)
_TOTAL = re.compile(r"total", re.I)
_TRANSFER = re.compile(r"nominal|jumlah|transfer|setor|amount|nilai|bayar|kirim|transaksi|sebesar", re.I)


def parse_amount(text: str) -> int | None:
    """'1.250.000,00' / '1,250,000.00' / '75.000,-' / '237500' -> whole rupiah; None when it is no amount."""
    s = re.sub(r"\s", "", text).rstrip("-").rstrip(",.")
    for pattern, thousands in ((r"(\d{1,3}(?:\.\d{3})*)(?:,\d{1,2})?", "."),
                               (r"(\d{1,3}(?:,\d{3})*)(?:\.\d{1,2})?", ","), (r"(\d+)(?:[.,]\d{2})?", "")):
        m = re.fullmatch(pattern, s)
        if m:
            return int(m.group(1).replace(thousands, "") if thousands else m.group(1))
    return None


_UNITS = {"nol": 0, "satu": 1, "dua": 2, "tiga": 3, "empat": 4, "lima": 5, "enam": 6, "tujuh": 7, "delapan": 8,
          "sembilan": 9}
_SCALES = {"ribu": 1000, "juta": 1_000_000, "miliar": 1_000_000_000}


def words_to_number(text: str) -> int | None:
    """'satu juta dua ratus lima puluh ribu rupiah' -> 1250000 (the terbilang line); None if not a number."""
    total, group, small, seen = 0, 0, 0, False
    for t in re.findall(r"[a-z]+", text.lower()):
        if t in ("rupiah", "terbilang", "dan"):
            continue
        seen = True
        if t in _UNITS:
            small = _UNITS[t]
        elif t in ("sepuluh", "sebelas"):
            group += 10 if t == "sepuluh" else 11
        elif t == "belas":
            group, small = group + small + 10, 0
        elif t == "puluh":
            group, small = group + small * 10, 0
        elif t == "ratus":
            group, small = group + small * 100, 0
        elif t == "seratus":
            group += 100
        elif t == "seribu":
            total += 1000
        elif t in _SCALES:
            total, group, small = total + (group + small) * _SCALES[t], 0, 0
        else:
            return None
    value = total + group + small
    return value if seen and value > 0 else None


_MONTHS = {"jan": 1, "januari": 1, "january": 1, "feb": 2, "peb": 2, "februari": 2, "february": 2, "mar": 3,
           "maret": 3, "march": 3, "apr": 4, "april": 4, "mei": 5, "may": 5, "jun": 6, "juni": 6, "june": 6,
           "jul": 7, "juli": 7, "july": 7, "agu": 8, "agt": 8, "ags": 8, "agus": 8, "agustus": 8, "aug": 8,
           "august": 8, "sep": 9, "sept": 9, "september": 9, "okt": 10, "oktober": 10, "oct": 10, "october": 10,
           "nov": 11, "nop": 11, "november": 11, "nopember": 11, "des": 12, "desember": 12, "dec": 12,
           "december": 12}
_MONTH_ALT = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DATE_WORDS = re.compile(rf"(?<!\d)(\d{{1,2}})[\s/.-]*({_MONTH_ALT})(?![a-z])\.?[\s/.,-]*(\d{{4}}|\d{{2}})(?!\d)", re.I)
_DATE_NUMS = re.compile(r"(?<![\d/.-])(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?![\d/-]|\.\d)")
_DATE_ISO = re.compile(r"(?<!\d)(20\d\d)-(\d{2})-(\d{2})(?!\d)")
_TIME = re.compile(r"(?<![\d:.,])([01]?\d|2[0-3])[:.]([0-5]\d)(?:[:.]([0-5]\d))?(?![\d:]|[.,]\d)")
_NOT_PAYMENT_DATE = re.compile(r"berlaku|kedaluwarsa|kadaluarsa|jatuh\s+tempo|expir|masa|cetak|print", re.I)
_PAY_DATE = re.compile(r"bayar|transaksi|transfer|setor|tanggal|tgl|waktu|date", re.I)
_TIME_LABEL = re.compile(r"\b(?:jam|pukul|waktu|time)\b", re.I)


def _dates(text: str) -> list[tuple[date, int, int]]:
    found = []
    for m in _DATE_WORDS.finditer(text):
        found.append((m.group(1), str(_MONTHS[m.group(2).lower()]), m.group(3), m.start(), m.end()))
    for m in _DATE_NUMS.finditer(text):
        found.append((m.group(1), m.group(3), m.group(4), m.start(), m.end()))
    for m in _DATE_ISO.finditer(text):
        found.append((m.group(3), m.group(2), m.group(1), m.start(), m.end()))
    out = []
    for d, mo, y, start, end in found:
        year = int(y) + (2000 if len(y) == 2 else 0)
        try:
            out.append((date(year, int(mo), int(d)), start, end))
        except ValueError:
            continue
    return sorted(out, key=lambda x: x[1])


def _logical(lines: list[Line]) -> list[Line]:
    """A label alone on its line takes the next line as its value (labels above their values)."""
    out, i = [], 0
    while i < len(lines):
        if _BARE_LABEL.match(lines[i].text) and i + 1 < len(lines) and not _BARE_LABEL.match(lines[i + 1].text):
            out.append(lines[i] + lines[i + 1])
            i += 2
        else:
            out.append(lines[i])
            i += 1
    return out


@dataclass(frozen=True)
class _Money:
    value: int
    kind: str          # transfer, total, fee, balance, none
    conf: float


def _money(line: Line, mail: bool) -> list[_Money]:
    labelled = bool(_TRANSFER.search(line.text) or _TOTAL.search(line.text))
    spans = [(m.start(), m.end(), m.group(1)) for m in _MONEY.finditer(line.text)]
    if not spans and labelled and not mail:       # 'Nominal : 1.250.000' without a currency mark
        spans = [(m.start(), m.end(), m.group(1)) for m in _BARE_MONEY.finditer(line.text)]
    found, prev = [], 0
    for start, end, number in spans:
        value = parse_amount(number)
        if value is None:
            continue
        before = line.text[prev:start]          # the words between the previous amount and this one
        prev = end
        kind = ("fee" if _FEE.search(before) else "balance" if _BALANCE.search(before) else
                "total" if _TOTAL.search(before) else "transfer" if _TRANSFER.search(before) else "none")
        found.append(_Money(value, kind, line.conf(start, end)))
    return found


def _terbilang(lines: list[Line]) -> int | None:
    for line in lines:
        low = line.text.lower()
        if "terbilang" in low or low.rstrip(" .").endswith("rupiah"):
            part = low.split("terbilang", 1)[-1].strip(" :.")
            value = words_to_number(part)
            if value:
                return value
    return None


def _amount(lines: list[Line], exact: bool, mail: bool) -> Field | None:
    """The transfer amount: never a fee, a balance, or a total that includes a fee."""
    found = [m for line in lines for m in _money(line, mail)]
    if not found:
        return None
    fees = [m.value for m in found if m.kind == "fee"]
    totals = [m.value for m in found if m.kind == "total"]
    distractors = set(fees) | set(totals) | {m.value for m in found if m.kind == "balance"}
    pool = [m for m in found if m.kind == "transfer"]
    if not pool and not any(fees):                 # no fee charged: the total is the transfer
        pool = [m for m in found if m.kind == "total"]
    labelled = bool(pool)
    if not pool:                                   # a headline amount alone: shown, never taken as sure
        pool = [m for m in found if m.kind == "none" and m.value not in distractors]
    if not pool:
        return None
    counts = Counter(m.value for m in pool)
    value = max(counts, key=lambda v: (counts[v], max(m.conf for m in pool if m.value == v)))
    conf = max(m.conf for m in pool if m.value == value)
    if mail:
        return Field(value, conf, False, "ditulis pelanggan")
    if len(counts) > 1:
        return Field(value, conf, False, "nominal tidak konsisten")
    if any(fees) and value in totals:              # a fee was charged, so the transfer cannot equal the total
        return Field(value, conf, False, "nominal sama dengan total yang memuat biaya")
    seen_twice = sum(1 for m in found if m.value == value and m.kind in ("transfer", "total", "none")) >= 2
    by_words = _terbilang(lines) == value
    adds_up = any(f > 0 and value + f == t for f in fees for t in totals)
    confirmed = exact or seen_twice or by_words or adds_up
    note = "terbilang cocok" if by_words else "nominal + biaya = total" if adds_up else \
        "terbaca dua kali" if seen_twice else "" if exact else "terbaca sekali"
    if not labelled:
        note = "tanpa label nominal"
    return Field(value, conf, labelled and confirmed and conf >= SURE, note)


def _date_time(lines: list[Line]) -> tuple[Field | None, Field | None]:
    best = None
    for n, line in enumerate(lines):
        if _NOT_PAYMENT_DATE.search(line.text):
            continue
        for d, start, end in _dates(line.text):
            rank = 0 if re.search(r"bayar|transaksi|transfer|setor", line.text, re.I) else \
                1 if _PAY_DATE.search(line.text) else 2
            if best is None or rank < best[0]:
                best = (rank, n, d, start, end)
    if best is None:
        return None, None
    _, n, d, start, end = best
    line = lines[n]
    conf = line.conf(start, end)
    date_field = Field(d.isoformat(), conf, conf >= SURE)
    candidates = [(line, end)] + [(ln, 0) for ln in lines if _TIME_LABEL.search(ln.text)]
    for ln, after in candidates:
        taken = [(s, e) for _, s, e in _dates(ln.text)]
        for m in _TIME.finditer(ln.text, after):
            if any(s <= m.start() < e for s, e in taken):
                continue
            c = ln.conf(m.start(), m.end())
            return date_field, Field(f"{int(m.group(1)):02d}:{m.group(2)}", c, c >= SURE)
    return date_field, None


def _labelled(lines: list[Line]) -> dict[str, Field]:
    out: dict[str, Field] = {}
    for line in lines:
        for kind, pattern in _LABEL_RE:
            m = pattern.match(line.text)
            if not m:
                continue
            rest = line.text[m.end():]
            junk = len(rest) - len(rest.lstrip(_JUNK))      # '[Budi' and '» RPL' from form boxes
            rest = rest[junk:]
            if kind in out or any(p.match(rest) for _, p in _LABEL_RE):   # a label without its value
                break
            got = _value(kind, rest)
            if got is not None:
                start = m.end() + junk + got[1]
                conf = line.conf(start, start + len(got[2]))
                out[kind] = Field(got[0], conf, conf >= SURE)
            break
    return out


_JUNK = " \t[]|{}()»«—–-_:;,.'\"~`"


def _value(kind: str, text: str) -> tuple[str, int, str] | None:
    """(normalised value, offset in text, the raw text it came from) of a labelled value."""
    if kind == "ntpn":
        m = re.match(r"([0-9A-Z]{4}\s?){4}(?![0-9A-Z])", text)
        raw = m.group(0).strip() if m else ""
        value = raw.replace(" ", "")
        return (value, 0, raw) if len(value) == 16 else None
    if kind == "billing":
        m = re.match(r"(\d[\d ]{13,20}\d)(?!\d)", text)
        value = m.group(1).replace(" ", "") if m else ""
        return (value, 0, m.group(1)) if len(value) == 15 else None
    if kind in ("ntb", "reference"):
        m = re.match(r"([0-9A-Z]{6,30})\b", text)
        if m and sum(ch.isdigit() for ch in m.group(1)) >= 4:
            return m.group(1), 0, m.group(1)
        return None
    if kind == "account":
        m = re.match(r"[\d*xX•][\d *xX•.-]{4,}\d", text)
        if m is None or _DATE_NUMS.match(m.group(0)):
            return None
        raw = m.group(0).strip()
        value = re.sub(r"[\s.-]", "", raw)
        return (value, 0, raw) if sum(ch.isdigit() for ch in raw) >= 4 and len(value) <= 24 else None
    if kind == "payer":
        m = re.match(r"[A-Za-z][A-Za-z .,'’-]*[A-Za-z.]", text)
        value = _name(m.group(0)) if m else ""
        return (value, 0, m.group(0)) if len(value) >= 3 else None
    if kind == "dest_name":
        raw = re.split(r"\s*[-–]?\s*[\d*]{6,}", text, maxsplit=1)[0].strip()
        value = _name(raw)
        return (value, 0, raw) if len(value) >= 3 and re.search(r"[A-Za-z]{2}", value) else None
    if kind == "berita":
        raw = text.strip()
        return (_ROMAN_SLOT.sub(_roman, raw), 0, raw) if raw else None
    return None


# An invoice number in the note ('0037/INV/1600/II/2026'): its month slot holds Roman numerals only, which
# OCR reads as digits ('11') or lower case; put them back.
_ROMAN_SLOT = re.compile(r"(\d{1,5}\s*/\s*INV\s*/\s*\d+\s*/\s*)([IVXLivxl1|!]{1,5})(\s*/\s*20\d\d)")


def _roman(m: re.Match) -> str:
    return m.group(1) + m.group(2).upper().replace("1", "I").replace("|", "I").replace("!", "I") + m.group(3)


def _name(text: str) -> str:
    return re.sub(r"^[^A-Z0-9]+|[^A-Z0-9.]+$", "", " ".join(text.upper().split()))


# The office's own invoice or kuitansi sent back (or photographed) as if it were a proof: its amount and
# terbilang would read as a perfect match.
_OUR_DOCUMENT = re.compile(r"^\W*(?:invoice|kuitansi|kwitansi)\W*$|harus\s+dibayar|silakan\s+transfer", re.I)


def read_lines(lines: list[Line], method: str, detail: str = "") -> Reading:
    """Every field this proof shows, from its lines of text."""
    if method != "mail" and any(_OUR_DOCUMENT.search(line.text) for line in lines):
        return Reading("not_proof", {}, "invoice atau kuitansi kantor")
    lines = _logical(lines)
    exact = method in ("text", "mail")
    fields: dict[str, Field] = {}
    amount = _amount(lines, exact, method == "mail")
    if amount is not None:
        fields["amount"] = amount
    d, t = _date_time(lines)
    if d is not None:
        fields["date"] = d
    if t is not None:
        fields["time"] = t
    if method != "mail":
        fields.update(_labelled(lines))
    if method == "mail":
        fields = {k: replace(v, sure=False) for k, v in fields.items()}
    return Reading(method, fields, detail)


def read_claim(text: str) -> Reading:
    """What the customer wrote in the mail ('sudah saya transfer Rp82.000 tadi pagi'): a claim, never sure."""
    return read_lines(lines_from_text(text), "mail")


# --- against the invoice ----------------------------------------------------------------------
@dataclass(frozen=True)
class InvoiceFacts:
    number: str
    total: int
    issued_on: date
    billing_code: str | None          # a SIMPONI invoice; else the office's bank account
    account: str


@dataclass(frozen=True)
class Verdict:
    kind: str                          # cocok, berbeda, tidak terbaca
    differences: tuple[str, ...] = ()  # "kurang Rp6.500", "rekening tujuan lain (…)"
    agreed: tuple[str, ...] = ()       # what was read and agrees: nominal, rekening, …
    notes: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        notes = f"; catatan: {'; '.join(self.notes)}" if self.notes else ""
        if self.kind == "berbeda":
            agreed = f" (sesuai: {', '.join(self.agreed)})" if self.agreed else ""
            return "berbeda: " + "; ".join(self.differences) + agreed + notes
        if self.kind == "cocok":
            return "cocok (" + ", ".join(self.agreed) + ")" + notes
        return "tidak terbaca" + (f" ({'; '.join(self.notes)})" if self.notes else "")


def _digits(s: str) -> str:
    return re.sub(r"\D", "", s)


def same_account(read: str, ours: str) -> bool:
    """A masked number ('****7890') agrees when its visible digits end ours."""
    ours_d, read_d = _digits(ours), _digits(read)
    if re.search(r"[*xX•]", read):
        tail = _digits(read.split(re.findall(r"[*xX•]", read)[-1])[-1])
        return bool(tail) and ours_d.endswith(tail)
    return read_d == ours_d


_CONFUSED = str.maketrans({"I": "1", "L": "1", "|": "1", "!": "1", "O": "0", "Q": "0"})
_INVOICE_SEQ = re.compile(r"(\d{1,5})\s*/\s*INV\b")


def _berita(note: str, number: str) -> str | None:
    """'ours' when the note names this invoice (read leniently: OCR turns the Roman month's I into 1),
    the other invoice number it names, or None when it names none."""
    def key(s: str) -> str:
        return re.sub(r"[^0-9A-Z]", "", s.upper().translate(_CONFUSED))
    if key(number) and key(number) in key(note):
        return "ours"
    seen, ours = _INVOICE_SEQ.search(note.upper()), _INVOICE_SEQ.search(number.upper())
    if seen is None:
        return None
    if ours is not None and int(seen.group(1)) == int(ours.group(1)):
        return "ours"
    return next((t for t in note.split() if "/INV" in t.upper()), seen.group(0))


def _one_edit(a: str, b: str) -> bool:
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) == 1
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))


def judge(reading: Reading, inv: InvoiceFacts, received: date | None = None) -> Verdict:
    """One verdict: cocok when everything read surely agrees with the invoice, berbeda with each
    difference, tidak terbaca when the amount is not read surely (and nothing read differs)."""
    if reading.method == "no_ocr":
        return Verdict("tidak terbaca", notes=("OCR tidak terpasang",))
    if reading.method == "unreadable":
        return Verdict("tidak terbaca", notes=("file tidak dapat dibaca",))
    if reading.method == "not_proof":
        return Verdict("tidak terbaca", notes=("bukan bukti bayar: invoice atau kuitansi kantor",))
    diffs, agreed, notes = [], [], []
    amount = reading.sure("amount")
    if amount is not None:
        if amount < inv.total:
            diffs.append(f"kurang {format_rupiah(inv.total - amount)}")
        elif amount > inv.total:
            diffs.append(f"lebih {format_rupiah(amount - inv.total)}")
        else:
            agreed.append("nominal")
    billing, account = reading.sure("billing"), reading.sure("account")
    if billing is not None:
        if billing == inv.billing_code:
            agreed.append("kode billing")
        else:
            diffs.append(f"kode billing lain ({billing})" if inv.billing_code else
                         f"kode billing {billing} bukan dari invoice ini")
    elif account is not None:
        if inv.billing_code:
            diffs.append("transfer ke rekening, invoice meminta kode billing SIMPONI")
        elif same_account(account, inv.account):
            agreed.append("rekening tujuan")
        elif _one_edit(_digits(account), _digits(inv.account)):
            # one digit off is far likelier a misread than another account: the bendahara looks
            notes.append(f"rekening tujuan terbaca {account}, mirip rekening kantor")
        else:
            diffs.append(f"rekening tujuan lain ({account})")
    on = reading.sure("date")
    if on is not None:
        paid = date.fromisoformat(on)
        if paid < inv.issued_on:
            diffs.append(f"tanggal {tanggal(paid)} sebelum invoice terbit")
        elif received is not None and paid > received:
            diffs.append(f"tanggal {tanggal(paid)} sesudah bukti diterima")
        else:
            agreed.append("tanggal")
    said = reading.fields.get("berita")
    if said is not None:
        found = _berita(str(said.value), inv.number)
        if found == "ours":
            agreed.append("berita")
        elif found and said.sure:
            diffs.append(f"berita menyebut invoice lain ({found})")
        else:
            notes.append("berita tanpa nomor invoice" if found is None else "berita tidak jelas")
    if diffs:
        return Verdict("berbeda", tuple(diffs), tuple(agreed), tuple(notes))
    if amount is None:
        f = reading.fields.get("amount")
        notes.insert(0, "nominal tidak yakin" if f is not None else "nominal tidak ditemukan")
        return Verdict("tidak terbaca", (), tuple(agreed), tuple(notes))
    return Verdict("cocok", (), tuple(agreed), tuple(notes))


def transfer_key(reading: Reading, file_key: str) -> str:
    """One transfer, however many files show it: its NTPN or bank reference when read, else its amount
    and date, else the file."""
    ref = ref_key(reading)
    if ref:
        return ref
    if reading.sure("amount") is not None and reading.sure("date") is not None:
        return f"AMT:{reading.sure('amount')}:{reading.sure('date')}"
    return f"FILE:{file_key}"


def ref_key(reading: Reading) -> str | None:
    """The proof's own number, comparable across cases (OCR confuses O/0 and I/1 in NTPNs)."""
    for name in ("ntpn", "reference", "ntb"):
        value = reading.sure(name)
        if value:
            return f"{name.upper()}:{str(value).upper().replace('O', '0').replace('I', '1')}"
    return None


def paid_total(readings: list[tuple[str, Reading]]) -> int | None:
    """What the surely read proofs add up to, each transfer counted once; None when none is sure."""
    amounts: dict[str, int] = {}
    for file_key, r in readings:
        if r.sure("amount") is not None:
            amounts.setdefault(transfer_key(r, file_key), r.sure("amount"))
    return sum(amounts.values()) if amounts else None


# --- in words, for the digest and the notices ----------------------------------------------------
_SHOWN = (("date", "tanggal {}"), ("time", "pukul {}"), ("ntpn", "NTPN {}"), ("billing", "kode billing {}"),
          ("ntb", "NTB {}"), ("reference", "ref {}"), ("payer", "dari {}"), ("account", "ke rekening {}"),
          ("dest_name", "a.n. {}"), ("berita", "berita \"{}\""))


def describe(reading: Reading, marks: bool = True) -> str:
    """'Rp1.250.000, tanggal 3 Agustus 2026, pukul 10:15, ref 1234…, dari BUDI' — '?' marks what is not sure."""
    if reading.method == "no_ocr":
        return "tidak terbaca (OCR tidak terpasang)"
    if reading.method == "unreadable":
        return "tidak terbaca (file tidak dapat dibaca)"
    if reading.method == "not_proof":
        return "bukan bukti bayar (invoice atau kuitansi kantor)"
    parts = []
    for name, fmt in (("amount", "{}"),) + _SHOWN:
        f = reading.fields.get(name)
        if f is None:
            continue
        value = format_rupiah(f.value) if name == "amount" else \
            tanggal(date.fromisoformat(f.value)) if name == "date" else f.value
        parts.append(fmt.format(value) + ("" if f.sure or not marks else "?"))
    return ", ".join(parts) if parts else "tidak ada yang terbaca"


def payment_reference(reading: Reading) -> str:
    """The NTPN a proof file shows, else its bank reference, read surely; "" when neither: the treasurer's book."""
    for label, name in (("NTPN", "ntpn"), ("Ref", "reference")):
        value = reading.sure(name)
        if value:
            return f"{label} {value}"
    return ""


def claimed_reference(text: str) -> str:
    """The NTPN (else bank reference) the customer wrote in the mail, in any clause of a sentence
    ('Sudah saya setor Rp160.000, NTPN 0A1B…'); "" when none. For the book when no file was readable."""
    found = _labelled(lines_from_text("\n".join(re.split(r"[,;]\s+", text))))
    for label, name in (("NTPN", "ntpn"), ("Ref", "reference")):
        if name in found:
            return f"{label} {found[name].value}"
    return ""
