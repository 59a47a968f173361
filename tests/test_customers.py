"""Customers who write freely (issue 17): a table of real-shaped customer mails — Gmail, Outlook,
Apple Mail, Yahoo, phones; Indonesian and English; with and without quotes; slang and typos — each
with the effect an office clerk expects on its case, all through real IMAP and SMTP servers.

The expectations come from the issue and the service standard, not from the code. Each row has its
own customer address, so the rows of one batch never meet: the cases are set up together (a few
`run --once` in all) and the table's mails go in one batch."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest
from sqlalchemy import select

import servers as devservers
from world import PETUGAS, SERVICE, SUPERVISOR, World, body_of

pytestmark = pytest.mark.mail
P1 = PETUGAS[0]
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 30000 + b"\xff\xd9"
WHEN = "Tue, 1 Dec 2026 09:12"

ID_OPENER = "Selamat siang, saya ingin membeli softcopy Statistik Daerah Provinsi Sumatera Selatan 2025."
EN_OPENER = "Hello, I would like to buy the Statistik Daerah Provinsi Sumatera Selatan 2025 publication, please."


# --- how each client writes a reply ---------------------------------------------------------------
def _quoted(msg: EmailMessage | None) -> str:
    return body_of(msg) if msg is not None else ""


def _shape(client: str, body: str, quoted: str) -> str:
    """The body as the client sends it: the customer's words, then the client's quote of our mail."""
    q = quoted.splitlines()
    gt = "\n".join("> " + ln if ln else ">" for ln in q)
    if client == "plain" or not quoted:
        return body
    if client == "gmail":
        return f"{body}\n\nOn {WHEN}, PST BPS Sumsel <{SERVICE}> wrote:\n{gt}\n"
    if client == "gmail_id":
        return f"{body}\n\nPada tanggal Sel, 1 Des 2026 pukul 09.12 PST BPS Sumsel <{SERVICE}>\nmenulis:\n\n{gt}\n"
    if client == "outlook":
        return (f"{body}\n\n________________________________\nFrom: PST BPS Sumsel <{SERVICE}>\n"
                f"Sent: Tuesday, December 1, 2026 9:12 AM\nTo: pelanggan\nSubject: Re: permintaan\n\n{quoted}\n")
    if client == "apple":
        return f"{body}\n\n> On 1 Dec 2026, at 09:12, PST BPS Sumsel <{SERVICE}> wrote:\n>\n{gt}\n"
    if client == "yahoo":
        return (f"{body}\n\n\n    On Tuesday, December 1, 2026 at 09:12:00 AM GMT+7, PST BPS Sumsel "
                f"<{SERVICE}> wrote:  \n\n" + "\n".join(" " + ln for ln in q) + "\n")
    if client == "iphone":
        return f"{body}\n\nSent from my iPhone\n\n> On 1 Dec 2026, at 09:12, PST BPS Sumsel <{SERVICE}> wrote:\n>\n{gt}\n"
    if client == "android_id":
        return (f"{body}\n\nDikirim dari Samsung Galaxy smartphone.\n\n-------- Pesan asli --------\n"
                f"Dari: PST BPS Sumsel <{SERVICE}>\nTanggal: 01/12/26 09.12 (GMT+07:00)\nKe: pelanggan\n"
                f"Subjek: permintaan\n\n{quoted}\n")
    raise ValueError(client)


def client_mail(client: str, frm: str, subject: str, body: str, *, name: str = "", reply_to=None,
                attachments=(), inline_photo: bytes | None = None, html_only: bool = False) -> EmailMessage:
    text = _shape(client, body, _quoted(reply_to))
    msg = EmailMessage()
    msg["From"] = f"{name} <{frm}>" if name else frm
    msg["To"] = SERVICE
    msg["Subject"] = subject if reply_to is None else f"Re: {reply_to['Subject']}"
    msg["Date"] = format_datetime(datetime.now(timezone.utc))
    msg["Message-ID"] = make_msgid(domain=frm.rsplit("@", 1)[1])
    if reply_to is not None:
        msg["In-Reply-To"] = reply_to["Message-ID"]
        msg["References"] = reply_to["Message-ID"]
    if html_only:        # Outlook on the web: HTML only, its quote after an <hr>
        own, _, rest = text.partition("\n\n________________________________\n")
        html = "".join(f"<div>{ln or '<br>'}</div>" for ln in own.splitlines())
        if rest:
            html += '<div id="appendonsend"></div><hr>' + "".join(f"<div>{ln}</div>" for ln in rest.splitlines())
        msg.set_content(f"<html><body>{html}</body></html>", subtype="html")
    else:
        msg.set_content(text)
    if inline_photo is not None:     # a phone's photo shown in the body
        msg.make_mixed()
        part = EmailMessage()
        part.set_content(inline_photo, maintype="image", subtype="jpeg", disposition="inline",
                         filename="IMG_2041.JPG", cid="<img2041@phone>")
        msg.attach(part)
    for filename, data, ctype in attachments:
        main, sub = ctype.split("/")
        msg.add_attachment(data, maintype=main, subtype=sub, filename=filename)
    return msg


# --- the table -----------------------------------------------------------------------------------
@dataclass
class Row:
    """One customer mail on a case in `start`, and what the office expects of it."""

    name: str
    start: str            # none, new, new_en, preparing, invoiced, payment_review, delivered, closed,
                          # cancelled, cancel_pending, cancel_pending_invoiced
    client: str
    body: str
    outcome: str          # the inbound mail's recorded outcome
    state: str | None     # the case's state after it (None: no case at all)
    attachments: tuple = ()
    inline_photo: bytes | None = None
    html_only: bool = False
    lang: str | None = None          # the language the customer is answered in
    checks: dict = field(default_factory=dict)
    subject: str = "Permintaan publikasi"

    @property
    def address(self) -> str:
        return re.sub(r"[^a-z0-9]+", ".", self.name.lower()).strip(".")[:50] + "@example.net"


KTP = (("ktp.jpg", JPEG, "image/jpeg"),)
BUKTI = (("bukti-transfer.jpg", JPEG, "image/jpeg"),)
ROWS = [
    # --- a first mail, no case yet
    Row("id formal request", "none", "plain", "Selamat siang, saya ingin membeli softcopy Provinsi Sumatera Selatan "
        "Dalam Angka 2025.\n\nTerima kasih,\nBudi", "new_case", "new", lang="id", checks={"guess": "1102001.16"}),
    Row("en sumsel in figures", "none", "plain", "Hello, I need the Sumsel in Figures 2024 PDF", "new_case", "new",
        lang="en", checks={"guess": "1102001.16"}),
    Row("id slang iphone request", "none", "plain", "Pak sy mau beli data IPM sumsel 2024 pdf nya, bisa?\n\n"
        "Dikirim dari iPhone saya", "new_case", "new", lang="id"),
    Row("en outlook researcher", "none", "plain", "Dear BPS,\n\nI would like to purchase Statistik Daerah Provinsi "
        "Sumatera Selatan 2025 for my research.\n\nKind regards,\nMaria Gonzalez\nUniversidad de Chile\n"
        "+56 2 2978 2000", "new_case", "new", lang="en", checks={"guess": "1101002.16"}),
    Row("id request agreed with ktp", "none", "plain", "Selamat pagi, saya ingin membeli Statistik Daerah Provinsi "
        "Sumatera Selatan 2025. Saya setuju dengan syarat pembelian, KTP terlampir.", "new_case", "new",
        attachments=KTP, checks={"agreed": True, "identity_received": True}),
    Row("id complaint no case", "none", "plain", "Saya mau menyampaikan pengaduan: telepon PST tidak pernah diangkat "
        "sejak Senin.", "complaint", None, lang="id", checks={"complaint": True}),
    Row("id kecewa no case", "none", "plain", "Saya sangat kecewa dengan pelayanan PST minggu lalu, antrean lama "
        "sekali dan petugas tidak ramah.", "complaint", None, lang="id", checks={"complaint": True}),
    Row("en complaint no case", "none", "plain", "I want to file a complaint about the answer I got at the PST "
        "desk last week.", "complaint", None, lang="en", checks={"complaint": True}),
    Row("en yahoo request", "none", "plain", "Hi, do you have Kota Palembang Dalam Angka 2025 as a PDF? I need it "
        "for a report.\n\nThanks,\nTom", "new_case", "new", lang="en", checks={"guess": "1102001.1671"}),
    Row("id outlook html request", "none", "plain", "Dengan hormat,\n\nMohon info pembelian softcopy Indikator "
        "Kesejahteraan Rakyat Provinsi Sumatera Selatan 2024.\n\nHormat saya,\nRina", "new_case", "new",
        html_only=True, lang="id", checks={"guess": "4102004.16"}),
    Row("id typo request", "none", "plain", "slmt siang, sy mhs unsri mo beli publikasi sumsel dlm angka 2025 "
        "softcopy, mksh", "new_case", "new", lang="id"),
    Row("en outlook mobile request", "none", "plain", "Hi, I'd like to order the labour force report (Keadaan "
        "Angkatan Kerja Provinsi Sumatera Selatan Agustus 2024).\n\nGet Outlook for Android", "new_case", "new",
        lang="en"),
    Row("id komplain slang no case", "none", "plain", "mau komplain min, file yg kemarin dikirim ga lengkap",
        "complaint", None, lang="id", checks={"complaint": True}),
    # --- on a new case: agreement in every phrasing, and never in the quote
    Row("setuju bare", "new", "gmail", "SETUJU", "agreed", "new", checks={"agreed": True}),
    Row("ya setuju", "new", "gmail", "ya, setuju", "agreed", "new", checks={"agreed": True}),
    Row("sy setuju android", "new", "android_id", "sy setuju", "agreed", "new", checks={"agreed": True}),
    Row("baik saya setuju outlook", "new", "outlook", "Baik, saya setuju.", "agreed", "new", checks={"agreed": True}),
    Row("ok setuju iphone", "new", "iphone", "OK setuju", "agreed", "new", checks={"agreed": True}),
    Row("saya menyetujui formal", "new", "gmail_id", "Dengan ini saya menyetujui syarat pembelian softcopy "
        "tersebut.\n\nSalam,\nDewi", "agreed", "new", checks={"agreed": True}),
    Row("en yes i agree apple", "new_en", "apple", "Yes, I agree to the terms.", "agreed", "new", lang="en",
        checks={"agreed": True}),
    Row("en i agree html outlook", "new_en", "outlook", "I agree", "agreed", "new", html_only=True, lang="en",
        checks={"agreed": True}),
    Row("thanks only quote says setuju", "new", "gmail_id", "Terima kasih, nanti saya kabari lagi.", "forwarded",
        "new", checks={"agreed": False}),
    Row("tidak setuju", "new", "gmail", "Saya tidak setuju dengan biayanya, terlalu mahal.", "forwarded", "new",
        checks={"agreed": False}),
    Row("setuju kalau", "new", "gmail", "Setuju kalau harganya bisa dikurangi.", "forwarded", "new",
        checks={"agreed": False}),
    Row("setuju question", "new", "yahoo", "Setuju? Maksudnya setuju apa ya pak?", "forwarded", "new",
        checks={"agreed": False}),
    Row("ktp inline iphone", "new", "iphone", "ini ktp saya", "identity", "new", inline_photo=JPEG,
        checks={"identity_received": True, "agreed": False}),
    Row("setuju and ktp", "new", "gmail", "Setuju, berikut KTP saya", "identity", "new", attachments=KTP,
        checks={"agreed": True, "identity_received": True}),
    Row("en ok agree passport", "new_en", "gmail", "ok I agree, my ID is attached", "identity", "new",
        attachments=(("passport.jpg", JPEG, "image/jpeg"),), lang="en",
        checks={"agreed": True, "identity_received": True}),
    Row("more publications id", "new", "gmail", "Tolong tambahkan juga Kota Palembang Dalam Angka 2025 ya.",
        "forwarded", "new", checks={"new_guess": "1102001.1671"}),
    Row("more publications en", "new_en", "outlook", "Good morning, could you also add Kota Palembang Dalam Angka "
        "2025?", "forwarded", "new", lang="en", checks={"new_guess": "1102001.1671"}),
    Row("batal request id", "new", "gmail", "mohon dibatalkan saja pak, sudah dapat datanya dari teman",
        "cancel_requested", "new", checks={"customer_subject": "Konfirmasi pembatalan"}),
    Row("cancel request en", "new_en", "yahoo", "Please cancel my request, I no longer need it.",
        "cancel_requested", "new", lang="en", checks={"customer_subject": "confirm the cancellation"}),
    Row("question excel", "new", "gmail", "Apakah bisa dalam format Excel?", "forwarded", "new",
        checks={"customer_subject": "diteruskan"}),
    Row("complaint on new case", "new", "gmail", "Saya kecewa, sudah seminggu belum ada kabar dari petugas.",
        "complaint", "new", checks={"complaint": True}),
    # --- confirming a cancel
    Row("ya batalkan", "cancel_pending", "gmail", "YA BATALKAN", "cancelled", "cancelled",
        checks={"customer_subject": "dibatalkan sesuai permintaan"}),
    Row("ya only", "cancel_pending", "iphone", "ya", "cancelled", "cancelled"),
    Row("tidak jadi batal", "cancel_pending", "gmail", "Eh tidak jadi batal, lanjutkan saja pak", "forwarded", "new"),
    Row("ya batalkan invoiced", "cancel_pending_invoiced", "outlook", "Ya, batalkan.", "cancelled", "cancelled",
        checks={"invoice_void": True}),
    # --- preparing
    Row("kapan selesai", "preparing", "gmail", "Kapan kira-kira selesai pak?", "forwarded", "preparing"),
    Row("tambah ogan ilir", "preparing", "android_id", "tambah Kabupaten Ogan Ilir Dalam Angka 2025 ya",
        "forwarded", "preparing", checks={"new_guess": "1102001.1610"}),
    # --- invoiced: proofs in every shape; cancelling before paying
    Row("udh transfer", "invoiced", "gmail", "udh transfer ya kak", "proof", "payment_review", attachments=BUKTI),
    Row("en payment pdf", "invoiced", "outlook", "Payment made, receipt attached.", "proof", "payment_review",
        attachments=(("receipt.pdf", PDF, "application/pdf"),)),
    Row("bukti inline iphone", "invoiced", "iphone", "bukti tf", "proof", "payment_review", inline_photo=JPEG),
    Row("batal aja invoiced", "invoiced", "gmail", "batal aja deh, gak jadi beli", "cancel_requested", "invoiced"),
    Row("berapa lama invoice", "invoiced", "gmail", "Berapa lama invoice ini berlaku?", "forwarded", "invoiced"),
    Row("pengaduan invoiced", "invoiced", "gmail", "pengaduan: nomor rekening di invoice berbeda dengan di website",
        "complaint", "invoiced", checks={"complaint": True}),
    Row("cancel under review", "payment_review", "gmail", "tolong batalkan pesanan saya", "forwarded",
        "payment_review"),
    # --- delivered: defects, thanks, satisfaction
    Row("ga bisa dibuka", "delivered", "gmail", "filenya ga bisa dibuka", "defect", "correction"),
    Row("en won't open", "delivered", "apple", "The file won't open on my laptop.", "defect", "correction"),
    Row("halaman kosong android", "delivered", "android_id", "halaman 12 kosong pak", "defect", "correction"),
    Row("thanks quote has defect words", "delivered", "gmail", "Terima kasih, file sudah saya terima dengan baik, "
        "tidak ada yang salah.", "forwarded", "delivered"),
    Row("sangat puas delivered", "delivered", "gmail", "Sangat puas, terima kasih banyak!", "rating", "delivered",
        checks={"rating": 4}),
    Row("kecewa salah tahun", "delivered", "outlook", "Saya kecewa, file yang dikirim salah tahun.", "complaint",
        "correction", checks={"complaint": True}),
    Row("batal after delivery", "delivered", "gmail", "batal", "forwarded", "delivered"),
    # --- closed: the survey answered, a late defect, a new request, thanks, a complaint
    Row("closed 4", "closed", "gmail", "4", "rating", "closed", checks={"rating": 4}),
    Row("closed sangat puas", "closed", "gmail", "sangat puas", "rating", "closed", checks={"rating": 4}),
    Row("closed en very satisfied", "closed", "yahoo", "Very satisfied, thank you!", "rating", "closed",
        checks={"rating": 4}),
    Row("closed kurang puas", "closed", "gmail", "kurang puas, agak lama", "rating", "closed", checks={"rating": 2}),
    Row("closed tidak puas iphone", "closed", "iphone", "tidak puas", "rating", "closed", checks={"rating": 1}),
    Row("closed late defect", "closed", "gmail", "Maaf pak, filenya ternyata tidak bisa dibuka di HP saya.",
        "defect", "correction", checks={"customer_subject": "Laporan kesalahan softcopy diterima"}),
    Row("closed new request", "closed", "gmail", "Saya ingin memesan Kota Palembang Dalam Angka 2025 juga.",
        "new_case_linked", "closed", checks={"linked": True}),
    Row("closed thanks", "closed", "gmail", "Terima kasih banyak pak.", "forwarded", "closed",
        checks={"cases": 1}),
    Row("closed keluhan", "closed", "gmail", "Saya mau mengajukan keluhan, pelayanannya lambat sekali.",
        "complaint", "closed", checks={"complaint": True, "cases": 1}),
    # --- cancelled by the office
    Row("cancelled why", "cancelled", "gmail", "Kenapa dibatalkan pak?", "forwarded", "cancelled",
        checks={"cases": 1}),
    Row("cancelled new request", "cancelled", "gmail", "Saya ingin membeli lagi Statistik Daerah Provinsi Sumatera "
        "Selatan 2025.", "new_case_linked", "cancelled", checks={"linked": True}),
]


# --- the office, set up once for the module -----------------------------------------------------
@pytest.fixture(scope="module")
def office(imap_server, tmp_path_factory):
    if not imap_server.running:
        imap_server.start()
    imap_server.reset()
    smtp = devservers.CaptureSMTPServer().start()
    w = World(imap_server, smtp, f"sqlite:///{tmp_path_factory.mktemp('customers') / 'mailbot.sqlite3'}")
    w.import_catalog()
    yield w
    w.close()
    smtp.stop()


def latest_to(world: World, address: str, part: str = "") -> EmailMessage:
    found = [m for m in world.sent_to(address) if part in str(m["Subject"])]
    assert found, (address, part, [str(m["Subject"]) for m in world.sent_to(address)])
    return found[-1]


def _staff_mail(world: World, to_msg: EmailMessage, body: str, attachments=()) -> EmailMessage:
    """A petugas' reply, vouched for by our server (DKIM pass), as world.mail(auth="pass") writes it."""
    msg = client_mail("plain", P1, "", body, reply_to=to_msg, attachments=attachments)
    msg["Authentication-Results"] = f"mx.bps.go.id; dkim=pass header.d=bps.go.id; spf=pass smtp.mailfrom={P1}"
    return msg


