"""Files on disk: raw .eml and attachments under their content hash, never under a given name."""
from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from pathlib import Path


class Storage:
    """A content-addressed store below one directory.

    Every file is written to a temporary name and renamed into place, so a crash never leaves half a
    file under a real name. With `sync_each` the bytes are also forced to disk at once; without it
    they are forced to disk by `sync()`, which the intake calls once per batch before anything leaves
    the machine (the same barrier as the database's)."""

    def __init__(self, root: Path, *, sync_each: bool = True):
        self.root = Path(root)
        self.sync_each = sync_each
        self._unsynced: set[Path] = set()
        self._lock = threading.Lock()

    def _write(self, path: Path, data: bytes) -> None:
        if path.exists():
            return                       # same hash, same bytes: nothing to do
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                if self.sync_each:
                    os.fsync(out.fileno())
            os.replace(tmp, path)        # atomic: a crash never leaves half a file under the final name
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        if self.sync_each:
            fsync_path(path.parent)
        else:
            with self._lock:
                self._unsynced.add(path)

    def sync(self) -> None:
        """Force every file written since the last call (and its directory entry) to disk."""
        with self._lock:
            paths, self._unsynced = self._unsynced, set()
        for path in paths:
            try:
                fsync_path(path)
            except FileNotFoundError:
                continue                 # purged meanwhile (retention)
        for directory in {p.parent for p in paths}:
            fsync_path(directory)

    def put(self, data: bytes) -> str:
        """Store `data`; returns its sha256 (the file id)."""
        digest = hashlib.sha256(data).hexdigest()
        self._write(self.path(digest), data)
        return digest

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or not all(ch in "0123456789abcdef" for ch in sha256):
            raise ValueError("not a sha256 file id")
        return self.root / "files" / sha256[:2] / sha256

    def get(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).exists()

    def delete(self, sha256: str) -> bool:
        """Remove a file (retention); True when something was deleted."""
        try:
            self.path(sha256).unlink()
            return True
        except FileNotFoundError:
            return False

    def put_raw(self, raw: bytes) -> str:
        """Keep the raw bytes of an inbound mail; returns the path relative to the root."""
        digest = hashlib.sha256(raw).hexdigest()
        rel = Path("raw") / digest[:2] / f"{digest}.eml"
        self._write(self.root / rel, raw)
        return str(rel)


def fsync_path(path: Path) -> None:
    """Force what was written to a file, or the entries of a directory, to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
