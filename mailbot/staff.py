"""Staff mail: read the keywords, act on them one by one, answer with a transcript."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Callable


from .adapters import db
from .domain import commands as c
from .domain.case import Refused
from .domain.states import State
from .domain.transitions import legal_commands
from .inbound import keywords as kw
from .inbound.model import ParsedMail
from .unit import Unit

# Which domain command each state-changing keyword issues (the rest act outside the table).
KEYWORD_COMMAND: dict[str, type[c.Command]] = {
    "JELAS": c.MarkClear, "ITEM": c.AddItem, "HAPUS": c.RemoveItem, "IDENTITAS OK": c.ConfirmIdentity,
    "SIAP": c.SetDeliverables, "TAGIH": c.IssueInvoice, "NOL": c.ZeroRate, "PERBAIKAN": c.SendCorrection,
    "TUTUP": c.Close, "BATAL": c.Cancel,
}
_ALWAYS = ("BALAS", "CATATAN", "STATUS", "BANTUAN")
_TOKEN = re.compile(r"\(kode ([0-9A-F]{10})\)")


def applicable_keywords(state: State) -> list[kw.Keyword]:
    """The petugas keywords that can act in `state`: the notification lists exactly these."""
    legal = set(legal_commands(state))
    return [k for k in kw.keywords_for("petugas")
            if k.name in _ALWAYS or KEYWORD_COMMAND.get(k.name) in legal]


def thread_token(mail: ParsedMail) -> str | None:
    """The per-case token mailbot put in the subject of the notification being answered."""
    m = _TOKEN.search(mail.subject)
    return m.group(1) if m else None


@dataclass
class Transcript:
    """Mailman/debbugs style: results, not understood, ignored."""

    results: list[tuple[str, bool, str]] = field(default_factory=list)   # (line, ok, message)
    not_understood: list[tuple[str, str | None]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return any(ok for _, ok, _ in self.results)

    def add(self, line: str, ok: bool, message: str) -> None:
        self.results.append((line, ok, message))


@dataclass
class StaffMail:
    unit: Unit
    mail: ParsedMail
    row: db.CaseRow | None
    file_ids: tuple[str, ...]              # stored allowed attachments of this mail
    digest_id: str | None = None           # the digest a bendahara reply answers
    transcript: Transcript = field(default_factory=Transcript)

    @property
    def actor(self) -> str:
        return self.mail.from_addr


Action = Callable[[StaffMail, kw.Line], tuple[bool, str]]


def _needs_case(fn: Action) -> Action:
    def wrapper(sm: StaffMail, line: kw.Line) -> tuple[bool, str]:
        if sm.row is None:
            return False, "kasus tidak ditemukan: balas email notifikasi kasus atau cantumkan [PUB-YYYY-NNNN] di subjek"
        return fn(sm, line)
    return wrapper


def _apply(sm: StaffMail, cmd: c.Command, done: str) -> tuple[bool, str]:
    decision = sm.unit.apply(sm.row, cmd)
    if isinstance(decision, Refused):
        return False, decision.reason
    return True, done


@_needs_case
def _jelas(sm, line):
    ok, msg = _apply(sm, c.MarkClear(sm.actor), "permintaan JELAS")
    if ok:
        msg += f"; tenggat layanan {sm.unit.app.templates.env.filters['tanggal'](sm.row.service_due)}"
    return ok, msg


@_needs_case
def _item(sm, line):
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
    return _apply(sm, c.AddItem(sm.actor, entry.katalog, entry.judul, entry.halaman, qty),
                  f"ditambahkan: {entry.katalog} {entry.judul} ({entry.halaman} hlm) x{qty}")


@_needs_case
def _hapus(sm, line):
    return _apply(sm, c.RemoveItem(sm.actor, kw.parse_line_number(line.args)), "baris dihapus")


@_needs_case
def _identitas(sm, line):
    return _apply(sm, c.ConfirmIdentity(sm.actor), "identitas dinyatakan valid")


@_needs_case
def _siap(sm, line):
    files = sm.file_ids
    source = "lampiran"
    if not files:
        from .documents import deliverable_files
        found, missing = deliverable_files(sm.unit, sm.row)
        if missing or not found:
            return False, ("tidak ada lampiran, dan file pustaka tidak lengkap: " + ", ".join(missing or ["-"]))
        files = tuple(sm.unit.app.storage.put(f.data) for f in found)
        for f, sha in zip(found, files):
            sm.unit.session.add(db.FileRow(case_id=sm.row.id, sha256=sha, filename=f.filename,
                                           content_type=f.content_type or "application/pdf", size=len(f.data),
                                           role="deliverable", created_at=sm.unit.now))
        source = "pustaka"
    return _apply(sm, c.SetDeliverables(sm.actor, files), f"{len(files)} file softcopy siap ({source})")


@_needs_case
def _tagih(sm, line):
    code, expires = kw.parse_billing(line.args)
    ok, msg = _apply(sm, c.IssueInvoice(sm.actor, code, expires), "invoice dibuat dan dikirim")
    doc = sm.unit.current_document(sm.row, "invoice") if ok else None
    return ok, msg + (f": {doc.number}" if doc else "")


@_needs_case
def _nol(sm, line):
    reason = kw.parse_reason(line.args, "NOL")
    return _apply(sm, c.ZeroRate(sm.actor, reason), "layanan Rp0; kuitansi nol rupiah dan softcopy dikirim")


@_needs_case
def _balas(sm, line):
    text = (line.args + "\n" + line.rest).strip()
    if not text:
        return False, "BALAS tanpa isi: tulis pesan untuk pelanggan di bawah baris BALAS"
    sm.unit.notify(sm.row, "customer", "reply", message=text)
    sm.unit.event(sm.row, "reply", sm.actor, text[:500])
    return True, "pesan dikirim ke pelanggan"


@_needs_case
def _catatan(sm, line):
    text = (line.args + "\n" + line.rest).strip()
    if not text:
        return False, "CATATAN tanpa isi"
    sm.unit.event(sm.row, "note", sm.actor, text)
    return True, "catatan disimpan (tidak dikirim ke pelanggan)"


@_needs_case
def _perbaikan(sm, line):
    return _apply(sm, c.SendCorrection(sm.actor, sm.file_ids), "perbaikan dikirim ke pelanggan tanpa biaya")


@_needs_case
def _tutup(sm, line):
    return _apply(sm, c.Close(sm.actor, kw.parse_reason(line.args, "TUTUP", required=False)), "kasus ditutup")


@_needs_case
def _batal(sm, line):
    return _apply(sm, c.Cancel(sm.actor, kw.parse_reason(line.args, "BATAL")), "kasus dibatalkan")


@_needs_case
def _status(sm, line):
    sm.unit.notify(sm.row, "petugas", "status", to=[sm.actor])
    return True, "ringkasan kasus dikirim"


def _bantuan(sm, line):
    sm.unit.notify(sm.row, "petugas", "help", to=[sm.actor], table=kw.help_table("petugas"),
                   table_bendahara=kw.help_table("bendahara"))
    return True, "daftar kata kunci dikirim"


def _buka(sm, line):
    from .customer import open_request
    address = kw.parse_address(line.args)
    row = open_request(sm.unit, address, "", f"(dibuka oleh {sm.actor} dari live chat)", "id")
    sm.unit.event(row, "opened_by_staff", sm.actor, "live chat")
    return True, f"kasus {row.ref} dibuka untuk {address}"


PETUGAS_ACTIONS: dict[str, Action] = {
    "JELAS": _jelas, "ITEM": _item, "HAPUS": _hapus, "IDENTITAS OK": _identitas, "SIAP": _siap,
    "TAGIH": _tagih, "NOL": _nol, "BALAS": _balas, "CATATAN": _catatan, "PERBAIKAN": _perbaikan,
    "TUTUP": _tutup, "BATAL": _batal, "STATUS": _status, "BANTUAN": _bantuan, "BUKA": _buka,
}


def run_keywords(sm: StaffMail, role: str, actions: dict[str, Action]) -> Transcript:
    """Act on each keyword line in order; one failing line does not stop the others."""
    reading = kw.read_keywords(sm.mail.top_text, role)
    t = sm.transcript
    for line in reading.lines:
        try:
            ok, message = actions[line.keyword.name](sm, line)
        except kw.ArgumentError as exc:
            ok, message = False, str(exc)
        t.add(line.raw, ok, message)
    t.not_understood.extend(reading.not_understood)
    t.ignored.extend(reading.ignored)
    if not reading.lines and not reading.not_understood:
        t.not_understood.append(("(tidak ada kata kunci di baris teratas)", None))
    return t


def send_transcript(sm: StaffMail, role: str) -> None:
    """The sender always gets the transcript; accepted petugas commands go to every petugas."""
    t = sm.transcript
    everyone = list(getattr(sm.unit.cfg.roles, role))
    to = everyone if t.accepted else [sm.actor]
    if sm.actor not in to:
        to.append(sm.actor)
    sm.unit.notify(sm.row, role, "transcript", to=to, transcript=t, sender=sm.actor, role=role)


def refuse(unit: Unit, mail: ParsedMail, row: db.CaseRow | None, role: str, why: str) -> None:
    """An unauthorised command: nothing is done; the role's list (never the claimed sender) is told."""
    unit.event(row, "refused_sender", mail.from_addr, f"{role}: {why}; subject={mail.subject[:200]!r}")
    unit.notify(row, role, "refused", to=list(getattr(unit.cfg.roles, role)), why=why, sender=mail.from_addr,
                subject=mail.subject, top_text=mail.top_text[:2000])