def set_up(world: World, rows: list[Row]) -> dict[str, str]:
    """Bring every row's case to its starting state with a handful of batches; returns address -> ref."""
    opening = [r for r in rows if r.start != "none"]
    for r in opening:
        english = r.start == "new_en"
        world.deliver(client_mail("plain", r.address, "Permintaan publikasi" if not english else "Publication request",
                                  EN_OPENER if english else ID_OPENER, name=r.name.title()))
    world.run_once()
    refs = {c["customer"]: c["ref"] for c in world.cases()}

    def ack(r):
        return latest_to(world, r.address, refs[r.address])

    beyond_new = {"preparing", "invoiced", "payment_review", "delivered", "closed", "cancel_pending_invoiced"}
    for r in opening:
        if r.start in beyond_new:
            world.deliver(client_mail("plain", r.address, "", "SETUJU", reply_to=ack(r), attachments=KTP))
        elif r.start == "cancel_pending":
            world.deliver(client_mail("plain", r.address, "", "tolong batalkan permintaan saya", reply_to=ack(r)))
    world.run_once()
    (world.library / "1101002.16-2025.pdf").write_bytes(PDF)
    commands = {
        "preparing": "IDENTITAS OK\nITEM #1\nJELAS",
        "invoiced": "IDENTITAS OK\nITEM #1\nJELAS\nSIAP\nTAGIH",
        "payment_review": "IDENTITAS OK\nITEM #1\nJELAS\nSIAP\nTAGIH",
        "cancel_pending_invoiced": "IDENTITAS OK\nITEM #1\nJELAS\nSIAP\nTAGIH",
        "delivered": "IDENTITAS OK\nITEM #1\nJELAS\nSIAP\nNOL Instansi pemerintah daerah",
        "closed": "IDENTITAS OK\nITEM #1\nJELAS\nSIAP\nNOL Instansi pemerintah daerah\nTUTUP selesai",
        "cancelled": "BATAL permintaan ganda",
    }
    for r in opening:
        if r.start in commands:
            note = latest_to(world, P1, refs[r.address])
            world.deliver(_staff_mail(world, note, commands[r.start]))
    world.run_once()
    for r in opening:
        if r.start in ("payment_review", "cancel_pending_invoiced"):
            invoice = latest_to(world, r.address, "Invoice")
            if r.start == "payment_review":
                world.deliver(client_mail("plain", r.address, "", "bukti", reply_to=invoice, attachments=BUKTI))
            else:
                world.deliver(client_mail("plain", r.address, "", "batal saja", reply_to=invoice))
    world.run_once()
    expected = {"new": "new", "new_en": "new", "cancel_pending": "new", "preparing": "preparing",
                "invoiced": "invoiced", "payment_review": "payment_review", "delivered": "delivered",
                "closed": "closed", "cancelled": "cancelled", "cancel_pending_invoiced": "invoiced"}
    for r in opening:
        assert world.case(refs[r.address])["state"] == expected[r.start], (r.name, world.case(refs[r.address]))
    return refs


