"""Latency of `mailbot run` over IDLE: from each APPEND to the acknowledgement reaching the SMTP server.

    python bench/latency.py [--count 100] [--min-gap 0.05] [--max-gap 0.5] [--seed 1]

Starts a private Dovecot and a capture SMTP server on 127.0.0.1, writes a config with a SQLite
database, imports the example catalog, starts `python -m mailbot.cli … run` as a child process,
waits until it is connected by IDLE, then APPENDs requests from distinct customers at random
intervals and matches each acknowledgement by the customer's address. Prints p50/p95/p99.
Target (issue 7): p50 <= 1 s, p99 <= 2 s (Dovecot alone takes ~0.5 s to wake an IDLE client).
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))   # the test servers (Dovecot, pymap, capture SMTP)

import servers as devservers  # noqa: E402


def request(n: int) -> tuple[str, bytes]:
    customer = f"pelanggan{n:03d}@example.com"
    msg = EmailMessage()
    msg["From"] = customer
    msg["To"] = "diseminasi1600@bps.go.id"
    msg["Subject"] = "Permintaan publikasi"
    msg["Date"] = format_datetime(datetime.now(timezone.utc))
    msg["Message-ID"] = make_msgid(domain="example.com")
    msg.set_content("Selamat siang,\nsaya ingin membeli softcopy Provinsi Sumatera Selatan Dalam Angka 2025.\n")
    return customer, msg.as_bytes()


def write_config(directory: Path, imap, smtp) -> Path:
    (directory / "var").mkdir(exist_ok=True)       # the SQLite database goes there
    return devservers.write_config(directory / "mailbot.toml", imap, smtp, imap={"poll_seconds": 3600},
                                   storage={"dir": str(directory / "var")},
                                   schedule={"max_auto_replies_per_day": 1000})


class Arrivals:
    """Stamps the first moment a mail to each address is in the capture server."""

    def __init__(self, smtp):
        self.smtp, self.seen, self._stop = smtp, {}, threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        done = 0
        while not self._stop.is_set():
            messages = self.smtp.messages
            now = time.monotonic()
            for m in messages[done:]:
                for rcpt in m.rcpt_tos:
                    self.seen.setdefault(rcpt.lower(), now)
            done = len(messages)
            time.sleep(0.002)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--min-gap", type=float, default=0.05)
    ap.add_argument("--max-gap", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = ap.parse_args()
    rng = random.Random(args.seed)

    directory = Path(tempfile.mkdtemp(prefix="mailbot-bench-"))
    imap = devservers.DovecotServer().start()
    smtp = devservers.CaptureSMTPServer().start()
    daemon = None
    try:
        config = write_config(directory, imap, smtp)
        base = [sys.executable, "-m", "mailbot.cli", "--config", str(config)]
        subprocess.run([*base, "catalog", "import", str(ROOT / "mailbot" / "data" / "katalog-contoh.csv")],
                       check=True, capture_output=True, cwd=ROOT)
        log = directory / "daemon.log"
        daemon = subprocess.Popen([*base, "run"], stderr=open(log, "wb"), cwd=ROOT)
        deadline = time.monotonic() + 30
        while "action=imap_connected" not in log.read_text(errors="replace"):
            if daemon.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"mailbot run did not connect:\n{log.read_text(errors='replace')}")
            time.sleep(0.05)
        if "idle=yes" not in log.read_text():
            raise SystemExit("mailbot is not using IDLE")
        time.sleep(1.0)                      # let the first scheduler tick (calendar load) pass

        arrivals = Arrivals(smtp)
        appended: dict[str, float] = {}
        for n in range(args.count):
            customer, raw = request(n)
            appended[customer] = time.monotonic()
            imap.append(raw)
            time.sleep(rng.uniform(args.min_gap, args.max_gap))
        deadline = time.monotonic() + 30
        while len([c for c in appended if c in arrivals.seen]) < len(appended) and time.monotonic() < deadline:
            time.sleep(0.05)
        arrivals.stop()
        latencies = [arrivals.seen[c] - t for c, t in appended.items() if c in arrivals.seen]
        missing = len(appended) - len(latencies)

        daemon.send_signal(signal.SIGTERM)
        stop_started = time.monotonic()
        code = daemon.wait(15)
        stop_seconds = time.monotonic() - stop_started
    finally:
        if daemon is not None and daemon.poll() is None:
            daemon.kill()
        imap.close()
        smtp.stop()

    figures = {"count": len(latencies), "missing": missing,
               "p50_s": round(percentile(latencies, 50), 3), "p95_s": round(percentile(latencies, 95), 3),
               "p99_s": round(percentile(latencies, 99), 3), "max_s": round(max(latencies), 3),
               "mean_s": round(statistics.fmean(latencies), 3), "sigterm_exit": code,
               "sigterm_seconds": round(stop_seconds, 2)}
    print(f"mailbot run over IDLE (Dovecot), APPEND -> acknowledgement at SMTP, {args.count} requests "
          f"{args.min_gap}-{args.max_gap} s apart")
    print(f"count={figures['count']} missing={missing} p50={figures['p50_s']:.3f}s p95={figures['p95_s']:.3f}s "
          f"p99={figures['p99_s']:.3f}s max={figures['max_s']:.3f}s mean={figures['mean_s']:.3f}s")
    print(f"SIGTERM: exit {code} after {stop_seconds:.2f} s")
    ok = missing == 0 and figures["p50_s"] <= 1.0 and figures["p99_s"] <= 2.0 and code == 0
    print("target p50 <= 1 s, p99 <= 2 s:", "met" if ok else "NOT met")
    if args.json:
        print(json.dumps(figures))
    shutil.rmtree(directory, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
