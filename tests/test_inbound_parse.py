"""Inbound parsing: real-client .eml fixtures, charsets, MIME oddities, HTML, quotes, robustness."""
from __future__ import annotations

import base64
import json
import random
from pathlib import Path

import pytest

from mailbot.inbound import parse as parse_mod
from mailbot.inbound.correlate import find_tag, strip_reply_prefixes
from mailbot.inbound.html import html_to_text
from mailbot.inbound.model import ParsedMail
from mailbot.inbound.parse import MalformedMail, parse_message, sniff_type
from mailbot.inbound.quotes import strip_quote
from mailbot.inbound.screening import VERDICTS, screen

FIXTURES = Path(__file__).parent / "fixtures" / "eml"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
OWN_DOMAIN = "mailbot.bps.go.id"


def load(name: str) -> ParsedMail:
    return parse_message((FIXTURES / name).read_bytes())


def mail(headers: str, body: str | bytes = "Halo\n") -> bytes:
    """A raw message from header lines and a body (LF line ends are fine for the parser)."""
    head = headers.strip("\n").encode("utf-8") + b"\n\n"
    return head + (body.encode("utf-8") if isinstance(body, str) else body)


# --- the fixture corpus ----------------------------------------------------------------------

def test_corpus_is_complete():
    files = {p.name for p in FIXTURES.glob("*.eml")}
    assert len(files) >= 40
    assert files == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture(name):
    exp = EXPECTED[name]
    m = load(name)
    assert m.subject == exp["subject"]
    assert m.from_addr == exp["from_addr"]
    if "top_text" in exp:
        assert m.top_text == exp["top_text"]
    if "top_text_startswith" in exp:
        assert m.top_text.startswith(exp["top_text_startswith"])
    got = [[a.filename, a.content_type, a.allowed, a.inline] for a in m.attachments]
    assert got == exp["attachments"]
    assert find_tag(m.subject) == exp["tag"]
    assert list(m.in_reply_to) == exp["in_reply_to"]
    for key in ("reported_message_ids", "references"):
        if key in exp:
            assert list(getattr(m, key)) == exp[key]
    for key in ("html_only", "return_path", "from_name", "message_id"):
        if key in exp:
            assert getattr(m, key) == exp[key]
    for snippet in exp.get("text_contains", []):
        assert snippet in m.text
    for snippet in exp.get("text_excludes", []):
        assert snippet not in m.text
    if exp.get("defects"):
        assert m.defects, "a tolerated problem must be recorded"
    if exp.get("message_id_sha256"):
        assert m.message_id.startswith("sha256:") and len(m.message_id) == 7 + 64
    if "subject_stripped" in exp:
        assert strip_reply_prefixes(m.subject) == exp["subject_stripped"]
    # the decoded bytes really are what the type says (base64 decoded, TNEF unpacked, …)
    for a in m.attachments:
        if a.content_type in ("application/pdf", "image/jpeg", "image/png", "image/heic"):
            assert sniff_type(a.data) == a.content_type, a.filename
    # the top text is a prefix of the full text, up to whitespace
    assert " ".join(m.top_text.split()) in " ".join(m.text.split())


def test_fixtures_cover_the_clients():
    mailers = " ".join(
        (load(n).header("x-mailer") or "") + (load(n).header("user-agent") or "") for n in EXPECTED
    )
    for client in ("Apple Mail", "iPhone Mail", "Thunderbird", "YMailNorrin", "Zimbra", "Roundcube"):
        assert client in mailers
    assert sum(1 for n in EXPECTED if "outlook.com" in load(n).message_id.lower()) >= 8
    assert sum(1 for n in EXPECTED if load(n).message_id.endswith("@mail.gmail.com")) >= 8


# --- headers -------------------------------------------------------------------------------

def test_outlook_split_encoded_word_subject_and_name():
    m = load("outlook_split_encoded_word_subject.eml")
    raw = (FIXTURES / "outlook_split_encoded_word_subject.eml").read_bytes()
    assert raw.count(b"=?utf-8?B?") >= 4          # the subject really is split into several words
    assert "“Provinsi Sumatera Selatan Dalam Angka 2025” – mohon" in m.subject
    assert m.from_name == "Ratna Dewi\u00a0Küsuma"
    assert "\ufffd" not in m.subject and "\udce2" not in m.subject