def outcome_of(world: World, message_id: str) -> str:
    from mailbot.adapters import db
    with world.app.sessions() as s:
        return s.scalar(select(db.InboundRow.outcome).where(db.InboundRow.message_id == message_id.strip("<>")))


def complaints_of(world: World, address: str) -> list:
    from mailbot.adapters import db
    with world.app.sessions() as s:
        return list(s.scalars(select(db.ComplaintRow).where(db.ComplaintRow.customer == address)))


def run_table(world: World, rows: list[Row]) -> list[str]:
    refs = set_up(world, rows)
    sent: dict[str, EmailMessage] = {}
    for r in rows:
        reply_to = None
        if r.start != "none":
            reply_to = world.sent_to(r.address)[-1]        # the customer answers our latest mail
        msg = client_mail(r.client, r.address, r.subject, r.body, name=r.name.title(), reply_to=reply_to,
                          attachments=r.attachments, inline_photo=r.inline_photo, html_only=r.html_only)
        sent[r.name] = msg
        world.deliver(msg)
    world.smtp.clear()
    world.run_once()
    problems = []
    all_cases = world.cases()
    for r in rows:
        got = outcome_of(world, sent[r.name]["Message-ID"])
        mine = [c for c in all_cases if c["customer"] == r.address]
        original = next((c for c in mine if c["ref"] == refs.get(r.address)), mine[0] if mine else None)
        state = original["state"] if original else None
        answers = world.sent_to(r.address)
        why = []
        if got != r.outcome:
            why.append(f"outcome {got!r}, expected {r.outcome!r}")
        if state != r.state:
            why.append(f"state {state!r}, expected {r.state!r}")
        if r.outcome in ("new_case", "complaint", "agreed", "identity", "forwarded", "proof", "defect",
                         "cancel_requested", "cancelled", "rating", "new_case_linked") and not answers:
            why.append("the customer got no answer")
        if r.lang and answers:
            text = body_of(answers[-1])
            greeting = "Dear" if r.lang == "en" else "Yth."
            if not text.startswith(greeting):
                why.append(f"answered in the wrong language: {text[:40]!r}")
        for key, want in r.checks.items():
            full = world.case(original["ref"]) if original else {}
            if key in ("agreed", "identity_received", "rating"):
                have = _case_field(world, original["ref"], key) if original else None
                if have != want:
                    why.append(f"{key} {have!r}, expected {want!r}")
            elif key == "guess" and want not in _guesses(world, original["ref"]):
                why.append(f"guesses lack {want}")
            elif key == "new_guess":
                note = [m for m in world.sent_to(P1) if original["ref"] in str(m["Subject"])
                        and "Pesan pelanggan" in str(m["Subject"])]
                if want not in _guesses(world, original["ref"]) or not note or want not in body_of(note[-1]):
                    why.append(f"{want} not added to the guesses and shown to petugas")
            elif key == "complaint":
                filed = complaints_of(world, r.address)
                told = [m for m in world.sent_to(SUPERVISOR) if "PENGADUAN" in str(m["Subject"])
                        and r.address in body_of(m)]
                if not filed or not told:
                    why.append(f"complaint filed={len(filed)} supervisor told={len(told)}")
                if original is None and mine:
                    why.append("a complaint opened a case")
            elif key == "customer_subject" and not any(want in str(m["Subject"]) for m in answers):
                why.append(f"no answer with {want!r}: {[str(m['Subject']) for m in answers]}")
            elif key == "linked" and not any(c["linked_ref"] == original["ref"] for c in mine):
                why.append("no new linked case")
            elif key == "cases" and len(mine) != want:
                why.append(f"{len(mine)} case(s), expected {want}")
            elif key == "invoice_void" and full.get("invoice_number"):
                why.append(f"the invoice is still current: {full['invoice_number']}")
        if why:
            problems.append(f"{r.name}: " + "; ".join(why))
    return problems


