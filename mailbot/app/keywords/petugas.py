"""The petugas' keywords, one class each (DESIGN §4)."""
from __future__ import annotations

import json

from ...adapters import db
from ...domain import commands as c
from ...inbound import keywords as kw
from ...outbound.formatting import tanggal
from ..files import deliverable_files
from . import Keyword, StaffMail, apply


class Jelas(Keyword):
    name, alias, syntax = "JELAS", "CLEAR", "JELAS"
    stage = 30
    help = "permintaan sudah jelas: status new → preparing, jam layanan 10 hari kerja mulai"
    command = c.MarkClear

    def process(self, sm: StaffMail, line: kw.Line):
        ok, msg = apply(sm, c.MarkClear(sm.actor), "permintaan JELAS")
        return ok, msg + (f"; tenggat layanan {tanggal(sm.row.service_due)}" if ok else "")


class Item(Keyword):
    name, alias, syntax = "ITEM", "ITEM", "ITEM <katalog atau #n> [x JUMLAH]"
    stage = 20
    help = "tambah publikasi dari katalog (atau tebakan nomor n)"
    command = c.AddItem

    def process(self, sm: StaffMail, line: kw.Line):
        ref, qty = kw.parse_item(line.args)
        if ref.startswith("#"):
            guesses = json.loads(sm.row.guesses or "[]")
            n = int(ref[1:])
            if not 1 <= n <= len(guesses):
                return False, f"tebakan #{n} tidak ada (ada {len(guesses)} tebakan)"
            entry = db.catalog_entry(sm.unit.session, guesses[n - 1]["katalog"], guesses[n - 1]["tahun"])
        else:
            entry = db.catalog_entry(sm.unit.session, ref)
        if entry is None:
            return False, f"nomor katalog {ref} tidak ada di katalog"
        return apply(sm, c.AddItem(sm.actor, entry.katalog, entry.judul, entry.halaman, qty),
                     f"ditambahkan: {entry.katalog} {entry.judul} ({entry.halaman} hlm) x{qty}")


class Hapus(Keyword):
    name, alias, syntax = "HAPUS", "REMOVE", "HAPUS <baris>"
    stage = 20
    help = "hapus baris item"
    command = c.RemoveItem

    def process(self, sm: StaffMail, line: kw.Line):
        return apply(sm, c.RemoveItem(sm.actor, kw.parse_line_number(line.args)), "baris dihapus")


class IdentitasOk(Keyword):
    name, alias, syntax = "IDENTITAS OK", "IDENTITY OK", "IDENTITAS OK"
    stage = 10
    help = "kartu identitas sudah diperiksa dan berlaku"
    command = c.ConfirmIdentity

    def process(self, sm: StaffMail, line: kw.Line):
        return apply(sm, c.ConfirmIdentity(sm.actor), "identitas dinyatakan valid")


class Persetujuan(Keyword):
    name, alias, syntax = "PERSETUJUAN", "AGREED", "PERSETUJUAN <melalui apa>"
    stage = 15
    help = "catat persetujuan syarat yang pelanggan berikan lewat telepon, live chat, dll."
    command = c.Agree

    def process(self, sm: StaffMail, line: kw.Line):
        via = line.args.strip()
        if not via:
            raise kw.ArgumentError("tulis melalui apa pelanggan setuju, mis. PERSETUJUAN telepon 3 Desember")
        # The petugas is the actor in the audit trail: the customer's words are not in the mailbox.
        return apply(sm, c.Agree(sm.actor, via=via), f"persetujuan pelanggan dicatat (melalui {via})")


class Siap(Keyword):
    name, alias, syntax = "SIAP", "READY", "SIAP"
    stage = 40
    help = "file terlampir menjadi softcopy yang akan dikirim"
    command = c.SetDeliverables

    def process(self, sm: StaffMail, line: kw.Line):
        files = sm.file_ids
        source = "lampiran"
        if not files:
            found, missing = deliverable_files(sm.unit, sm.row)
            if missing or not found:
                return False, ("tidak ada lampiran, dan file pustaka tidak lengkap: " + ", ".join(missing or ["-"]))
            files = tuple(sm.unit.app.storage.put(f.data) for f in found)
            for f, sha in zip(found, files):
                sm.unit.session.add(db.FileRow(case_id=sm.row.id, sha256=sha, filename=f.filename,
                                               content_type=f.content_type or "application/pdf", size=len(f.data),
                                               role="deliverable", created_at=sm.unit.now))
            source = "pustaka"
        return apply(sm, c.SetDeliverables(sm.actor, files), f"{len(files)} file softcopy siap ({source})")


class Tagih(Keyword):
    name, alias, syntax = "TAGIH", "INVOICE", "TAGIH [BILLING <15 digit> <YYYY-MM-DD>]"
    stage = 60
    help = "buat dan kirim invoice (opsional kode billing SIMPONI dengan tanggal kedaluwarsanya)"
    command = c.IssueInvoice

    def process(self, sm: StaffMail, line: kw.Line):
        code, expires = kw.parse_billing(line.args, sm.unit.today)
        ok, msg = apply(sm, c.IssueInvoice(sm.actor, code, expires), "invoice dibuat dan dikirim")
        doc = sm.unit.current_document(sm.row, "invoice") if ok else None
        return ok, msg + (f": {doc.number}" if doc else "")


