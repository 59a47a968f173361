"""`mailbot demo` as a user runs it: the whole story in under a minute, nothing left running."""
from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from servers import port_answers

pytestmark = pytest.mark.mail
ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


def _demo(*extra: str) -> list[str]:
    return [sys.executable, "-m", "mailbot.cli", "demo", *extra]


def _ports(out: str) -> tuple[int, int]:
    imap = re.search(r"server IMAP pymap di 127\.0\.0\.1:(\d+)", out)
    smtp = re.search(r"server SMTP aiosmtpd di 127\.0\.0\.1:(\d+)", out)
    assert imap and smtp, out[:2000]
    return int(imap.group(1)), int(smtp.group(1))


def _assert_nothing_left(out: str) -> None:
    imap_port, smtp_port = _ports(out)
    assert not port_answers("127.0.0.1", imap_port)
    assert not port_answers("127.0.0.1", smtp_port)
    left = subprocess.run(["pgrep", "-f", f"pymap.*--port {imap_port}"], capture_output=True, text=True)
    assert left.returncode == 1, f"pymap still running: {left.stdout}"
    workdir = re.search(r"Persiapan \(set-up\), di (\S+):", out).group(1)
    assert not Path(workdir).exists(), f"{workdir} was not removed"


def test_demo_plays_the_whole_story_and_leaves_nothing_running():
    started = time.monotonic()
    proc = subprocess.run(_demo(), capture_output=True, text=True, timeout=90, cwd=ROOT, env=ENV)
    elapsed = time.monotonic() - started
    out = proc.stdout
    assert proc.returncode == 0, f"{out[-3000:]}\n{proc.stderr[-3000:]}"
    assert elapsed < 60, f"the demo took {elapsed:.1f} s"

    for n in range(1, 12):
        assert f"Langkah {n}:" in out
    for word in ("SETUJU", "ktp-budi.jpg", "IDENTITAS OK", "JELAS", "SIAP", "TAGIH", "bukti-transfer.pdf",
                 "digest", "kuitansi", "halaman 12 kosong", "PERBAIKAN", "TUTUP", "penilaian"):
        assert word.lower() in out.lower(), word
    # what mailbot answered, read off the SMTP capture server
    assert "Permintaan publikasi Anda diterima" in out
    assert re.search(r"Lampiran \(attachments\): invoice-\d{4}-INV-1600-[IVXLC]+-\d{4}\.pdf", out)
    assert "1102001.16-2025.pdf" in out                         # the softcopy came from the library
    assert "Lampiran (attachments): 1102001.16-2025-perbaikan.pdf" in out
    # the invoice and the kuitansi, copied out under readable names, with their text
    assert re.search(r"\n  /\S+/invoice-\d{4}-INV-1600-[IVXLC]+-\d{4}\.pdf\n", out), out[-3000:]
    assert re.search(r"\n  /\S+/kuitansi-\d{4}-KWT-1600-[IVXLC]+-\d{4}\.pdf\n", out), out[-3000:]
    assert "| INVOICE" in out and "| KUITANSI" in out
    # the final `mailbot case REF` output
    ref = re.search(r"case (PUB-\d{4}-\d{4})\n", out).group(1)
    assert re.search(rf"\n{ref}  closed  Budi Santoso", out)
    assert "satisfaction 4" in out
    _assert_nothing_left(out)


def _reader(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def _read_until(lines: queue.Queue, marker: str, timeout: float) -> str:
    text, deadline = "", time.monotonic() + timeout
    while marker not in text:
        try:
            line = lines.get(timeout=max(deadline - time.monotonic(), 0.01))
        except queue.Empty:
            raise AssertionError(f"no {marker!r} within {timeout} s:\n{text[-3000:]}") from None
        if line is None:
            raise AssertionError(f"the demo ended before {marker!r}:\n{text[-3000:]}")
        text += line
    return text


def test_demo_keep_leaves_servers_up_until_ctrl_c():
    from imapclient import IMAPClient

    proc = subprocess.Popen(_demo("--keep"), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            cwd=ROOT, env=ENV)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_reader, args=(proc.stdout, lines), daemon=True).start()
    try:
        out = _read_until(lines, "Tekan Ctrl-C", timeout=90)
        keep = out[out.index("(--keep)"):]
        host, port = re.search(r"host (\S+)  port (\d+)", keep).groups()
        user, password = re.search(r"user (\S+)  password (\S+)", keep).groups()
        config = re.search(r"Konfigurasi \(config\): (\S+)", keep).group(1)
        assert "hanya MEREKAM" in keep and f"mailbot --config {config} run" in keep

        # a mail client sees the service mailbox: the story's mails, processed
        client = IMAPClient(host, int(port), ssl=False, timeout=10)
        client.login(user, password)
        assert client.select_folder("INBOX")[b"EXISTS"] == 0
        assert client.select_folder("Processed")[b"EXISTS"] == 10     # the 10 mails of the story
        client.logout()

        # and the printed config works for another mailbot process
        cases = subprocess.run([sys.executable, "-m", "mailbot.cli", "--config", config, "cases", "--json"],
                               capture_output=True, text=True, timeout=30, cwd=ROOT)
        assert cases.returncode == 0, cases.stderr
        assert [c["state"] for c in json.loads(cases.stdout)] == ["closed"]
        assert re.search(r"/invoice-\d{4}-INV-1600-[IVXLC]+-\d{4}\.pdf", out)
        assert Path(config).parent.joinpath(re.search(r"/(invoice-\S+\.pdf)", out).group(1)).is_file()

        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
        rest = ""
        while (line := lines.get(timeout=5)) is not None:
            rest += line
        assert "Semua server dihentikan" in rest
        _assert_nothing_left(out)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