def _case_field(world: World, ref: str, key: str):
    from mailbot.adapters import db
    with world.app.sessions() as s:
        return getattr(s.scalar(select(db.CaseRow).where(db.CaseRow.ref == ref)), key)


def _guesses(world: World, ref: str) -> str:
    return " ".join(g["katalog"] for g in __import__("json").loads(_case_field(world, ref, "guesses")))


def test_at_least_sixty_real_shaped_mails_have_the_effect_a_clerk_expects(office):
    assert len(ROWS) >= 60 and len({r.address for r in ROWS}) == len(ROWS)
    problems = run_table(office, ROWS)
    assert problems == [], "\n".join(problems)


# --- what the table cannot show in one batch: time, a second mail, the office's side ---------------
from datetime import timedelta  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

WIB = ZoneInfo("Asia/Jakarta")


def _open(world: World, address: str, body: str = ID_OPENER, attachments=(), name: str = "") -> str:
    world.deliver(client_mail("plain", address, "Permintaan publikasi", body, attachments=attachments, name=name))
    world.run_once()
    return next(c["ref"] for c in world.cases() if c["customer"] == address)


def _at(days: int, hour: int = 9) -> str:
    day = datetime.now(WIB).date() + timedelta(days=days)
    return f"{day.isoformat()}T{hour:02d}:00+07:00"


