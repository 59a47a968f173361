"""Synthetic payment proofs with their true values: phone screenshots of five m-banking apps (light and
dark), ATM and teller slips photographed, SIMPONI Bukti Penerimaan Negara and bank e-receipts as PDFs
(text layer, and scanned). Deterministic: the same seed gives the same bytes. Used by the tests and by
bench/proofs.py."""
from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONTS = "/usr/share/fonts/truetype/dejavu"
MONTHS_ID = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
             "November", "Desember")
SHORT_ID = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agt", "Sep", "Okt", "Nov", "Des")
SHORT_ID_ALT = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")
SHORT_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
PAYERS = ("BUDI SANTOSO", "SITI RAHMAWATI", "AHMAD FAUZI", "DEWI LESTARI", "RIZKY PRATAMA", "NURUL HIDAYAH",
          "IQBAL RAMADHAN", "PUTRI WULANDARI", "HENDRA GUNAWAN", "YULIANA SARI")
OFFICE_ACCOUNT = "1234567890"              # tests/servers.py EXAMPLE_OFFICE: the office's receiving account
OFFICE_NAME = "RPL 027 BPS PROV SUMSEL"
FIXED = datetime(2026, 1, 1, tzinfo=timezone.utc)
AMOUNTS = (45_000, 75_000, 82_000, 96_500, 120_000, 237_500, 318_000, 560_000, 1_250_000, 2_140_000)


@dataclass(frozen=True)
class Sample:
    """One proof file and what a careful person reads on it (fields absent from the proof are absent here)."""

    name: str
    kind: str                    # ordinary, harsh, pdf-text, pdf-scan
    data: bytes
    content_type: str
    truth: dict = field(default_factory=dict)
    distractors: dict = field(default_factory=dict)   # fee, total, balance: amounts that are NOT the transfer


def rupiah_id(n: int, cents: bool = False, space: bool = True, prefix: str = "Rp", dash: bool = False) -> str:
    s = f"{n:,}".replace(",", ".")
    return f"{prefix}{' ' if space else ''}{s}{',00' if cents else ''}{',-' if dash else ''}"


def rupiah_en(n: int) -> str:
    return f"IDR {n:,}.00"


def terbilang(n: int) -> str:
    units = ("", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan", "sepuluh",
             "sebelas")

    def say(x: int) -> str:
        if x < 12:
            return units[x]
        if x < 20:
            return f"{units[x - 10]} belas"
        if x < 100:
            return f"{units[x // 10]} puluh {say(x % 10)}".strip()
        if x < 200:
            return f"seratus {say(x - 100)}".strip()
        if x < 1000:
            return f"{units[x // 100]} ratus {say(x % 100)}".strip()
        if x < 2000:
            return f"seribu {say(x - 1000)}".strip()
        if x < 1_000_000:
            return f"{say(x // 1000)} ribu {say(x % 1000)}".strip()
        return f"{say(x // 1_000_000)} juta {say(x % 1_000_000)}".strip()
    return f"{say(n)} rupiah"


def same_value(name: str, read, truth) -> bool:
    """Whether a value read is the true one: names by their letters and spaces, accounts by their digits,
    everything else exactly."""
    if read is None:
        return False
    if name in ("payer", "dest_name"):
        return " ".join(str(read).upper().split()) == " ".join(str(truth).upper().split())
    if name == "account":
        return "".join(ch for ch in str(read) if ch.isdigit()) == "".join(ch for ch in str(truth) if ch.isdigit())
    if name == "berita":
        return "".join(str(read).split()).upper() == "".join(str(truth).split()).upper()
    return read == truth


# --- drawing --------------------------------------------------------------------------------
_FONT_CACHE: dict = {}


def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    key = (name, size)
    if key not in _FONT_CACHE:
        _FONT_CACHE[key] = ImageFont.truetype(f"{FONTS}/{name}.ttf", size)
    return _FONT_CACHE[key]


@dataclass
class Style:
    bank: str
    accent: tuple
    regular: str = "DejaVuSans"
    bold: str = "DejaVuSans-Bold"


