"""`mailbot report --month YYYY-MM`: the month's figures, the treasurer's book of receipts, and the job that
mails the previous month's report on the first working day.

Months are office-local (Asia/Jakarta). Sources: the documents table (receipts and invoices by issue
date), the audit trail (voids, expiries, deliveries, corrections, ratings, `deadline_missed` alerts), the
cases table and the complaints table. A service deadline is met when the delivery used at most 10 working
days of the service clock (the clock pauses while the customer pays; `clock_used` keeps the total at delivery).
A correction deadline is met when PERBAIKAN went out within 5 working days of the defect report.
"""
from __future__ import annotations

import logging
import re
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..adapters import db
from ..domain.calendar import CalendarGapError
from ..domain.case import CORRECTION_DAYS, SERVICE_DAYS
from ..domain.states import State
from ..inbound.proof import Reading, claimed_reference, payment_reference
from ..outbound.mail import FilePart
from .unit import Unit, once

log = logging.getLogger("mailbot")

DELIVERY_EVENTS = ("ApprovePayment", "ZeroRate")          # first delivery of a case (receipt + softcopy)


def parse_month(text: str) -> tuple[int, int]:
    """'2026-11' -> (2026, 11); ValueError otherwise."""
    m = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
    if not m or not 1 <= int(m[2]) <= 12:
        raise ValueError(text)
    return int(m[1]), int(m[2])


def _month_bounds(year: int, month: int) -> tuple[date, date]:
    first = date(year, month, 1)
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return first, nxt


class _Month:
    """The rows of one month, loaded once and shared by the report and the book."""

    def __init__(self, session: Session, year: int, month: int, app):
        self.session, self.app, self.tz = session, app, app.tz
        self.first, self.nxt = _month_bounds(year, month)
        # Events in a UTC window one day wider on each side, then filtered by their local date.
        lo = datetime.combine(self.first - timedelta(days=1), datetime.min.time(), timezone.utc)
        hi = datetime.combine(self.nxt + timedelta(days=1), datetime.min.time(), timezone.utc)
        self.events = [e for e in session.scalars(select(db.EventRow).where(db.EventRow.at >= lo, db.EventRow.at < hi)
                                                  .order_by(db.EventRow.id)) if self.in_month(self.local(e.at))]
        self.by_kind: dict[str, list[db.EventRow]] = defaultdict(list)
        for e in self.events:
            self.by_kind[e.kind].append(e)
        self.docs = session.scalars(select(db.DocumentRow).where(
            db.DocumentRow.issued_on >= self.first, db.DocumentRow.issued_on < self.nxt)
            .order_by(db.DocumentRow.id)).all()
        self.receipts = [d for d in self.docs if d.kind == "receipt" and not d.void]
        self.invoices = [d for d in self.docs if d.kind == "invoice"]

    def local(self, at: datetime) -> date:
        return db.utc(at).astimezone(self.tz).date()

    def in_month(self, d: date | None) -> bool:
        return d is not None and self.first <= d < self.nxt

    def case(self, case_id: int) -> db.CaseRow:
        return self.session.get(db.CaseRow, case_id)

    def first_deliveries(self) -> list[tuple[db.EventRow, db.CaseRow]]:
        """The approval (or NOL) that first delivered each case this month."""
        out, seen = [], set()
        for e in sorted((e for k in DELIVERY_EVENTS for e in self.by_kind[k]), key=lambda e: e.id):
            if e.case_id is not None and e.case_id not in seen:
                seen.add(e.case_id)
                out.append((e, self.case(e.case_id)))
        return out


