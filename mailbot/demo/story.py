"""`mailbot demo`: the story of DESIGN §1 on embedded pymap + aiosmtpd servers, printed step by step."""
from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from sqlalchemy import select

from ..adapters import db
from ..app.bootstrap import App
from ..app.cases import case_json, case_text
from ..app.digest import send_digest
from ..app.library import import_catalog
from ..catalog import read_catalog_csv
from ..clock import utcnow
from ..config import load_config
from ..runtime.daemon import run_once
from ..runtime.sender import drain
from .servers import CaptureSMTPServer, PymapServer

SERVICE = "diseminasi1600@bps.go.id"
PETUGAS = ("petugas1@bps.go.id", "petugas2@bps.go.id")
BENDAHARA = "bendahara@bps.go.id"
SUPERVISOR = "kepala@bps.go.id"
CUSTOMER, CUSTOMER_NAME = "budi.santoso@example.com", "Budi Santoso"
AUTHSERV = "mx.bps.go.id"
CATALOG = Path(__file__).resolve().parents[1] / "data" / "katalog-contoh.csv"
# Library files the demo writes (catalog `file` column); the story buys the first one.
LIBRARY = {
    "1102001.16-2025.pdf": "Provinsi Sumatera Selatan Dalam Angka 2025",
    "1101002.16-2025.pdf": "Statistik Daerah Provinsi Sumatera Selatan 2025",
    "4102004.16-2024.pdf": "Indikator Kesejahteraan Rakyat Provinsi Sumatera Selatan 2024",
}
STORY_FILE = "1102001.16-2025.pdf"
FIXED_FILE = "1102001.16-2025-perbaikan.pdf"
BODY_LINES = 5
RULE = "=" * 78