def test_utf8_character_split_across_encoded_words_in_display_name():
    data = "Rina – Marlina".encode()
    cut = data.index(b"\xe2") + 1
    words = " ".join("=?utf-8?B?" + base64.b64encode(p).decode() + "?=" for p in (data[:cut], data[cut:]))
    m = parse_message(mail(f"From: {words} <Rina@BPS.go.id>\nSubject: {words}\nMessage-ID: <x@y>"))
    assert m.from_name == "Rina – Marlina"
    assert m.subject == "Rina – Marlina"
    assert m.from_addr == "rina@bps.go.id"


def test_headers_in_order_decoded_and_lower_case():
    m = load("latin1_encoded_words.eml")
    names = [k for k, _ in m.headers]
    assert names[:3] == ["return-path", "from", "to"]
    assert m.header("subject") == "Solicitud de publicación estadística"
    assert m.header("from") == "José Ramírez <jose.ramirez@correo.es>"
    assert len(m.header_all("received")) == 0
    gmail = load("gmail_id_new_request.eml")
    assert gmail.header("dkim-signature").startswith("v=1; a=rsa-sha256;")
    assert "\n" not in gmail.header("dkim-signature")


def test_raw_8bit_header_is_decoded_as_utf8():
    m = load("raw_8bit_headers.eml")
    assert m.subject == "Permintaan Statistik Kesejahteraan Rakyat – 2025"
    assert m.from_name == "René Sitompul"


def test_raw_cp1252_header_is_tolerated():
    raw = b"From: Ren\xe9 <rene@x.com>\nSubject: Caf\xe9 \x96 data\nMessage-ID: <a@b>\n\nisi\n"
    m = parse_message(raw)
    assert m.subject == "Café – data"
    assert m.from_name == "René"
    assert any("cp1252" in d for d in m.defects)


def test_ids_and_return_path():
    m = parse_message(mail(
        "From: a@b.c\nMessage-ID:  <  abc.123@Example.COM >  \nIn-Reply-To: <r1@x>\n"
        "References: <r0@x>\n <r1@x>\n\t<r2@x>\nReturn-Path: <>"
    ))
    assert m.message_id == "abc.123@Example.COM"
    assert m.in_reply_to == ("r1@x",)
    assert m.references == ("r0@x", "r1@x", "r2@x")
    assert m.thread_ids == ("r1@x", "r2@x", "r0@x")
    assert m.return_path == ""
    assert parse_message(mail("From: a@b.c")).return_path is None
    assert parse_message(mail("From: a@b.c\nReturn-Path: <Budi@Example.com>")).return_path == "budi@example.com"


def test_message_id_hash_when_absent_is_stable():
    raw = mail("From: a@b.c\nSubject: tanpa id")
    assert parse_message(raw).message_id == parse_message(raw).message_id
    assert parse_message(raw).message_id != parse_message(raw + b"x").message_id


def test_addresses_lists_and_unparseable_from():
    m = parse_message(mail('From: "Dinas, Pendidikan" <Info@Disdik.go.id>\nTo: a@b.c, "X, Y" <X@Y.z>\nCc: c@d.e\nReply-To: r@s.t'))
    assert (m.from_addr, m.from_name) == ("info@disdik.go.id", "Dinas, Pendidikan")
    assert m.to == ("a@b.c", "x@y.z") and m.cc == ("c@d.e",) and m.reply_to == ("r@s.t",)
    assert parse_message(mail("From: undisclosed-recipients\nSubject: x")).from_addr == ""


def test_unparseable_date_is_a_defect_not_an_error():
    m = parse_message(mail("From: a@b.c\nDate: kemarin sore"))
    assert m.date is None
    assert "unparseable Date header" in m.defects


# --- bodies and charsets -------------------------------------------------------------------------

def test_declared_charset_wrong_falls_back_to_cp1252():
    m = load("broken_charset_utf8_is_cp1252.eml")
    assert "Terima kasih – pembayaran" in m.text and "Café" in m.text
    assert any("cp1252" in d for d in m.defects)