def month_report(session: Session, year: int, month: int, app) -> dict:
    """The report as a JSON-ready dict; amounts are integer rupiah. The keys of the first release
    (revenue … satisfaction_counts) are a contract; later ones were added after them."""
    m = _Month(session, year, month, app)
    cases = session.scalars(select(db.CaseRow).where(
        (db.CaseRow.opened_on >= m.first) & (db.CaseRow.opened_on < m.nxt)
        | (db.CaseRow.closed_on >= m.first) & (db.CaseRow.closed_on < m.nxt)).order_by(db.CaseRow.id)).all()
    opened = [c for c in cases if m.in_month(c.opened_on)]
    ended = [c for c in cases if m.in_month(c.closed_on)]
    deliveries = m.first_deliveries()

    service, late_service = _service_deadlines(deliveries)
    correction, late_correction = _correction_deadlines(m)
    ratings = _ratings(m)
    first_complaints = _first_complaints(m)
    complaints = _complaints(session, first_complaints)
    report = {
        "month": f"{year:04d}-{month:02d}",
        "from": m.first.isoformat(),
        "to": (m.nxt - timedelta(days=1)).isoformat(),
        "revenue": sum(d.total for d in m.receipts),
        "receipts": len(m.receipts),
        "zero_rupiah": sum(1 for d in m.receipts if d.total == 0),
        "invoices_issued": len(m.invoices),
        "invoices_issued_total": sum(d.total for d in m.invoices),
        "invoices_voided": len(m.by_kind["invoice_void"]),
        "invoices_expired": len(m.by_kind["Expire"]),
        "cases_opened": len(opened),
        "cases_closed": sum(1 for c in ended if c.state == State.CLOSED.value),
        "cases_cancelled": sum(1 for c in ended if c.state == State.CANCELLED.value),
        "deadlines_met": service["met"] + correction["met"],
        "deadlines_missed": service["missed"] + correction["missed"],
        "deadlines": {"service": service, "correction": correction,
                      "missed_alerts": len(m.by_kind["deadline_missed"]),
                      "missed_alert_cases": sorted({m.case(e.case_id).ref for e in m.by_kind["deadline_missed"]
                                                    if e.case_id})},
        "satisfaction_average": round(sum(ratings) / len(ratings), 2) if ratings else None,
        "satisfaction_responses": len(ratings),
        "satisfaction_counts": {str(n): ratings.count(n) for n in range(1, 5)},
        # --- added with the PDF report and the treasurer's book ---
        "cases_delivered": len(deliveries),
        "on_time": {"service": _share(service), "correction": _share(correction)},
        "late_cases": late_service + late_correction,
        "revenue_by_publication": _by_publication(m),
        "zero_rupiah_services": [
            {"ref": m.case(d.case_id).ref, "receipt_number": d.number, "date": d.issued_on.isoformat(),
             "customer": _customer(m.case(d.case_id)), "reason": m.case(d.case_id).zero_reason}
            for d in m.receipts if d.total == 0],
        "complaints": complaints,
        "complaint_cases": [{"ref": _ref(session, r.case_id) if r.case_id else None, "complaint": r.ref,
                             "date": m.local(r.received_at).isoformat(),
                             "customer": f"{r.customer_name} <{r.customer}>" if r.customer_name else r.customer,
                             "text": " ".join(r.text.split())[:300]} for r in first_complaints],
        "cases_per_week": _weeks(m, opened, deliveries),
    }
    return report


def _customer(row: db.CaseRow) -> str:
    return f"{row.customer_name} <{row.customer}>" if row.customer_name else row.customer


def _first_complaints(m: _Month) -> list[db.ComplaintRow]:
    """Complaints first received this month (a follow-up shares its complaint's number)."""
    lo = datetime.combine(m.first - timedelta(days=1), datetime.min.time(), timezone.utc)
    hi = datetime.combine(m.nxt + timedelta(days=1), datetime.min.time(), timezone.utc)
    rows = m.session.scalars(select(db.ComplaintRow).where(db.ComplaintRow.received_at >= lo,
                                                           db.ComplaintRow.received_at < hi)
                             .order_by(db.ComplaintRow.id)).all()
    earlier = set(m.session.scalars(select(db.ComplaintRow.ref).where(db.ComplaintRow.received_at < lo)))
    first: dict[str, db.ComplaintRow] = {}
    for r in rows:
        if r.ref not in earlier and not (r.ref in first):
            first[r.ref] = r
    return [r for r in first.values() if m.in_month(m.local(r.received_at))]