class _Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C (exit 143)."""


class DemoError(RuntimeError):
    """A step did not end as the story says: the servers stop, the files stay for a look."""


def run_demo(keep: bool = False) -> int:
    """Play the whole story; with `keep`, leave the servers up until Ctrl-C. Exit code."""
    started = time.monotonic()
    restore_logs = _quiet_logs()
    restore_term = _sigterm_as_interrupt()
    demo = Demo()
    try:
        demo.start()
        demo.play()
        demo.finish(started, keep)
        if keep:
            demo.wait()
        return 0
    except Exception as exc:    # noqa: BLE001 - a step that failed, or anything under it: one line, no traceback
        demo.kept_dir = True     # nothing keeps running, but the files stay for a look
        cause = str(exc) if isinstance(exc, DemoError) else f"{type(exc).__name__}: {exc}"
        print(f"\nmailbot demo: GAGAL (failed): {cause}\n  berkas disimpan untuk diperiksa (files kept): {demo.dir}",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        if keep and demo.waiting:
            return 0
        print("\nmailbot demo: dihentikan (interrupted)", file=sys.stderr)
        return 143 if isinstance(sys.exc_info()[1], _Terminated) else 130
    finally:
        demo.close()
        restore_term()
        restore_logs()
        print(f"\nSemua server dihentikan, direktori sementara {'dihapus' if not demo.kept_dir else 'disimpan'}. "
              f"(All servers stopped.) Waktu total: {time.monotonic() - started:.1f} detik.", flush=True)


class Demo:
    """The office of the demo: servers, directory, config, and the story's mails."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="mailbot-demo-"))
        self.imap = None
        self.smtp = None
        self.app = None
        self.config: Path | None = None
        self.ref = ""
        self.waiting = False
        self.kept_dir = False
        self._seen = 0
        self.last_result: dict = {}

    # --- set-up and tear-down --------------------------------------------------------------
    def start(self) -> None:
        _title("mailbot demo — penjualan softcopy publikasi BPS Provinsi Sumatera Selatan lewat email",
               "the whole story of one case, on embedded mail servers, with real mails")
        user = SERVICE.split("@")[0]
        self.imap = PymapServer(root=self.dir / "imap", users={user: "demo-" + secrets.token_hex(4)}).start()
        self.smtp = CaptureSMTPServer().start()
        library = self.dir / "library"
        library.mkdir()
        for name, title in LIBRARY.items():
            (library / name).write_bytes(sample_pdf(title, name))
        self.config = self.dir / "mailbot.toml"
        self.config.write_text(_toml(self._values(library)), encoding="utf-8")
        print(f"""
Persiapan (set-up), di {self.dir}:
  - server IMAP pymap di {self.imap.host}:{self.imap.port} (kotak surat layanan {SERVICE});
  - server SMTP aiosmtpd di {self.smtp.host}:{self.smtp.port}: hanya merekam surat keluar mailbot
    (capture only: nothing leaves this machine);
  - database SQLite, folder penyimpanan, pustaka publikasi berisi {len(LIBRARY)} PDF contoh;
  - konfigurasi {self.config.name}: petugas {', '.join(PETUGAS)}, bendahara {BENDAHARA},
    supervisor {SUPERVISOR}.
  Surat petugas dan bendahara membawa header `Authentication-Results: {AUTHSERV}; dkim=pass`,
  seperti yang ditambahkan server surat kantor sendiri. mailbot hanya menjalankan kata kunci staf bila
  surat lolos DKIM/SPF menurut header dari server itu (security.authserv_id = "{AUTHSERV}").
  (Staff mails carry our own server's Authentication-Results header with dkim=pass; mailbot acts on
  staff keywords only when that header, from the configured authserv-id, says the mail passed.)""")
        self.app = App(load_config(self.config))
        added, updated = import_catalog(self.app, read_catalog_csv(CATALOG))
        print(f"  Katalog contoh diimpor (example catalog imported): catalog: {added} added, {updated} updated")

    def _values(self, library: Path) -> dict:
        return {
            "office": {"name": "Badan Pusat Statistik Provinsi Sumatera Selatan",
                       "address": "Jl. Kapten P. Tendean No. 1, Palembang", "city": "Palembang",
                       "service_address": SERVICE, "signatory": "Nama Bendahara (contoh)",
                       "nip": "198001012005011001", "phone": "0711-000000 (contoh)",
                       "website": "https://sumsel.bps.go.id"},
            "imap": {**self.imap.settings(), "poll_seconds": 5, "timeout_seconds": 10},
            "smtp": {"host": self.smtp.host, "port": self.smtp.port, "security": "none", "from_name": "BPS Sumsel"},
            "database": {"url": f"sqlite:///{self.dir / 'mailbot.sqlite3'}"},
            "storage": {"dir": str(self.dir / "var"), "library_dir": str(library)},
            "roles": {"petugas": list(PETUGAS), "bendahara": [BENDAHARA], "supervisor": [SUPERVISOR]},
            "security": {"authserv_id": AUTHSERV},
            "payment": {"bank": "Bank Contoh", "account_number": "1234567890",
                        "account_name": "RPL 027 BPS Prov Sumsel (contoh)"},
            "tariffs": {"regulation": "PP 13/2024", "per_page": 1000, "zero_basis": "contoh dasar hukum"},
        }

    def close(self) -> None:
        if self.app is not None:
            self.app.engine.dispose()
        if self.smtp is not None:
            self.smtp.stop()
        if self.imap is not None:
            self.imap.close()
        if not self.kept_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    # --- the story ---------------------------------------------------------------------------
    def play(self) -> None:
        _step(1, "Pelanggan menulis permintaan", "the customer writes a request")
        request = self.customer_mail("Permintaan publikasi", "Selamat pagi,\n\nSaya ingin membeli softcopy Provinsi "
                                     "Sumatera Selatan Dalam Angka 2025.\n\nTerima kasih,\nBudi Santoso")
        sent = self.deliver(request, "new")
        self.ref = self._cases()[0]["ref"]
        ack, note = _last(sent, CUSTOMER, self.ref), _last(sent, PETUGAS[0], self.ref)
        print(f"\n  Kasus {self.ref} dibuka; pelanggan mendapat tanda terima, setiap petugas mendapat notifikasi.\n"
              f"  (Case {self.ref} opened; the customer got an acknowledgement, every petugas a notification.)")

        _step(2, "Pelanggan menjawab SETUJU dan melampirkan foto KTP", "the customer agrees and attaches an ID card")
        self.deliver(self.customer_mail(f"Re: {_subject(ack)}", "SETUJU\n\nBerikut foto KTP saya.", reply_to=ack,
                                        attachments=(("ktp-budi.jpg", sample_jpeg(), "image/jpeg"),)), "new")

        _step(3, "Petugas memeriksa: IDENTITAS OK, ITEM #1, JELAS",
              "the petugas checks the ID, picks guess #1 and declares the request clear; the service clock starts")
        self.deliver(self.staff_mail(PETUGAS[0], note, "IDENTITAS OK\nITEM #1\nJELAS"), "preparing")

        _step(4, "Petugas: SIAP lalu TAGIH", "ready (files taken from the publication library), then invoice")
        sent = self.deliver(self.staff_mail(PETUGAS[0], note, "SIAP\nTAGIH"), "invoiced")
        invoice = _last(sent, CUSTOMER, "Invoice")
        case = self._case_json()
        print(f"\n  Invoice {case['invoice_number']}: Rp{_rupiah(case['total'])}, berlaku sampai "
              f"{case['invoice_expires']} (valid for one calendar month).")

        _step(5, "Pelanggan membayar dan mengirim bukti transfer", "the customer pays and sends the transfer proof")
        today = datetime.now(self.app.tz).strftime("%d/%m/%Y")
        self.deliver(self.customer_mail(
            f"Re: {_subject(invoice)}",
            f"Sudah saya transfer Rp {_rupiah(case['total'])} tanggal {today}, berita: {case['invoice_number']}.",
            reply_to=invoice, attachments=(("bukti-transfer.pdf", proof_pdf(case), "application/pdf"),)),
            "payment_review")
        if self.last_result.get("jobs", {}).get("digest"):
            print("\n  Catatan: jam digest harian (08.00 WIB, hari kerja) sudah lewat dan inilah bukti pertama yang\n"
                  "  menunggu hari ini, jadi penjadwal langsung mengirim digest hari ini. (The daily digest time has\n"
                  "  passed and this is today's first waiting proof, so the scheduler sent today's digest at once.)")

        _step(6, "mailbot digest: ringkasan harian untuk bendahara",
              "the daily digest for the treasurer (normally sent by the scheduler; here: `mailbot digest`)")
        print("\n  $ mailbot --config mailbot.toml digest")
        self.smtp.clear()
        with self.app.unit(utcnow(), scheduled=True) as unit:
            digest_id = send_digest(unit)
        asyncio.run(drain(self.app, utcnow))
        print(f"  digest {digest_id} sent")
        sent = self._show_sent()
        digest = _last(sent, BENDAHARA, "Digest")
        found = re.search(r"SETUJU ([A-Z2-9]{6})", _body(digest))
        if not found:
            raise DemoError(f"no approval token in digest {digest_id}")
        token = found.group(1)

        _step(7, f"Bendahara membalas digest: SETUJU {token}",
              "the treasurer approves with the one-time token printed on the digest line")
        sent = self.deliver(self.staff_mail(BENDAHARA, digest, f"SETUJU {token}"), "delivered")
        delivery = _last(sent, CUSTOMER, "Kuitansi")
        print("\n  Kuitansi diberi nomor dan dikirim bersama softcopy. (Receipt numbered and sent with the softcopy.)")

        _step(8, "Pelanggan: \"halaman 12 kosong\"", "the customer reports a defect; the correction clock starts")
        sent = self.deliver(self.customer_mail(f"Re: {_subject(delivery)}",
                                               "Halaman 12 kosong, mohon diperbaiki.", reply_to=delivery),
                            "correction")
        fix_note = _last(sent, PETUGAS[0], self.ref)

        _step(9, "Petugas: PERBAIKAN dengan file yang sudah diperbaiki",
              "the petugas sends the fixed file, free of charge")
        fixed = sample_pdf(LIBRARY[STORY_FILE] + " (perbaikan)", FIXED_FILE)
        self.deliver(self.staff_mail(PETUGAS[0], fix_note, "PERBAIKAN",
                                     attachments=((FIXED_FILE, fixed, "application/pdf"),)), "delivered")

        _step(10, "Petugas: TUTUP", "close; the customer is asked the satisfaction question (1-4)")
        sent = self.deliver(self.staff_mail(PETUGAS[0], fix_note, "TUTUP selesai"), "closed")
        survey = _last(sent, CUSTOMER, "penilaian")

        _step(11, "Pelanggan menjawab pertanyaan kepuasan: 4", "the customer answers 4 (very satisfied)")
        self.deliver(self.customer_mail(f"Re: {_subject(survey)}", "4\n\nTerima kasih atas layanannya.",
                                        reply_to=survey), "closed")
        rating = self._case_json().get("rating")
        if rating != 4:
            raise DemoError(f"the answer 4 was not recorded (rating={rating!r})")
        print("\n  Nilai kepuasan 4 tercatat. (Rating 4 recorded.)")

    def finish(self, started: float, keep: bool) -> None:
        _title("Dokumen dan rekaman kasus", "documents and the case record")
        for path in self.copy_documents():
            print(f"  {path}")
            for line in _pdf_lines(path)[:6]:
                print(f"      | {line}")
        if not keep:
            print("  (Direktori ini dihapus di akhir demo; `mailbot demo --keep` menyimpannya sampai Ctrl-C.\n"
                  "   This directory is removed at the end; `mailbot demo --keep` keeps it until Ctrl-C.)")
        print(f"\n$ mailbot --config {self.config} case {self.ref}")
        print(case_text(self._case_json()))
        print(f"\nCerita selesai dalam {time.monotonic() - started:.1f} detik. (Story done.)")

    def copy_documents(self) -> list[Path]:
        """Invoice and kuitansi PDFs, copied out of the content-addressed store under readable names."""
        out = []
        with self.app.sessions() as s:
            rows = s.scalars(select(db.DocumentRow).join(db.CaseRow, db.CaseRow.id == db.DocumentRow.case_id)
                             .where(db.CaseRow.ref == self.ref).order_by(db.DocumentRow.id)).all()
            for doc in rows:
                if not doc.file_sha256:
                    continue
                kind = "invoice" if doc.kind == "invoice" else "kuitansi"
                target = self.dir / f"{kind}-{doc.number.replace('/', '-')}.pdf"
                shutil.copyfile(self.app.storage.path(doc.file_sha256), target)
                out.append(target)
        if not any(p.name.startswith("invoice-") for p in out) or not any(p.name.startswith("kuitansi-") for p in out):
            raise DemoError(f"documents missing: {[p.name for p in out]}")
        return out

    def wait(self) -> None:
        """--keep: leave everything up, say how to connect, echo mailbot's outgoing mail, until Ctrl-C."""
        self.kept_dir = True
        s = self.imap.settings()
        _title("Server tetap berjalan (--keep)", "servers left running; press Ctrl-C to stop and clean up")
        print(f"""
  IMAP (kotak surat layanan / the service mailbox)
      host {s['host']}  port {s['port']}  tanpa TLS (plain, no TLS)
      user {s['username']}  password {s['password']}
      folder: INBOX (surat baru), Processed (sudah diproses), Quarantine
  SMTP {self.smtp.host} port {self.smtp.port}, tanpa TLS, tanpa login:
      hanya MEREKAM surat keluar mailbot; tidak ada yang dikirim ke mana pun, dan surat yang
      dikirim ke sini tidak masuk ke INBOX. (The SMTP capture server only records; nothing is
      delivered anywhere. To send mailbot a mail, put it into the IMAP INBOX, e.g. copy a
      message there with your mail client.) Surat yang direkam dicetak di bawah ini.
  Konfigurasi (config): {self.config}
  Daemon (di terminal lain / in another terminal):
      mailbot --config {self.config} run
      mailbot --config {self.config} run --once     (sekali jalan / one pass)
      mailbot --config {self.config} cases
  Dokumen / documents: {self.dir}
  Tekan Ctrl-C untuk berhenti (press Ctrl-C to stop); semuanya lalu dihapus.""", flush=True)
        self.kept_dir = False
        self.waiting = True
        self._seen = len(self.smtp.messages)
        while True:
            time.sleep(0.5)
            new = self.smtp.messages[self._seen:]
            self._seen += len(new)
            for m in new:
                print(f"  [SMTP] → {', '.join(m.rcpt_tos)}: {_subject(m.message)}", flush=True)

    # --- mails -------------------------------------------------------------------------------
    def customer_mail(self, subject: str, body: str, reply_to: EmailMessage | None = None,
                      attachments=()) -> EmailMessage:
        return _mail(CUSTOMER, subject, body, name=CUSTOMER_NAME, reply_to=reply_to, attachments=attachments)

    def staff_mail(self, frm: str, reply_to: EmailMessage, body: str, attachments=()) -> EmailMessage:
        return _mail(frm, f"Re: {_subject(reply_to)}", body, reply_to=reply_to, attachments=attachments, auth=True)

    def deliver(self, msg: EmailMessage, expect_state: str) -> list[EmailMessage]:
        """APPEND the mail to the service INBOX, run one pass of the daemon, show what it sent."""
        _show_inbound(msg)
        self.imap.append(msg.as_bytes())
        self.smtp.clear()
        result = self.last_result = asyncio.run(run_once(self.app, utcnow))
        print(f"\n  $ mailbot run --once  →  {json.dumps(result)}")
        if result.get("imap_error") or (result.get("mail") or {}).get("quarantined"):
            raise DemoError(f"mailbot run --once: {result}")
        sent = self._show_sent()
        if self.ref:
            state = self._case_json()["state"]
            if state != expect_state:
                raise DemoError(f"case {self.ref} is {state!r}, expected {expect_state!r}")
            print(f"\n  Status kasus (case state): {state}")
        return sent

    def _show_sent(self) -> list[EmailMessage]:
        sent = [message_from_bytes(m.raw, policy=policy.default) for m in self.smtp.messages]
        groups: dict[tuple[str, str], list[str]] = {}
        msgs: dict[tuple[str, str], EmailMessage] = {}
        for m in sent:
            key = (_subject(m), _body(m))
            groups.setdefault(key, []).append(str(m["To"]))
            msgs.setdefault(key, m)
        print(f"\n  Surat keluar dari mailbot (mail mailbot sent): {len(sent)}")
        for key, tos in groups.items():
            m = msgs[key]
            print(f"  ← kepada (to) {', '.join(tos)}\n      Subjek: {key[0]}")
            for line in [ln for ln in key[1].splitlines() if ln.strip()][:BODY_LINES]:
                print(f"      | {line[:100]}")
            names = [a.get_filename() for a in m.iter_attachments()]
            if names:
                print(f"      Lampiran (attachments): {', '.join(n or '?' for n in names)}")
        return sent

    # --- the CLI -------------------------------------------------------------------------------
    def _cases(self) -> list[dict]:
        with self.app.sessions() as s:
            return [case_json(s, row) for row in s.scalars(select(db.CaseRow).order_by(db.CaseRow.id))]

    def _case_json(self) -> dict:
        with self.app.sessions() as s:
            return case_json(s, s.scalar(select(db.CaseRow).where(db.CaseRow.ref == self.ref)))


