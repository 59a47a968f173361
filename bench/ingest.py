"""Benchmark: `mailbot run --once` draining the standard corpus vs a plain imapclient FETCH + `email` parse.

    python bench/ingest.py [-n 1000] [--extra-auto 50] [--extra-proofs 30] [--keep DIR] [--profile FILE]
                           [--code DIR]

Generates the shared corpus (../shared/bench/gen_corpus.py beside the clone, fixed seed) with subject tags in
mailbot's case format, adds out-of-office auto-replies and payment-proof replies (the corpus has
neither), MULTIAPPENDs everything to a private Dovecot twice (the mailbot user and a second user),
then times, in one run:

  mailbot  `python -m mailbot.cli --config F run --once` as a child process: every mail handled,
           every reply handed to a real SMTP server (aiosmtpd, in this process). Peak RSS is the
           child's own high-water mark (VmHWM, sampled; see measure.sample_rss).
  plain    one imapclient session: UID FETCH BODY.PEEK[] in chunks of 50, then
           `email.message_from_bytes(policy=default)` plus From, Subject and the text body.

  intake   the same mails (a third mailbox user) through mailbot's intake alone, in a child process:
           fetch, parse, decide, commit with the outbox rows queued, move — nothing sent.

and checks the outcome against the manifest: one case per new mail, numbered in corpus order;
every reply joined to its parent's case; auto-replies open nothing and are never answered;
every proof lands on its case. Last, a floor: a bare aiosmtplib client sends mailbot's replies again,
byte for byte, to the same server, which bounds the ratio any design that sends them could reach; and
the CPU budget a ratio of 0.5 leaves: the cores times twice the plain run, less what the SMTP server,
Dovecot and that bare client used, per mail. The floor rate is the corpus over
max(plain fetch + parse, bare client sending the replies).

`--code DIR` measures another checkout of mailbot (e.g. the previous release, in a `git worktree`) with
this script, so two versions are compared in one sitting.
"""
from __future__ import annotations

import argparse
import email
import email.policy
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))   # the test servers (Dovecot, pymap, capture SMTP)

import servers as devservers
from measure import sample_rss

GEN = ROOT.parent / "shared" / "bench" / "gen_corpus.py"   # the shared corpus generator beside the clone
CATALOG = ROOT / "mailbot" / "data" / "katalog-contoh.csv"
SERVICE = "diseminasi1600@bps.go.id"
PETUGAS = ["petugas1@bps.go.id", "petugas2@bps.go.id"]


# ---------------------------------------------------------------- corpus

def make_corpus(out: Path, n: int, tag_format: str) -> list[dict]:
    subprocess.run([sys.executable, str(GEN), "-n", str(n), "--out", str(out), "--tag-format", tag_format],
                   check=True, stdout=subprocess.DEVNULL)
    return json.loads((out / "manifest.json").read_text())


def extra_mails(manifest: list[dict], corpus: Path, autos: int, proofs: int, seed: int = 3) -> list[tuple[dict, bytes]]:
    """Out-of-office answers and payment proofs from corpus senders, replying to their own first mail."""
    rng = random.Random(seed)
    news = [e for e in manifest if e["kind"] == "new"]
    out: list[tuple[dict, bytes]] = []
    when = datetime(2025, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=7)))
    for k in range(autos + proofs):
        parent = rng.choice(news)
        head = email.message_from_bytes((corpus / f"{parent['idx']:05d}.eml").read_bytes(),
                                        policy=email.policy.default)
        name, addr = parseaddr(str(head["From"]))
        msg = EmailMessage(policy=email.policy.SMTP)
        msg["From"] = formataddr((name, addr))
        msg["To"] = SERVICE
        msg["Date"] = format_datetime(when + timedelta(minutes=k))
        msg["Message-ID"] = f"<extra-{k:04d}.{rng.getrandbits(40):010x}@{addr.split('@')[1]}>"
        msg["In-Reply-To"] = parent["message_id"]
        msg["References"] = parent["message_id"]
        entry = {"idx": len(manifest) + k + 1, "message_id": msg["Message-ID"].strip("<>"),
                 "parent_idx": parent["idx"], "expected_issue": parent["expected_issue"]}
        if k < autos:                        # Outlook / Gmail vacation responders
            entry["kind"] = "auto_reply"
            msg["Subject"] = f"Automatic reply: {parent['subject']}"
            msg["Auto-Submitted"] = "auto-replied"
            msg["X-Auto-Response-Suppress"] = "All"
            msg.set_content("Terima kasih atas email Anda. Saya sedang cuti sampai 10 Maret dan akan "
                            "membalas setelah kembali.\n")
        else:                                # a transfer proof with a ~100 KB PDF
            entry["kind"] = "proof"
            msg["Subject"] = f"Re: {parent['subject']}"
            msg.set_content(f"Berikut bukti transfer pembayarannya.\n\n{name}\n")
            pdf = b"%PDF-1.4\n" + rng.randbytes(100_000) + b"\n%%EOF\n"
            msg.add_attachment(pdf, maintype="application", subtype="pdf", filename=f"bukti transfer {k}.pdf")
        out.append((entry, msg.as_bytes()))
    return out


