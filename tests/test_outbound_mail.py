"""The one builder of outgoing mail: threading, loop-prevention headers, UTF-8 everywhere."""
from __future__ import annotations

from datetime import datetime, timezone
from email import message_from_bytes, policy

from mailbot.outbound.mail import Envelope, FilePart, build_message


def parsed(built):
    return message_from_bytes(built.raw, policy=policy.default)


def test_reply_carries_threading_tag_and_loop_headers():
    env = Envelope(to=("renee@example.com",), message_id="abc@mailbot.bps.go.id",
                   date=datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc), case_ref="PUB-2026-0042",
                   in_reply_to="orig@gmail.com", references=("root@gmail.com",))
    built = build_message(env, "Invoice 0001/INV/1600/XI/2026 — Renée", "Yth. Renée Marpaung,\nterima kasih.",
                          from_addr="diseminasi1600@bps.go.id", from_name="BPS Provinsi Sumatera Selatan",
                          attachments=(FilePart("kuitansi Ç.pdf", b"%PDF-1.4 x", "application/pdf"),
                                       FilePart("data.xlsx", b"PK\x03\x04")))
    m = parsed(built)
    assert built.subject == "[PUB-2026-0042] Invoice 0001/INV/1600/XI/2026 — Renée" == str(m["Subject"])
    assert m["Message-ID"] == "<abc@mailbot.bps.go.id>"
    assert m["In-Reply-To"] == "<orig@gmail.com>"
    assert m["References"] == "<root@gmail.com> <orig@gmail.com>"
    assert m["Auto-Submitted"] == "auto-replied" and m["X-Auto-Response-Suppress"] == "All"
    assert m["From"].addresses[0].display_name == "BPS Provinsi Sumatera Selatan"
    assert m.get_body(("plain",)).get_content().startswith("Yth. Renée Marpaung,")
    files = {a.get_filename(): (a.get_content_type(), a.get_content()) for a in m.iter_attachments()}
    assert files["kuitansi Ç.pdf"] == ("application/pdf", b"%PDF-1.4 x")
    assert files["data.xlsx"][0] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert b"quoted-printable" in built.raw        # readable source, no base64 text


def test_scheduled_mail_is_auto_generated_and_tag_not_doubled():
    env = Envelope(to=("a@b.id",), message_id="x@mailbot.bps.go.id", date=datetime.now(timezone.utc),
                   case_ref="PUB-2026-0001", scheduled=True)
    built = build_message(env, "Pengingat [PUB-2026-0001]", "isi", from_addr="d@bps.go.id", from_name="BPS")
    m = parsed(built)
    assert m["Auto-Submitted"] == "auto-generated" and "In-Reply-To" not in m
    assert str(m["Subject"]).count("PUB-2026-0001") == 1


def _env(**kw) -> Envelope:
    return Envelope(**{"to": ("a@b.id",), "message_id": "m@mailbot.bps.go.id",
                       "date": datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc), **kw})


def test_long_headers_fold_under_78_columns_and_read_back_whole():
    refs = tuple(f"{'r' * 30}{n}@mail.gmail.com" for n in range(6))
    subject = "Permintaan publikasi Statistik Daerah Provinsi Sumatera Selatan 2025 dan Sumatera Selatan Dalam Angka"
    built = build_message(_env(references=refs, in_reply_to="last@x.id"), subject, "isi",
                          from_addr="d@bps.go.id", from_name="BPS")
    head = built.raw.split(b"\n\n", 1)[0]
    assert max(len(line) for line in head.split(b"\n")) <= 78
    m = parsed(built)
    assert str(m["Subject"]) == subject
    assert m["References"].split() == [f"<{r}>" for r in (*refs, "last@x.id")]
    # every word ending in a colon (a long chain of reply prefixes) folds like any other
    chain = "Re: Fwd: " * 12 + "halo"
    built = build_message(_env(), chain, "isi", from_addr="d@bps.go.id", from_name="BPS")
    assert max(len(line) for line in built.raw.split(b"\n\n", 1)[0].split(b"\n")) <= 78
    assert str(parsed(built)["Subject"]) == chain


def test_a_long_subject_that_is_not_ascii_folds_into_short_encoded_words_and_reads_back_whole():
    import re
    from email.header import decode_header, make_header
    subject = ("Permintaan “Statistik Daerah” — Renée Çağlar, 서울 통계 and 😀 " * 3).strip() + " _=?x?="
    built = build_message(_env(), subject, "isi", from_addr="d@bps.go.id", from_name="BPS")
    head = built.raw.split(b"\n\n", 1)[0].decode("ascii")
    assert max(len(line) for line in head.split("\n")) <= 78
    words = re.findall(r"=\?utf-8\?q\?[^?]*\?=", head)
    assert len(words) > 3 and max(map(len, words)) <= 75          # RFC 2047: 75 at most
    assert str(parsed(built)["Subject"]) == subject
    legacy = message_from_bytes(built.raw, policy=policy.compat32)["Subject"]
    assert str(make_header(decode_header(legacy))) == subject


def test_a_line_break_in_a_header_value_or_file_name_cannot_add_a_header():
    built = build_message(_env(), "Halo\nBcc: evil@x.id", "isi", from_addr="d@bps.go.id", from_name="BPS",
                          attachments=(FilePart("a.pdf\r\nContent-Type: text/html", b"%PDF", "application/pdf"),))
    m = parsed(built)
    assert "Bcc" not in m and str(m["Subject"]) == "Halo Bcc: evil@x.id"
    (part,) = m.iter_attachments()
    assert part.get_filename() == "a.pdf Content-Type: text/html" and part.get_content_type() == "application/pdf"