# --- printing ---------------------------------------------------------------------------------
def _title(text: str, gloss: str) -> None:
    print(f"\n{RULE}\n{text}\n({gloss})\n{RULE}", flush=True)


def _step(n: int, text: str, gloss: str) -> None:
    print(f"\n{'-' * 78}\nLangkah {n}: {text}\n  (Step {n}: {gloss})\n{'-' * 78}", flush=True)


def _show_inbound(msg: EmailMessage) -> None:
    print(f"\n  → masuk ke INBOX (APPEND), dari (from) {msg['From']}\n      Subjek: {msg['Subject']}")
    if msg["In-Reply-To"]:
        print(f"      In-Reply-To: {msg['In-Reply-To']}")
    if msg["Authentication-Results"]:
        print(f"      Authentication-Results: {msg['Authentication-Results']}")
    for line in [ln for ln in _body(msg).splitlines() if ln.strip()][:BODY_LINES]:
        print(f"      | {line}")
    names = [a.get_filename() for a in msg.iter_attachments()]
    if names:
        print(f"      Lampiran (attachments): {', '.join(names)}")


def _last(sent: list[EmailMessage], to: str, subject_part: str) -> EmailMessage:
    found = [m for m in sent if to in str(m["To"]) and subject_part in str(m["Subject"])]
    if not found:
        raise DemoError(f"no mail to {to} with {subject_part!r} among {[str(m['Subject']) for m in sent]}")
    return found[-1]