def append_all(server, user: str, raws: list[bytes]) -> None:
    with server.client(user) as c:
        for i in range(0, len(raws), 100):
            c.multiappend("INBOX", raws[i:i + 100])


# ---------------------------------------------------------------- the two contenders

def write_config(work: Path, imap, smtp, name: str = "mailbot", user: str = "svc") -> Path:
    return devservers.write_config(work / f"{name}.toml", imap, smtp, roles={"petugas": PETUGAS},
                                   imap=imap.settings(user=user),
                                   database={"url": f"sqlite:///{work / f'{name}.sqlite3'}"},
                                   storage={"dir": str(work / f"var-{name}"), "library_dir": str(work / "library")})


def run_mailbot(cfg: Path, log: Path, profile: Path | None, code: Path = ROOT) -> tuple[float, int, dict, SimpleNamespace]:
    """Wall seconds, exit status, the JSON result, and the child's own resource usage (peak RSS, CPU)."""
    prefix = ["-m", "cProfile", "-o", str(profile)] if profile else []
    argv = [sys.executable, *prefix, "-m", "mailbot.cli", "--config", str(cfg), "run", "--once"]
    return _child(argv, log, code)


# mailbot's intake and nothing else: the mailbox worked to the end, every mail committed with its outbox
# rows, nothing sent. Names from before the application layer moved (mailbot.service, mailbot.daemon) are
# tried second, so --code can measure the earlier release too.
_INTAKE = r"""
import json, logging, sys
from datetime import datetime, timezone
logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s %(message)s")
logging.getLogger("alembic").setLevel(logging.WARNING)
from mailbot.config import load_config
try:
    from mailbot.app.bootstrap import App
    from mailbot.runtime.daemon import fetch_once
except ImportError:
    from mailbot.service import App
    from mailbot.daemon import fetch_once
app = App(load_config(sys.argv[1]))
print(json.dumps(fetch_once(app, lambda: datetime.now(timezone.utc))))
"""


def run_intake(cfg: Path, log: Path, code: Path = ROOT) -> tuple[float, int, dict, SimpleNamespace]:
    return _child([sys.executable, "-c", _INTAKE, str(cfg)], log, code)