def render_screen(style: Style, blocks: list, dark: bool, width: int) -> Image.Image:
    """A phone screenshot: header bar, then blocks drawn top to bottom (scale follows the width)."""
    s = width / 1080
    bg, fg, dim, rule = ((18, 18, 20), (236, 236, 236), (160, 160, 166), (60, 60, 64)) if dark else \
        ((255, 255, 255), (20, 20, 24), (110, 110, 118), (220, 220, 226))
    height = int(2200 * s)
    img = Image.new("RGB", (width, height), bg)
    d = ImageDraw.Draw(img)
    d.rectangle((0, 0, width, int(150 * s)), fill=style.accent)
    d.text((int(48 * s), int(45 * s)), style.bank, font=font(style.bold, int(52 * s)), fill=(255, 255, 255))
    y = int(200 * s)
    margin = int(60 * s)
    for block in blocks:
        kind = block[0]
        if kind == "check":
            r = int(70 * s)
            cx = width // 2
            d.ellipse((cx - r, y, cx + r, y + 2 * r), fill=(40, 170, 90))
            d.line((cx - r // 2, y + r, cx - r // 8, y + r + r // 2, cx + r // 2, y + r // 2), fill=(255, 255, 255),
                   width=int(12 * s))
            y += 2 * r + int(40 * s)
        elif kind in ("title", "big", "sub"):
            size = {"title": 50, "big": 84, "sub": 36}[kind]
            f = font(style.bold if kind != "sub" else style.regular, int(size * s))
            w = d.textlength(block[1], font=f)
            d.text(((width - w) / 2, y), block[1], font=f, fill=fg if kind != "sub" else dim)
            y += int(size * s * 1.6)
        elif kind == "rule":
            d.line((margin, y + int(15 * s), width - margin, y + int(15 * s)), fill=rule, width=max(1, int(2 * s)))
            y += int(40 * s)
        elif kind == "row":                      # label left in grey, value right-aligned
            _, label, value = block
            fl, fv = font(style.regular, int(38 * s)), font(style.bold, int(38 * s))
            d.text((margin, y), label, font=fl, fill=dim)
            w = d.textlength(value, font=fv)
            d.text((width - margin - w, y), value, font=fv, fill=fg)
            y += int(76 * s)
        elif kind == "stack":                    # label above, value below (left-aligned)
            _, label, value = block
            d.text((margin, y), label, font=font(style.regular, int(34 * s)), fill=dim)
            y += int(50 * s)
            d.text((margin, y), value, font=font(style.bold, int(40 * s)), fill=fg)
            y += int(78 * s)
    return img.crop((0, 0, width, min(height, y + int(120 * s))))


def render_slip(lines: list[str], *, mono: bool = True, width: int = 560, boxed: tuple[int, ...] = ()) -> Image.Image:
    """A receipt-paper slip: left-aligned lines; lines whose index is in `boxed` are drawn in a form box."""
    f = font("DejaVuSansMono" if mono else "DejaVuSans", 22)
    line_h = 36
    img = Image.new("RGB", (width, 60 + line_h * len(lines)), (250, 248, 240))
    d = ImageDraw.Draw(img)
    for i, text in enumerate(lines):
        y = 30 + i * line_h
        if i in boxed and ":" in text:
            label, value = text.split(":", 1)
            d.text((20, y), label.strip(), font=f, fill=(30, 30, 30))
            x0 = 20 + int(d.textlength(label.strip() + "  ", font=f))
            d.rectangle((x0 - 6, y - 5, width - 14, y + 29), outline=(60, 60, 60), width=2)
            d.text((x0, y), value.strip(), font=font("DejaVuSans-Oblique", 22), fill=(20, 30, 120))
        else:
            d.text((20, y), text, font=f, fill=(30, 30, 30))
    return img


def photograph(paper: Image.Image, rng: random.Random, angle: float, blur: float, noise: int,
               quality: int) -> bytes:
    """The slip on a desk, photographed: turned, lit unevenly, blurred, grainy, JPEG."""
    w, h = paper.size
    desk = Image.new("RGB", (w + 160, h + 160), (92, 70, 52))
    desk.paste(paper, (80, 80))
    img = desk.rotate(angle, resample=Image.BICUBIC, expand=False, fillcolor=(92, 70, 52))
    # light falling from one side
    shade = Image.linear_gradient("L").rotate(rng.choice((90, -90, 0, 180))).resize(img.size)
    dark = Image.new("RGB", img.size, (0, 0, 0))
    img = Image.composite(img, Image.blend(img, dark, 0.35), shade.point(lambda v: 140 + v * 115 // 255))
    if blur:
        img = img.filter(ImageFilter.GaussianBlur(blur))
    if noise:
        img = add_noise(img, rng, noise)
    return jpeg(img, quality)


def add_noise(img: Image.Image, rng: random.Random, amount: int) -> Image.Image:
    """Seeded grain (Pillow's effect_noise is not seedable)."""
    w, h = img.size
    data = bytes(max(0, min(255, 128 + int(rng.gauss(0, amount)))) for _ in range(w * h // 16))
    grain = Image.frombytes("L", (w // 4, h // 4), data[: (w // 4) * (h // 4)]).resize((w, h), Image.NEAREST)
    return Image.blend(img, Image.merge("RGB", (grain, grain, grain)), 0.18)


def jpeg(img: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality)
    return out.getvalue()


def png(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


# --- the values on a proof --------------------------------------------------------------------
def invoice_number(rng: random.Random, d: date) -> str:
    roman = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")[d.month - 1]
    return f"{rng.randint(1, 120):04d}/INV/1600/{roman}/{d.year}"


def values(rng: random.Random) -> dict:
    d = date(2026, rng.randint(1, 12), rng.randint(1, 28))
    t = time(rng.randint(6, 21), rng.randint(0, 59), rng.randint(0, 59))
    return {"amount": rng.choice(AMOUNTS), "date": d, "time": t,
            "reference": "".join(rng.choice("0123456789") for _ in range(12)),
            "payer": rng.choice(PAYERS), "account": OFFICE_ACCOUNT, "dest_name": OFFICE_NAME,
            "berita": invoice_number(rng, d), "balance": rng.randrange(1_500_000, 48_000_000, 1_000) + 731}


def truth_of(v: dict, *keys: str) -> dict:
    out = {}
    for k in keys:
        x = v[k]
        out[k] = x.isoformat() if isinstance(x, date) else x.strftime("%H:%M") if isinstance(x, time) else x
    return out


# --- the banks' screens -----------------------------------------------------------------------
def bca(v: dict, rng: random.Random) -> tuple[Style, list, dict, dict]:
    d, t = v["date"], v["time"]
    blocks = [("check",), ("title", "Transfer Berhasil"), ("big", rupiah_id(v["amount"], cents=True)), ("rule",),
              ("row", "Tanggal", f"{d:%d/%m/%Y} {t:%H:%M:%S}"), ("row", "Rekening Tujuan", v["account"]),
              ("row", "Nama Penerima", v["dest_name"]), ("row", "Nominal", rupiah_id(v["amount"], cents=True)),
              ("row", "Berita", v["berita"]), ("row", "Dari", v["payer"]), ("row", "No. Referensi", v["reference"])]
    return (Style("BCA mobile", (0, 90, 170)), blocks,
            truth_of(v, "amount", "date", "time", "account", "dest_name", "berita", "payer", "reference"), {})


def livin(v: dict, rng: random.Random) -> tuple[Style, list, dict, dict]:
    d, t = v["date"], v["time"]
    fee = rng.choice((0, 2500))
    blocks = [("check",), ("title", "Transfer Berhasil!"), ("big", rupiah_id(v["amount"] + fee, cents=True)),
              ("sub", f"{d.day:02d} {SHORT_ID_ALT[d.month - 1]} {d.year} • {t:%H:%M:%S} WIB"), ("rule",),
              ("row", "No. Referensi", v["reference"]), ("stack", "Penerima", v["dest_name"]),
              ("row", "Bank Contoh", v["account"]), ("stack", "Sumber Dana", v["payer"]),
              ("row", "Nominal", rupiah_id(v["amount"], cents=True)),
              ("row", "Biaya Admin", rupiah_id(fee, cents=True)),
              ("row", "Total", rupiah_id(v["amount"] + fee, cents=True)), ("row", "Catatan", v["berita"])]
    distract = {"fee": fee, "total": v["amount"] + fee} if fee else {}
    return (Style("livin' by mandiri", (0, 56, 118)), blocks,
            truth_of(v, "amount", "date", "time", "reference", "dest_name", "account", "payer", "berita"), distract)


def brimo(v: dict, rng: random.Random) -> tuple[Style, list, dict, dict]:
    d, t = v["date"], v["time"]
    fee = 6500
    blocks = [("check",), ("title", "Transaksi Berhasil"), ("big", rupiah_id(v["amount"] + fee, space=False)),
              ("sub", f"{d.day:02d} {SHORT_ID[d.month - 1]} {d.year}, {t:%H:%M:%S} WIB"), ("rule",),
              ("row", "No. Ref", v["reference"]), ("row", "Sumber Dana", v["payer"]),
              ("row", "Nama Penerima", v["dest_name"]), ("row", "Rekening Tujuan", v["account"]),
              ("row", "Nominal", rupiah_id(v["amount"], space=False)),
              ("row", "Biaya Admin", rupiah_id(fee, space=False)),
              ("row", "Total Transaksi", rupiah_id(v["amount"] + fee, space=False)),
              ("row", "Catatan", v["berita"])]
    return (Style("BRImo", (0, 82, 156), "DejaVuSansCondensed", "DejaVuSansCondensed-Bold"), blocks,
            truth_of(v, "amount", "date", "time", "reference", "payer", "dest_name", "account", "berita"),
            {"fee": fee, "total": v["amount"] + fee})


def bni(v: dict, rng: random.Random) -> tuple[Style, list, dict, dict]:
    d, t = v["date"], v["time"]
    blocks = [("title", "Transfer Berhasil"), ("rule",),
              ("row", "Tanggal Transaksi", f"{d.day:02d} {SHORT_EN[d.month - 1]} {d.year} {t:%H:%M:%S}"),
              ("row", "Nama Pengirim", v["payer"]), ("row", "Rekening Tujuan", v["account"]),
              ("row", "Nama Penerima", v["dest_name"]), ("row", "Nominal", rupiah_en(v["amount"])),
              ("row", "Biaya", "IDR 0.00"), ("row", "Total", rupiah_en(v["amount"])),
              ("row", "Berita", v["berita"]), ("row", "Nomor Referensi", v["reference"])]
    return (Style("BNI Mobile Banking", (242, 101, 34)), blocks,
            truth_of(v, "amount", "date", "time", "payer", "account", "dest_name", "berita", "reference"), {})


def bsb(v: dict, rng: random.Random) -> tuple[Style, list, dict, dict]:
    d, t = v["date"], v["time"]
    blocks = [("check",), ("title", "Transaksi Berhasil"), ("rule",),
              ("row", "Tanggal", f"{d:%d-%m-%Y} {t:%H:%M}"), ("row", "Jenis", "Transfer Antar Bank"),
              ("row", "Rekening Tujuan", v["account"]), ("row", "Nama Penerima", v["dest_name"]),
              ("row", "Jumlah", rupiah_id(v["amount"], prefix="Rp.", dash=True)),
              ("row", "Keterangan", v["berita"]), ("row", "No Referensi", v["reference"]),
              ("row", "Saldo Akhir", rupiah_id(v["balance"], prefix="Rp.", dash=True)),
              ("big", rupiah_id(v["amount"], prefix="Rp.", dash=True))]
    return (Style("BSB Mobile", (0, 122, 61)), blocks,
            truth_of(v, "amount", "date", "time", "account", "dest_name", "berita", "reference"),
            {"balance": v["balance"]})


BANKS = {"bca": bca, "livin": livin, "brimo": brimo, "bni": bni, "bsb": bsb}


def atm_slip(v: dict) -> tuple[list[str], dict, dict]:
    d, t = v["date"], v["time"]
    lines = ["BANK CONTOH", "ATM 0417 PALEMBANG", f"TGL {d:%d/%m/%y}   JAM {t:%H:%M:%S}", "",
             "TRANSFER ANTAR REKENING", f"NO. REF  : {v['reference']}", f"KE REK   : {v['account']}",
             f"NAMA     : {v['dest_name']}", f"JUMLAH   : {rupiah_id(v['amount'], prefix='RP')}",
             f"SALDO    : {rupiah_id(v['balance'], prefix='RP')}", "", "SIMPAN STRUK INI"]
    return lines, truth_of(v, "amount", "date", "time", "reference", "account", "dest_name"), \
        {"balance": v["balance"]}


def teller_slip(v: dict) -> tuple[list[str], dict, dict, tuple[int, ...]]:
    d = v["date"]
    lines = ["SLIP SETORAN / TRANSFER", "BANK CONTOH", f"Tanggal : {d:%d-%m-%Y}",
             f"Nama Penyetor : {v['payer'].title()}", f"No. Rekening Tujuan : {v['account']}",
             f"Nama Penerima : {v['dest_name']}", f"Jumlah : {rupiah_id(v['amount'])}",
             f"Terbilang : {terbilang(v['amount'])}", f"Berita : {v['berita']}"]
    return lines, truth_of(v, "amount", "date", "payer", "account", "dest_name", "berita"), {}, (3, 4, 5, 6, 8)


# --- PDFs --------------------------------------------------------------------------------------
def bpn_values(rng: random.Random) -> dict:
    v = values(rng)
    v["ntpn"] = "".join(rng.choice("0123456789ABCDEF") for _ in range(16))
    v["billing"] = "82" + "".join(rng.choice("0123456789") for _ in range(13))
    v["ntb"] = "".join(rng.choice("0123456789") for _ in range(12))
    return v


def bpn_lines(v: dict) -> list[tuple[str, str]]:
    d, t = v["date"], v["time"]
    return [("", "BUKTI PENERIMAAN NEGARA"), ("", "DATA PEMBAYARAN"), ("Kode Billing", v["billing"]),
            ("Nama Wajib Bayar/Setor", v["payer"]), ("Kementerian/Lembaga", "054 BADAN PUSAT STATISTIK"),
            ("Unit Eselon I", "01 BADAN PUSAT STATISTIK"), ("Satuan Kerja", "054016 BPS PROVINSI SUMATERA SELATAN"),
            ("Jenis Penerimaan Negara", "PNBP"), ("Jumlah Setoran", rupiah_id(v["amount"])),
            ("Terbilang", terbilang(v["amount"]).capitalize()), ("", "DATA PENERIMAAN"),
            ("NTPN", v["ntpn"]), ("NTB", v["ntb"]), ("Tanggal Buku", f"{d:%d/%m/%Y}"),
            ("Tanggal Bayar", f"{d.day} {MONTHS_ID[d.month - 1]} {d.year}"), ("Jam Bayar", f"{t:%H:%M:%S}"),
            ("Bank Persepsi", "BANK CONTOH"), ("Mata Uang", "IDR")]


def text_pdf(rows: list[tuple[str, str]], title_size: int = 13) -> bytes:
    from fpdf import FPDF
    pdf = FPDF(format="A4")
    pdf.set_creation_date(FIXED)             # the same bytes on every run
    pdf.add_page()
    pdf.add_font("DejaVu", "", f"{FONTS}/DejaVuSans.ttf")
    pdf.add_font("DejaVu", "B", f"{FONTS}/DejaVuSans-Bold.ttf")
    for label, value in rows:
        if not label:
            pdf.set_font("DejaVu", "B", title_size)
            pdf.cell(0, 10, value, new_x="LMARGIN", new_y="NEXT")
            continue
        pdf.set_font("DejaVu", "", 10)
        pdf.cell(60, 7, label)
        pdf.cell(5, 7, ":")
        pdf.cell(0, 7, value, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def image_pdf(img: Image.Image) -> bytes:
    from fpdf import FPDF
    pdf = FPDF(format="A4")
    pdf.set_creation_date(FIXED)
    pdf.add_page()
    pdf.image(img, x=10, y=10, w=190)
    return bytes(pdf.output())


def render_form(rows: list[tuple[str, str]]) -> Image.Image:
    """A printed A4-ish page of label : value rows, as a scanner sees it."""
    width = 1240
    img = Image.new("RGB", (width, 140 + 46 * len(rows)), (255, 255, 255))
    d = ImageDraw.Draw(img)
    f, fb = font("DejaVuSans", 24), font("DejaVuSans-Bold", 28)
    y = 60
    for label, value in rows:
        if not label:
            d.text((80, y), value, font=fb, fill=(0, 0, 0))
        else:
            d.text((80, y), label, font=f, fill=(0, 0, 0))
            d.text((470, y), ":", font=f, fill=(0, 0, 0))
            d.text((500, y), value, font=f, fill=(0, 0, 0))
        y += 46
    return img


def ereceipt_rows(v: dict, fee: int) -> list[tuple[str, str]]:
    d, t = v["date"], v["time"]
    return [("", "BUKTI TRANSFER"), ("", "Bank Contoh e-Receipt"),
            ("Tanggal Transaksi", f"{d.day} {MONTHS_ID[d.month - 1]} {d.year} {t:%H:%M:%S} WIB"),
            ("No. Referensi", v["reference"]), ("Nama Pengirim", v["payer"]),
            ("Rekening Tujuan", v["account"]), ("Nama Penerima", v["dest_name"]),
            ("Nominal", rupiah_id(v["amount"], cents=True)), ("Biaya Admin", rupiah_id(fee, cents=True)),
            ("Total", rupiah_id(v["amount"] + fee, cents=True)), ("Berita", v["berita"])]


# --- the set ---------------------------------------------------------------------------------------
def screenshot(rng: random.Random, bank: str, dark: bool, width: int, fmt: str) -> tuple[bytes, dict, dict]:
    v = values(rng)
    style, blocks, truth, distract = BANKS[bank](v, rng)
    img = render_screen(style, blocks, dark, width)
    return (png(img) if fmt == "png" else jpeg(img, 85)), truth, distract


def harsh(rng: random.Random, bank: str, how: str) -> tuple[bytes, dict, dict]:
    v = values(rng)
    style, blocks, truth, distract = BANKS[bank](v, rng)
    img = render_screen(style, blocks, rng.random() < 0.3, 1080)
    if how == "jpeg40":
        return jpeg(img, 40), truth, distract
    if how == "half":
        return jpeg(img.resize((img.width // 2, img.height // 2), Image.BILINEAR), 80), truth, distract
    if how == "rotated":
        angle = rng.choice((-1, 1)) * rng.uniform(1.5, 4.0)
        bg = img.getpixel((5, img.height - 5))
        return jpeg(img.rotate(angle, resample=Image.BICUBIC, expand=True, fillcolor=bg), 85), truth, distract
    if how == "noise":
        return jpeg(add_noise(img, rng, 40), 75), truth, distract
    raise ValueError(how)


def samples(seed: int = 2026, scale: int = 1) -> list[Sample]:
    """The set: per unit of `scale`, 35 ordinary screenshots and slips, 16 harsh images, 6 SIMPONI and 3
    bank e-receipt PDFs with a text layer, 2 scanned SIMPONI PDFs (62 files at scale 1)."""
    rng = random.Random(seed)
    out: list[Sample] = []
    n = 0

    def add(kind: str, label: str, data: bytes, ctype: str, truth: dict, distract: dict) -> None:
        nonlocal n
        n += 1
        out.append(Sample(f"{n:03d}-{label}", kind, data, ctype, truth, distract))

    for _ in range(scale):
        for i in range(30):
            bank = list(BANKS)[i % len(BANKS)]
            dark = i % 3 == 1
            width = (1080, 720)[i % 2]
            fmt = "png" if i % 4 == 0 else "jpeg"
            data, truth, distract = screenshot(rng, bank, dark, width, fmt)
            add("ordinary", f"{bank}-{'dark' if dark else 'light'}-{width}",
                data, f"image/{fmt}", truth, distract)
        for i in range(3):
            lines, truth, distract = atm_slip(values(rng))
            data = photograph(render_slip(lines), rng, rng.uniform(-2.5, 2.5), 0.6, 14, 82)
            add("ordinary", "atm-photo", data, "image/jpeg", truth, distract)
        for i in range(2):
            lines, truth, distract, boxed = teller_slip(values(rng))
            data = photograph(render_slip(lines, mono=False, width=900, boxed=boxed), rng, rng.uniform(-2, 2), 0.5,
                              12, 85)
            add("ordinary", "teller-photo", data, "image/jpeg", truth, distract)
        for i, how in enumerate(("jpeg40", "half", "rotated", "noise") * 3):
            bank = list(BANKS)[(i + 2) % len(BANKS)]
            data, truth, distract = harsh(rng, bank, how)
            add("harsh", f"{bank}-{how}", data, "image/jpeg", truth, distract)
        for i in range(3):
            lines, truth, distract = atm_slip(values(rng))
            data = photograph(render_slip(lines), rng, rng.uniform(-6, 6), 1.3, 28, 45)
            add("harsh", "atm-photo-poor", data, "image/jpeg", truth, distract)
        lines, truth, distract, boxed = teller_slip(values(rng))
        data = photograph(render_slip(lines, mono=False, width=900, boxed=boxed), rng, 5.0, 1.2, 24, 50)
        add("harsh", "teller-photo-poor", data, "image/jpeg", truth, distract)
        for i in range(6):
            v = bpn_values(rng)
            add("pdf-text", "simponi-bpn", text_pdf(bpn_lines(v)), "application/pdf",
                truth_of(v, "amount", "date", "time", "ntpn", "billing", "ntb", "payer"), {})
        for i in range(3):
            v = values(rng)
            fee = (0, 2500, 6500)[i]
            add("pdf-text", "bank-ereceipt", text_pdf(ereceipt_rows(v, fee)), "application/pdf",
                truth_of(v, "amount", "date", "time", "reference", "payer", "account", "dest_name", "berita"),
                {"fee": fee, "total": v["amount"] + fee} if fee else {})
        for i in range(2):
            v = bpn_values(rng)
            scan = render_form(bpn_lines(v)).rotate(rng.uniform(-0.8, 0.8), resample=Image.BICUBIC,
                                                    fillcolor=(255, 255, 255))
            add("pdf-scan", "simponi-scan", image_pdf(add_noise(scan, rng, 10)), "application/pdf",
                truth_of(v, "amount", "date", "time", "ntpn", "billing", "ntb", "payer"), {})
    return out


def sample_screen(bank: str, *, amount: int, seed: int = 7, dark: bool = False, berita: str | None = None,
                  account: str = OFFICE_ACCOUNT, on: date | None = None, width: int = 1080) -> tuple[bytes, dict]:
    """One screenshot with chosen values (for the mail tests): PNG bytes and its truth."""
    rng = random.Random(seed)
    v = values(rng)
    v["amount"], v["account"] = amount, account
    if berita is not None:
        v["berita"] = berita
    if on is not None:
        v["date"] = on
    style, blocks, truth, _ = BANKS[bank](v, rng)
    return png(render_screen(style, blocks, dark, width)), truth


if __name__ == "__main__":       # write the set to a folder to look at it
    import sys
    from pathlib import Path
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "proof-samples")
    target.mkdir(exist_ok=True)
    for s in samples():
        ext = {"image/png": "png", "image/jpeg": "jpg", "application/pdf": "pdf"}[s.content_type]
        (target / f"{s.name}.{ext}").write_bytes(s.data)
    print(f"{len(samples())} files in {target}")