def _instant(days: int, hour: int = 10) -> datetime:
    day = datetime.now(WIB).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=WIB)


def _events(world: World, ref: str) -> list[dict]:
    return world.case(ref)["events"]


def test_an_expired_case_answers_a_new_request_with_a_linked_case_and_a_late_proof_in_english(world):
    """Issue 17: mail on an `expired` case was only forwarded. A new request opens a linked case;
    "I still want it" waits for the petugas' new invoice; a late proof is answered in English."""
    addresses = ["lagi@example.net", "masih@example.net", "late.proof@example.org"]
    refs = [_open(world, a, EN_OPENER if a.endswith(".org") else ID_OPENER) for a in addresses]
    for a, ref in zip(addresses, refs):
        world.deliver(client_mail("plain", a, "", "SETUJU", reply_to=latest_to(world, a, ref), attachments=KTP))
    world.run_once()
    for ref in refs:
        world.deliver(_staff_mail(world, latest_to(world, P1, ref), "IDENTITAS OK\nITEM #1\nJELAS\nSIAP\nTAGIH",
                                  attachments=(("sd.pdf", PDF, "application/pdf"),)))
    world.run_once()
    assert world.jobs(_at(40))["expire"] == 3
    bodies = ["Saya ingin membeli Kota Palembang Dalam Angka 2025.", "Saya masih ingin membeli, mohon invoice baru.",
              "I have now paid, the receipt is attached."]
    sent = []
    for a, body in zip(addresses, bodies):
        sent.append(client_mail("gmail", a, "", body, reply_to=world.sent_to(a)[-1],
                                attachments=(("receipt.pdf", PDF, "application/pdf"),) if a.endswith(".org") else ()))
        world.deliver(sent[-1])
    world.smtp.clear()
    world.run_once()
    assert [outcome_of(world, m["Message-ID"]) for m in sent] == ["new_case_linked", "forwarded", "proof"]
    linked = [c for c in world.cases() if c["customer"] == addresses[0] and c["ref"] != refs[0]]
    assert len(linked) == 1 and linked[0]["linked_ref"] == refs[0] and linked[0]["state"] == "new"
    assert [c["state"] for c in world.cases() if c["ref"] in refs] == ["expired"] * 3
    assert len([c for c in world.cases() if c["customer"] == addresses[1]]) == 1
    late = latest_to(world, addresses[2], refs[2])
    assert "after the invoice expired" in str(late["Subject"]) and body_of(late).startswith("Dear")