def _complaints(session: Session, mine: list[db.ComplaintRow]) -> dict:
    return {"received": len(mine), "without_case": sum(1 for r in mine if r.case_id is None),
            "refs": [r.ref for r in mine],
            "cases": sorted({_ref(session, r.case_id) for r in mine if r.case_id is not None})}


def _ref(session: Session, case_id: int) -> str:
    row = session.get(db.CaseRow, case_id)
    return row.ref if row else str(case_id)


def _share(judged: dict) -> float | None:
    """Met among the deadlines judged (unknown ones left out); None when none was judged."""
    n = judged["met"] + judged["missed"]
    return round(judged["met"] / n, 4) if n else None


def _service_deadlines(deliveries) -> tuple[dict, list[dict]]:
    """First deliveries this month, judged by the working days the service clock had used."""
    out = {"met": 0, "missed": 0, "unknown": 0, "missed_cases": []}
    late = []
    for _, row in deliveries:
        if row is None or row.clear_on is None:
            out["unknown"] += 1
        elif row.clock_used > SERVICE_DAYS:
            out["missed"] += 1
            out["missed_cases"].append(row.ref)
            late.append({"ref": row.ref, "kind": "service", "customer": _customer(row),
                         "working_days": row.clock_used, "standard": SERVICE_DAYS,
                         "late_by": row.clock_used - SERVICE_DAYS})
        else:
            out["met"] += 1
    return out, late


def _correction_deadlines(m: _Month) -> tuple[dict, list[dict]]:
    """Corrections sent this month: within CORRECTION_DAYS working days of the report that opened them?"""
    out = {"met": 0, "missed": 0, "unknown": 0, "missed_cases": []}
    late = []
    sent = [e for e in m.by_kind["SendCorrection"] if e.case_id and "-> delivered)" in e.detail]
    for e in sent:
        history = m.session.scalars(select(db.EventRow).where(
            db.EventRow.case_id == e.case_id, db.EventRow.id < e.id,
            db.EventRow.kind.in_(("ReportDefect", "SendCorrection"))).order_by(db.EventRow.id)).all()
        reported = None
        for h in history:       # the report that moved the case into correction since the last correction
            if h.kind == "SendCorrection":
                reported = None
            elif reported is None and "-> correction)" in h.detail:
                reported = m.local(h.at)
        if reported is None:
            out["unknown"] += 1
            continue
        try:
            cal = m.app.calendar()
            due = cal.add_working_days(reported, CORRECTION_DAYS)
            used = cal.working_days_between(reported, m.local(e.at))
        except CalendarGapError:
            out["unknown"] += 1
            continue
        row = m.case(e.case_id)
        if m.local(e.at) > due:
            out["missed"] += 1
            out["missed_cases"].append(row.ref)
            late.append({"ref": row.ref, "kind": "correction", "customer": _customer(row), "working_days": used,
                         "standard": CORRECTION_DAYS, "late_by": used - CORRECTION_DAYS})
        else:
            out["met"] += 1
    return out, late


def _ratings(m: _Month) -> list[int]:
    """The satisfaction answers (1-4) given this month, the last one per case."""
    last: dict[int, int] = {}
    for e in m.by_kind["Rate"]:
        found = re.search(r"satisfaction ([1-4])", e.detail)
        if found and e.case_id:
            last[e.case_id] = int(found.group(1))
    return list(last.values())