def test_attachment_names_of_any_length_and_script_survive_the_round_trip():
    names = ["Statistik Daerah — Kota Palembang, edisi revisi (final) " * 4 + ".pdf", 'laporan "akhir".pdf',
             "الإحصاء.pdf", "統計年鑑 2025.xlsx", "plain.zip"]
    files = tuple(FilePart(n, bytes(range(256)) * 40) for n in names)
    built = build_message(_env(), "Softcopy", "Terlampir.", from_addr="d@bps.go.id", from_name="BPS",
                          attachments=files)
    assert max(len(line) for line in built.raw.split(b"\n")) < 998
    got = [(a.get_filename(), a.get_content()) for a in parsed(built).iter_attachments()]
    assert got == [(n, bytes(range(256)) * 40) for n in names]


def test_text_keeps_every_line_and_character():
    text = "Yth. Bapak/Ibu,\n\n= tanda sama dengan\nbaris berakhir spasi   \n.titik di awal\n" + "é" * 200 + "\n"
    built = build_message(_env(), "Isi", text, from_addr="d@bps.go.id", from_name="Badan Pusat Statistik — Sumsel")
    m = parsed(built)
    assert m.get_body(("plain",)).get_content() == text
    assert m["From"].addresses[0].display_name == "Badan Pusat Statistik — Sumsel"
    assert max(len(line) for line in built.raw.split(b"\n")) <= 78


# --- issue 14: no line over RFC 5322's 998 octets, whatever the customer wrote ------------------------

def test_no_line_of_any_mail_exceeds_998_octets_and_every_subject_reads_back_whole():
    import random

    rng = random.Random(14)
    alphabet = ["a", "é", "—", " ", "x" * 50, "用", "=?", "?=", "\t", ";", '"']
    for n in range(300):
        letters = alphabet if n % 3 else [a for a in alphabet if a.isascii()]   # a third all ASCII
        subject = "".join(rng.choice(letters) for _ in range(rng.randrange(0, 1500)))
        # (a file name wrapped in quotes reads back unquoted: the email package's doing, not a case here)
        name = "".join(rng.choice(alphabet[:-1]) for _ in range(rng.randrange(0, 300)))
        refs = tuple(f"{'r' * rng.randrange(1, 300)}{k}@example.com" for k in range(rng.randrange(0, 30)))
        env = _env(in_reply_to="i" * rng.randrange(1, 3000) + "@example.com", references=refs,
                   to=tuple(f"user{k}@example.com" for k in range(rng.randrange(1, 40))))
        built = build_message(env, subject, "isi", from_addr="d@bps.go.id", from_name="BPS",
                              attachments=(FilePart(name or "a.pdf", b"%PDF"),))
        assert max(len(line) for line in built.raw.splitlines()) <= 998, n
        m = parsed(built)
        assert " ".join(str(m["Subject"]).split()) == " ".join(subject.split()), n
        filename = next(m.iter_attachments()).get_filename()
        assert " ".join(filename.split()) == " ".join((name or "a.pdf").split()), n


def test_an_absurd_message_id_is_not_threaded_on():
    env = _env(in_reply_to="a" * 2000 + "@example.com", references=("root@gmail.com", "b" * 251 + "@x.com"))
    m = parsed(build_message(env, "Jawaban", "isi", from_addr="d@bps.go.id", from_name="BPS"))
    assert "In-Reply-To" not in m and m["References"] == "<root@gmail.com>"
    fine = _env(in_reply_to="a" * 230 + "@example.com")
    assert parsed(build_message(fine, "Jawaban", "isi", from_addr="d@bps.go.id", from_name="BPS"))["In-Reply-To"] \
        == "<" + "a" * 230 + "@example.com>"


def test_a_non_ascii_address_is_written_as_utf8_and_an_internationalised_domain_as_a_labels():
    from email import message_from_string
    built = build_message(_env(to=("büdi@example.com",)), "Jawaban", "isi", from_addr="d@bps.go.id", from_name="B")
    head = message_from_string(built.raw.decode("utf-8"), policy=policy.default)          # RFC 6532
    assert head["To"].addresses[0].addr_spec == "büdi@example.com" and b"=?" not in built.raw.split(b"\nSubject")[0]
    idn = build_message(_env(to=("budi@bücher.de",)), "Jawaban", "isi", from_addr="d@bps.go.id", from_name="B")
    assert idn.raw.isascii() and parsed(idn)["To"].addresses[0].addr_spec == "budi@xn--bcher-kva.de"


def test_a_long_subject_is_shortened_at_a_word_and_says_so():
    from mailbot.outbound.mail import MAX_SUBJECT, short_subject
    short = short_subject("Permintaan " + "publikasi " * 200)
    assert len(short) <= MAX_SUBJECT and short.endswith("publikasi…")
    assert short_subject("x" * 1500) == "x" * (MAX_SUBJECT - 1) + "…"
    assert short_subject("Permintaan   publikasi\n2025") == "Permintaan publikasi 2025"


def test_a_subject_word_too_long_for_a_line_is_folded_as_encoded_words():
    for subject in ("x" * 1500, "Permintaan " + "y" * 300 + " 2025"):
        built = build_message(_env(), subject, "isi", from_addr="d@bps.go.id", from_name="BPS")
        head = built.raw.split(b"\n\n", 1)[0]
        assert max(len(line) for line in head.splitlines()) <= 78
        assert str(parsed(built)["Subject"]) == subject
