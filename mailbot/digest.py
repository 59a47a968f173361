"""The bendahara digest, its single-use reference tokens, and the bendahara's replies to it."""
from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select

from .adapters import db
from .domain import commands as c
from .domain.case import Refused
from .domain.states import State
from .inbound import keywords as kw
from .outbound.mail import FilePart
from .staff import StaffMail, Transcript, run_keywords
from .unit import Unit

# No 0/O or 1/I: the bendahara copies these by hand.
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _token() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(6))


def waiting_cases(unit: Unit) -> list[db.CaseRow]:
    return list(unit.session.scalars(select(db.CaseRow).where(db.CaseRow.state == State.PAYMENT_REVIEW.value)
                                     .order_by(db.CaseRow.id)))


def send_digest(unit: Unit) -> str | None:
    """List every case waiting on the bendahara, with fresh tokens; None when nothing waits."""
    rows = waiting_cases(unit)
    if not rows:
        return None
    digest_id = secrets.token_hex(5).upper()
    expires = unit.now + timedelta(days=unit.cfg.security.digest_token_days)
    lines, attachments = [], []
    for row in rows:
        invoice = unit.current_document(row, "invoice")
        if invoice is None:
            continue
        token = _token()
        while unit.session.scalar(select(db.DigestTokenRow.id).where(db.DigestTokenRow.token == token)):
            token = _token()
        unit.session.add(db.DigestTokenRow(token=token, digest_id=digest_id, case_id=row.id, document_id=invoice.id,
                                           created_at=unit.now, expires_at=expires))
        proofs = list(unit.session.scalars(select(db.FileRow).where(
            db.FileRow.case_id == row.id, db.FileRow.role == "proof").order_by(db.FileRow.id)))
        for p in proofs:
            if unit.app.storage.exists(p.sha256):
                attachments.append(FilePart(f"{row.ref}-{p.filename}", unit.app.storage.get(p.sha256),
                                            p.content_type))
        lines.append({"case": unit.case_view(row), "invoice": invoice, "token": token,
                      "proofs": [p.filename for p in proofs],
                      "proof_at": proofs[-1].created_at if proofs else None,
                      "hints": _proof_hints(unit, row)})
    if not lines:
        return None
    # one mail to the whole list, like every staff notice: either bendahara may answer it
    unit.notify(None, "bendahara", "digest", attachments=tuple(attachments), lines=lines,
                digest_id=digest_id, expires=expires.astimezone(unit.app.tz).date())
    unit.event(None, "digest", "system", f"digest {digest_id}: {len(lines)} case(s)")
    return digest_id


def _proof_hints(unit: Unit, row: db.CaseRow) -> list[str]:
    """What the customer's proof mails said (amount, date, NTPN), as a hint, never as payment."""
    from .inbound.proof import read_hints
    texts = [e.detail for e in unit.session.scalars(select(db.EventRow).where(
        db.EventRow.case_id == row.id, db.EventRow.kind == "proof_text"))]
    return read_hints("\n".join(texts))


def _check_token(sm: StaffMail, token: str, digest_id: str | None) -> tuple[db.DigestTokenRow | None, str]:
    t = sm.unit.session.scalar(select(db.DigestTokenRow).where(db.DigestTokenRow.token == token))
    if t is None:
        return None, f"ref {token} tidak dikenal"
    if digest_id is None or t.digest_id != digest_id:
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


def _decide_payment(sm: StaffMail, line: kw.Line, approve: bool) -> tuple[bool, str]:
    token, reason = kw.parse_ref(line.args, needs_reason=not approve)
    t, why = _check_token(sm, token, sm.digest_id)
    if t is None:   # a refused money command is audited, on its case when the token names one
        known = sm.unit.session.scalar(select(db.DigestTokenRow).where(db.DigestTokenRow.token == token))
        sm.unit.event(sm.unit.session.get(db.CaseRow, known.case_id) if known else None, "refused",
                      sm.actor, f"{line.raw}: {why}")
        return False, why
    row = sm.unit.session.get(db.CaseRow, t.case_id)
    cmd = c.ApprovePayment(sm.actor) if approve else c.RejectPayment(sm.actor, reason)
    decision = sm.unit.apply(row, cmd)
    if isinstance(decision, Refused):
        return False, f"{row.ref}: {decision.reason}"
    # Every reference printed for this case (in this or an older digest) dies with the decision:
    # a later proof gets a fresh line in a fresh digest.
    for sibling in sm.unit.session.scalars(select(db.DigestTokenRow).where(
            db.DigestTokenRow.case_id == t.case_id, db.DigestTokenRow.used_at.is_(None))):
        sibling.used_at = sm.unit.now
    if approve:
        receipt = sm.unit.current_document(row, "receipt")
        return True, f"{row.ref}: pembayaran disetujui, kuitansi {receipt.number if receipt else '-'} dan softcopy dikirim"
    return True, f"{row.ref}: bukti bayar ditolak, pelanggan diberi tahu"


BENDAHARA_ACTIONS = {
    "SETUJU": lambda sm, line: _decide_payment(sm, line, True),
    "TOLAK": lambda sm, line: _decide_payment(sm, line, False),
}


def handle_bendahara(sm: StaffMail) -> Transcript:
    return run_keywords(sm, "bendahara", BENDAHARA_ACTIONS)
