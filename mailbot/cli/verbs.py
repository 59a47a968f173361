"""What each CLI verb does, given a loaded configuration."""
from __future__ import annotations

import asyncio
import json
import sys
from datetime import date
from pathlib import Path

from sqlalchemy import select

from ..adapters import db
from ..adapters.lock import acquire_lock
from ..adapters.migrations import pending, upgrade
from ..app.bootstrap import App
from ..clock import parse_instant, utcnow
from ..errors import UserError
from ..outbound.templates import TemplateError


def dispatch(cfg, args) -> int:
    handler = {
        "run": cmd_run, "jobs": cmd_jobs, "cases": cmd_cases, "case": cmd_case, "digest": cmd_digest,
        "status": cmd_status, "catalog": cmd_catalog, "db": cmd_db, "check": cmd_check, "report": cmd_report,
        "backup": cmd_backup, "restore": cmd_restore,
    }[args.verb]
    return handler(cfg, args)


def cmd_demo(args) -> int:
    from ..demo.story import run_demo      # the embedded servers load only for the demo
    return run_demo(keep=args.keep)


def _app(cfg, migrate: bool = True) -> App:
    """The wired application. Verbs that only read never migrate: a schema behind is one line to the user."""
    try:
        app = App(cfg, migrate=migrate)
    except TemplateError as exc:
        raise UserError(str(exc)) from None
    if not migrate and pending(app.engine):
        raise UserError(f"the database schema is behind this mailbot: run `mailbot --config {cfg.path} db upgrade`")
    return app


def cmd_db(cfg, args) -> int:
    Path(cfg.storage.dir).mkdir(parents=True, exist_ok=True)   # a fresh install: the SQLite file lives here
    upgrade(db.make_engine(cfg.database.url))
    print("database is up to date")
    return 0


def cmd_run(cfg, args) -> int:
    app = _app(cfg)
    if args.once:
        from ..runtime.daemon import run_once
        result = asyncio.run(run_once(app, utcnow))
        print(json.dumps(result))
        return 0
    from ..runtime.daemon import run_forever
    return asyncio.run(run_forever(app, utcnow))


def cmd_jobs(cfg, args) -> int:
    from ..runtime.sender import drain
    app = _app(cfg)
    at = parse_instant(args.at) if args.at else utcnow()
    with acquire_lock(cfg, app.engine):       # never beside a running daemon: each job acts once
        done = app.run_jobs(at)
        made = app.daily_backup(at)           # due from backup.time each day, as in the daemon
        if made:
            done["backup"] = str(made)
        asyncio.run(drain(app, lambda: at))   # what the jobs queued goes out now, as the daemon would
    print(json.dumps(done, ensure_ascii=False))
    return 0


def _print_cases(rows_json: list[dict], as_json: bool) -> None:
    if as_json:
        print(json.dumps(rows_json, ensure_ascii=False, indent=2))
        return
    for c in rows_json:
        print(f"{c['ref']:<15} {c['state']:<15} {c['customer']:<35} total={c['total']:>10} due={c['due'] or '-'}")


