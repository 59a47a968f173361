"""What a customer's words mean: agreement, defect, complaint, satisfaction, cancelling, a new request.

Every function reads what the customer wrote themselves (the mail's top text: no quote, no
signature), so words in our own quoted mail never count."""
from __future__ import annotations

import re

from .language import language as _language

_I = re.IGNORECASE
_NEG = r"(?:tidak|tdk|tak|ga|gak|gk|nggak|ngga|enggak|belum|blm|bukan|jangan|don't|dont|do not|not|never|no)"

# Agreement in any ordinary phrasing ("ya, setuju", "sy setuju", "Baik, saya setuju", "OK setuju",
# "I agree to the terms"), anywhere in the customer's own lines; never negated, asked or conditional.
_AGREE = re.compile(r"\b(setuju|menyetujui|sepakat|agree|agreed|i accept|accept the terms)\b", _I)
_AGREE_NEG = re.compile(_NEG + r"\s+(?:\w+\s+)?$", _I)              # "tidak setuju", "belum begitu setuju"
_CONDITION = re.compile(r"^\W*(?:\w+\s+){0,3}?(jika|kalau|kalo|asal|asalkan|if|provided|unless)\b", _I)
_CLAUSE = re.compile(r"[^.!?\n;]+[.!?;]*")

_DEFECT = re.compile(
    r"\b(perbaikan|rusak|salah|kosong|corrupt|corrupted|korup|terpotong|hilang|blank|broken|damaged|"
    r"(?:tidak|tdk|tak|ga|gak|gk|nggak|ngga|enggak|g)\s*(?:bisa|bs|dapat|dpt)\s*(?:di)?buka|gagal dibuka|"
    r"(?:cannot|can't|cant|won't|wont|doesn't|does not|could not|couldn't)\s+(?:be\s+)?open(?:ed)?|"
    r"wrong file|missing pages?|halaman (?:tidak lengkap|kurang)|tidak lengkap|error)\b", _I)
# "tidak ada yang salah", "no errors": a customer saying all is well is not reporting a defect.
_NO_DEFECT = re.compile(r"\b(tidak ada|tak ada|tidak|bukan|no|not|without)\s+(yang\s+|any\s+)?"
                        r"(salah|rusak|kosong|masalah|kesalahan|error|errors|problems?|issues?|broken)\b", _I)

_COMPLAINT = re.compile(r"\b(pengaduan|keluhan|komplain|complain|complaints?|mengadu|mengadukan|mengeluh|"
                        r"kecewa|mengecewakan|disappointed|disappointing)\b", _I)
# "tidak ada keluhan", "no complaints", "tidak kecewa": the opposite of a complaint.
_NO_COMPLAINT = re.compile(r"\b(tidak ada|tak ada|tanpa|tidak|tdk|gak|ga|nggak|no|not|without|never)\s+"
                           r"(?:ada\s+|any\s+)?(keluhan|komplain|complaints?|kecewa|disappointed)\b", _I)

_SCORE = re.compile(r"^\s*([1-4])\s*[.)]?\s*$")
_SCORE_WORDED = re.compile(r"\b(?:nilai(?:nya)?|skor|rating|score|penilaian)\s*(?:saya|kami|my|our)?\s*:?\s*([1-4])\b", _I)
# The survey's own words, in its order of precedence: the longer phrases first.
_SATISFACTION = (
    (4, re.compile(r"\b(sangat puas|puas sekali|sangat memuaskan|sangat bagus|very satisfied|extremely satisfied|"
                   r"very happy|excellent)\b", _I)),
    (2, re.compile(r"\b(kurang puas|kurang memuaskan|less than satisfied|not very satisfied|somewhat satisfied)\b",
                   _I)),
    (1, re.compile(r"\b(tidak puas|tdk puas|gak puas|ga puas|nggak puas|tidak memuaskan|not satisfied|"
                   r"dissatisfied|unsatisfied|very unhappy)\b", _I)),
    (3, re.compile(r"\b(puas|memuaskan|satisfied|happy with|good service|pelayanan(?:nya)? baik)\b", _I)),
)

_CANCEL = re.compile(r"\b(batal|batalkan|dibatalkan|membatalkan|pembatalan|cancel|cancelled|canceled|"
                     r"cancellation|(?:tidak|tdk|gak|ga|nggak|enggak)\s+jadi(?!\s+(?:di)?batal))\b", _I)
_KEEP = re.compile(_NEG + r"\s+(?:jadi\s+)?(?:usah\s+)?(?:di)?(batal|batalkan|cancel)", _I)
_YES = re.compile(r"^\W*(ya|iya|yes|yup|benar|betul|confirm|confirmed|ok|oke|okay|baik|setuju batal)\b", _I)
_NO = re.compile(r"\b(jangan|tidak jadi batal|lanjut|lanjutkan|continue|keep|don't|do not)\b", _I)

_REQUEST = re.compile(r"\b(beli|membeli|pembelian|pesan|memesan|pemesanan|order|buy|purchase|minta|meminta|"
                      r"permintaan|butuh|membutuhkan|perlu|memerlukan|need|request|ingin|want|cari|mencari|"
                      r"looking for)\b", _I)


def agrees(top_text: str) -> bool:
    """Agreement to the terms somewhere in what the customer wrote: "ya, setuju", "sy setuju",
    "Baik, saya setuju.", "I agree" — but not "tidak setuju", "setuju jika …" or "setuju?"."""
    for clause in _CLAUSE.findall(top_text):
        for m in _AGREE.finditer(clause):
            before, after = clause[: m.start()], clause[m.end():]
            if _AGREE_NEG.search(before) or re.search(r"\bdis$", before, _I) or clause.rstrip().endswith("?"):
                continue
            if _CONDITION.search(after):
                continue
            return True
    return False


def reports_defect(top_text: str) -> bool:
    return bool(_DEFECT.search(_NO_DEFECT.sub(" ", top_text)))


def is_complaint(top_text: str) -> bool:
    return bool(_COMPLAINT.search(_NO_COMPLAINT.sub(" ", top_text)))


def satisfaction_score(top_text: str) -> int | None:
    """A reply to the satisfaction question: a lone 1-4 on the first non-blank line ("4", "3."), or
    the survey's words in the first two lines ("sangat puas", "kurang puas", "very satisfied")."""
    lines = [line for line in top_text.splitlines() if line.strip()]
    if lines:
        m = _SCORE.match(lines[0])
        if m:
            return int(m.group(1))
    head = " ".join(lines[:2])
    m = _SCORE_WORDED.search(head)
    if m:
        return int(m.group(1))
    for score, pattern in _SATISFACTION:
        if pattern.search(head):
            return score
    return None


def wants_cancel(top_text: str) -> bool:
    """The customer asks to cancel ("batal", "tolong dibatalkan", "gak jadi", "please cancel")."""
    return bool(_CANCEL.search(top_text)) and not _KEEP.search(top_text)


def confirms(top_text: str) -> bool:
    """A yes to "do you really want to cancel?": "ya", "YA BATALKAN", "yes, cancel", "benar"."""
    first = next((line for line in top_text.splitlines() if line.strip()), "")
    if _NO.search(first) or _KEEP.search(first):
        return False
    return bool(_YES.search(first)) or wants_cancel(first)


def asks_for_publications(top_text: str) -> bool:
    """Words of a purchase request ("saya ingin membeli", "I need", "order")."""
    return bool(_REQUEST.search(top_text))


def language(text: str) -> str:
    """'en' when the customer clearly wrote English, else 'id' (see inbound/language.py)."""
    return _language(text)
