"""The mailbox: a small synchronous IMAP adapter over imapclient (the daemon runs it in a thread)."""

from __future__ import annotations

import contextlib
import imaplib
import logging
import socket
import ssl
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from imapclient import IMAPClient
from imapclient import exceptions as imap_exc

log = logging.getLogger(__name__)

Security = Literal["ssl", "starttls", "none"]

# RFC 2177: clients should re-issue IDLE at least every 29 minutes.
MAX_IDLE_SECONDS = 25 * 60
# A server may not announce mail that arrived between our last look and IDLE (pymap does not), so
# idle_wait looks between IDLE slices: 1 s, 2 s, 4 s … at most LONGEST_IDLE_SLICE, one SEARCH each.
FIRST_IDLE_SECONDS = 1.0
LONGEST_IDLE_SLICE = 60.0


class MailboxError(Exception):
    """The IMAP server refused an operation, or the mailbox is set up wrongly (not retryable as is)."""


class MailboxUnavailable(MailboxError):
    """Connection refused, lost or timed out: reconnect with backoff and try again."""


class MailboxAuthError(MailboxError):
    """The server rejected the username or password."""


class MessageNotFound(MailboxError):
    """The UID is no longer in the mailbox (moved or expunged by someone else)."""


@dataclass(frozen=True)
class PendingMessage:
    """A message waiting in the watched mailbox."""

    uid: int
    size: int
    uidvalidity: int