def test_one_holding_reply_per_case_per_day_while_every_message_reaches_the_petugas(world):
    address = "banyak.tanya@example.net"
    ref = _open(world, address)
    ack = latest_to(world, address, ref)
    world.smtp.clear()
    for q in ("Apakah ada versi Excel?", "Oh ya, yang tahun 2024 juga ada?"):
        world.deliver(client_mail("gmail", address, "", q, reply_to=ack))
    world.run_once()
    world.deliver(client_mail("iphone", address, "", "Maaf satu lagi, bisa dikirim hari ini?", reply_to=ack))
    world.run_once()
    holding = [m for m in world.sent_to(address) if "diteruskan" in str(m["Subject"])]
    assert len(holding) == 1, [str(m["Subject"]) for m in world.sent_to(address)]
    notes = [m for m in world.sent_to(P1) if "Pesan pelanggan" in str(m["Subject"])]
    assert len(notes) == 3
    world.smtp.clear()
    tomorrow = client_mail("gmail", address, "", "Selamat pagi, ada kabar?", reply_to=ack)
    assert world.feed(tomorrow, _instant(1)).action == "forwarded"
    assert [m for m in world.sent_to(address) if "diteruskan" in str(m["Subject"])]       # a new day, a new one


def test_an_abandoned_request_is_reminded_then_cancelled_and_its_identity_purged(world):
    """Issue 17: a `new` case whose customer never answers is reminded after new_reminder_days (7) and
    cancelled after new_expiry_days (30), the customer told; the retention clock then runs."""
    ktp_only = _open(world, "ktp.saja@example.net", attachments=KTP)             # identity, no agreement
    silent_en = _open(world, "silent@example.org", EN_OPENER)                     # nothing at all
    complete = _open(world, "lengkap@example.net", ID_OPENER + "\nSaya setuju.", attachments=KTP)
    late_answer = _open(world, "menjawab@example.net")
    assert world.feed(client_mail("gmail", "menjawab@example.net", "", "Baik pak, KTP menyusul ya.",
                                  reply_to=latest_to(world, "menjawab@example.net", late_answer)),
                      _instant(5)).action == "forwarded"
    world.smtp.clear()
    assert world.jobs(_at(6))["abandoned"] == 0
    assert world.jobs(_at(7))["abandoned"] == 2
    reminder = latest_to(world, "ktp.saja@example.net", "Pengingat")
    assert "SETUJU" in body_of(reminder) and "kartu identitas yang masih berlaku" not in body_of(reminder)
    assert body_of(latest_to(world, "silent@example.org", "Reminder")).startswith("Dear")
    assert world.jobs(_at(8))["abandoned"] == 0                                   # one reminder per quiet spell
    assert world.jobs(_at(12))["abandoned"] == 1                                  # 7 days after the answer
    assert latest_to(world, "menjawab@example.net", "Pengingat")
    assert world.jobs(_at(30))["abandoned"] == 2
    assert [world.case(r)["state"] for r in (ktp_only, silent_en, complete, late_answer)] == \
        ["cancelled", "cancelled", "new", "new"]
    assert "persyaratan belum lengkap" in str(latest_to(world, "ktp.saja@example.net", ktp_only)["Subject"])
    assert body_of(latest_to(world, "silent@example.org", silent_en)).startswith("Dear")
    assert any("dibatalkan otomatis" in str(m["Subject"]) for m in world.sent_to(P1))
    world.jobs(_at(30 + 89))
    assert not any(e["kind"] == "identity_purged" for e in _events(world, ktp_only))
    world.jobs(_at(30 + 90))
    assert any(e["kind"] == "identity_purged" for e in _events(world, ktp_only))