class Nol(Keyword):
    name, alias, syntax = "NOL", "ZERO", "NOL <alasan>"
    stage = 50
    help = "layanan Rp0 (instansi pemerintah, pendidikan, …)"
    command = c.ZeroRate

    def process(self, sm: StaffMail, line: kw.Line):
        return apply(sm, c.ZeroRate(sm.actor, kw.parse_reason(line.args, "NOL")),
                     "layanan Rp0; kuitansi nol rupiah dan softcopy dikirim")


def _text(line: kw.Line) -> str:
    """What a keyword that takes the rest of the mail carries: its own line's words and everything below."""
    return (line.args + "\n" + line.rest).strip()


class Balas(Keyword):
    name, alias, syntax = "BALAS", "REPLY", "BALAS"
    stage = 95
    help = "sisa email ini dikirim ke pelanggan"
    takes_rest = always = True

    def process(self, sm: StaffMail, line: kw.Line):
        text = _text(line)
        if not text:
            return False, "BALAS tanpa isi: tulis pesan untuk pelanggan di bawah baris BALAS"
        sm.unit.notify(sm.row, "customer", "reply", message=text)
        sm.unit.event(sm.row, "reply", sm.actor, text[:500])
        return True, "pesan dikirim ke pelanggan"


class Catatan(Keyword):
    name, alias, syntax = "CATATAN", "NOTE", "CATATAN <teks>"
    stage = 95
    help = "catatan internal, tidak dikirim ke pelanggan"
    takes_rest = always = True

    def process(self, sm: StaffMail, line: kw.Line):
        text = _text(line)
        if not text:
            return False, "CATATAN tanpa isi"
        sm.unit.event(sm.row, "note", sm.actor, text)
        return True, "catatan disimpan (tidak dikirim ke pelanggan)"


class Perbaikan(Keyword):
    name, alias, syntax = "PERBAIKAN", "FIX", "PERBAIKAN"
    stage = 70
    help = "file terlampir adalah perbaikan, dikirim tanpa biaya"
    command = c.SendCorrection

    def process(self, sm: StaffMail, line: kw.Line):
        return apply(sm, c.SendCorrection(sm.actor, sm.file_ids), "perbaikan dikirim ke pelanggan tanpa biaya")


class Tutup(Keyword):
    name, alias, syntax = "TUTUP", "CLOSE", "TUTUP [alasan]"
    stage = 80
    help = "tutup kasus"
    command = c.Close

    def process(self, sm: StaffMail, line: kw.Line):
        return apply(sm, c.Close(sm.actor, kw.parse_reason(line.args, "TUTUP", required=False)), "kasus ditutup")


class Batal(Keyword):
    name, alias, syntax = "BATAL", "CANCEL", "BATAL <alasan>"
    stage = 80
    help = "batalkan kasus"
    command = c.Cancel

    def process(self, sm: StaffMail, line: kw.Line):
        return apply(sm, c.Cancel(sm.actor, kw.parse_reason(line.args, "BATAL")), "kasus dibatalkan")


class Status(Keyword):
    name, alias, syntax = "STATUS", "STATUS", "STATUS"
    stage = 90
    help = "balas dengan ringkasan kasus"
    always = True

    def process(self, sm: StaffMail, line: kw.Line):
        sm.unit.notify(sm.row, "petugas", "status", to=[sm.actor])
        return True, "ringkasan kasus dikirim"


class Bantuan(Keyword):
    name, alias, syntax = "BANTUAN", "HELP", "BANTUAN"
    stage = 90
    help = "balas dengan daftar kata kunci ini"
    always = True
    needs_case = False

    def process(self, sm: StaffMail, line: kw.Line):
        registry = sm.unit.app.keywords
        sm.unit.notify(sm.row, "petugas", "help", to=[sm.actor], table=registry.help_table("petugas"),
                       table_bendahara=registry.help_table("bendahara"))
        return True, "daftar kata kunci dikirim"


class Buka(Keyword):
    name, alias, syntax = "BUKA", "OPEN", "BUKA <alamat email pelanggan>"
    stage = 0
    help = "buka kasus untuk pelanggan dari live chat"
    needs_case = False

    def process(self, sm: StaffMail, line: kw.Line):
        address = kw.parse_address(line.args)
        row = sm.unit.open_request(address, "", f"(dibuka oleh {sm.actor} dari live chat)", "id")
        sm.unit.event(row, "opened_by_staff", sm.actor, "live chat")
        return True, f"kasus {row.ref} dibuka untuk {address}"


# In the order of DESIGN §4: BANTUAN and the README list them so (`stage` orders them in a mail).
PETUGAS = (Jelas(), Item(), Hapus(), IdentitasOk(), Siap(), Tagih(), Nol(), Balas(), Catatan(), Perbaikan(),
           Tutup(), Batal(), Status(), Bantuan(), Buka(), Persetujuan())