def _subject(msg: EmailMessage) -> str:
    """The subject as a mail client shows it (Python's folding can leave a leading space)."""
    return " ".join(str(msg["Subject"] or "").split())


def _body(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    return part.get_content() if part is not None else ""


def _rupiah(amount: int) -> str:
    return f"{amount:,}".replace(",", ".")


def _pdf_lines(path: Path) -> list[str]:
    try:
        from pypdf import PdfReader
        text = PdfReader(str(path)).pages[0].extract_text() or ""
    except Exception:  # noqa: BLE001 - a preview only
        return []
    return [ln.strip() for ln in text.splitlines() if ln.strip()]


# --- mails and files ----------------------------------------------------------------------------
def _mail(frm: str, subject: str, body: str, *, name: str = "", reply_to: EmailMessage | None = None,
          attachments=(), auth: bool = False) -> EmailMessage:
    """A mail as the office's server would deliver it into the service mailbox."""
    domain = frm.rsplit("@", 1)[1]
    msg = EmailMessage()
    msg["Return-Path"] = f"<{frm}>"
    msg["Received"] = (f"from mail.{domain} by {AUTHSERV} with ESMTPS; "
                       f"{format_datetime(datetime.now(timezone.utc))}")
    if auth:
        msg["Authentication-Results"] = f"{AUTHSERV}; dkim=pass header.d={domain}; spf=pass smtp.mailfrom={frm}"
    msg["From"] = f"{name} <{frm}>" if name else frm
    msg["To"] = SERVICE
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.now(timezone.utc))
    msg["Message-ID"] = make_msgid(domain=domain)
    if reply_to is not None:
        msg["In-Reply-To"] = reply_to["Message-ID"]
        msg["References"] = " ".join(filter(None, [str(reply_to["References"] or ""), reply_to["Message-ID"]]))
    msg.set_content(body)
    for filename, data, ctype in attachments:
        main_type, sub = ctype.split("/")
        msg.add_attachment(data, maintype=main_type, subtype=sub, filename=filename)
    return msg


