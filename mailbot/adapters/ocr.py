"""Text out of a payment proof: a PDF's text layer (pypdf), or Tesseract OCR of an image or a scanned page.

Tesseract is optional at run time (Debian `tesseract-ocr` and `tesseract-ocr-ind`, reached through
pytesseract): without it images come back as method "no_ocr" and nothing else changes."""
from __future__ import annotations

import logging
import os
import shutil
import time
from io import BytesIO

from ..inbound import proof

log = logging.getLogger("mailbot")

LANGS = "ind+eng"
TIMEOUT_SECONDS = 30          # one Tesseract run; a pathological image must not hold the queue
UPSCALE_BELOW = 1000          # px wide: small screenshots are read twice as large
MAX_SIDE = 2600               # px: a 12-megapixel photo is read at this size (time grows with pixels)
MAX_PAGES = 3                 # of a PDF
MIN_TEXT_LAYER = 40           # characters: less than this is a scanned PDF
MAX_PIXELS = 40_000_000       # a decompression bomb is refused, not decoded
PDF_TYPES = ("application/pdf",)
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif", "image/tiff", "image/heic", "image/heif")


def status() -> tuple[bool, str]:
    """(usable, detail): whether OCR can run here, with the version and languages, or what is missing."""
    try:
        import pytesseract
    except ImportError:
        return False, "the Python package pytesseract is not installed"
    if shutil.which(pytesseract.pytesseract.tesseract_cmd) is None:
        return False, "Tesseract is not installed (apt-get install tesseract-ocr tesseract-ocr-ind)"
    try:
        version = str(pytesseract.get_tesseract_version())
        langs = set(pytesseract.get_languages(config=""))
    except Exception as exc:   # noqa: BLE001 - a broken install is reported, not raised
        return False, f"Tesseract does not run: {exc}"
    missing = [lang for lang in LANGS.split("+") if lang not in langs]
    if missing:
        return False, (f"Tesseract {version} lacks language data {', '.join(missing)} "
                       f"(apt-get install tesseract-ocr-ind)")
    return True, f"Tesseract {version}, languages {LANGS}"


_USABLE: dict[str, bool] = {}


def usable() -> bool:
    """status(), asked once per process (and per Tesseract command, which tests change)."""
    try:
        import pytesseract
    except ImportError:
        return False
    cmd = pytesseract.pytesseract.tesseract_cmd
    if cmd not in _USABLE:
        _USABLE[cmd] = status()[0]
    return _USABLE[cmd]


def read_file(data: bytes, content_type: str) -> proof.Reading:
    """The reading of one proof file; never raises on bad input (a broken file is 'unreadable')."""
    started = time.perf_counter()
    try:
        if content_type in PDF_TYPES:
            reading = _read_pdf(data)
        elif content_type in IMAGE_TYPES:
            reading = _read_image(data) if usable() else proof.Reading("no_ocr")
        else:
            reading = proof.Reading("unreadable", detail=f"format {content_type} not read")
    except Exception as exc:   # noqa: BLE001 - a proof that cannot be read is still filed and shown
        log.warning("action=proof_unreadable error=%s", f"{type(exc).__name__}: {exc}"[:300])
        reading = proof.Reading("unreadable", detail=f"{type(exc).__name__}")
    return reading.timed(time.perf_counter() - started)


def _read_pdf(data: bytes) -> proof.Reading:
    from pypdf import PdfReader
    pages = PdfReader(BytesIO(data)).pages[:MAX_PAGES]
    text = "\n".join(page.extract_text() or "" for page in pages)
    if len(text.strip()) >= MIN_TEXT_LAYER:
        return proof.read_lines(proof.lines_from_text(text), "text")
    if not usable():
        return proof.Reading("no_ocr", detail="scanned PDF")
    best = proof.Reading("unreadable", detail="no text layer, no image")
    for page in pages:
        for image in page.images:
            reading = _read_image(image.data)
            if proof.better(reading, best):
                best = reading
            if best.confident:
                return best
    return best


def _read_image(data: bytes) -> proof.Reading:
    """Mode 6 (one block of text) first; mode 11 (sparse text) when that reading is not confident."""
    img = prepare(data)
    first = proof.read_lines(proof.lines_from_words(ocr_words(img, 6)), "ocr", detail="psm 6")
    if first.confident:
        return first
    second = proof.read_lines(proof.lines_from_words(ocr_words(img, 11)), "ocr", detail="psm 11")
    return second if proof.better(second, first) else first


def prepare(data: bytes):
    """Grayscale, light background, stretched contrast; small images twice as large, huge ones smaller."""
    from PIL import Image, ImageOps
    from pillow_heif import register_heif_opener
    register_heif_opener()              # iPhones send their screenshots and photos as HEIC
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    img = Image.open(BytesIO(data))
    img = ImageOps.exif_transpose(img)
    if img.mode in ("RGBA", "LA", "P"):
        img = img.convert("RGBA")
        flat = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(flat, img)
    img = img.convert("L")
    if _mean(img) < 110:                 # dark mode: Tesseract reads dark text on light
        img = ImageOps.invert(img)
    img = ImageOps.autocontrast(img, cutoff=1)
    w, h = img.size
    if w < UPSCALE_BELOW:
        img = img.resize((w * 2, h * 2), Image.LANCZOS)
    elif max(w, h) > MAX_SIDE:
        k = MAX_SIDE / max(w, h)
        img = img.resize((int(w * k), int(h * k)), Image.LANCZOS)
    return img


def _mean(img) -> float:
    hist = img.histogram()
    total = sum(hist) or 1
    return sum(i * n for i, n in enumerate(hist)) / total


def ocr_words(img, psm: int) -> list[proof.Word]:
    """Tesseract's words with their confidence (0-100) and boxes."""
    import pytesseract
    # One thread per Tesseract: on 2 cores its default threading made each image 3x slower.
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    d = pytesseract.image_to_data(img, lang=LANGS, config=f"--psm {psm}", timeout=TIMEOUT_SECONDS,
                                  output_type=pytesseract.Output.DICT)
    words = []
    for i, text in enumerate(d["text"]):
        text = (text or "").strip()
        conf = float(d["conf"][i])
        if text and conf >= 0:
            group = (d["block_num"][i] * 1000 + d["par_num"][i]) * 1000 + d["line_num"][i]
            words.append(proof.Word(text, conf, d["left"][i], d["top"][i], d["width"][i], d["height"][i], group))
    return words