def test_unknown_charset_falls_back_to_utf8():
    m = load("unknown_charset.eml")
    assert "Statistik Daerah – yang" in m.text
    assert any("x-user-defined-8" in d for d in m.defects)


def test_latin1_declared_is_read_as_cp1252_without_defect():
    raw = mail("From: a@b.c\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit",
               "Harga \x93spesial\x94 \x96 Rp 10.000".encode("latin-1"))
    m = parse_message(raw)
    assert m.text == "Harga “spesial” – Rp 10.000"
    assert m.defects == ()


def test_base64_and_quoted_printable_text():
    body = base64.b64encode("Saya setuju – terima kasih".encode()).decode()
    m = parse_message(mail("From: a@b.c\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64", body))
    assert m.text == "Saya setuju – terima kasih"
    m = parse_message(mail("From: a@b.c\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable",
                           "Saya setuju =E2=80=93 terima=\n kasih"))
    assert m.text == "Saya setuju – terima kasih"


def test_alternative_prefers_plain_but_uses_html_when_plain_is_empty():
    b = "BB"
    raw = mail(f'From: a@b.c\nContent-Type: multipart/alternative; boundary="{b}"',
               f"--{b}\nContent-Type: text/plain\n\n \n--{b}\nContent-Type: text/html\n\n<p>SETUJU</p><p>Salam</p>\n--{b}--\n")
    m = parse_message(raw)
    assert m.text == "SETUJU\n\nSalam" and m.html_only
    gm = load("gmail_id_new_request.eml")
    assert not gm.html_only and gm.text.startswith("Selamat pagi Bapak/Ibu,")


def test_forwarded_message_counts_attachments_and_text():
    m = load("forward_as_attachment_rfc822.eml")
    assert [a.filename for a in m.attachments] == ["Surat Permohonan.pdf"]
    assert "Subject: Surat permohonan data pendidikan" in m.text
    assert m.reported_message_ids == ()
    assert m.top_text.endswith("Budi")


def test_truncated_base64_is_decoded_leniently():
    m = load("broken_multipart_truncated.eml")
    (pdf,) = m.attachments
    assert pdf.data.startswith(b"%PDF-1.4")
    assert "CloseBoundaryNotFoundDefect" in m.defects


# --- attachments ------------------------------------------------------------------------------

def test_octet_stream_is_sniffed_and_unknown_bytes_stay_generic():
    m = load("octet_stream_pdf_and_jpeg.eml")
    assert [(a.content_type, a.allowed) for a in m.attachments] == [("application/pdf", True), ("image/jpeg", True)]
    b = "BB"
    junk = base64.b64encode(b"\x00\x01 just bytes").decode()
    raw = mail(f'From: a@b.c\nContent-Type: multipart/mixed; boundary="{b}"',
               f"--{b}\nContent-Type: text/plain\n\nisi\n--{b}\nContent-Type: application/octet-stream; name=a.pdf\n"
               f"Content-Transfer-Encoding: base64\n\n{junk}\n--{b}--\n")
    (a,) = parse_message(raw).attachments
    assert (a.filename, a.content_type, a.allowed) == ("a.pdf", "application/octet-stream", False)


