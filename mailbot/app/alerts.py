"""The supervisors' hourly summary of mail moved to the quarantine folder (a scheduled job)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from ..adapters import db
from .unit import Unit

JOB = "quarantine_summary"
EVERY = timedelta(hours=1)
LISTED = 50                  # the summary names this many mails; the rest are counted


def quarantine_summary(unit: Unit) -> int:
    """At most one mail an hour to the supervisors, listing every mail quarantined since the last one
    (its key in job_runs is the newest event it covered). Returns how many mails it reported."""
    last = unit.session.execute(select(db.JobRunRow.key, db.JobRunRow.at).where(db.JobRunRow.job == JOB)
                                .order_by(db.JobRunRow.id.desc()).limit(1)).first()
    if last is not None and unit.now - db.utc(last.at) < EVERY:
        return 0
    after = int(last.key) if last is not None else 0
    new = (db.EventRow.kind == "quarantined", db.EventRow.id > after)
    total, upto = unit.session.execute(select(func.count(), func.max(db.EventRow.id)).where(*new)).one()
    if not total:
        return 0
    events = unit.session.execute(select(db.EventRow.at, db.EventRow.detail).where(*new, db.EventRow.id <= upto)
                                  .order_by(db.EventRow.id).limit(LISTED)).all()
    unit.notify(None, "supervisor", "quarantine_summary", count=total, folder=unit.cfg.imap.quarantine_folder,
                mails=[{"at": db.utc(e.at).astimezone(unit.app.tz), "detail": e.detail} for e in events])
    unit.session.add(db.JobRunRow(job=JOB, key=str(upto), at=unit.now))
    return total
