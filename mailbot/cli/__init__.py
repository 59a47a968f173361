"""The command line (a contract, DESIGN §10): every verb, clear errors, no tracebacks for users."""
from __future__ import annotations

import argparse
import logging
import sys

from ..config import ConfigError, load_config
from ..errors import UserError
from . import verbs

EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mailbot", description="Email-driven sale of BPS softcopy publications.")
    p.add_argument("--config", metavar="FILE", help="the TOML configuration file")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="verb", required=True, metavar="VERB")

    demo = sub.add_parser("demo", help="play the whole story on embedded mail servers")
    demo.add_argument("--keep", action="store_true", help="leave the servers running afterwards")
    run = sub.add_parser("run", help="the daemon")
    run.add_argument("--once", action="store_true", help="process pending mail and due jobs, drain the outbox, exit")
    jobs = sub.add_parser("jobs", help="run the scheduled jobs due at an instant, then exit")
    jobs.add_argument("--at", help="ISO instant with offset (default: now)")
    cases = sub.add_parser("cases", help="list cases")
    cases.add_argument("--state")
    cases.add_argument("--overdue", action="store_true")
    cases.add_argument("--search", metavar="TEXT",
                       help="in reference, customer address and name, titles, invoice and kuitansi numbers")
    cases.add_argument("--since", metavar="YYYY-MM-DD", help="opened on or after this day")
    cases.add_argument("--until", metavar="YYYY-MM-DD", help="opened on or before this day")
    cases.add_argument("--json", action="store_true")
    case = sub.add_parser("case", help="show one case")
    case.add_argument("ref")
    case.add_argument("--json", action="store_true")
    sub.add_parser("digest", help="send the bendahara digest now")
    sub.add_parser("status", help="last fetch, outbox backlog, cases per state")
    catalog = sub.add_parser("catalog", help="the publication catalog")
    catalog_sub = catalog.add_subparsers(dest="catalog_verb", required=True)
    imp = catalog_sub.add_parser("import", help="import or update from a CSV file")
    imp.add_argument("file")
    dbp = sub.add_parser("db", help="the database")
    db_sub = dbp.add_subparsers(dest="db_verb", required=True)
    db_sub.add_parser("upgrade", help="apply database migrations")
    sub.add_parser("check", help="config, mailbox, SMTP, database and holiday data")
    report = sub.add_parser("report", help="the monthly report: a summary, JSON, PDF, the treasurer's book")
    report.add_argument("--month", required=True, help="YYYY-MM")
    report.add_argument("--json", action="store_true", help="print the figures as JSON instead of the summary")
    report.add_argument("--pdf", metavar="FILE", help="write the report as a PDF document")
    report.add_argument("--receipts", metavar="FILE", help="write the kuitansi of the month: FILE.xlsx or FILE.csv")
    backup = sub.add_parser("backup", help="consistent snapshot of the database and stored files, with a manifest")
    backup.add_argument("dir", help="a new or empty directory")
    restore = sub.add_parser("restore", help="restore a backup into the empty database and storage of the config")
    restore.add_argument("dir", help="a directory written by `mailbot backup`")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Libraries say only what is wrong; mailbot's own log says what it did (--verbose: everything).
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("mailbot").setLevel(logging.DEBUG if args.verbose else logging.INFO)
    try:
        if args.verb == "demo":
            return verbs.cmd_demo(args)
        if not args.config:
            raise UserError(f"mailbot {args.verb}: --config FILE is required")
        try:
            cfg = load_config(args.config)
        except ConfigError as exc:
            raise UserError(str(exc)) from None
        return verbs.dispatch(cfg, args)
    except UserError as exc:
        print(f"mailbot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:   # noqa: BLE001 - the user gets one line; --verbose shows the traceback
        if args.verbose:
            logging.getLogger("mailbot").exception("unexpected error")
        print(f"mailbot: unexpected error: {type(exc).__name__}: {exc} (run with -v for details)", file=sys.stderr)
        return 1
