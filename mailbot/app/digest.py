"""The bendahara digest and its single-use reference tokens: sent daily, on demand, or on a proof."""
from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select

from ..adapters import db
from ..domain import commands as c
from ..domain import effects as fx
from ..domain.calendar import CalendarGapError
from ..domain.states import State
from ..inbound.proof import describe, paid_total, read_claim, transfer_key
from ..outbound.mail import FilePart
from .files import proof_views
from .mailer import case_view
from .unit import Unit, once

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
        views = proof_views(unit, row, invoice)
        lines.append({"case": case_view(unit, row), "invoice": invoice, "token": token,
                      "proofs": [p.filename for p in proofs],
                      "proof_at": proofs[-1].created_at if proofs else None,
                      "readings": views, "claim": _claim(unit, row), "combined": _combined(views, invoice)})
    if not lines:
        return None
    # one mail to the whole list, like every staff notice: either bendahara may answer it
    unit.notify(None, "bendahara", "digest", attachments=tuple(attachments), lines=lines,
                digest_id=digest_id, expires=expires.astimezone(unit.app.tz).date())
    unit.event(None, "digest", "system", f"digest {digest_id}: {len(lines)} case(s)")
    return digest_id


def _combined(views, invoice: db.DocumentRow) -> int | None:
    """What several transfers read surely for this invoice add up to (None for one transfer or none)."""
    sure = [(v.sha256, v.reading) for v in views if v.document_id == invoice.id and v.amount is not None]
    if len({transfer_key(r, sha) for sha, r in sure}) < 2:
        return None
    return paid_total(sure)


def _claim(unit: Unit, row: db.CaseRow) -> str:
    """What the customer wrote in their proof mails ('sudah saya transfer Rp82.000'): their word, not a reading."""
    texts = [e.detail for e in unit.session.scalars(select(db.EventRow).where(
        db.EventRow.case_id == row.id, db.EventRow.kind == "proof_text").order_by(db.EventRow.id))]
    reading = read_claim("\n".join(texts))
    return describe(reading, marks=False) if reading.fields else ""


def refresh_digest(unit: Unit, row: db.CaseRow, effect: fx.RefreshDigest, cmd: c.Command) -> None:
    """RefreshDigest: a proof arrived; with schedule.digest_on_proof the digest goes at once."""
    if unit.cfg.schedule.digest_on_proof:
        send_digest(unit)


def daily_digest(unit: Unit) -> int:
    """The job: on working days from `digest_time` (office time), once a day, when something waits."""
    local = unit.now.astimezone(unit.app.tz)
    try:
        working = unit.app.calendar().is_working_day(local.date())
    except CalendarGapError:     # a year without holiday data: send anyway rather than leave payments unchecked
        working = local.weekday() < 5
    if not working or local.time() < unit.cfg.schedule.digest_time or not waiting_cases(unit):
        return 0
    if not once(unit, "digest", local.date().isoformat()):
        return 0
    return 1 if send_digest(unit) else 0
