"""The bendahara's keywords, answering a digest: SETUJU and TOLAK with the line's single-use reference."""
from __future__ import annotations

from sqlalchemy import select

from ...adapters import db
from ...domain import commands as c
from ...domain.case import Refused
from ...inbound import keywords as kw
from . import Keyword, StaffMail


def _check_token(sm: StaffMail, token: str) -> tuple[db.DigestTokenRow | None, str]:
    t = sm.unit.session.scalar(select(db.DigestTokenRow).where(db.DigestTokenRow.token == token))
    if t is None:
        return None, f"ref {token} tidak dikenal"
    if sm.digest_id is None or t.digest_id != sm.digest_id:
        return None, f"ref {token} bukan milik digest yang dibalas"
    if t.used_at is not None:
        return None, f"ref {token} sudah dipakai (pembayaran kasus ini sudah diputuskan)"
    if db.utc(t.expires_at) <= sm.unit.now:
        return None, f"ref {token} sudah kedaluwarsa; tunggu digest berikutnya"
    doc = sm.unit.session.get(db.DocumentRow, t.document_id)
    row = sm.unit.session.get(db.CaseRow, t.case_id)
    current = sm.unit.current_document(row, "invoice")
    if doc is None or doc.void or current is None or current.id != doc.id:
        return None, f"ref {token}: invoice sudah tidak berlaku"
    return t, ""


class _PaymentDecision(Keyword):
    role = "bendahara"
    needs_case = False          # the reference names the case, not the thread
    approve: bool

    def process(self, sm: StaffMail, line: kw.Line):
        token, reason = kw.parse_ref(line.args, needs_reason=not self.approve)
        t, why = _check_token(sm, token)
        if t is None:   # a refused money command is audited, on its case when the token names one
            known = sm.unit.session.scalar(select(db.DigestTokenRow).where(db.DigestTokenRow.token == token))
            sm.unit.event(sm.unit.session.get(db.CaseRow, known.case_id) if known else None, "refused",
                          sm.actor, f"{line.raw}: {why}")
            return False, why
        row = sm.unit.session.get(db.CaseRow, t.case_id)
        cmd = c.ApprovePayment(sm.actor) if self.approve else c.RejectPayment(sm.actor, reason)
        decision = sm.unit.apply(row, cmd)
        if isinstance(decision, Refused):
            return False, f"{row.ref}: {decision.reason}"
        # Every reference printed for this case (in this or an older digest) dies with the decision:
        # a later proof gets a fresh line in a fresh digest.
        for sibling in sm.unit.session.scalars(select(db.DigestTokenRow).where(
                db.DigestTokenRow.case_id == t.case_id, db.DigestTokenRow.used_at.is_(None))):
            sibling.used_at = sm.unit.now
        if self.approve:
            receipt = sm.unit.current_document(row, "receipt")
            return True, (f"{row.ref}: pembayaran disetujui, kuitansi {receipt.number if receipt else '-'} "
                          f"dan softcopy dikirim")
        return True, f"{row.ref}: bukti bayar ditolak, pelanggan diberi tahu"


class Setuju(_PaymentDecision):
    name, alias, syntax = "SETUJU", "APPROVE", "SETUJU <ref>"
    help = "pembayaran diterima: kuitansi dibuat dan softcopy dikirim"
    command = c.ApprovePayment
    approve = True


class Tolak(_PaymentDecision):
    name, alias, syntax = "TOLAK", "REJECT", "TOLAK <ref> <alasan>"
    help = "bukti bayar ditolak: pelanggan diberi tahu alasannya"
    command = c.RejectPayment
    approve = False


BENDAHARA = (Setuju(), Tolak())
