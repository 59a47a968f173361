"""What each CLI verb does, given a loaded configuration."""
from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime

from sqlalchemy import select

from .adapters import db
from .cli import UserError, parse_instant, utcnow


def dispatch(cfg, args) -> int:
    handler = {
        "run": cmd_run, "jobs": cmd_jobs, "cases": cmd_cases, "case": cmd_case, "digest": cmd_digest,
        "status": cmd_status, "catalog": cmd_catalog, "db": cmd_db, "check": cmd_check, "report": cmd_report,
    }[args.verb]
    return handler(cfg, args)


def _app(cfg, migrate: bool = True):
    from .outbound.templates import TemplateError
    from .service import App
    try:
        return App(cfg, migrate=migrate)
    except TemplateError as exc:
        raise UserError(str(exc)) from None


def cmd_db(cfg, args) -> int:
    from .adapters.migrations import upgrade
    upgrade(db.make_engine(cfg.database.url))
    print("database is up to date")
    return 0


def cmd_run(cfg, args) -> int:
    app = _app(cfg)
    if args.once:
        from .daemon import run_once
        result = asyncio.run(run_once(app, utcnow))
        print(json.dumps(result))
        return 0
    from .daemon import run_forever
    return asyncio.run(run_forever(app, utcnow))


def cmd_jobs(cfg, args) -> int:
    from .jobs import run_due
    app = _app(cfg)
    at = parse_instant(args.at) if args.at else utcnow()
    from .lock import acquire_lock
    from .sender import drain
    lock = acquire_lock(cfg, app.engine)      # never beside a running daemon: each job acts once
    try:
        done = run_due(app, at)
        asyncio.run(drain(app, lambda: at))   # what the jobs queued goes out now, as the daemon would
    finally:
        lock.release()
    print(json.dumps(done, ensure_ascii=False))
    return 0


def _print_cases(rows_json: list[dict], as_json: bool) -> None:
    if as_json:
        print(json.dumps(rows_json, ensure_ascii=False, indent=2))
        return
    for c in rows_json:
        print(f"{c['ref']:<15} {c['state']:<15} {c['customer']:<35} total={c['total']:>10} due={c['due'] or '-'}")


def cmd_cases(cfg, args) -> int:
    from .domain.states import State
    from .views import case_json, overdue
    app = _app(cfg)
    if args.state and args.state not in {s.value for s in State}:
        raise UserError(f"--state: unknown state {args.state!r}; one of {', '.join(s.value for s in State)}")
    today = utcnow().astimezone(app.tz).date()
    with app.sessions() as s:
        q = select(db.CaseRow).order_by(db.CaseRow.id)
        if args.state:
            q = q.where(db.CaseRow.state == args.state)
        rows = [r for r in s.scalars(q) if not args.overdue or overdue(r, today)]
        _print_cases([case_json(s, r) for r in rows], args.json)
    return 0


def cmd_case(cfg, args) -> int:
    from .views import case_json
    app = _app(cfg)
    with app.sessions() as s:
        row = s.scalar(select(db.CaseRow).where(db.CaseRow.ref == args.ref.strip().upper()))
        if row is None:
            raise UserError(f"no case {args.ref!r}")
        data = case_json(s, row)
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print(f"{data['ref']}  {data['state']}  {data['customer_name']} <{data['customer']}>")
        for i in data["items"]:
            print(f"  {i['katalog']:<14} {i['judul'][:50]:<50} {i['halaman']:>4} hlm x{i['qty']} {i['amount']:>10}")
        print(f"  total {data['total']}  invoice {data['invoice_number'] or '-'}  receipt {data['receipt_number'] or '-'}"
              f"  due {data['due'] or '-'}")
        for e in data["events"]:
            print(f"  {e['time']}  {e['kind']:<20} {e['actor']:<30} {e['detail'][:80]}")
    return 0


def cmd_digest(cfg, args) -> int:
    from .digest import send_digest
    from .unit import Unit
    app = _app(cfg)
    now = utcnow()
    with app.sessions.begin() as s:
        digest_id = send_digest(Unit(app, s, now, scheduled=True))
    from .sender import drain
    asyncio.run(drain(app, utcnow))
    print(f"digest {digest_id} sent" if digest_id else "nothing waits for the bendahara; no digest sent")
    return 0


def cmd_status(cfg, args) -> int:
    from .views import status_summary
    app = _app(cfg)
    with app.sessions() as s:
        print(json.dumps(status_summary(s), ensure_ascii=False, indent=2))
    return 0


def cmd_catalog(cfg, args) -> int:
    from .catalog import CatalogError, read_catalog_csv
    app = _app(cfg)

    def progress(n: int) -> None:
        print(f"\r{n} rows read", end="", file=sys.stderr)

    try:
        entries = read_catalog_csv(args.file, progress=progress)
    except FileNotFoundError:
        raise UserError(f"{args.file}: no such file") from None
    except CatalogError as exc:
        raise UserError(str(exc)) from None
    print(file=sys.stderr)
    added = updated = 0
    with app.sessions.begin() as s:
        for e in entries:
            row = s.get(db.CatalogRow, (e.katalog, e.tahun))
            if row is None:
                s.add(db.CatalogRow(katalog=e.katalog, judul=e.judul, tahun=e.tahun, halaman=e.halaman, file=e.file))
                added += 1
            else:
                row.judul, row.halaman, row.file = e.judul, e.halaman, e.file
                updated += 1
    app.forget_catalog()
    print(f"catalog: {added} added, {updated} updated")
    return 0


def cmd_check(cfg, args) -> int:
    from .checks import run_checks
    return run_checks(cfg, utcnow())


def cmd_report(cfg, args) -> int:
    from .report import month_report
    app = _app(cfg)
    try:
        year, month = (int(x) for x in args.month.split("-"))
        datetime(year, month, 1)
    except ValueError:
        raise UserError(f"--month: expected YYYY-MM, got {args.month!r}") from None
    with app.sessions() as s:
        print(json.dumps(month_report(s, year, month, app), ensure_ascii=False, indent=2))
    return 0
