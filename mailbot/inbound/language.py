"""Which language a customer wrote in, from their own lines: a scored rule over marker words."""
from __future__ import annotations

import re
from dataclasses import dataclass

# Words that say "Indonesian" (with the chat spellings customers use: sy, yg, udh, gak …) and words
# that say "English". Words both languages use in these mails (pdf, file, data, invoice, ok, softcopy)
# are in neither list. Weight 2: words that almost never appear in the other language's mail.
_ID = {
    **dict.fromkeys("saya sy aku kami ingin pengen mau minta mohon tolong bisa bisakah apakah apa "
                    "untuk utk dan yang yg dengan dgn dari ini itu ada tidak tdk gak ga nggak enggak "
                    "sudah udah udh sdh belum blm terima kasih makasih trims bapak ibu pak bu kak "
                    "selamat pagi siang sore malam membeli beli pesan memesan dibuka bagaimana kapan "
                    "di ke berapa biaya harga halaman kirim dikirim terlampir berikut baik oke sangat puas "
                    "kurang salah rusak kosong batal dibatalkan jadi setuju sesuai karena agar hormat "
                    "salam juga lagi masih sama nya kah lah dong ya iya nih tersebut atas perihal "
                    "permohonan permintaan pembelian pembayaran bukti transfer lampiran lampirkan "
                    "bagian mana sebelumnya segera tunggu ditunggu".split(), 1),
    **dict.fromkeys("saya sy yg utk dgn tdk udh sdh blm makasih terima kasih mohon tolong bapak ibu "
                    "ingin pengen nggak gak kak".split(), 2),
}
_EN = {
    **dict.fromkeys("i i'm i'd i'll im my me we our us you your the a an of for to and is are am was "
                    "were be been have has had will would could can should need needed want like please "
                    "thanks thank regards dear hello hi kind best sincerely buy purchase order ordered "
                    "publication publications copy copies received receive payment paid attached "
                    "attachment agree cancel yes not don't can't cannot with this that these those "
                    "in on at from it its do does did how when what which where why there here "
                    "about any some get got send sent research researcher figures statistics "
                    "province south dear sir madam very satisfied happy good morning afternoon "
                    "evening team help also just still again".split(), 1),
    **dict.fromkeys("i i'm i'd my the would could please thanks thank regards dear hello hi "
                    "sincerely you your".split(), 2),
}
# Words of BPS titles and place names: an English mail names "Sumatera Selatan Dalam Angka" too.
_NAMES = frozenset("provinsi sumatera selatan sumsel dalam angka statistik daerah kabupaten kota indikator "
                   "kesejahteraan rakyat produk domestik regional bruto menurut lapangan usaha pengeluaran "
                   "keadaan angkatan kerja indeks pembangunan manusia produsen gabah palembang bps pst "
                   "agustus ogan ilir komering ulu banyuasin musi muara enim lahat prabumulih pagar alam "
                   "lubuklinggau penukal abab lematang badan pusat".split())
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
# A sign-off ends what the customer wrote: below it are a name, a title, an institution, a phone.
_SIGN_OFF = re.compile(r"^\s*(regards|best regards|kind regards|best|cheers|sincerely|yours sincerely|"
                       r"thanks|thank you|many thanks|salam|hormat saya|hormat kami|wassalam\w*|"
                       r"terima ?kasih|terimakasih|makasih|trims|tabik)\b[\s,.!]*$", re.IGNORECASE)
_CONTACT = re.compile(r"https?://|www\.|@|\+?\d(?:[\s().-]*\d){8,}")      # a link, an address, a phone
MIN_SCORE = 3          # fewer marker points than this: unsure, Indonesian


@dataclass(frozen=True)
class Guess:
    """The language ('id' or 'en'), whether the words said so clearly, and the two scores."""

    lang: str
    sure: bool
    id_score: int
    en_score: int


def own_lines(top_text: str) -> str:
    """What the customer wrote themselves: the quote is already gone (top_text); the sign-off's
    signature block and contact lines go too."""
    lines = top_text.splitlines()
    for i, line in enumerate(lines):
        if i and _SIGN_OFF.match(line) and len(lines) - i <= 8:
            lines = lines[: i + 1]
            break
    return "\n".join(line for line in lines if not _CONTACT.search(line))


def score(text: str) -> tuple[int, int]:
    """(Indonesian points, English points) of a text."""
    id_points = en_points = 0
    for word in _WORD.findall(text.lower()):
        if word in _NAMES:
            continue
        id_points += _ID.get(word, 0)
        en_points += _EN.get(word, 0)
    return id_points, en_points


def detect(top_text: str) -> Guess:
    """English only when the customer's own lines clearly are; Indonesian when unsure."""
    id_points, en_points = score(own_lines(top_text))
    if en_points >= MIN_SCORE and en_points >= 2 * id_points:
        return Guess("en", True, id_points, en_points)
    sure = id_points >= MIN_SCORE and id_points >= 2 * en_points
    return Guess("id", sure, id_points, en_points)


def language(top_text: str) -> str:
    return detect(top_text).lang
