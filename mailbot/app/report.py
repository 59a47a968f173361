"""`mailbot report --month YYYY-MM`: money, documents, cases, deadlines, satisfaction, complaints.

Months are office-local (Asia/Jakarta). Sources: the documents table (receipts and invoices by issue
date), the audit trail (voids, expiries, deliveries, corrections, ratings, `deadline_missed` alerts),
the cases table and the complaints table. A service deadline is met when the delivery used at most
10 working days of the service clock (the clock pauses while the customer pays; `clock_used` keeps
the total at delivery). A correction deadline is met when PERBAIKAN went out within 5 working days
of the defect report.
"""
from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..adapters import db
from ..domain.calendar import CalendarGapError
from ..domain.case import CORRECTION_DAYS, SERVICE_DAYS
from ..domain.states import State

DELIVERY_EVENTS = ("ApprovePayment", "ZeroRate")          # first delivery of a case (receipt + softcopy)


def _month_bounds(year: int, month: int) -> tuple[date, date]:
    first = date(year, month, 1)
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return first, nxt


def month_report(session: Session, year: int, month: int, app) -> dict:
    """The report as a JSON-ready dict; amounts are integer rupiah."""
    first, nxt = _month_bounds(year, month)
    tz = app.tz

    def local(at: datetime) -> date:
        return db.utc(at).astimezone(tz).date()

    def in_month(d: date | None) -> bool:
        return d is not None and first <= d < nxt

    # Events in a UTC window one day wider on each side, then filtered by their local date.
    lo = datetime.combine(first - timedelta(days=1), datetime.min.time(), timezone.utc)
    hi = datetime.combine(nxt + timedelta(days=1), datetime.min.time(), timezone.utc)
    events = [e for e in session.scalars(select(db.EventRow).where(db.EventRow.at >= lo, db.EventRow.at < hi)
                                         .order_by(db.EventRow.id)) if in_month(local(e.at))]
    by_kind: dict[str, list[db.EventRow]] = defaultdict(list)
    for e in events:
        by_kind[e.kind].append(e)

    docs = session.scalars(select(db.DocumentRow).where(db.DocumentRow.issued_on >= first,
                                                        db.DocumentRow.issued_on < nxt)).all()
    receipts = [d for d in docs if d.kind == "receipt" and not d.void]
    invoices = [d for d in docs if d.kind == "invoice"]

    cases = session.scalars(select(db.CaseRow).where(
        (db.CaseRow.opened_on >= first) & (db.CaseRow.opened_on < nxt)
        | (db.CaseRow.closed_on >= first) & (db.CaseRow.closed_on < nxt))).all()
    opened = [c for c in cases if in_month(c.opened_on)]
    ended = [c for c in cases if in_month(c.closed_on)]

    service = _service_deadlines(session, by_kind)
    correction = _correction_deadlines(session, app, by_kind, first, nxt, tz)
    ratings = _ratings(session, by_kind)
    return {
        "month": f"{year:04d}-{month:02d}",
        "from": first.isoformat(),
        "to": (nxt - timedelta(days=1)).isoformat(),
        "revenue": sum(d.total for d in receipts),
        "receipts": len(receipts),
        "zero_rupiah": sum(1 for d in receipts if d.total == 0),
        "invoices_issued": len(invoices),
        "invoices_issued_total": sum(d.total for d in invoices),
        "invoices_voided": len(by_kind["invoice_void"]),
        "invoices_expired": len(by_kind["Expire"]),
        "cases_opened": len(opened),
        "cases_closed": sum(1 for c in ended if c.state == State.CLOSED.value),
        "cases_cancelled": sum(1 for c in ended if c.state == State.CANCELLED.value),
        "deadlines_met": service["met"] + correction["met"],
        "deadlines_missed": service["missed"] + correction["missed"],
        "deadlines": {"service": service, "correction": correction,
                      "missed_alerts": len(by_kind["deadline_missed"]),
                      "missed_alert_cases": sorted({_ref(session, e.case_id) for e in by_kind["deadline_missed"]
                                                    if e.case_id})},
        "satisfaction_average": round(sum(ratings) / len(ratings), 2) if ratings else None,
        "satisfaction_responses": len(ratings),
        "satisfaction_counts": {str(n): ratings.count(n) for n in range(1, 5)},
        "complaints": _complaints(session, lo, hi, in_month, local),
    }


