"""Benchmark: `mailbot run --once` draining a mailbox of hostile mail, one ordinary request at the end.

    python bench/hostile.py [--scale 1.0] [--seed 14] [--keep DIR]

Generates at least 2,000 hostile mails (issue 14's inputs: forged bendahara approvals against our own
server's fail, ambiguous From lines, non-ASCII and comma-stuffed senders, absurd Message-IDs and
subjects, header floods, reused Message-IDs, +tag robots and domain robots, noreply senders, oversized
identity documents; and beside them truncated MIME, deep nesting, thousands of parts, bad charsets, NUL
bytes, zip bombs, winmail.dat, calendar invites, fuzzed mail), MULTIAPPENDs them to a private Dovecot
with one ordinary request last, runs `python -m mailbot.cli run --once` as a child process against a
real SMTP server (aiosmtpd, in this process) and prints:

  crashes      exit code, mails quarantined for an unexpected error (not a bound), send crashes
  left         mails still in the INBOX
  quarantined  mails in the quarantine folder, by reason
  vanished     mails taken from the INBOX with no record: no inbound row, no duplicate event, no
               quarantine event for their UID (target 0)
  ordinary     whether the ordinary request was answered, and when (seconds after the run started)
  slowest mail the longest gap between two handled mails in the run's log (target < 1 s)
  peak RSS     of the child (its VmHWM; target < 200 MB)
"""
from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections import Counter
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))   # the test servers (Dovecot, capture SMTP)

import servers as devservers
from measure import sample_rss

CATALOG = ROOT / "mailbot" / "data" / "katalog-contoh.csv"
SERVICE = "diseminasi1600@bps.go.id"
PETUGAS = ["petugas1@bps.go.id", "petugas2@bps.go.id"]
BENDAHARA = "bendahara@bps.go.id"
AUTHSERV = "mx.bps.go.id"
ORDINARY = "pelanggan.biasa@gmail.com"
REQUEST = "Saya ingin membeli softcopy Provinsi Sumatera Selatan Dalam Angka 2025."
LIMIT_ATTACHMENT_MB, LIMIT_MESSAGE_MB = 2, 10        # the bench office's storage limits


# ---------------------------------------------------------------- building blocks