def _day(option: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise UserError(f"{option}: expected YYYY-MM-DD, got {value!r}") from None


def cmd_cases(cfg, args) -> int:
    from ..app.cases import case_json, find_cases, overdue
    from ..domain.states import State
    app = _app(cfg, migrate=False)
    if args.state and args.state not in {s.value for s in State}:
        raise UserError(f"--state: unknown state {args.state!r}; one of {', '.join(s.value for s in State)}")
    since, until = _day("--since", args.since), _day("--until", args.until)
    today = utcnow().astimezone(app.tz).date()
    with app.sessions() as s:
        rows = find_cases(s, state=args.state, search=args.search, since=since, until=until)
        rows = [r for r in rows if not args.overdue or overdue(r, today)]
        _print_cases([case_json(s, r) for r in rows], args.json)
    return 0


def cmd_case(cfg, args) -> int:
    from ..app.cases import case_json, case_text
    app = _app(cfg, migrate=False)
    with app.sessions() as s:
        row = s.scalar(select(db.CaseRow).where(db.CaseRow.ref == args.ref.strip().upper()))
        if row is None:
            raise UserError(f"no case {args.ref!r}")
        data = case_json(s, row)
    print(json.dumps(data, ensure_ascii=False, indent=2) if args.json else case_text(data))
    return 0


def cmd_digest(cfg, args) -> int:
    from ..app.digest import send_digest
    from ..runtime.sender import drain
    app = _app(cfg)
    with app.unit(utcnow(), scheduled=True) as unit:
        digest_id = send_digest(unit)
    asyncio.run(drain(app, utcnow))
    print(f"digest {digest_id} sent" if digest_id else "nothing waits for the bendahara; no digest sent")
    return 0


def cmd_status(cfg, args) -> int:
    from ..app.cases import status_summary
    app = _app(cfg, migrate=False)
    with app.sessions() as s:
        print(json.dumps(status_summary(s), ensure_ascii=False, indent=2))
    return 0


def cmd_catalog(cfg, args) -> int:
    from ..app.library import import_catalog
    from ..catalog import CatalogError, read_catalog_csv
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
    added, updated = import_catalog(app, entries)
    print(f"catalog: {added} added, {updated} updated")
    return 0


def cmd_check(cfg, args) -> int:
    from .checks import run_checks
    return run_checks(cfg, utcnow())


def cmd_report(cfg, args) -> int:
    from ..app.report import month_report, parse_month, receipt_book
    from ..outbound.report_text import summary_text
    try:
        year, month = parse_month(args.month)
    except ValueError:
        raise UserError(f"--month: expected YYYY-MM, got {args.month!r}") from None
    receipts = Path(args.receipts) if args.receipts else None
    if receipts and receipts.suffix.lower() not in (".xlsx", ".csv"):
        raise UserError(f"--receipts: {receipts}: the name must end in .xlsx (Excel) or .csv")
    app = _app(cfg, migrate=False)
    today = utcnow().astimezone(app.tz).date()
    with app.sessions() as s:
        report = month_report(s, year, month, app)
        book = receipt_book(s, year, month, app) if receipts else None
    if args.pdf:
        from ..outbound.report_pdf import render_report
        _write(Path(args.pdf), render_report(report, cfg.office.name, generated=today), "--pdf")
        print(f"report written to {args.pdf}", file=sys.stderr)
    if receipts:
        from ..outbound.books import receipts_csv, receipts_xlsx
        data = receipts_xlsx(book) if receipts.suffix.lower() == ".xlsx" else receipts_csv(book)
        _write(receipts, data, "--receipts")
        print(f"{len(book['receipts'])} kuitansi ({book['total']} rupiah) and {len(book['voided'])} voided "
              f"invoice(s) written to {receipts}", file=sys.stderr)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(summary_text(report, cfg.office.name))
    return 0


def _write(path: Path, data: bytes, option: str) -> None:
    """Whole or not at all: a reader never sees half a file under the name asked for."""
    if not path.parent.is_dir():
        raise UserError(f"{option}: directory {str(path.parent)!r} not found")
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def cmd_backup(cfg, args) -> int:
    from ..app.backups import take_backup
    try:     # a schema behind this mailbot is backed up as it is: that is the moment one wants a backup
        app = App(cfg, migrate=False)
    except TemplateError as exc:
        raise UserError(str(exc)) from None
    manifest = take_backup(app, Path(args.dir), utcnow())
    print(f"backup written to {args.dir}: database ({manifest['database']['kind']}, schema "
          f"{manifest['schema_version']}) and {len(manifest['files']) - 1} stored file(s), SHA-256 in manifest.json")
    return 0


def cmd_restore(cfg, args) -> int:
    from ..app.backups import restore_backup
    manifest = restore_backup(cfg, Path(args.dir))
    print(f"restored {args.dir} (made {manifest['created_at']} by mailbot {manifest['mailbot_version']}, schema "
          f"{manifest['schema_version']}): {len(manifest['files']) - 1} stored file(s) verified; database upgraded "
          f"to this mailbot's schema. Run `mailbot --config {cfg.path} check`, then start the daemon.")
    return 0