def _complaints(session: Session, lo: datetime, hi: datetime, in_month, local) -> dict:
    """Complaints first received this month (a follow-up shares its complaint's number)."""
    rows = session.scalars(select(db.ComplaintRow).where(db.ComplaintRow.received_at >= lo,
                                                         db.ComplaintRow.received_at < hi)
                           .order_by(db.ComplaintRow.id)).all()
    earlier = set(session.scalars(select(db.ComplaintRow.ref).where(db.ComplaintRow.received_at < lo)))
    first: dict[str, db.ComplaintRow] = {}
    for r in rows:
        if r.ref not in earlier:
            first.setdefault(r.ref, r)
    mine = [r for r in first.values() if in_month(local(r.received_at))]
    return {"received": len(mine), "without_case": sum(1 for r in mine if r.case_id is None),
            "refs": [r.ref for r in mine],
            "cases": sorted({_ref(session, r.case_id) for r in mine if r.case_id is not None})}


def _ref(session: Session, case_id: int) -> str:
    row = session.get(db.CaseRow, case_id)
    return row.ref if row else str(case_id)


def _service_deadlines(session: Session, by_kind) -> dict:
    """First deliveries this month, judged by the working days the service clock had used."""
    out = {"met": 0, "missed": 0, "unknown": 0, "missed_cases": []}
    seen: set[int] = set()
    for e in sorted((e for k in DELIVERY_EVENTS for e in by_kind[k]), key=lambda e: e.id):
        if e.case_id is None or e.case_id in seen:
            continue
        seen.add(e.case_id)
        row = session.get(db.CaseRow, e.case_id)
        if row is None or row.clear_on is None:
            out["unknown"] += 1
        elif row.clock_used > SERVICE_DAYS:
            out["missed"] += 1
            out["missed_cases"].append(row.ref)
        else:
            out["met"] += 1
    return out


def _correction_deadlines(session: Session, app, by_kind, first: date, nxt: date, tz) -> dict:
    """Corrections sent this month: within CORRECTION_DAYS working days of the report that opened them?"""
    out = {"met": 0, "missed": 0, "unknown": 0, "missed_cases": []}
    sent = [e for e in by_kind["SendCorrection"] if e.case_id and "-> delivered)" in e.detail]
    for e in sent:
        history = session.scalars(select(db.EventRow).where(
            db.EventRow.case_id == e.case_id, db.EventRow.id < e.id,
            db.EventRow.kind.in_(("ReportDefect", "SendCorrection"))).order_by(db.EventRow.id)).all()
        reported = None
        for h in history:       # the report that moved the case into correction since the last correction
            if h.kind == "SendCorrection":
                reported = None
            elif reported is None and "-> correction)" in h.detail:
                reported = db.utc(h.at).astimezone(tz).date()
        if reported is None:
            out["unknown"] += 1
            continue
        try:
            due = app.calendar().add_working_days(reported, CORRECTION_DAYS)
        except CalendarGapError:
            out["unknown"] += 1
            continue
        if db.utc(e.at).astimezone(tz).date() > due:
            out["missed"] += 1
            out["missed_cases"].append(_ref(session, e.case_id))
        else:
            out["met"] += 1
    return out


def _ratings(session: Session, by_kind) -> list[int]:
    """The satisfaction answers (1-4) given this month, the last one per case."""
    last: dict[int, int] = {}
    for e in by_kind["Rate"]:
        m = re.search(r"satisfaction ([1-4])", e.detail)
        if m and e.case_id:
            last[e.case_id] = int(m.group(1))
    return list(last.values())