def sample_pdf(title: str, filename: str) -> bytes:
    """A two-page sample publication (clearly marked as an example)."""
    from fpdf import FPDF
    pdf = FPDF()
    pdf.set_title(title)
    for page in (1, 2):
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 18)
        pdf.multi_cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 11)
        pdf.ln(6)
        pdf.multi_cell(0, 6, f"Badan Pusat Statistik Provinsi Sumatera Selatan\nFile {filename}, halaman {page}.\n\n"
                       "CONTOH untuk `mailbot demo` - bukan publikasi resmi BPS.\n"
                       "(A sample for the mailbot demo, not an official BPS publication.)",
                       new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def proof_pdf(case: dict) -> bytes:
    """A bank transfer slip as a customer's banking app would export it."""
    from fpdf import FPDF
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 10, "Bukti Transfer (contoh)", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    now = datetime.now(timezone.utc)
    pdf.multi_cell(0, 7, f"Tanggal: {now:%d/%m/%Y}\nNominal: Rp {_rupiah(case['total'])}\n"
                   f"Ke: 1234567890 RPL 027 BPS Prov Sumsel\nBerita: {case['invoice_number']}\n"
                   f"No. Ref: {now:%Y%m%d%H%M%S}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def sample_jpeg() -> bytes:
    """A made-up identity card photo (JPEG)."""
    from PIL import Image, ImageDraw
    img = Image.new("RGB", (640, 400), (120, 170, 220))
    draw = ImageDraw.Draw(img)
    draw.rectangle((20, 20, 620, 380), outline=(255, 255, 255), width=4)
    for i, line in enumerate(("KARTU TANDA PENDUDUK - CONTOH", "Nama: BUDI SANTOSO", "NIK: 0000000000000000",
                              "Bukan dokumen asli (not a real ID card)")):
        draw.text((50, 60 + i * 60), line, fill=(0, 0, 0))
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=80)
    return out.getvalue()


def _toml(values: dict) -> str:
    lines = []
    for section, keys in values.items():
        lines.append(f"[{section}]")
        lines += [f"{k} = {json.dumps(v) if not isinstance(v, bool) else str(v).lower()}" for k, v in keys.items()]
        lines.append("")
    return "\n".join(lines)


# --- process hygiene ------------------------------------------------------------------------------
def _quiet_logs():
    """The story is the output: keep INFO logs (ours, aiosmtpd's, alembic's) off the terminal unless -v."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                            format="%(asctime)s %(levelname)s %(name)s %(message)s")
    ours = logging.getLogger("mailbot")
    levels = root.level, ours.level
    if ours.getEffectiveLevel() > logging.DEBUG:     # -v shows everything
        root.setLevel(logging.WARNING)
        ours.setLevel(logging.WARNING)
    return lambda: (root.setLevel(levels[0]), ours.setLevel(levels[1]))


def _sigterm_as_interrupt():
    """SIGTERM ends the demo like Ctrl-C does, so the finally block stops the servers."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(signum, frame):
        raise _Terminated

    previous = signal.signal(signal.SIGTERM, handler)
    return lambda: signal.signal(signal.SIGTERM, previous)
