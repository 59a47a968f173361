"""Read models: the JSON a case is shown as (a contract, DESIGN §10) and the status summary."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from ..adapters import db
from ..domain.states import CLOCKED_STATES, FINAL, State


def _iso(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return db.utc(value).isoformat()
    return value.isoformat()


def case_json(session: Session, row: db.CaseRow) -> dict:
    """`mailbot case REF --json`: every field other tools rely on."""
    case = db.to_case(row)
    invoice = db.current_document(session, row.id, "invoice")
    receipt = db.current_document(session, row.id, "receipt")
    events = session.scalars(select(db.EventRow).where(db.EventRow.case_id == row.id).order_by(db.EventRow.id))
    return {
        "ref": row.ref,
        "state": row.state,
        "customer": row.customer,
        "customer_name": row.customer_name,
        "opened_on": _iso(row.opened_on),
        "items": [{"katalog": i.katalog, "judul": i.judul, "halaman": i.halaman, "qty": i.qty, "amount": i.amount}
                  for i in case.items],
        "total": case.total,
        "invoice_number": invoice.number if invoice else None,
        "invoice_expires": _iso(row.invoice_expires) if invoice else None,
        "receipt_number": receipt.number if receipt else None,
        "due": _iso(case.due),
        "identity_ok": row.identity_ok,
        "agreed": row.agreed,
        "zero_reason": row.zero_reason or None,
        "linked_ref": row.linked_ref,
        "rating": row.rating,
        "events": [{"time": _iso(e.at), "kind": e.kind, "actor": e.actor, "detail": e.detail} for e in events],
    }


def find_cases(session: Session, *, state: str | None = None, search: str | None = None, since: date | None = None,
               until: date | None = None) -> list[db.CaseRow]:
    """`mailbot cases`: by state, by the day opened (inclusive), and by text found, case-insensitively, in
    the reference, the customer's address or name, an item's title or catalog number, or the number of
    any invoice (void ones too) or kuitansi of the case."""
    q = select(db.CaseRow).order_by(db.CaseRow.id)
    if state:
        q = q.where(db.CaseRow.state == state)
    if since:
        q = q.where(db.CaseRow.opened_on >= since)
    if until:
        q = q.where(db.CaseRow.opened_on <= until)
    text = " ".join((search or "").split()).lower()
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"

        def has(column) -> object:
            return func.lower(column).like(pattern, escape="\\")

        q = q.where(or_(
            has(db.CaseRow.ref), has(db.CaseRow.customer), has(db.CaseRow.customer_name),
            exists().where(db.ItemRow.case_id == db.CaseRow.id, or_(has(db.ItemRow.judul), has(db.ItemRow.katalog))),
            exists().where(db.DocumentRow.case_id == db.CaseRow.id, has(db.DocumentRow.number))))
    return list(session.scalars(q))


def overdue(row: db.CaseRow, today: date) -> bool:
    due = db.to_case(row).due
    return due is not None and today > due and State(row.state) not in FINAL


def status_summary(session: Session) -> dict:
    """`mailbot status`: last fetch, outbox backlog and failures, proof files not read yet, cases per state,
    nearest deadlines."""
    per_state = dict(session.execute(select(db.CaseRow.state, func.count()).group_by(db.CaseRow.state)).all())
    outbox = dict(session.execute(select(db.OutboxRow.status, func.count()).group_by(db.OutboxRow.status)).all())
    last = session.get(db.StatusRow, "last_fetch")
    upcoming = []
    for row in session.scalars(select(db.CaseRow).where(db.CaseRow.state.in_([s.value for s in CLOCKED_STATES]))):
        due = db.to_case(row).due
        if due:
            upcoming.append((due, row.ref, row.state))
    upcoming.sort()
    return {
        "last_fetch": last.value if last else None,
        "outbox_pending": outbox.get("pending", 0),
        "outbox_failed": outbox.get("failed", 0),
        "outbox_sent": outbox.get("sent", 0),
        "proofs_unread": session.scalar(select(func.count()).select_from(db.ProofReadingRow)
                                        .where(db.ProofReadingRow.status == "pending")) or 0,
        "quarantined": session.scalar(select(func.count()).select_from(db.EventRow)
                                      .where(db.EventRow.kind == "quarantined")) or 0,
        "cases": {s.value: per_state.get(s.value, 0) for s in State},
        "nearest_deadlines": [{"ref": ref, "state": st, "due": d.isoformat()} for d, ref, st in upcoming[:10]],
    }


def case_text(data: dict) -> str:
    """`mailbot case REF` for a person: the case JSON as a few aligned lines."""
    lines = [f"{data['ref']}  {data['state']}  {data['customer_name']} <{data['customer']}>"]
    lines += [f"  {i['katalog']:<14} {i['judul'][:50]:<50} {i['halaman']:>4} hlm x{i['qty']} {i['amount']:>10}"
              for i in data["items"]]
    lines.append(f"  total {data['total']}  invoice {data['invoice_number'] or '-'}  "
                 f"receipt {data['receipt_number'] or '-'}  due {data['due'] or '-'}")
    lines += [f"  {e['time']}  {e['kind']:<20} {e['actor']:<30} {e['detail'][:80]}" for e in data["events"]]
    return "\n".join(lines)