def _delivered(world: World, address: str, close: str = "") -> str:
    ref = _open(world, address)
    world.deliver(client_mail("plain", address, "", "SETUJU", reply_to=latest_to(world, address, ref), attachments=KTP))
    world.run_once()
    (world.library / "1101002.16-2025.pdf").write_bytes(PDF)
    world.deliver(_staff_mail(world, latest_to(world, P1, ref), "IDENTITAS OK\nITEM #1\nJELAS\nSIAP\n"
                              "NOL Instansi pemerintah daerah" + (f"\n{close}" if close else "")))
    world.run_once()
    return ref


def test_a_defect_after_the_auto_close_reopens_the_free_correction_within_30_days_only(world):
    auto = _delivered(world, "auto.close@example.net")
    closed = _delivered(world, "tutup@example.net", close="TUTUP selesai")
    assert world.jobs(_at(14))["auto_close"] == 1
    assert world.case(auto)["state"] == "closed"
    defect = client_mail("gmail", "auto.close@example.net", "", "Pak, halaman 30-40 ternyata kosong.",
                         reply_to=latest_to(world, "auto.close@example.net", auto))
    too_late = client_mail("gmail", "tutup@example.net", "", "Filenya tidak bisa dibuka.",
                           reply_to=latest_to(world, "tutup@example.net", closed))
    world.smtp.clear()
    assert world.feed(defect, _instant(20)).action == "defect"
    case = world.case(auto)
    assert case["state"] == "correction" and case["due"] > _instant(20).date().isoformat()
    assert "kosong" in body_of(latest_to(world, P1, "Laporan kesalahan"))
    assert "tanpa biaya" in body_of(latest_to(world, "auto.close@example.net", "Laporan kesalahan"))
    assert world.feed(too_late, _instant(31)).action == "forwarded"
    assert world.case(closed)["state"] == "closed"
    assert len([c for c in world.cases() if c["customer"] == "tutup@example.net"]) == 1   # no paid request
    assert "tidak bisa dibuka" in body_of(latest_to(world, P1, "Pesan pelanggan"))


