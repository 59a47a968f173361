"""Payment proofs read after the commit: the queue a proof mail fills, the reading of each file (its PDF
text layer, or OCR), and the notices that wait for it — at most `schedule.proof_wait_seconds`.

A reading is evidence only: it is recorded on the case and shown; it never moves the case."""
from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import aliased

from ..adapters import db, ocr
from ..domain import commands as c
from ..domain import effects as fx
from ..inbound import proof
from .files import amount_mismatch, invoice_facts, last_invoice, proof_views
from .mailer import notify_effect
from .unit import Unit

log = logging.getLogger("mailbot")

LEASE = timedelta(minutes=10)    # a file claimed by a reader that died is read again after this
MAX_ATTEMPTS = 3                 # a file that brought its reader down this often is recorded unreadable


# --- in the mail's transaction ------------------------------------------------------------------
def queue_reading(unit: Unit, row: db.CaseRow, effect: fx.ReadProof, cmd: c.Command) -> None:
    """The effect handler of ReadProof: one queue row per file; readers are woken once the unit commits."""
    invoice = last_invoice(unit, row)
    then = json.dumps([{"effect": type(e).__name__, **asdict(e)} for e in effect.then])
    notify_by = unit.now + timedelta(seconds=unit.cfg.schedule.proof_wait_seconds)
    queued = 0
    for sha in dict.fromkeys(effect.files):
        f = unit.session.scalar(select(db.FileRow).where(db.FileRow.case_id == row.id, db.FileRow.sha256 == sha,
                                                         db.FileRow.role == "proof")
                                .order_by(db.FileRow.id.desc()).limit(1))
        if f is None:
            continue
        unit.session.add(db.ProofReadingRow(case_id=row.id, file_id=f.id, document_id=invoice.id if invoice else None,
                                            message_id=unit.trigger_id or "", then=then, notify_by=notify_by,
                                            created_at=unit.now))
        queued += 1
    if not queued:                      # nothing to read: the notices need not wait
        _carry_out(unit, row, effect.then, unit.trigger_id or "")
        return
    unit.after_commit.append(unit.app.proofs_queued)


# --- the reader (runtime threads call these through the App) ------------------------------------
@dataclass(frozen=True)
class Job:
    id: int
    sha256: str
    content_type: str
    attempts: int


def read_waiting(app, clock: Callable[[], datetime], stop: Callable[[], bool] = lambda: False,
                 after_each: Callable[[], None] = lambda: None) -> int:
    """Read every waiting file, one at a time: claimed in one short transaction, read with no
    transaction open, recorded in another (its mail's notices go out with the last of its files, or
    once its wait is over). `after_each` runs after every file (to wake the sender). Returns how many
    files were read."""
    done = 0
    while not stop():
        send_due(app, clock())
        job = _claim(app, clock())
        if job is None:
            break
        if job.attempts > MAX_ATTEMPTS:
            reading = proof.Reading("unreadable", detail="the reader stopped on this file")
        else:
            data = app.storage.get(job.sha256) if app.storage.exists(job.sha256) else None
            reading = ocr.read_file(data, job.content_type) if data is not None else \
                proof.Reading("unreadable", detail="file no longer stored")
        _record(app, job, reading, clock())
        done += 1
        after_each()
    send_due(app, clock())
    return done


def send_due(app, now: datetime) -> int:
    """The notices of every mail whose wait is over, with what was read so far. Returns how many mails."""
    with app.sessions() as session:
        due = session.execute(select(db.ProofReadingRow.case_id, db.ProofReadingRow.message_id).where(
            db.ProofReadingRow.notified_at.is_(None), db.ProofReadingRow.notify_by <= now).distinct()).all()
    for case_id, message_id in due:
        with app.unit(now) as unit:
            _notify(unit, unit.session.get(db.CaseRow, case_id), message_id)
    return len(due)


def next_due(app) -> datetime | None:
    """When the next mail's wait ends (None: no notice waits)."""
    with app.sessions() as session:
        at = session.scalar(select(func.min(db.ProofReadingRow.notify_by))
                            .where(db.ProofReadingRow.notified_at.is_(None)))
    return db.utc(at) if at is not None else None


def waiting(app, now: datetime) -> int:
    """Files this reader could take now (not read, and not claimed by a reader that may still be at it)."""
    t = db.ProofReadingRow
    with app.sessions() as session:
        return session.scalar(select(func.count()).select_from(t).where(
            t.status == "pending", or_(t.claimed_at.is_(None), t.claimed_at < now - LEASE))) or 0