def _by_publication(m: _Month) -> list[dict]:
    """Revenue per publication from the lines of the cases receipted this month (they sum to `revenue`),
    with how many of this month's invoices and kuitansi list it; largest first."""
    rows: dict[tuple[str, str], dict] = {}

    def lines(doc: db.DocumentRow) -> dict[tuple[str, str], dict]:
        """The publications of the document's case, each once, as rows of the table."""
        found = {}
        for item in m.case(doc.case_id).items:
            key = (item.katalog, item.judul)
            found[key] = rows.setdefault(key, {"katalog": item.katalog, "judul": item.judul, "qty": 0,
                                               "invoices": 0, "receipts": 0, "amount": 0})
        return found

    for doc in m.receipts:
        for r in lines(doc).values():
            r["receipts"] += 1
        for item in m.case(doc.case_id).items:
            r = rows[(item.katalog, item.judul)]
            r["qty"] += item.qty
            r["amount"] += item.amount
    for doc in m.invoices:
        for r in lines(doc).values():
            r["invoices"] += 1
    return sorted(rows.values(), key=lambda r: (-r["amount"], r["katalog"], r["judul"]))


def _weeks(m: _Month, opened: list[db.CaseRow], deliveries) -> list[dict]:
    """Requests opened and cases delivered per calendar week (Monday to Sunday, cut at the month's ends)."""
    weeks = []
    start = m.first
    while start < m.nxt:
        end = min(start + timedelta(days=6 - start.weekday()), m.nxt - timedelta(days=1))
        weeks.append({"week": len(weeks) + 1, "from": start.isoformat(), "to": end.isoformat(),
                      "opened": sum(1 for c in opened if start <= c.opened_on <= end),
                      "delivered": sum(1 for e, _ in deliveries if start <= m.local(e.at) <= end)})
        start = end + timedelta(days=1)
    return weeks


# --- the treasurer's book ------------------------------------------------------------------------
def receipt_book(session: Session, year: int, month: int, app) -> dict:
    """One row per kuitansi of the month (its total is the report's revenue) and the invoices voided in it."""
    m = _Month(session, year, month, app)
    rows = [_receipt_row(m, doc) for doc in m.receipts]
    voided = []
    for e in m.by_kind["invoice_void"]:
        doc = next((d for d in session.scalars(select(db.DocumentRow).where(
            db.DocumentRow.case_id == e.case_id, db.DocumentRow.kind == "invoice", db.DocumentRow.void.is_(True)))
            if e.detail.startswith(d.number + ":")), None)
        if doc is None:
            continue
        row = m.case(doc.case_id)
        voided.append({"number": doc.number, "issued": doc.issued_on.isoformat(), "voided": m.local(e.at).isoformat(),
                       "case": row.ref, "customer": row.customer_name or row.customer, "email": row.customer,
                       "amount": doc.total, "billing_code": doc.billing_code or "", "reason": doc.void_reason})
    return {"month": f"{year:04d}-{month:02d}", "receipts": rows, "total": sum(r["amount"] for r in rows),
            "voided": voided}


def _receipt_row(m: _Month, doc: db.DocumentRow) -> dict:
    row = m.case(doc.case_id)
    trail = m.session.scalars(select(db.EventRow).where(db.EventRow.case_id == row.id).order_by(db.EventRow.id)).all()
    numbered = next((e for e in trail if e.kind == "receipt_numbered" and e.detail == doc.number), None)
    before = [e for e in trail if numbered is None or e.id < numbered.id]
    approval = next((e for e in reversed(before) if e.kind in DELIVERY_EVENTS), None)
    words = next((e.detail for e in reversed(before) if e.kind == "proof_text"), "")   # what the customer wrote
    invoice = m.session.scalar(select(db.DocumentRow).where(
        db.DocumentRow.case_id == row.id, db.DocumentRow.kind == "invoice", db.DocumentRow.id < doc.id)
        .order_by(db.DocumentRow.void, db.DocumentRow.id.desc()).limit(1))
    return {
        "number": doc.number, "date": doc.issued_on.isoformat(),
        "invoice_number": invoice.number if invoice else "",
        "case": row.ref, "customer": row.customer_name or row.customer, "email": row.customer,
        "publications": "; ".join(f"{i.judul} ({i.katalog})" + (f" x{i.qty}" if i.qty > 1 else "") for i in row.items),
        "amount": doc.total,
        "billing_code": (invoice.billing_code or "") if invoice else "",
        "payment_reference": (_payment_reference(m, invoice) or claimed_reference(words))
                             if invoice and doc.total else "",
        "approved_by": approval.actor if approval else "",
        "zero_reason": row.zero_reason if doc.total == 0 else "",
    }