def test_the_petugas_record_an_agreement_given_by_phone(world):
    """Issue 17: an agreement received by phone or chat unblocks JELAS, with the petugas as actor."""
    address = "telepon@example.net"
    ref = _open(world, address, attachments=KTP)
    world.deliver(_staff_mail(world, latest_to(world, P1, ref),
                              "JELAS\nPERSETUJUAN telepon 3 Desember\nIDENTITAS OK\nITEM #1"))
    world.run_once()
    case = world.case(ref)
    assert case["state"] == "preparing", case["events"]
    agree = next(e for e in case["events"] if e["kind"] == "Agree")
    assert agree["actor"] == P1 and "telepon 3 Desember" in agree.get("detail", str(agree))
    text = body_of(latest_to(world, P1, "Hasil perintah"))
    assert text.index("> JELAS") < text.index("> PERSETUJUAN") < text.index("> IDENTITAS OK")
    assert "GAGAL" not in text
    world.deliver(_staff_mail(world, latest_to(world, P1, ref), "PERSETUJUAN"))
    world.run_once()
    assert "melalui apa" in body_of(latest_to(world, P1, "Hasil perintah"))


def test_a_complaint_without_a_case_keeps_its_thread_and_is_counted_in_the_month_report(world):
    address = "pengadu@example.net"
    world.deliver(client_mail("plain", address, "Keluhan layanan", "Saya ingin mengadukan pelayanan PST yang lambat.",
                              name="Ani"))
    world.run_once()
    answer = latest_to(world, address, "Pengaduan")
    number = re.search(r"ADU-\d{4}-\d{4}", str(answer["Subject"])).group(0)
    assert "pengaduan.bps.go.id" in body_of(answer) and "kotak saran" in body_of(answer)
    assert answer["In-Reply-To"]                                     # threaded under the customer's mail
    follow = client_mail("gmail", address, "", "Tambahan: kejadiannya hari Senin pagi.", reply_to=answer)
    world.deliver(follow)
    world.run_once()
    assert outcome_of(world, follow["Message-ID"]) == "complaint" and world.cases() == []
    assert [c.ref for c in complaints_of(world, address)] == [number, number]
    told = [m for m in world.sent_to(SUPERVISOR) if number in str(m["Subject"])]
    assert len(told) == 2 and P1 in str(told[0]["To"]) and "hari Senin" in body_of(told[1])
    ref = _open(world, "kasus@example.net")
    world.deliver(client_mail("gmail", "kasus@example.net", "", "Saya kecewa, belum ada jawaban.",
                              reply_to=latest_to(world, "kasus@example.net", ref)))
    world.run_once()
    code, out = world.cli("report", "--month", datetime.now(WIB).strftime("%Y-%m"), "--json")
    assert code == 0, out
    report = __import__("json").loads(out)["complaints"]
    assert report["received"] == 2 and report["without_case"] == 1 and report["cases"] == [ref]
    assert number in report["refs"]


def test_every_customer_mail_has_a_text_and_an_html_part_and_staff_mail_stays_plain(world):
    ref = _delivered(world, "html@example.net")
    for msg in world.sent_to("html@example.net"):
        body = msg.get_body(("html",))
        assert body is not None and msg.get_body(("plain",)) is not None, str(msg["Subject"])
        assert ref in body.get_content()
    delivery = latest_to(world, "html@example.net", "Kuitansi")
    assert delivery.get_content_type() == "multipart/mixed"
    assert [p.get_content_type() for p in delivery.iter_parts()][0] == "multipart/alternative"
    assert any(n.startswith("kuitansi") for n in (a.get_filename() for a in delivery.iter_attachments()))
    for msg in world.sent_to(P1):
        assert msg.get_body(("html",)) is None


def test_a_mail_too_large_to_read_is_answered_in_the_language_of_its_subject(fresh_mailbox, smtp_server, db_url):
    small = World(fresh_mailbox, smtp_server, db_url, storage={"max_message_mb": 0.5, "max_attachment_mb": 0.5})
    try:
        small.deliver(client_mail("plain", "big@example.org", "Request for the labour force publication",
                                  "See attached.", attachments=(("scan.pdf", b"%PDF" + b"0" * 900_000,
                                                                 "application/pdf"),)))
        small.run_once()
        answer = small.sent_to("big@example.org")[-1]
        assert "too large" in str(answer["Subject"]) and body_of(answer).startswith("Dear")
    finally:
        small.close()
