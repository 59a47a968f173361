"""What the benchmarks measure of a child process beyond its wall time."""
from __future__ import annotations

import threading
import time


def sample_rss(pid: int, peak: dict) -> threading.Thread:
    """The child's high-water mark (VmHWM) every 20 ms, and when it last rose. Not wait4's ru_maxrss:
    Linux carries the parent's resident size at fork into it (a benchmark holds its generated mails,
    up to 200 MiB), which would hide the child's own figure."""
    def run():
        while True:
            try:
                with open(f"/proc/{pid}/status") as f:
                    kb = next(int(line.split()[1]) for line in f if line.startswith("VmHWM"))
            except (FileNotFoundError, StopIteration, ProcessLookupError, ValueError):
                return
            if kb > peak.get("kb", 0):
                peak.update(kb=kb, at=time.time())
            time.sleep(0.02)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t