class Mailbox:
    """One IMAP connection to one mailbox, with a processed and a quarantine folder.

    Every operation runs under a socket timeout of ``timeout`` seconds. Any
    network failure or timeout raises ``MailboxUnavailable`` and drops the
    connection: call ``connect()`` again (with backoff). Messages are never
    flagged: processing state belongs in the database, and finished messages
    are moved out of the mailbox with ``move()``.
    """

    def __init__(self, host: str, port: int, security: Security, username: str, password: str,
                 mailbox: str = "INBOX", processed_folder: str = "Processed",
                 quarantine_folder: str = "Quarantine", timeout: float = 30.0,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        if security not in ("ssl", "starttls", "none"):
            raise ValueError(f"security must be ssl, starttls or none, not {security!r}")
        self.host, self.port, self.security = host, port, security
        self.username, self.password = username, password
        self.mailbox = mailbox
        self.processed_folder = processed_folder
        self.quarantine_folder = quarantine_folder
        self.timeout = timeout
        self.ssl_context = ssl_context
        self._client: IMAPClient | None = None
        self._uidvalidity: int | None = None
        self._highest_uid = 0
        self._uidnext = 0
        self._pending_seen = False
        self._capabilities: frozenset[bytes] = frozenset()

    # ------------------------------------------------------------ connection

    def __repr__(self) -> str:
        return f"<Mailbox {self.username}@{self.host}:{self.port}/{self.mailbox} {self.security}>"

    @property
    def connected(self) -> bool:
        return self._client is not None

    def connect(self) -> "Mailbox":
        """Connect, log in and select the mailbox (read-write)."""
        self.close()
        where = f"{self.host}:{self.port}"
        context = self.ssl_context or ssl.create_default_context()
        try:
            client = IMAPClient(self.host, self.port, ssl=self.security == "ssl",
                                ssl_context=context if self.security == "ssl" else None,
                                timeout=self.timeout)
        except ssl.SSLError as exc:
            raise _tls_error(exc, where) from exc
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailboxUnavailable(f"cannot connect to the IMAP server {where}: {exc}") from exc
        try:
            if self.security == "starttls":
                if not client.has_capability("STARTTLS"):
                    raise MailboxError(f"the IMAP server {where} does not offer STARTTLS")
                client.starttls(context)
            client.login(self.username, self.password)
        except imap_exc.LoginError as exc:
            logout_quietly(client)
            raise MailboxAuthError(f"the IMAP server {where} rejected the login of {self.username!r}: "
                                   f"{_text(exc)}") from exc
        except MailboxError:
            logout_quietly(client)
            raise
        except ssl.SSLError as exc:
            logout_quietly(client)
            raise _tls_error(exc, where) from exc
        except (OSError, imaplib.IMAP4.abort) as exc:
            logout_quietly(client)
            raise MailboxUnavailable(f"the IMAP server {where} dropped the connection: {exc}") from exc
        except imaplib.IMAP4.error as exc:
            logout_quietly(client)
            raise MailboxError(f"the IMAP server {where} refused the session: {_text(exc)}") from exc
        self._client = client
        with self._op("CAPABILITY"):
            self._capabilities = frozenset(c.upper() for c in client.capabilities())
        try:
            self._select()
        except MailboxError:
            self.close()
            raise
        return self

    def close(self) -> None:
        """Log out (best effort) and forget the connection; safe to call twice."""
        client, self._client = self._client, None
        if client is not None:
            logout_quietly(client)

    def __enter__(self) -> "Mailbox":
        return self.connect()

    def __exit__(self, *exc) -> None:
        self.close()

    @contextlib.contextmanager
    def _op(self, what: str) -> Iterator[IMAPClient]:
        """Run one operation; translate errors; drop the connection when it is unusable."""
        if self._client is None:
            raise MailboxUnavailable(f"not connected to {self.host}:{self.port} ({what})")
        try:
            yield self._client
        except (socket.timeout, TimeoutError) as exc:
            self.close()
            raise MailboxUnavailable(f"IMAP {what} timed out after {self.timeout:g} s") from exc
        except (OSError, imaplib.IMAP4.abort, ssl.SSLError) as exc:
            self.close()
            raise MailboxUnavailable(f"IMAP connection lost during {what}: {exc}") from exc
        except imaplib.IMAP4.error as exc:  # NO/BAD: the connection is still fine
            raise MailboxError(f"IMAP {what} failed: {_text(exc)}") from exc

    def has_capability(self, name: str) -> bool:
        return name.upper().encode() in self._capabilities

    @property
    def has_idle(self) -> bool:
        """True when the server supports IDLE; without it ``idle_wait`` returns False at once and
        the caller should sleep for its poll interval instead."""
        return self.has_capability("IDLE")

    @property
    def has_move(self) -> bool:
        return self.has_capability("MOVE")

    # ------------------------------------------------------------ folders

    def _select(self) -> None:
        with self._op(f"SELECT {self.mailbox}") as client:
            response = client.select_folder(self.mailbox)
        validity = int(response[b"UIDVALIDITY"])
        if self._uidvalidity is not None and validity != self._uidvalidity:
            log.warning("UIDVALIDITY of %s changed from %s to %s", self.mailbox, self._uidvalidity, validity)
            self._highest_uid = 0
        self._uidvalidity = validity
        self._uidnext = int(response.get(b"UIDNEXT", 0))

    @property
    def uidvalidity(self) -> int:
        """UIDVALIDITY of the selected mailbox (as of the last connect/pending)."""
        if self._uidvalidity is None:
            raise MailboxError("no mailbox selected: call connect() first")
        return self._uidvalidity

    def ensure_folders(self, create: bool = True) -> list[str]:
        """Return the folders (mailbox, processed, quarantine) that were missing.

        With ``create=True`` the processed and quarantine folders are created;
        a missing watched mailbox is never created (it is most likely a typo in
        the configuration) and raises MailboxError instead.
        """
        wanted = [self.mailbox, self.processed_folder, self.quarantine_folder]
        with self._op("LIST") as client:
            existing = {name for _flags, _delim, name in client.list_folders()}
        canon = {n.upper() if n.upper() == "INBOX" else n for n in existing}
        missing = [f for f in dict.fromkeys(wanted) if (f.upper() if f.upper() == "INBOX" else f) not in canon]
        if create:
            if self.mailbox in missing:
                raise MailboxError(f"the mailbox {self.mailbox!r} does not exist on {self.host}")
            for folder in missing:
                with self._op(f"CREATE {folder}") as client:
                    client.create_folder(folder)
                log.info("created IMAP folder %s", folder)
        return missing

    # ------------------------------------------------------------ messages

    def pending(self) -> list[PendingMessage]:
        """Every message in the mailbox (not flagged \\Deleted), oldest UID first, with its size."""
        self._select()  # a fresh view, and notices a changed UIDVALIDITY
        with self._op("SEARCH") as client:
            uids = client.search(["NOT", "DELETED"])
            sizes = client.fetch(uids, ["RFC822.SIZE"]) if uids else {}
        found = [PendingMessage(uid, int(data[b"RFC822.SIZE"]), self._uidvalidity)
                 for uid, data in sorted(sizes.items()) if b"RFC822.SIZE" in data]
        # everything below UIDNEXT (and everything found) is known: idle_wait looks beyond it
        self._highest_uid = max(self._highest_uid, self._uidnext - 1, found[-1].uid if found else 0)
        self._pending_seen = True
        return found

    def _fetch_one(self, uid: int, item: bytes) -> bytes:
        key = item.replace(b".PEEK", b"")  # BODY.PEEK[...] comes back as BODY[...]
        with self._op(f"FETCH {uid}") as client:
            body = client.fetch([uid], [item.decode()]).get(uid, {}).get(key)
            if body is None:  # mail that arrived after SELECT is only known after a NOOP
                client.noop()
                body = client.fetch([uid], [item.decode()]).get(uid, {}).get(key)
        if body is None:
            raise MessageNotFound(f"message UID {uid} is not in {self.mailbox}")
        return bytes(body)

    def fetch(self, uid: int) -> bytes:
        """The whole raw message; BODY.PEEK so it is not marked \\Seen."""
        return self._fetch_one(uid, b"BODY.PEEK[]")

    def fetch_many(self, uids: Sequence[int]) -> dict[int, bytes]:
        """Several whole raw messages in one FETCH (one round trip instead of one each); a UID that
        is not there is simply missing from the answer (`fetch` tells why)."""
        got: dict[int, bytes] = {}
        with self._op(f"FETCH {len(uids)} messages") as client:
            for attempt in range(2):
                missing = [uid for uid in uids if uid not in got]
                if not missing:
                    break
                if attempt:                 # mail that arrived after SELECT is only known after a NOOP
                    client.noop()
                got.update((uid, bytes(data[b"BODY[]"])) for uid, data in client.fetch(missing, ["BODY.PEEK[]"]).items()
                           if uid in missing and b"BODY[]" in data)
        return got

    def fetch_headers(self, uid: int) -> bytes:
        """Only the header block (for messages over the size limit)."""
        return self._fetch_one(uid, b"BODY.PEEK[HEADER]")

    def move(self, uids: int | Sequence[int], folder: str) -> None:
        """Move one message, or several with one command, to *folder* (created on TRYCREATE).

        Uses MOVE when advertised, else COPY + \\Deleted + UID EXPUNGE (plain
        EXPUNGE without UIDPLUS, which also removes other messages someone
        flagged \\Deleted).
        """
        uids = [uids] if isinstance(uids, int) else list(uids)
        if not uids:
            return
        try:
            self._move(uids, folder)
        except MailboxError as exc:
            if "TRYCREATE" not in str(exc).upper() or not self.connected:
                raise
            with self._op(f"CREATE {folder}") as client:
                client.create_folder(folder)
            self._move(uids, folder)

    def _move(self, uids: list[int], folder: str) -> None:
        what = f"{uids[0]}" if len(uids) == 1 else f"{len(uids)} messages"
        if max(uids) > self._highest_uid:
            # a UID this session has not been told about yet would be skipped silently
            with self._op("NOOP") as client:
                client.noop()
        if self.has_move:
            with self._op(f"MOVE {what} {folder}") as client:
                client.move(uids, folder)
            return
        with self._op(f"COPY {what} {folder}") as client:
            client.copy(uids, folder)
            client.add_flags(uids, [b"\\Deleted"], silent=True)
            if self.has_capability("UIDPLUS"):
                client.uid_expunge(uids)
            else:
                client.expunge()

    # ------------------------------------------------------------ waiting

    def idle_wait(self, timeout: float) -> bool:
        """Wait up to *timeout* seconds (at most 25 minutes) for new mail with IDLE.

        Returns True when the server reported new mail (or mail arrived since
        the last ``pending()``), False on timeout, and False at once when the
        server has no IDLE (see ``has_idle``).
        """
        if not self.has_idle:
            return False
        timeout = max(0.0, min(float(timeout), MAX_IDLE_SECONDS))
        # Mail that arrived while we were busy was announced inside another command's
        # response; IDLE would not announce it again, so look for it first.
        if self._has_newer():
            return True
        # A server may not announce mail that arrived just before IDLE began (pymap does not): IDLE
        # in growing slices with a look after each, so such mail waits at most one slice, not the
        # whole timeout, and an idle mailbox costs one SEARCH a minute.
        deadline = time.monotonic() + timeout
        slice_seconds = FIRST_IDLE_SECONDS
        while (left := deadline - time.monotonic()) > 0:
            if self._idle_once(min(slice_seconds, left)) or self._has_newer():
                return True
            slice_seconds = min(slice_seconds * 2, LONGEST_IDLE_SLICE)
        return False

    def _idle_once(self, timeout: float) -> bool:
        """One IDLE of up to *timeout* seconds; True when the server spoke of new mail (or may have)."""
        with self._op("IDLE") as client:
            client.idle()
            if _buffered(client):
                client.idle_done()
                return True                 # the caller looks at the mailbox: a false alarm costs one look
            try:
                responses = client.idle_check(timeout=timeout)
            except imaplib.IMAP4.abort as exc:
                if "unterminated line" not in str(exc):
                    raise
                # imapclient reads IDLE responses from a non-blocking socket and takes a line the
                # server is still writing for a broken one (pymap writes its responses in pieces).
                # The server did speak, but the half-read line leaves the session unusable: open a
                # new one, and let the caller look at the mailbox.
                responses = None
            else:
                _text_done, more = client.idle_done()
        if responses is None:
            log.info("IDLE response arrived in pieces; reconnecting to %s", self.mailbox)
            self.connect()
            return True
        return any(_announces_mail(r) for r in [*responses, *more])

    def _has_newer(self) -> bool:
        """Whether mail beyond the last ``pending()`` is in the mailbox (False before the first)."""
        if not self._pending_seen:
            return False
        with self._op("SEARCH") as client:
            return any(u > self._highest_uid for u in client.search(["UID", f"{self._highest_uid + 1}:*"]))


def _buffered(client: IMAPClient) -> bool:
    """Whether the server's first words in IDLE have already been read off the socket. Mail that
    arrived just before IDLE is announced right after "+ idling", often in the same packet; imaplib
    then holds the announcement in its buffer (or TLS in its own), and idle_check, which waits on
    the socket, would not see it before the server's next keepalive (imapclient issue #321)."""
    sock = client.socket()
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    timeout = sock.gettimeout()
    sock.setblocking(False)
    try:
        return bool(client._imap.file.peek(1))   # an empty buffer reads the socket once, without waiting
    except OSError:                 # TLS has no whole record yet ("want read"): nothing to read
        return False
    finally:
        sock.settimeout(timeout)


def _announces_mail(response) -> bool:
    """An untagged ``* n EXISTS`` (n > 0): the mailbox grew, or at least is not empty."""
    return (isinstance(response, tuple) and len(response) >= 2 and response[1] == b"EXISTS"
            and isinstance(response[0], int) and response[0] > 0)


def _tls_error(exc: ssl.SSLError, where: str) -> MailboxError:
    """An untrusted certificate or a protocol mismatch (e.g. "ssl" against a plain port) is a
    setup problem; a connection cut during the handshake is worth a retry."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return MailboxError(f"the TLS certificate of the IMAP server {where} is not trusted: {exc}")
    if isinstance(exc, (ssl.SSLEOFError, ssl.SSLZeroReturnError, ssl.SSLSyscallError)):
        return MailboxUnavailable(f"the IMAP server {where} closed the connection during TLS: {exc}")
    return MailboxError(f"TLS with the IMAP server {where} failed (is the security setting right?): {exc}")


def _text(exc: BaseException) -> str:
    msg = exc.args[0] if exc.args else str(exc)
    return msg.decode(errors="replace") if isinstance(msg, bytes) else str(msg)


def logout_quietly(client: IMAPClient) -> None:
    """LOGOUT, or just drop the connection when the server no longer answers."""
    try:
        client.logout()
    except Exception:
        try:
            client.shutdown()
        except Exception:
            pass