def _payment_reference(m: _Month, invoice: db.DocumentRow) -> str:
    """What the newest readable proof file of the paid invoice names (NTPN or bank reference)."""
    results = m.session.scalars(select(db.ProofReadingRow.result).where(
        db.ProofReadingRow.document_id == invoice.id, db.ProofReadingRow.status == "done")
        .order_by(db.ProofReadingRow.id.desc()))
    for result in results:
        found = payment_reference(Reading.from_json(result)) if result else ""
        if found:
            return found
    return ""


# --- the monthly mail ----------------------------------------------------------------------------
def previous_month(d: date) -> tuple[int, int]:
    return (d.year - 1, 12) if d.month == 1 else (d.year, d.month - 1)


def first_working_day(app, year: int, month: int) -> date:
    d = date(year, month, 1)
    try:
        return d if app.calendar().is_working_day(d) else app.calendar().next_working_day(d)
    except CalendarGapError:        # a year without holiday data: Monday-Friday rather than no report
        while d.weekday() >= 5:
            d += timedelta(days=1)
        return d


def monthly_report(unit: Unit) -> int:
    """The job: from `schedule.digest_time` on the month's first working day (or the first run after it,
    after downtime) the previous month's report goes to `report.recipients`, once. A month that ended
    before the first case was opened (a new installation) has nothing to report."""
    settings = unit.cfg.report
    if not settings.monthly_mail:
        return 0
    local = unit.now.astimezone(unit.app.tz)
    start = first_working_day(unit.app, local.year, local.month)
    if local.date() < start or (local.date() == start and local.time() < unit.cfg.schedule.digest_time):
        return 0
    year, month = previous_month(local.date())
    first, nxt = _month_bounds(year, month)
    began = unit.session.scalar(select(db.CaseRow.opened_on).order_by(db.CaseRow.opened_on).limit(1))
    if began is None or began >= nxt:
        return 0
    to = recipients(unit.cfg)
    if not to or not once(unit, "monthly_report", f"{year:04d}-{month:02d}"):
        return 0
    from ..outbound.books import receipts_xlsx
    from ..outbound.report_pdf import render_report
    report = month_report(unit.session, year, month, unit.app)
    book = receipt_book(unit.session, year, month, unit.app)
    name = f"laporan-{year:04d}-{month:02d}"
    files = (FilePart(f"{name}.pdf", render_report(report, unit.cfg.office.name, generated=local.date()),
                      "application/pdf"),
             FilePart(f"kuitansi-{year:04d}-{month:02d}.xlsx", receipts_xlsx(book),
                      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
    unit.notify(None, "supervisor", "monthly_report", to=list(to), attachments=files, report=report,
                book_total=book["total"])
    unit.event(None, "monthly_report", "system", f"report {report['month']} sent to {', '.join(to)}")
    log.info("action=monthly_report month=%s to=%s", report["month"], ",".join(to))
    return 1


def recipients(cfg) -> tuple[str, ...]:
    """`report.recipients`: role names (supervisor, bendahara, petugas) and addresses, in order, once each."""
    out: list[str] = []
    for entry in cfg.report.recipients:
        out.extend(getattr(cfg.roles, entry) if entry in ("petugas", "bendahara", "supervisor") else (entry,))
    return tuple(dict.fromkeys(out))