def _child(argv: list[str], log: Path, code: Path) -> tuple[float, int, dict, SimpleNamespace]:
    """Wall seconds, exit status, the JSON result and the child's CPU; its peak RSS (VmHWM, in KiB)
    replaces ru_maxrss, which counts this process's size at fork."""
    with log.open("wb") as err, (log.with_suffix(".json")).open("wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=code, stdout=out, stderr=err)
        peak: dict = {}
        sampler = sample_rss(proc.pid, peak)
        _, status, usage = os.wait4(proc.pid, 0)
        sampler.join()
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
    text = log.with_suffix(".json").read_text()
    usage = SimpleNamespace(ru_utime=usage.ru_utime, ru_stime=usage.ru_stime, ru_maxrss=peak.get("kb", 0))
    return seconds, proc.returncode, (json.loads(text) if text.strip() else {}), usage


def plain_fetch_parse(server, user: str, expected: int) -> tuple[float, int]:
    from imapclient import IMAPClient
    t0 = time.perf_counter()
    c = IMAPClient(server.host, server.port, ssl=False, timeout=60)
    c.login(user, server.users[user])
    c.select_folder("INBOX", readonly=True)
    uids = c.search("ALL")
    parsed = 0
    for i in range(0, len(uids), 50):
        for _uid, data in c.fetch(uids[i:i + 50], ["BODY.PEEK[]"]).items():
            msg = email.message_from_bytes(data[b"BODY[]"], policy=email.policy.default)
            _ = (str(msg["From"]), str(msg["Subject"]))
            body = msg.get_body(("plain", "html"))
            _ = body.get_content() if body is not None else ""
            parsed += 1
    c.logout()
    seconds = time.perf_counter() - t0
    assert parsed == expected, (parsed, expected)
    return seconds, parsed


def phase_times(log: Path) -> dict[str, float]:
    """From the run's own log: the first/last handled mail and the first/last send."""
    stamps: dict[str, list[float]] = {"intake": [], "sent": []}
    for line in log.read_text(errors="replace").splitlines():
        m = re.match(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) INFO mailbot action=(\w+)", line)
        if not m:
            continue
        at = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
        stamps["sent" if m.group(2) == "sent" else "intake"].append(at)
    return {k: (max(v) - min(v)) if len(v) > 1 else 0.0 for k, v in stamps.items()} | \
        {f"{k}_count": len(v) for k, v in stamps.items()}


_FLOOR = r"""
import asyncio, json, sqlite3, sys, time
import aiosmtplib
con = sqlite3.connect(sys.argv[1])
try:            # the envelope as a JSON list; a release from before it kept one string joined by ", "
    rows = [(s, json.loads(r), raw) for s, r, raw in con.execute("SELECT sender, recipients, raw FROM outbox ORDER BY id")]
except sqlite3.OperationalError:
    rows = [(s, r.split(", "), raw) for s, r, raw in con.execute("SELECT sender, recipient, raw FROM outbox ORDER BY id")]
async def main():
    smtp = aiosmtplib.SMTP(hostname=sys.argv[2], port=int(sys.argv[3]))
    await smtp.connect()
    t0, c0 = time.perf_counter(), time.process_time()
    for sender, recipients, raw in rows:
        await smtp.sendmail(sender, recipients, raw)
    print(time.perf_counter() - t0, time.process_time() - c0)
    await smtp.quit()
asyncio.run(main())
"""


def smtp_floor(db_path: Path, smtp) -> tuple[float, float, float]:
    """A bare aiosmtplib client (its own process, one connection, nothing else to do) hands mailbot's
    replies, byte for byte, to the same SMTP server: what sending costs at the least. Returns its wall
    seconds, its own CPU seconds and the server's CPU seconds."""
    server_cpu = smtp.cpu_seconds()
    out = subprocess.run([sys.executable, "-c", _FLOOR, str(db_path), smtp.host, str(smtp.port)],
                         check=True, capture_output=True, text=True)
    wall, client_cpu = map(float, out.stdout.split())
    return wall, client_cpu, smtp.cpu_seconds() - server_cpu


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process, its reaped children and its live descendants (Dovecot's master and
    the imap processes it forks), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    times: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue                        # it ended meanwhile
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        times[int(entry.name)] = sum(int(f) for f in fields[11:15])   # utime stime cutime cstime
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += times.get(p, 0)
        todo += children.get(p, [])
    return total / tick


# ---------------------------------------------------------------- correctness

def check(db_path: Path, manifest: list[dict], extras: list[dict], smtp, year: int) -> list[str]:
    import sqlite3
    con = sqlite3.connect(db_path)
    inbound = {mid: (case_id, outcome) for mid, case_id, outcome in
               con.execute("SELECT message_id, case_id, outcome FROM inbound")}
    ref_of = dict(con.execute("SELECT id, ref FROM cases"))
    outbox = con.execute("SELECT message_id, recipient, kind, status FROM outbox").fetchall()
    problems: list[str] = []
    news = [e for e in manifest if e["kind"] == "new"]
    if len(ref_of) != len(news):
        problems.append(f"cases opened: {len(ref_of)}, manifest new: {len(news)}")
    for e in manifest + extras:
        got = inbound.get(e["message_id"].strip("<>"))
        if got is None:
            problems.append(f"#{e['idx']} {e['kind']}: not handled")
            continue
        case_id, outcome = got
        want = f"PUB-{year}-{e['expected_issue']:04d}"
        ref = ref_of.get(case_id)
        if e["kind"] == "auto_reply":
            if outcome != "ignored_machine":
                problems.append(f"#{e['idx']} auto-reply: outcome {outcome}")
        elif ref != want:
            problems.append(f"#{e['idx']} {e['kind']}: case {ref}, expected {want} ({outcome})")
    not_sent = [r for r in outbox if r[3] != "sent"]
    if not_sent:
        problems.append(f"{len(not_sent)} outbox rows not sent")
    got_ids = {str(m.message["Message-ID"]).strip().strip("<>") for m in smtp.messages}
    if got_ids != {r[0] for r in outbox}:
        problems.append(f"SMTP got {len(got_ids)} distinct Message-IDs, outbox has {len(outbox)} rows")
    if len(smtp.messages) != len(got_ids):
        problems.append(f"{len(smtp.messages) - len(got_ids)} mails sent twice")
    return problems


# ---------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=1000, help="corpus size (default 1000)")
    ap.add_argument("--extra-auto", type=int, default=50, help="out-of-office auto-replies to add")
    ap.add_argument("--extra-proofs", type=int, default=30, help="payment-proof replies (100 KB PDF) to add")
    ap.add_argument("--keep", metavar="DIR", help="work here and keep everything (corpus, database, logs)")
    ap.add_argument("--profile", metavar="FILE", help="run mailbot under cProfile (slower) and print its top costs")
    ap.add_argument("--code", metavar="DIR", default=str(ROOT), help="the mailbot checkout to measure (default: this one)")
    a = ap.parse_args(argv)
    code = Path(a.code).resolve()

    work = Path(a.keep or tempfile.mkdtemp(prefix="mailbot-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    os.chmod(work, 0o755)
    year = date.today().year                 # case refs carry the year of handling
    corpus = work / "corpus"
    manifest = make_corpus(corpus, a.n, f"[PUB-{year}-{{n:04d}}]")
    raws = [(corpus / f"{e['idx']:05d}.eml").read_bytes() for e in manifest]
    extras = extra_mails(manifest, corpus, a.extra_auto, a.extra_proofs)
    raws += [raw for _, raw in extras]
    extra_entries = [e for e, _ in extras]
    total = len(raws)

    imap = devservers.DovecotServer(root=work / "dovecot", users={"svc": "rahasia", "plain": "rahasia",
                                                                  "intake": "rahasia"}).start()
    smtp = devservers.CaptureSMTPServer().start()
    try:
        t0 = time.perf_counter()
        append_all(imap, "svc", raws)
        append_all(imap, "plain", raws)
        append_all(imap, "intake", raws)
        append_s = time.perf_counter() - t0
        cfg = write_config(work, imap, smtp)
        intake_cfg = write_config(work, imap, smtp, name="intake", user="intake")
        for config in (cfg, intake_cfg):
            subprocess.run([sys.executable, "-m", "mailbot.cli", "--config", str(config), "catalog", "import",
                            str(CATALOG)], cwd=code, check=True, capture_output=True)

        c0 = time.thread_time()
        plain_s, _ = plain_fetch_parse(imap, "plain", total)
        plain_cpu = time.thread_time() - c0
        profile = Path(a.profile) if a.profile else None
        server_cpu, dovecot_cpu = smtp.cpu_seconds(), tree_cpu(imap.proc.pid)
        bot_s, rc, result, usage = run_mailbot(cfg, work / "run.log", profile, code)
        server_cpu, dovecot_cpu = smtp.cpu_seconds() - server_cpu, tree_cpu(imap.proc.pid) - dovecot_cpu
        phases = phase_times(work / "run.log")
        problems = check(work / "mailbot.sqlite3", manifest, extra_entries, smtp, year) if rc == 0 else \
            [f"run --once exited {rc}: {(work / 'run.log').read_text()[-2000:]}"]
        intake_s, intake_rc, intake_result, intake_usage = run_intake(intake_cfg, work / "intake.log", code)
        if intake_rc != 0:
            problems.append(f"intake alone exited {intake_rc}: {(work / 'intake.log').read_text()[-2000:]}")
        left = len(imap.list_messages("INBOX", user="svc"))
        delivered = len(smtp.messages)
        smtp.clear()
        floor_s, floor_cpu, floor_server_cpu = smtp_floor(work / "mailbot.sqlite3", smtp) if rc == 0 else (0.0,) * 3

        plain_rate, bot_rate = total / plain_s, total / bot_s
        intake_rate = phases["intake_count"] / phases["intake"] if phases["intake"] else 0.0
        kinds = {k: sum(1 for e in manifest + extra_entries if e["kind"] == k)
                 for k in ("new", "reply_tag", "reply_irt", "auto_reply", "proof")}
        print(f"messages: {total} ({', '.join(f'{k} {v}' for k, v in kinds.items())}); "
              f"{sum(len(r) for r in raws) / 2**20:.1f} MiB; appended twice in {append_s:.2f} s")
        print(f"plain imapclient FETCH + email parse: {plain_s:7.2f} s  {plain_rate:7.1f} msg/s")
        print(f"mailbot run --once (all, incl. start): {bot_s:7.2f} s  {bot_rate:7.1f} msg/s  "
              f"(intake only {intake_rate:.1f} msg/s over {phases['intake']:.2f} s; "
              f"{phases['sent_count']} mails sent in {phases['sent']:.2f} s)")
        print(f"ratio mailbot/plain: {bot_rate / plain_rate:.3f}   (target >= 0.5)")
        print(f"mailbot intake alone (fetch, parse, decide, commit with outbox rows queued, move; nothing sent): "
              f"{intake_s:7.2f} s  {total / intake_s:7.1f} msg/s  ratio to plain {plain_s / intake_s:.3f}  "
              f"({json.dumps(intake_result)}; peak RSS {intake_usage.ru_maxrss / 1024:.1f} MiB, "
              f"CPU {intake_usage.ru_utime + intake_usage.ru_stime:.2f} s)")
        if floor_s:
            best = max(plain_s, floor_s)
            print(f"floor rate: the corpus over max(plain fetch + parse {plain_s:.2f} s, bare client sending the "
                  f"replies {floor_s:.2f} s) = {total / best:.1f} msg/s; mailbot end to end reaches "
                  f"{bot_s and best / bot_s:.3f} of it")
            print(f"floor: bare aiosmtplib hands the same {phases['sent_count']} replies to the same server in "
                  f"{floor_s:.2f} s; with all else free the ratio could reach at most "
                  f"{plain_s / (plain_s + floor_s):.2f} sending after the fetch, "
                  f"{plain_s / max(plain_s, floor_s):.2f} sending alongside it")
        print(f"peak RSS of the mailbot run: {usage.ru_maxrss / 1024:.1f} MiB   (target < 120)")
        cores = len(os.sched_getaffinity(0))
        bot_cpu = usage.ru_utime + usage.ru_stime
        print(f"CPU during the mailbot run: mailbot {bot_cpu:.2f} s ({1000 * bot_cpu / total:.1f} ms per mail), "
              f"the SMTP server {server_cpu:.2f} s, Dovecot {dovecot_cpu:.2f} s; the plain loop used "
              f"{plain_cpu:.2f} s ({1000 * plain_cpu / total:.1f} ms per mail)")
        if floor_s:
            wall = plain_s / 0.5
            # the server's share as the bare client fed it (the smaller figure, so the budget errs generous)
            spare = cores * wall - floor_server_cpu - dovecot_cpu - floor_cpu
            print(f"budget for ratio 0.5: the run must end within {wall:.2f} s, {cores * wall:.2f} CPU-s on {cores} "
                  f"cores; of them the SMTP server needs {floor_server_cpu:.2f} to take the replies from a bare "
                  f"client, which needs {floor_cpu:.2f} to send them, and Dovecot {dovecot_cpu:.2f} to serve the "
                  f"mailbox: {spare:.2f} CPU-s "
                  f"({1000 * spare / total:.1f} ms per mail) are left for all the rest, with no core ever idle")
        print(f"result: {json.dumps(result)}")
        print(f"INBOX left: {left}; SMTP deliveries: {delivered}")
        if problems:
            print(f"CORRECTNESS: {len(problems)} problem(s)")
            for p in problems[:30]:
                print("  ", p)
        else:
            print("correctness: every new mail opened its case in corpus order, every reply and proof joined "
                  "its parent's case, no auto-reply answered, every outbox row sent exactly once")
        if profile:
            import pstats
            pstats.Stats(str(profile)).sort_stats("cumulative").print_stats(30)
        return 0 if not problems and left == 0 else 1
    finally:
        smtp.stop()
        imap.close()
        if not a.keep:
            import shutil
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