def release_claims(app, now: datetime) -> None:
    """At start: claims of a reader that died (only one instance works a mailbox) are given back."""
    with app.unit(now, scheduled=True) as unit:
        unit.session.execute(update(db.ProofReadingRow).where(db.ProofReadingRow.status == "pending",
                                                              db.ProofReadingRow.claimed_at.is_not(None))
                             .values(claimed_at=None))


def _claim(app, now: datetime) -> Job | None:
    """The next file: of the mail with the fewest files read so far, then the oldest. A mail with 20
    images holds a later customer's proof back by one image, not twenty."""
    t, other = db.ProofReadingRow, aliased(db.ProofReadingRow)
    read_of_its_mail = (select(func.count()).where(other.case_id == t.case_id, other.message_id == t.message_id,
                                                   other.status == "done").correlate(t).scalar_subquery())
    with app.unit(now, scheduled=True) as unit:
        found = unit.session.execute(
            select(t.id, db.FileRow.sha256, db.FileRow.content_type, t.attempts)
            .join(db.FileRow, db.FileRow.id == t.file_id)
            .where(t.status == "pending", or_(t.claimed_at.is_(None), t.claimed_at < now - LEASE))
            .order_by(read_of_its_mail, t.id).limit(1)).first()
        if found is None:
            return None
        unit.session.execute(update(t).where(t.id == found.id).values(claimed_at=now, attempts=t.attempts + 1))
    return Job(found.id, found.sha256, found.content_type, found.attempts + 1)


def _record(app, job: Job, reading: proof.Reading, now: datetime) -> None:
    started = time.monotonic()
    with app.unit(now) as unit:
        r = unit.session.get(db.ProofReadingRow, job.id)
        if r is None or r.status == "done":
            return
        r.status, r.method, r.result, r.read_at, r.claimed_at = "done", reading.method, reading.to_json(), now, None
        r.ref_key = proof.ref_key(reading)
        row = unit.session.get(db.CaseRow, r.case_id)
        name = unit.session.get(db.FileRow, r.file_id).filename
        verdict = ""
        invoice = unit.session.get(db.DocumentRow, r.document_id) if r.document_id else None
        if invoice is not None:
            received = r.created_at.astimezone(unit.app.tz).date()
            verdict = "; " + proof.judge(reading, invoice_facts(unit, invoice), received).text
        unit.event(row, "proof_read", "system", f"{name}: {proof.describe(reading)}{verdict}"[:2000])
        unit.session.flush()
        if r.notified_at is None and not unit.session.scalar(select(func.count()).select_from(db.ProofReadingRow)
                                                             .where(db.ProofReadingRow.case_id == r.case_id,
                                                                    db.ProofReadingRow.message_id == r.message_id,
                                                                    db.ProofReadingRow.status != "done")):
            _notify(unit, row, r.message_id)
    log.info("action=proof_read case=%s method=%s read_s=%.2f record_ms=%d", row.ref, reading.method,
             reading.seconds, (time.monotonic() - started) * 1000)


def _notify(unit: Unit, row: db.CaseRow, message_id: str) -> None:
    """Carry out, once, what the proof mail's decision left waiting for the reading."""
    t = db.ProofReadingRow
    rows = list(unit.session.scalars(select(t).where(t.case_id == row.id, t.message_id == message_id,
                                                     t.notified_at.is_(None)).order_by(t.id)))
    if not rows:
        return
    for r in rows:
        r.notified_at = unit.now
    # the notices answer the customer's proof mail, as they would have in its own transaction
    unit.trigger_id, unit.trigger_sender = message_id or None, row.customer
    then = tuple(_effect(d) for d in json.loads(rows[0].then))
    _carry_out(unit, row, then, message_id)


def _carry_out(unit: Unit, row: db.CaseRow, then: tuple[fx.Effect, ...], message_id: str) -> None:
    """The notices of one proof mail, told what was read from its files (and from the case's others)."""
    invoice = last_invoice(unit, row)
    views = proof_views(unit, row, invoice)
    context = {"received": [v for v in views if v.message_id == message_id], "proofs": views,
               "mismatch": amount_mismatch(views, invoice), "invoice": invoice}
    cmd = c.Command(row.customer)
    for effect in then:
        if isinstance(effect, fx.Notify):
            notify_effect(unit, row, effect, cmd, **context)
        else:
            unit.carry_out(row, effect, cmd)


def _effect(d: dict) -> fx.Effect:
    kinds = {t.__name__: t for t in fx.Effect.__subclasses__()}
    d = dict(d)
    return kinds[d.pop("effect")](**d)