@pytest.mark.parametrize("data,expected", [
    (b"%PDF-1.7\n", "application/pdf"),
    (b"\xff\xd8\xff\xe1\x00\x10Exif", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "image/png"),
    (b"PK\x03\x04\x14\x00\x00\x00notes.txt", "application/zip"),
    (b"PK\x03\x04\x14\x00\x00\x00xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    (b"\x00\x00\x00\x18ftypheic\x00\x00", "image/heic"),
    (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
    (b"MZ\x90\x00", "application/x-msdownload"),
    (b"hello", None),
])
def test_sniff_type(data, expected):
    assert sniff_type(data) == expected


def test_attachment_names_never_paths_and_missing_names_generated():
    b = "BB"
    raw = mail(f'From: a@b.c\nContent-Type: multipart/mixed; boundary="{b}"',
               f"--{b}\nContent-Type: image/jpeg; name=\"..\\\\..\\\\C:\\\\evil\\\\ktp.jpg\"\nContent-Disposition: attachment; filename=\"../../etc/ktp.jpg\"\n\nx\n"
               f"--{b}\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--{b}--\n")
    a, b2 = parse_message(raw).attachments
    assert a.filename == "ktp.jpg"
    assert b2.filename == "lampiran-2.pdf" and b2.content_type == "application/pdf"
    assert b2.sha256 == __import__("hashlib").sha256(b"%PDF-1.4\n").hexdigest()


def test_inline_image_is_inline_with_content_id():
    (img,) = load("gmail_inline_cid_image.eml").attachments
    assert img.inline and img.content_id == "ii_mh3k2l9d0" and img.allowed


def test_winmail_dat_is_unpacked():
    """tnefparse is a dependency (pyproject): without it this fails, it is not skipped."""
    (pdf,) = load("outlook_winmail_dat.eml").attachments
    assert pdf.filename == "Bukti Setor SIMPONI.pdf" and pdf.data.startswith(b"%PDF")


def test_winmail_dat_without_tnefparse_is_kept_and_flagged(monkeypatch):
    monkeypatch.setattr(parse_mod, "_TNEF", None)
    m = load("outlook_winmail_dat.eml")
    (a,) = m.attachments
    assert (a.filename, a.content_type, a.allowed) == ("winmail.dat", "application/ms-tnef", False)
    assert any("tnefparse" in d for d in m.defects)


def test_corrupt_winmail_dat_is_kept_and_flagged():
    b = "BB"
    raw = mail(f'From: a@b.c\nContent-Type: multipart/mixed; boundary="{b}"',
               f"--{b}\nContent-Type: text/plain\n\nisi\n--{b}\nContent-Type: application/ms-tnef; name=winmail.dat\n"
               f"Content-Transfer-Encoding: base64\n\n{base64.b64encode(b'not tnef at all').decode()}\n--{b}--\n")
    m = parse_message(raw)
    assert [(a.filename, a.allowed) for a in m.attachments] == [("winmail.dat", False)]
    assert any("winmail.dat" in d for d in m.defects)


# --- delivery reports --------------------------------------------------------------------------

def test_dsn_reports_our_message_id():
    m = load("dsn_bounce_postfix.eml")
    assert m.reported_message_ids == ("20261130.abc123@mailbot.bps.go.id",)
    assert m.attachments == ()     # the returned mail is evidence, not a customer file


def test_human_mail_quoting_a_message_id_reports_nothing():
    m = parse_message(mail("From: budi@x.com\nSubject: pertanyaan", "Message-ID: <20261130.abc123@mailbot.bps.go.id>\n"))
    assert m.reported_message_ids == ()


# --- malformed input -------------------------------------------------------------------------------

@pytest.mark.parametrize("raw", [b"", b"   \r\n\r\n", b"\r\n\r\nFrom: a@b.c\r\n", b"hanya teks biasa tanpa header\n",
                                 b"Catatan: bukan email\n\nisi", bytes(range(256)) * 4])
def test_not_a_mail(raw):
    # the reason is what the quarantine notice tells the supervisor
    with pytest.raises(MalformedMail, match=r"^(empty message|no mail headers)$"):
        parse_message(raw)


def test_headers_only_mail_is_a_mail():
    m = parse_message(b"From: a@b.c\r\nSubject: kosong\r\n")
    assert m.subject == "kosong" and m.text == "" and m.top_text == ""


def _nested(depth: int) -> bytes:
    head = "".join(f'Content-Type: multipart/mixed; boundary="b{i}"\n\n--b{i}\n' for i in range(depth))
    tail = "".join(f"\n--b{i}--\n" for i in reversed(range(depth)))
    return b"From: a@b.c\nMIME-Version: 1.0\n" + (head + "Content-Type: text/plain\n\nhalo" + tail).encode()


@pytest.mark.parametrize("raw", [
    _nested(499),                                                      # as deep as the part bound lets in
    _nested(60),                                                       # deeper than we walk
    ("Message-ID: <a@b>\nContent-Type: text/plain; charset=" + "(" * 5000 + "x" + ")" * 5000 + "\n\nisi\n").encode(),
    ("Message-ID: <a@b>\nFrom: " + "(" * 5000 + "x" + ")" * 5000 + " <a@b.c>\n\nisi\n").encode(),
], ids=["mime-499-deep", "mime-60-deep", "content-type-comments", "from-comments"])
def test_pathological_structures_are_defects_not_crashes(raw):
    import time
    start = time.perf_counter()
    m = parse_message(raw)
    assert time.perf_counter() - start < 10
    assert m.defects, "what was given up on is recorded"
    assert all(len(d) <= 200 for d in m.defects)


def test_nine_thousand_encoded_words_inside_the_header_bound_are_decoded_in_time():
    import time
    raw = ("Message-ID: <a@b>\nSubject: " + "=?utf-8?Q?a?= " * 9000 + "\n\nisi\n").encode()
    start = time.perf_counter()
    m = parse_message(raw)
    assert time.perf_counter() - start < 10
    assert m.subject == "a" * 9000           # RFC 2047: the space between encoded words is dropped
    assert m.text == "isi"


@pytest.mark.parametrize("raw, reason", [
    (_nested(1500), "MIME parts"),
    (("Message-ID: <a@b>\nSubject: " + "=?utf-8?Q?a?= " * 20000 + "\n\nisi\n").encode(), "header block"),
    (b"From: a@b.c\n" + b"".join(b"X-H%d: v\n" % n for n in range(1200)) + b"\nisi\n", "header fields"),
    (b"From: a@b.c\nContent-Type: multipart/mixed; boundary=B\n\n--B\nContent-Type: text/plain; "
     + b";\n ".join(b"p%d=v" % n for n in range(2000)) + b"\n\nisi\n--B--\n", "MIME part"),
], ids=["mime-1500-deep", "20000-encoded-words", "1200-fields", "part-parameter-flood"])
def test_mail_over_a_bound_is_refused_before_parsing(raw, reason):
    import time

    from mailbot.inbound.parse import MailOverLimit
    start = time.perf_counter()
    with pytest.raises(MailOverLimit, match=reason):
        parse_message(raw)
    assert time.perf_counter() - start < 0.5


def _mutations(raw: bytes, rng: random.Random, count: int):
    for _ in range(count):
        kind = rng.random()
        if kind < 0.35:
            yield raw[: rng.randrange(0, len(raw) + 1)]
        elif kind < 0.8:
            data = bytearray(raw)
            for _ in range(rng.randint(1, 40)):
                i = rng.randrange(len(data))
                data[i] ^= 1 << rng.randrange(8)
            yield bytes(data)
        else:
            data = bytearray(raw)
            for _ in range(rng.randint(1, 5)):
                i = rng.randrange(len(data))
                data[i:i] = rng.choice([b"=?utf-8?B?4oA=?=", b"\r\n--", b"\xff\xfe", b"<", b"\x00", b"=\r\n", b";;;"])
            yield bytes(data)


def test_fuzz_truncations_and_bit_flips_raise_only_malformed_mail():
    rng = random.Random(20261130)
    parsed = 0
    for path in sorted(FIXTURES.glob("*.eml")):
        raw = path.read_bytes()
        for variant in _mutations(raw, rng, 12):
            try:
                m = parse_message(variant)
            except MalformedMail:
                continue
            parsed += 1
            # what receive.py goes on to do with every mail must not fail on it either
            assert " ".join(m.top_text.split()) in " ".join(m.text.split())
            assert screen(m, OWN_DOMAIN).verdict in VERDICTS
    assert parsed > 300


# --- HTML ---------------------------------------------------------------------------------------

def test_html_to_text_structure():
    html = ("<html><head><title>t</title><style>p {color:red}</style><script>alert(1)</script></head><body>"
            "<p>Yth. Bapak&nbsp;Ibu,</p><p>Saya pesan:<br>dua publikasi</p>"
            "<ul><li>Sumsel Dalam Angka</li><li>Statistik Daerah<ol><li>2024</li><li>2025</li></ol></li></ul>"
            "<p>Lihat <a href=\"https://sumsel.bps.go.id\">situs BPS</a> atau <a href=\"mailto:x@y.z\">x@y.z</a></p>"
            "<pre>NO  JUDUL\n1   SDA</pre></body></html>")
    assert html_to_text(html) == (
        "Yth. Bapak Ibu,\n\nSaya pesan:\ndua publikasi\n\n- Sumsel Dalam Angka\n- Statistik Daerah\n  1. 2024\n  2. 2025\n\n"
        "Lihat situs BPS <https://sumsel.bps.go.id> atau x@y.z\n\nNO  JUDUL\n1   SDA")


def test_html_blockquote_becomes_quoted_lines():
    text = html_to_text("<div>OK</div><blockquote><div>baris satu</div><blockquote>dalam</blockquote></blockquote><div>sesudah</div>")
    assert text == "OK\n\n> baris satu\n>\n> > dalam\n\nsesudah"


@pytest.mark.parametrize("marker", ['<div class="gmail_quote">', '<div id="divRplyFwdMsg" dir="ltr">',
                                    '<div id="appendonsend">', '<div class="moz-cite-prefix">', '<div class="yahoo_quoted">'])
def test_html_client_quote_markers_start_the_quote(marker):
    text = html_to_text(f"<div>JELAS</div><div>ITEM 1102001.16</div>{marker}<b>From:</b> x</div><div>riwayat</div>")
    assert text.split("\n")[:2] == ["JELAS", "ITEM 1102001.16"]
    assert all(line.startswith(">") for line in text.split("\n")[2:] if line)
    assert strip_quote(text) == "JELAS\nITEM 1102001.16"


def test_html_outlook_word_paragraphs_are_single_lines():
    html = ('<div class="WordSection1"><p class="MsoNormal">IDENTITAS OK<o:p></o:p></p>'
            '<p class="MsoNormal">JELAS<o:p></o:p></p><p class="MsoNormal"><o:p>&nbsp;</o:p></p>'
            '<p class="MsoNormal">Salam,<o:p></o:p></p><p class="MsoNormal">Rina<o:p></o:p></p>'
            '<div style="border:none;border-top:solid #E1E1E1 1.0pt"><p class="MsoNormal"><b>Dari:</b> BPS<br>'
            '<b>Dikirim:</b> Senin, 30 November 2026 09.05<br><b>Kepada:</b> Rina<br><b>Subjek:</b> [PUB-2026-0042]</p></div>'
            '<p class="MsoNormal">riwayat</p></div>')
    text = html_to_text(html)
    assert text.startswith("IDENTITAS OK\nJELAS\n\nSalam,\nRina\nDari: BPS\nDikirim:")
    assert strip_quote(text) == "IDENTITAS OK\nJELAS\n\nSalam,\nRina"


def test_html_to_text_survives_broken_markup():
    assert html_to_text("<p>a<b>b<i>c</p></div></blockquote>d<") .startswith("abc")
    assert html_to_text("") == ""


# --- quote stripping ----------------------------------------------------------------------------

QUOTE_CASES = [
    ("JELAS\nITEM 1102001.16\n\nPada Sen, 30 Nov 2026 pukul 09.05 BPS <d@bps.go.id> menulis:\n> isi", "JELAS\nITEM 1102001.16"),
    ("OK\n\nOn Mon, Nov 30, 2026 at 9:05 AM BPS Sumsel Diseminasi <\nd@bps.go.id> wrote:\n\n> isi", "OK"),
    ("OK\nOn 30/11/2026 09.05, BPS wrote:\nisi", "OK"),
    ("D'accord\n\nLe lun. 30 nov. 2026 à 09:05, BPS <d@bps.go.id> a écrit :\n> x", "D'accord"),
    ("Ja\n\nAm 30.11.26 um 09:05 schrieb BPS Sumsel:\n> x", "Ja"),
    ("SETUJU\n> kutipan\nlanjutan", "SETUJU"),
    ("TUTUP\n-- \nRina\nBPS", "TUTUP"),
    ("TUTUP\n-----Original Message-----\nFrom: x", "TUTUP"),
    ("BATAL salah\n\n-----Pesan Asli-----\nDari: x", "BATAL salah"),
    ("SIAP\n\nFrom: BPS <d@bps.go.id>\nSent: Monday, 30 November 2026 09:05\nTo: Rina\nSubject: x", "SIAP"),
    ("SIAP\n\nDari: BPS <d@bps.go.id>\nDikirim: Senin, 30 November 2026 09.05\nKepada: Rina\nSubjek: x", "SIAP"),
    ("SIAP\n*From:* BPS\n*Date:* Mon\n*To:* Rina\n*Subject:* x", "SIAP"),
    ("SIAP\nDari: BPS\nTanggal: Senin\nPerihal: x", "SIAP"),
    ("OK\n________________________________\nFrom: x", "OK"),
    ("SETUJU\n\nSent from my iPhone", "SETUJU"),
    ("SETUJU\n\nDikirim dari iPhone saya", "SETUJU"),
    ("SETUJU\nDikirim dari Yahoo Mail di Android", "SETUJU"),
    ("SETUJU\n\nSent from Outlook for Android", "SETUJU"),
    ("SETUJU\nGet Outlook for iOS<https://aka.ms/o0ukef>", "SETUJU"),
    ("SETUJU\nKirim dari ponsel Samsung Galaxy saya.", "SETUJU"),
    ("Mohon dicek\n\n---------- Forwarded message ---------\nFrom: x", "Mohon dicek"),
    ("Lihat ini\n\nBegin forwarded message:\n\nFrom: x", "Lihat ini"),
    ("\n\nSETUJU   \n\n\n", "SETUJU"),
    ("", ""),
]


@pytest.mark.parametrize("text,expected", QUOTE_CASES)
def test_strip_quote(text, expected):
    assert strip_quote(text) == expected
    assert strip_quote(text.replace("\n", "\r\n")) == expected


@pytest.mark.parametrize("text", [
    "On Monday I will send the KTP.\nThanks",
    "Pada hari Senin saya transfer.\nTerima kasih",
    "Kirim dari mana datanya?\nSalam",
    "Dikirim dari kantor kami besok pagi.",
    "From: Budi, Dinas Pendidikan\nMohon data sekolah.",
    "Harga --\nmahal sekali",
    "Sent from the office, not from my phone.",
    "Am Montag schicke ich es.",
])
def test_strip_quote_keeps_ordinary_sentences(text):
    assert strip_quote(text) == text


def test_strip_quote_is_linear_on_hostile_input():
    import time
    hostile = ("On " + "x" * 200_000 + "\n") * 3 + ("Pada " * 40_000) + "\n" + ("From: a\n" * 20_000)
    start = time.perf_counter()
    top = strip_quote(hostile)
    assert time.perf_counter() - start < 1.0
    # none of these lines is a quote header (no "wrote:", no header block): every word is kept
    assert top.split() == hostile.split()


def test_html_list_items_wrapped_in_paragraphs_keep_their_bullets():
    text = html_to_text("<ol><li><p>Sumsel Dalam Angka</p></li><li><p>Statistik Daerah</p></li><li></li></ol><div>Salam</div>")
    assert text == "1. Sumsel Dalam Angka\n\n2. Statistik Daerah\n\nSalam"


def test_a_flood_of_part_headers_is_refused_before_the_parser_reads_it():
    """500 parts with 40 KiB of parameters each (20 MB): refused on the raw bytes, in well under a second
    (the parser alone would take about two)."""
    import time

    from mailbot.inbound.parse import MailOverLimit
    part = b"--B\nContent-Type: application/pdf; " + b";\n ".join(b"p%d=v" % n for n in range(4500)) + b"\n\n%PDF\n"
    raw = b"From: a@b.c\nContent-Type: multipart/mixed; boundary=B\n\n" + part * 499 + b"--B--\n"
    start = time.perf_counter()
    with pytest.raises(MailOverLimit, match="MIME part"):
        parse_message(raw)
    assert time.perf_counter() - start < 0.5


def test_an_absurd_message_id_is_kept_as_a_hash_and_never_as_a_thread():
    long_id = "<" + "a" * 2000 + "@example.com>"
    raw = f"From: a@b.c\nMessage-ID: {long_id}\nIn-Reply-To: {long_id}\nReferences: <ok@x.com> {long_id}\n\nisi\n"
    m = parse_message(raw.encode())
    assert m.message_id.startswith("long:") and len(m.message_id) <= 250
    assert m.message_id == parse_message(raw.encode()).message_id          # the same mail again: the same key
    assert m.in_reply_to == () and m.references == ("ok@x.com",)