class Gen:
    """Hostile mail of every kind, reproducible from one seed."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.n = 0
        self._zip: bytes | None = None

    def mid(self, domain: str = "example.com") -> str:
        self.n += 1
        return f"<h{self.n}.{self.rng.getrandbits(32):08x}@{domain}>"

    def mail(self, frm: bytes | str, subject: bytes | str = "Permintaan publikasi", body: bytes | str = REQUEST, *,
             mid: str | None = None, above: bytes = b"", extra: bytes = b"",
             ctype: bytes = b"text/plain; charset=utf-8") -> bytes:
        frm = frm.encode() if isinstance(frm, str) else frm
        subject = subject.encode() if isinstance(subject, str) else subject
        body = body.encode() if isinstance(body, str) else body
        return (above + b"From: " + frm + b"\r\nTo: " + SERVICE.encode() + b"\r\nSubject: " + subject
                + b"\r\nDate: Mon, 30 Nov 2026 10:00:00 +0700\r\nMessage-ID: " + (mid or self.mid()).encode()
                + b"\r\n" + extra + b"MIME-Version: 1.0\r\nContent-Type: " + ctype + b"\r\n\r\n" + body + b"\r\n")

    def multipart(self, frm: str, parts: list[tuple[bytes, bytes]], subject: str = "Permintaan publikasi",
                  sub: bytes = b"mixed", boundary: bytes = b"=_b0und") -> bytes:
        body = b"".join(b"--" + boundary + b"\r\n" + head + b"\r\n\r\n" + data + b"\r\n" for head, data in parts)
        return self.mail(frm, subject, body + b"--" + boundary + b"--", ctype=b"multipart/" + sub + b"; boundary=\""
                         + boundary + b"\"")

    def zip_bomb(self) -> bytes:
        if self._zip is None:
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
                for k in range(4):
                    z.writestr(f"data{k}.txt", b"\0" * (64 * 2**20))
            inner = buf.getvalue()
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
                for k in range(8):
                    z.writestr(f"lapis{k}.zip", inner)
            self._zip = buf.getvalue()
        return self._zip


def ours(result: str) -> bytes:
    return f"Authentication-Results: {AUTHSERV}; {result}\r\n".encode()


def b64(data: bytes) -> bytes:
    import base64
    return base64.encodebytes(data)


# ---------------------------------------------------------------- the kinds

def forged_bendahara(g: Gen) -> bytes:
    code = "".join(g.rng.choice("0123456789ABCDEF") for _ in range(10))
    return g.mail(BENDAHARA, f"Re: Digest pembayaran (kode {code})", "SETUJU P3K7QX",
                  above=ours("dkim=fail header.d=bps.go.id; spf=fail smtp.mailfrom=bps.go.id"))


def ambiguous_from(g: Gen) -> bytes:
    frm = g.rng.choice([b"petugas1@bps.go.id <mallory@bps.go.id>", b"<petugas1@bps.go.id><mallory@bps.go.id>",
                        b"petugas1@bps.go.id;<mallory@bps.go.id>", b'"petugas1@bps.go.id" <mallory@bps.go.id>',
                        b"petugas1@bps.go.id, mallory@bps.go.id", b"=?utf-8?q?petugas1=40bps.go.id?= <m@bps.go.id>"])
    return g.mail(frm, "Re: [PUB-2026-0001] Permintaan baru (kode 0123456789)", "BATAL palsu",
                  above=ours("dkim=pass header.d=bps.go.id") if g.rng.random() < 0.7 else b"")


def forged_tagih(g: Gen) -> bytes:
    return g.mail("petugas1@bps.go.id", "Re: [PUB-2026-0001] Permintaan baru",
                  "TAGIH BILLING 123456789012345 2000-01-01",
                  above=ours(g.rng.choice(["dkim=fail header.d=bps.go.id", "spf=softfail smtp.mailfrom=bps.go.id"])))


def non_ascii_sender(g: Gen) -> bytes:
    local = g.rng.choice(["büdi", "siti.nurhaliza.ü", "用户", "pelanggan.é", "ñandú"])
    return g.mail(f"{local}{g.n}@example.com".encode(), body=REQUEST)


def comma_sender(g: Gen) -> bytes:
    return g.mail(f'"x, victim{g.rng.randrange(9)}@evil.com, y{g.n}"@example.com', body=REQUEST)


def long_message_id(g: Gen) -> bytes:
    return g.mail(f"panjang{g.n}@example.com", mid="<" + "a" * g.rng.randrange(1000, 4000) + f"{g.n}@example.com>")


def long_subject(g: Gen) -> bytes:
    subject = g.rng.choice(["kata " * 300, "x" * 1500, "é" * 1500, "=?utf-8?q?" + "a" * 1400 + "?="])
    return g.mail(f"subjek{g.n}@example.com", subject.strip())


def cc_flood(g: Gen) -> bytes:
    return g.mail("flood@example.com", extra=b"Cc: " + b",\r\n ".join(b"user%d@example.com" % n for n in range(60_000))
                  + b"\r\n")


def param_flood(g: Gen) -> bytes:
    return g.mail("params@example.com", ctype=b"text/plain; " + b";\r\n ".join(b"p%d=v" % n for n in range(150_000)))


def long_header_line(g: Gen) -> bytes:
    word = g.rng.choice([b"a", b"=?utf-8?q?a?= ", b"kata "])
    return g.mail("line@example.com", extra=b"X-Long: " + word * (2**20 // len(word)) + b"\r\n")


def reused_ids(g: Gen) -> list[bytes]:
    mid = g.mid()
    return [g.mail(f"pertama{g.n}@example.com", mid=mid),
            g.mail(f"kedua{g.n}@example.org", body="Saya ingin membeli Statistik Daerah 2025.", mid=mid)]


def exact_duplicate(g: Gen) -> list[bytes]:
    one = g.mail(f"dobel{g.n}@example.com")
    return [one, b"Received: from relay.example.net by mx.bps.go.id; Mon, 30 Nov 2026 10:01:00 +0700\r\n" + one]


def plus_tag_robot(g: Gen) -> bytes:
    return g.mail(f"robot3+{g.n}@example.org", body=f"{REQUEST} nomor {g.n}")


def domain_robot(g: Gen) -> bytes:
    return g.mail(f"r{g.n}@robots.example", body=f"{REQUEST} ({g.n})")


def noreply(g: Gen) -> bytes:
    local = g.rng.choice(["noreply", "no-reply", "donotreply", "bounce", "bounces+", "no_reply"]) + str(g.n)
    return g.mail(f"{local}@example.net", "Pemberitahuan otomatis", "Ini email otomatis.")


def oversized_identity(g: Gen) -> bytes:
    photo = b"\xff\xd8\xff\xe0" + os.urandom(int(LIMIT_ATTACHMENT_MB * 2**20 * 1.2)) + b"\xff\xd9"
    return g.multipart(f"ktpbesar{g.n}@example.com", [
        (b"Content-Type: text/plain; charset=utf-8", b"SETUJU\r\n\r\n" + REQUEST.encode()),
        (b'Content-Type: image/jpeg\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; '
         b'filename="ktp.jpg"', b64(photo))])


def too_large(g: Gen) -> bytes:
    blob = os.urandom(int(LIMIT_MESSAGE_MB * 2**20 * 0.8))
    return g.multipart(f"besar{g.n}@example.com", [
        (b"Content-Type: text/plain", REQUEST.encode()),
        (b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64", b64(blob))],
        subject="x" * 1500)


def truncated(g: Gen) -> bytes:
    whole = g.multipart(f"potong{g.n}@example.com", [
        (b"Content-Type: text/plain; charset=utf-8", REQUEST.encode()),
        (b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; "
         b"filename=a.pdf", b64(b"%PDF-1.4\n" + os.urandom(20_000)))])
    return whole[:g.rng.randrange(len(whole) // 3, len(whole))]


def deep(g: Gen) -> bytes:
    depth = g.rng.choice([40, 100, 400, 2000, 5000])
    kind = g.rng.choice(["multipart", "rfc822"])
    if kind == "multipart":
        head = b"".join(b'Content-Type: multipart/mixed; boundary="d%d"\r\n\r\n--d%d\r\n' % (i, i)
                        for i in range(depth))
    else:
        head = b"Content-Type: message/rfc822\r\n\r\n" * depth
    return (b"From: dalam%d@example.com\r\nTo: %s\r\nSubject: dalam\r\nMessage-ID: %s\r\nMIME-Version: 1.0\r\n"
            % (g.n, SERVICE.encode(), g.mid().encode()) + head + b"Content-Type: text/plain\r\n\r\n"
            + REQUEST.encode() + b"\r\n")


def many_parts(g: Gen) -> bytes:
    n = g.rng.choice([600, 2000, 10_000])
    return g.multipart(f"bagian{g.n}@example.com", [(b"Content-Type: text/plain", b"bagian %d" % k) for k in range(n)])


def bad_charset(g: Gen) -> bytes:
    text = "Saya ingin membeli publikasi Statistik Daerah, terima kasih — salam hangat ñ ü 用户".encode()
    variant = g.rng.randrange(6)
    if variant == 0:
        return g.mail(f"cs{g.n}@example.com", body=text, ctype=b"text/plain; charset=x-unknown-" + str(g.n).encode())
    if variant == 1:
        return g.mail(f"cs{g.n}@example.com", body=text.decode().encode("cp1252", "replace"),
                      ctype=b"text/plain; charset=utf-8")
    if variant == 2:
        return g.mail(f"cs{g.n}@example.com", "Permintaan \xe9\xff\xfe publikasi".encode("latin-1"), text)
    if variant == 3:
        return g.mail(f"cs{g.n}@example.com", b"=?x-bogus?B?!!!notbase64?= =?utf-8?q?=ZZ=?=", text)
    if variant == 4:
        return g.mail(f"cs{g.n}@example.com", body=text, ctype=b'text/plain; charset="utf-16"')
    return g.mail(f"cs{g.n}@example.com", body=b"\xff\xfe" + text, ctype=b"text/html; charset=gb2312")


def nul_bytes(g: Gen) -> bytes:
    variant = g.rng.randrange(3)
    if variant == 0:
        return g.mail(f"nul{g.n}@example.com", b"Permintaan\x00publikasi", REQUEST.replace(" ", "\x00 "))
    if variant == 1:
        return g.mail(f"nul{g.n}\x00x@example.com".encode(), body=REQUEST)
    return g.multipart(f"nul{g.n}@example.com", [
        (b"Content-Type: text/plain", REQUEST.encode()),
        (b'Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="ktp\x00.exe.pdf"',
         b"%PDF-1.4\x00\x00\x00")])


def zip_bomb(g: Gen) -> bytes:
    return g.multipart(f"zip{g.n}@example.com", [
        (b"Content-Type: text/plain", b"SETUJU\r\nBerikut KTP saya (dalam zip)."),
        (b'Content-Type: application/zip\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; '
         b'filename="ktp.zip"', b64(g.zip_bomb()))])


def winmail(g: Gen) -> bytes:
    blob = b"\x78\x9f\x3e\x22" + os.urandom(g.rng.randrange(10, 5000))
    return g.multipart(f"outlook{g.n}@example.com", [
        (b"Content-Type: text/plain", REQUEST.encode()),
        (b'Content-Type: application/ms-tnef\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; '
         b'filename="winmail.dat"', b64(blob))])


def calendar(g: Gen) -> bytes:
    ics = (b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:%d@example.com\r\nDTSTART:20261201T090000Z\r\n"
           b"SUMMARY:Rapat koordinasi\r\nORGANIZER:mailto:rapat%d@example.com\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
           % (g.n, g.n))
    return g.multipart(f"rapat{g.n}@example.com", [
        (b"Content-Type: text/plain; charset=utf-8", b"Undangan rapat koordinasi"),
        (b'Content-Type: text/calendar; method=REQUEST; charset=utf-8', ics),
        (b'Content-Type: application/ics; name="invite.ics"\r\nContent-Disposition: attachment; filename="invite.ics"',
         ics)], subject="Undangan: Rapat koordinasi", sub=b"alternative" if g.rng.random() < 0.5 else b"mixed")


def header_injection(g: Gen) -> bytes:
    return g.mail(f"inject{g.n}@example.com", b"=?utf-8?q?Permintaan=0D=0ABcc:_victim@evil.com?=",
                  extra=b"Reply-To: victim@evil.com\r\n")


def auto_reply(g: Gen) -> bytes:
    return g.mail(f"cuti{g.n}@example.com", "Automatic reply: Permintaan publikasi", "Saya sedang cuti.",
                  extra=b"Auto-Submitted: auto-replied\r\n")


def not_a_mail(g: Gen) -> bytes:
    return g.rng.choice([b"\x00\x01garbage", os.urandom(300), b"hanya teks tanpa header\r\n",
                         b"   \r\n\r\n" + b"x" * 10])


def fuzzed(g: Gen) -> bytes:
    base = bytearray(g.multipart(f"fuzz{g.n}@example.com", [
        (b"Content-Type: text/plain; charset=utf-8", REQUEST.encode()),
        (b'Content-Type: image/jpeg\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; '
         b'filename="ktp.jpg"', b64(b"\xff\xd8\xff\xe0" + os.urandom(3000)))]))
    for _ in range(g.rng.randint(1, 40)):
        i = g.rng.randrange(len(base))
        base[i:i + 1] = g.rng.choice([b"\x00", b"\r\n--", b"=?utf-8?B?4oA=?=", b"<", b";;;", b"\xff", b"\r\n\r\n"])
    return bytes(base)


KINDS = {   # kind: (builder, how many at scale 1)
    "forged-bendahara": (forged_bendahara, 40), "ambiguous-from": (ambiguous_from, 80),
    "forged-tagih": (forged_tagih, 20), "non-ascii-sender": (non_ascii_sender, 40), "comma-sender": (comma_sender, 40),
    "long-message-id": (long_message_id, 40), "long-subject": (long_subject, 40), "cc-flood": (cc_flood, 5),
    "parameter-flood": (param_flood, 5), "1mb-header-line": (long_header_line, 5), "reused-id": (reused_ids, 40),
    "exact-duplicate": (exact_duplicate, 40), "plus-tag-robot": (plus_tag_robot, 300),
    "domain-robot": (domain_robot, 120), "noreply": (noreply, 100), "oversized-identity": (oversized_identity, 10),
    "too-large": (too_large, 5), "truncated-mime": (truncated, 100), "deep-nesting": (deep, 40),
    "many-parts": (many_parts, 20), "bad-charset": (bad_charset, 200), "nul-bytes": (nul_bytes, 100),
    "zip-bomb": (zip_bomb, 20), "winmail.dat": (winmail, 40), "calendar-invite": (calendar, 60),
    "header-injection": (header_injection, 40), "auto-reply": (auto_reply, 50), "not-a-mail": (not_a_mail, 20),
    "fuzzed": (fuzzed, 340),
}


def generate(seed: int, scale: float) -> list[tuple[str, bytes]]:
    g = Gen(seed)
    out: list[tuple[str, bytes]] = []
    for kind, (build, count) in KINDS.items():
        for _ in range(max(1, round(count * scale))):
            made = build(g)
            out += [(kind, m) for m in (made if isinstance(made, list) else [made])]
    g.rng.shuffle(out)
    return out


# ---------------------------------------------------------------- running

def append_all(server, user: str, raws: list[bytes]) -> list[int]:
    """APPEND in batches; the UID each mail got, in order (from APPENDUID)."""
    uids: list[int] = []
    with server.client(user) as c:
        batch: list[bytes] = []
        size = 0

        def flush():
            nonlocal batch, size
            if batch:
                answer = c.multiappend("INBOX", batch)
                text = b" ".join(a if isinstance(a, bytes) else str(a).encode() for a in
                                 (answer if isinstance(answer, (tuple, list)) else [answer]))
                found = re.search(rb"APPENDUID \d+ ([\d:,]+)", text)
                uids.extend(_uid_set(found.group(1).decode()))
                batch, size = [], 0
        for raw in raws:
            if batch and (len(batch) == 100 or size + len(raw) > 16 * 2**20):
                flush()
            batch.append(raw)
            size += len(raw)
        flush()
    assert len(uids) == len(raws), (len(uids), len(raws))
    return uids


def _uid_set(text: str) -> list[int]:
    out: list[int] = []
    for piece in text.split(","):
        a, _, b = piece.partition(":")
        out += list(range(int(a), int(b or a) + 1))
    return out


def watch_for(smtp, address: str, found: dict) -> threading.Thread:
    def run():
        while "at" not in found and not found.get("stop"):
            if any(address in m.rcpt_tos for m in smtp.messages):
                found["at"] = time.perf_counter()
            time.sleep(0.05)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def line_before(log: Path, at: float) -> str:
    """The last line of mailbot's log written before instant `at`."""
    last = ""
    for line in log.read_text(errors="replace").splitlines():
        m = re.match(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ", line)
        if m:
            if datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp() > at:
                break
            last = line
    return last[:200]


def log_facts(log: Path, ordinary_id: str) -> dict:
    """From the run's own log: the longest gap between two handled mails, crashed sends, and when the
    ordinary request was handled and its acknowledgement sent."""
    stamps, sends_crashed, handled, answered = [], 0, None, None
    for line in log.read_text(errors="replace").splitlines():
        m = re.match(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \w+ mailbot action=(\w+)(.*)", line)
        if not m:
            continue
        at = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
        action = m.group(2)
        if action not in ("sent", "send_failed", "send_deferred", "send_refused", "jobs", "lock_acquired",
                          "reply_suppressed", "notice_suppressed", "recipient_invalid", "claims_released"):
            stamps.append(at)
        sends_crashed += action == "send_crashed"
        if handled is None and f"message_id={ordinary_id} " in m.group(3):
            handled = at
        if answered is None and action == "sent" and f"to={ORDINARY} " in m.group(3):
            answered = at
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    return {"slowest": max(gaps, default=0.0), "send_crashes": sends_crashed, "handled": handled,
            "answered": answered}


# Why a mail may be quarantined on purpose: over a bound, not a mail at all, no sender to file it under.
EXPECTED = ("MailOverLimit", "MalformedMail", "ValueError: the mail has no usable sender address")


def quarantine_reasons(db_path: Path) -> Counter:
    con = sqlite3.connect(db_path)
    try:
        details = [d for (d,) in con.execute("SELECT detail FROM events WHERE kind = 'quarantined'")]
    finally:
        con.close()
    return Counter(re.sub(r"\d[\d,]*", "N", d.split(": ", 1)[-1])[:70] for d in details)


def accounted(db_path: Path, uids: list[int]) -> tuple[set[int], set[int], set[int]]:
    """UIDs with an inbound row, with a duplicate event, with a quarantine event."""
    con = sqlite3.connect(db_path)
    try:
        rows = {u for (u,) in con.execute("SELECT uid FROM inbound WHERE uid IS NOT NULL")}
        events = con.execute("SELECT kind, detail FROM events WHERE kind IN ('duplicate', 'quarantined')").fetchall()
    finally:
        con.close()
    dup = {int(m.group(1)) for k, d in events if k == "duplicate" for m in [re.search(r"uid=(\d+)", d)] if m}
    quar = {int(m.group(1)) for k, d in events if k == "quarantined" for m in [re.search(r"uid=(\d+)", d)] if m}
    wanted = set(uids)
    return rows & wanted, dup & wanted, quar & wanted


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every kind's count (default 1: 2,000+ mails)")
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--keep", metavar="DIR", help="work here and keep everything (database, logs)")
    a = ap.parse_args(argv)

    work = Path(a.keep or tempfile.mkdtemp(prefix="mailbot-hostile-"))
    work.mkdir(parents=True, exist_ok=True)
    os.chmod(work, 0o755)
    t0 = time.perf_counter()
    mails = generate(a.seed, a.scale)
    ordinary = Gen(a.seed + 1).mail(ORDINARY, "Permintaan publikasi", REQUEST)
    raws = [m for _, m in mails] + [ordinary]
    gen_s = time.perf_counter() - t0

    imap = devservers.DovecotServer(root=work / "dovecot", users={"svc": "rahasia"}).start()
    smtp = devservers.CaptureSMTPServer().start()
    try:
        imap.reset(user="svc")                  # a kept directory starts empty again
        for stale in ("mailbot.sqlite3", "mailbot.sqlite3-wal", "mailbot.sqlite3-shm"):
            (work / stale).unlink(missing_ok=True)
        t0 = time.perf_counter()
        uids = append_all(imap, "svc", raws)
        append_s = time.perf_counter() - t0
        cfg = devservers.write_config(
            work / "mailbot.toml", imap, smtp,
            roles={"petugas": PETUGAS, "bendahara": [BENDAHARA], "supervisor": ["kepala@bps.go.id"]},
            database={"url": f"sqlite:///{work / 'mailbot.sqlite3'}"},
            storage={"dir": str(work / "var"), "library_dir": str(work / "library"),
                     "max_attachment_mb": LIMIT_ATTACHMENT_MB, "max_message_mb": LIMIT_MESSAGE_MB})
        subprocess.run([sys.executable, "-m", "mailbot.cli", "--config", str(cfg), "catalog", "import", str(CATALOG)],
                       cwd=ROOT, check=True, capture_output=True)

        found: dict = {}
        log = work / "run.log"
        argv = [sys.executable, "-m", "mailbot.cli", "--config", str(cfg), "run", "--once"]
        with log.open("wb") as err, (work / "run.json").open("wb") as out:
            started, started_wall = time.perf_counter(), time.time()
            watcher = watch_for(smtp, ORDINARY, found)
            proc = subprocess.Popen(argv, cwd=ROOT, stdout=out, stderr=err)
            peak: dict = {}
            sampler = sample_rss(proc.pid, peak)
            _, status, usage = os.wait4(proc.pid, 0)
            sampler.join()
            run_s = time.perf_counter() - started
            time.sleep(0.2)
            found["stop"] = True
            watcher.join()
        code = os.waitstatus_to_exitcode(status)
        result = json.loads((work / "run.json").read_text() or "{}")

        left = len(imap.list_messages("INBOX", user="svc"))
        quarantined = len(imap.list_messages("Quarantine", user="svc"))
        handled, dups, quars = accounted(work / "mailbot.sqlite3", uids)
        in_inbox = left
        vanished = len(uids) - len(handled | dups | quars) - in_inbox
        ordinary_id = re.search(rb"Message-ID: <([^>]+)>", ordinary).group(1).decode()
        facts = log_facts(log, ordinary_id)
        reasons = quarantine_reasons(work / "mailbot.sqlite3")
        unexpected = sum(n for r, n in reasons.items() if not r.startswith(EXPECTED))
        ordinary_uid = uids[-1]
        kinds = Counter(k for k, _ in mails)

        print(f"hostile mails: {len(mails)} of {len(kinds)} kinds, {sum(len(r) for r in raws) / 2**20:.1f} MiB, "
              f"plus one ordinary request last; generated in {gen_s:.1f} s, appended in {append_s:.1f} s")
        print(f"run --once: exit {code}, {run_s:.1f} s; mail outcomes {dict(sorted(result.get('mail', {}).items()))}")
        print(f"outbox: {result.get('outbox')}; mails at the SMTP server: {len(smtp.messages)}")
        print(f"crashes: exit code {code}, {unexpected} quarantined for an unexpected error, "
              f"{facts['send_crashes']} send crashes")
        print(f"left in the INBOX: {left}")
        too_large = result.get("mail", {}).get("too_large", 0)
        print(f"quarantine folder: {quarantined} ({sum(reasons.values())} quarantined, {too_large} too large to "
              "download, their senders told the limit)")
        for reason, n in reasons.most_common():
            print(f"  {n:5d}  {reason}")
        print(f"recorded: {len(handled)} with an inbound row, {len(dups)} duplicates with an event, "
              f"{len(quars)} with a quarantine event")
        print(f"vanished: {vanished}   (target 0)")
        answered = "at" in found
        print(f"ordinary request: {'answered' if answered else 'NOT answered'}"
              + (f", its acknowledgement at the SMTP server {found['at'] - started:.1f} s after the run started"
                 if answered else "") + f" (recorded: {ordinary_uid in handled})")
        if facts["handled"] and facts["answered"]:
            print(f"  handled {facts['handled'] - started_wall:.1f} s into the run (it is the last mail of "
                  f"{len(raws)}), its acknowledgement sent {1000 * (facts['answered'] - facts['handled']):.0f} ms later")
        print(f"slowest single mail (longest gap between two handled mails in the log): {facts['slowest']:.2f} s "
              f"(target < 1 s)")
        peak_mib = peak.get("kb", 0) / 1024
        print(f"peak RSS of the mailbot run: {peak_mib:.1f} MiB   (target < 200; VmHWM, sampled every 20 ms)")
        if peak:
            print(f"  last rose {peak['at'] - started_wall:.1f} s into the run, after: {line_before(log, peak['at'])}")
        print(f"CPU of the mailbot run: {usage.ru_utime + usage.ru_stime:.1f} s")
        ok = code == 0 and vanished == 0 and left == 0 and answered and peak_mib < 200 \
            and unexpected == 0
        return 0 if ok else 1
    finally:
        smtp.stop()
        imap.close()
        if not a.keep:
            import shutil
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
