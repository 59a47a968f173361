"""The demo's embedded servers on 127.0.0.1: pymap (IMAP) and a capturing aiosmtpd (SMTP), and their helpers.

The tests start the same servers, and Dovecot where installed (tests/servers.py)."""

from __future__ import annotations

import atexit
import contextlib
import email
import email.policy
import functools
import logging
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Literal

from ..adapters.imap import logout_quietly

log = logging.getLogger(__name__)

DEFAULT_USERS = {"diseminasi": "secret"}
HOST = "127.0.0.1"
START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0


class DevServerError(RuntimeError):
    """A development server could not be found, started or stopped."""


# ---------------------------------------------------------------- helpers


def free_port(host: str = HOST) -> int:
    """Return a TCP port that is free on *host* right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_answers(host: str, port: int, timeout: float = 0.2) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait_until_listening(proc: subprocess.Popen, port: int, logfile: Path, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise DevServerError(
                f"{what} exited with code {proc.returncode} before listening on port {port}; "
                f"log {logfile}:\n{_tail(logfile)}"
            )
        if port_answers(HOST, port):
            return
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    raise DevServerError(f"{what} did not listen on port {port} within {START_TIMEOUT:.0f} s; log:\n{_tail(logfile)}")


def _killpg(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


@functools.cache
def _pdeathsig():
    """A callable for preexec_fn that makes Linux SIGTERM the child when the thread that
    started it goes away (prepared in the parent: nothing is imported after fork)."""
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl
    return functools.partial(prctl, 1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _spawn(argv: list[str], logfile: Path, cwd: Path) -> subprocess.Popen:
    # PDEATHSIG fires when the *thread* that forked exits, so only use it from the main
    # thread (pytest, `mailbot demo`); an atexit hook stops servers on a normal exit anyway.
    preexec = _pdeathsig() if (sys.platform == "linux" and threading.current_thread() is threading.main_thread()) else None
    with open(logfile, "ab") as out:
        # own process group: stop() can reach every child (Dovecot's imap processes outlive
        # their master otherwise and keep serving the old connections)
        return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=cwd,
                                preexec_fn=preexec, process_group=0)


@functools.cache
def self_signed_cert() -> tuple[Path, Path]:
    """Create (once per process) a self-signed certificate for 127.0.0.1/localhost: (cert, key).

    The certificate is its own CA: pass the cert path as ``cafile`` to
    ``ssl.create_default_context``. The files are removed when the process exits.
    """
    if not shutil.which("openssl"):
        raise DevServerError("TLS test servers need the `openssl` command (apt-get install openssl)")
    directory = Path(tempfile.mkdtemp(prefix="mailbot-tls-"))
    os.chmod(directory, 0o755)
    atexit.register(shutil.rmtree, directory, True)
    cert, key = directory / "cert.pem", directory / "key.pem"
    # An EC key is generated in milliseconds (RSA-2048 takes ~100 ms or more).
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "3650", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True,
    )
    os.chmod(key, 0o644)  # unprivileged Dovecot processes read it; test material only
    return cert, key


def client_ssl_context(cafile: str | Path | None) -> ssl.SSLContext:
    """A verifying client context that trusts *cafile* (the dev server's self-signed cert)."""
    return ssl.create_default_context(cafile=str(cafile) if cafile else None)


# ---------------------------------------------------------------- IMAP servers


class _ImapServer:
    """Common life cycle of a child-process IMAP server (start, stop, restart, close)."""

    kind = "imap"
    tls_port: int | None = None
    stop_grace = STOP_TIMEOUT  # seconds between SIGTERM and SIGKILL

    def __init__(self, users: dict[str, str] | None, tls: bool) -> None:
        self.users = dict(users or DEFAULT_USERS)
        for name, pw in self.users.items():
            if not name or any(c in name + pw for c in ":\n\r"):
                raise ValueError(f"unsupported user name or password for {name!r}")
        self.tls = tls
        self.host = HOST
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.cafile: Path | None = None
        self._owned_dir: Path | None = None
        self.start_seconds = 0.0
        self.stop_seconds = 0.0
        self._clients: dict = {}
        self._clients_lock = threading.RLock()
        _LIVE.add(self)

    # first user is "the" user
    @property
    def user(self) -> str:
        return next(iter(self.users))

    @property
    def password(self) -> str:
        return self.users[self.user]

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _argv(self) -> list[str]:
        raise NotImplementedError

    def _prepare(self) -> None:
        """Write config files before each start."""

    @property
    def logfile(self) -> Path:
        raise NotImplementedError

    def start(self) -> "_ImapServer":
        if self.running:
            return self
        self._prepare()
        t0 = time.monotonic()
        self.proc = _spawn(self._argv(), self.logfile, self.logfile.parent)
        _wait_until_listening(self.proc, self.port, self.logfile, self.kind)
        if self.tls_port:
            _wait_until_listening(self.proc, self.tls_port, self.logfile, self.kind)
        self.start_seconds = time.monotonic() - t0
        log.debug("%s started on %s:%s in %.2f s", self.kind, self.host, self.port, self.start_seconds)
        return self

    def stop(self) -> None:
        """SIGTERM the server's process group, SIGKILL it after ``stop_grace`` seconds, and wait
        until the port is closed. Open client connections are cut (an outage); mail on disk stays."""
        self._drop_clients()
        proc, self.proc = self.proc, None
        if proc is None:
            return
        t0 = time.monotonic()
        _killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(self.stop_grace)
        except subprocess.TimeoutExpired:
            _killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        _killpg(proc.pid, signal.SIGKILL)  # whatever is left of the group (open client sessions)
        # the port must really be closed before a restart or an outage test goes on
        deadline = time.monotonic() + STOP_TIMEOUT
        while port_answers(self.host, self.port) and time.monotonic() < deadline:
            time.sleep(0.02)
        self.stop_seconds = time.monotonic() - t0

    def restart(self) -> "_ImapServer":
        """Stop and start again on the same port(s)."""
        self.stop()
        return self.start()

    def close(self) -> None:
        """Stop and remove the directory this object created."""
        self.stop()
        _LIVE.discard(self)
        if self._owned_dir is not None:
            shutil.rmtree(self._owned_dir, ignore_errors=True)
            self._owned_dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # -- convenience for tests and the demo
    def settings(self, security: Literal["none", "starttls", "ssl"] = "none", user: str | None = None) -> dict:
        """Keyword arguments for ``mailbot.adapters.imap.Mailbox`` / the [imap] config section."""
        if security == "ssl" and not self.tls_port:
            raise DevServerError(f"{self.kind} server has no implicit-TLS port (start it with tls=True; pymap has none)")
        if security != "none" and not self.tls:
            raise DevServerError(f"{self.kind} server was started without TLS")
        user = user or self.user
        return {
            "host": self.host,
            "port": self.tls_port if security == "ssl" else self.port,
            "security": security,
            "username": user,
            "password": self.users[user],
        }

    def ssl_context(self) -> ssl.SSLContext:
        return client_ssl_context(self.cafile)

    def append(self, raw: bytes, folder: str = "INBOX", user: str | None = None) -> int | None:
        """APPEND to the user's folder (created if missing); the new UID."""
        with self.client(user) as c:
            return _append_with(c, raw, folder)

    def list_messages(self, folder: str = "INBOX", user: str | None = None) -> list[bytes]:
        return list_messages(self, folder, user=user)

    def reset(self, user: str | None = None) -> None:
        reset_mailbox(self, user=user)

    @contextlib.contextmanager
    def client(self, user: str | None = None):
        """A logged-in IMAPClient for *user*, kept open between calls (logins cost ~0.1 s on
        pymap); reconnects when the server went away. One caller at a time."""
        from imapclient import IMAPClient

        user = user or self.user
        with self._clients_lock:
            c = self._clients.pop(user, None)
            try:
                if c is not None:
                    try:
                        c.noop()
                    except Exception:
                        logout_quietly(c)
                        c = None
                if c is None:
                    c = IMAPClient(self.host, self.port, ssl=False, timeout=10)
                    c.login(user, self.users[user])
                yield c
            except BaseException:
                if c is not None:
                    logout_quietly(c)
                raise
            else:
                self._clients[user] = c

    def _drop_clients(self) -> None:
        with self._clients_lock:
            for c in self._clients.values():
                logout_quietly(c)
            self._clients.clear()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<{type(self).__name__} {self.host}:{self.port} user={self.user!r} {state}>"


class PymapServer(_ImapServer):
    """pymap's in-memory ``dict`` backend as a child process: one user, STARTTLS only.

    Everything lives in memory: ``restart()`` keeps host, port and user but
    **loses all mail and folders**, and UIDs start again at 101 with a new
    UIDVALIDITY. pymap also drops custom keywords silently and has no
    implicit-TLS port (``tls_port`` is None; ``tls=True`` offers STARTTLS).
    """

    kind = "pymap"

    def __init__(self, root: Path | None = None, users: dict[str, str] | None = None, tls: bool = False) -> None:
        super().__init__(users, tls)
        if len(self.users) != 1:
            raise DevServerError("pymap's dict backend serves exactly one user")
        if root is None:
            root = Path(tempfile.mkdtemp(prefix="mailbot-pymap-"))
            self._owned_dir = root
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        if tls:
            self.cafile, self._key = self_signed_cert()

    @property
    def logfile(self) -> Path:
        return self.root / "pymap.log"

    def _argv(self) -> list[str]:
        # Run pymap under *this* interpreter (a `pymap` on PATH may belong to another
        # Python, e.g. a pyenv shim); pymap has no __main__ module, so use -c.
        argv = [sys.executable, "-c", "import sys; from pymap.main import main; sys.argv[0] = 'pymap'; sys.exit(main())",
                "--host", self.host, "--port", str(self.port)]
        if self.tls:
            argv += ["--cert", str(self.cafile), "--key", str(self._key)]
        else:
            argv += ["--no-tls"]
        return argv + ["dict", "--demo-user", self.user, "--demo-password", self.password]


_LIVE: set[_ImapServer] = set()


@atexit.register
def _stop_all() -> None:
    for server in list(_LIVE):
        try:
            server.close()
        except Exception:  # pragma: no cover - best effort at exit
            pass


# ---------------------------------------------------------------- IMAP client helpers


def _unselect(client) -> None:
    """Leave the shared helper connection off any folder that a test may delete
    (pymap drops a connection whose selected folder is deleted)."""
    if client.has_capability("UNSELECT"):
        client.unselect_folder()
    else:
        client.select_folder("INBOX", readonly=True)


def _append_with(client, raw: bytes, folder: str) -> int | None:
    if not client.folder_exists(folder):
        client.create_folder(folder)
    response = client.append(folder, raw)
    # b'[APPENDUID <uidvalidity> <uid>] Append completed.'
    if isinstance(response, bytes) and response.startswith(b"[APPENDUID "):
        return int(response.split(b"]")[0].split()[2])
    return None


def append(host: str, port: int, user: str, password: str, raw: bytes, folder: str = "INBOX") -> int | None:
    """APPEND *raw* to *folder* (plain IMAP, created if missing); return the new UID when the server says."""
    from imapclient import IMAPClient

    client = IMAPClient(host, port, ssl=False, timeout=10)
    try:
        client.login(user, password)
        return _append_with(client, raw, folder)
    finally:
        logout_quietly(client)


def list_messages(server: _ImapServer, folder: str = "INBOX", user: str | None = None) -> list[bytes]:
    """Raw bytes of every message in *folder*, by UID ([] when the folder does not exist)."""
    with server.client(user) as client:
        if not client.folder_exists(folder):
            return []
        client.select_folder(folder, readonly=True)
        uids = client.search("ALL")
        data = client.fetch(uids, ["BODY.PEEK[]"]) if uids else {}
        _unselect(client)
        return [data[u][b"BODY[]"] for u in sorted(data)]


def reset_mailbox(server: _ImapServer, user: str | None = None) -> None:
    """Make the user's mailbox look new: INBOX empty, every other folder deleted."""
    with server.client(user) as client:
        names = [name for _flags, _delim, name in client.list_folders()]
        for name in sorted(names, key=len, reverse=True):  # children before parents
            if name.upper() != "INBOX":
                client.delete_folder(name)
        client.select_folder("INBOX")
        uids = client.search("ALL")
        if uids:
            client.set_flags(uids, [b"\\Deleted"], silent=True)
            client.expunge()
        _unselect(client)


# ---------------------------------------------------------------- SMTP capture server


@dataclass(frozen=True)
class CapturedMessage:
    """One mail received by CaptureSMTPServer."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    authenticated_as: str | None
    tls: bool

    @functools.cached_property
    def message(self) -> EmailMessage:
        """The parsed mail, made when first asked for: parsing is the test's work, not the server's,
        and must not slow down the answer to DATA (the ingest benchmark times that answer)."""
        return email.message_from_bytes(self.raw, policy=email.policy.default)


class CaptureSMTPServer:
    """aiosmtpd on 127.0.0.1 that keeps every message it receives.

    ``tls``: False, "starttls" (True means the same; STARTTLS is then required)
    or "ssl" (implicit TLS, port-465 style). ``auth``: (user, password) or a
    dict of users; AUTH is then required. ``data_reply``: e.g. "550 5.7.1 No"
    to answer every DATA with that line instead of accepting the message
    (changeable at any time, see ``reject()``/``accept()``). ``deliver_to``:
    an IMAP dev server; every accepted message is also APPENDed to the INBOX of
    the user named like the recipient's local part (else the server's first
    user), which closes the loop SMTP → IMAP. ``rcpt_replies``: recipient
    address → reply line (e.g. "550 5.1.1 No such user") to refuse single
    recipients at RCPT TO. ``smtputf8``: offer SMTPUTF8 (RFC 6531), as most real servers do
    (aiosmtpd does not by default).
    """

    def __init__(self, port: int = 0, tls: bool | Literal["starttls", "ssl"] = False,
                 auth: tuple[str, str] | dict[str, str] | None = None, data_reply: str | None = None,
                 deliver_to: _ImapServer | None = None, rcpt_replies: dict[str, str] | None = None,
                 smtputf8: bool = False) -> None:
        self.host = HOST
        self.port = port or free_port()
        self.tls: Literal["starttls", "ssl"] | None = "starttls" if tls is True else (tls or None)
        self.users = dict([auth]) if isinstance(auth, tuple) else (dict(auth) if auth else {})
        self.data_reply = data_reply
        self.deliver_to = deliver_to
        self.rcpt_replies = dict(rcpt_replies or {})
        self.smtputf8 = smtputf8
        self.cafile: Path | None = None
        self._key: Path | None = None
        if self.tls:
            self.cafile, self._key = self_signed_cert()
        self._messages: list[CapturedMessage] = []
        self._cond = threading.Condition()
        self._controller = None
        self.auth_failures = 0

    # -- state
    @property
    def user(self) -> str | None:
        return next(iter(self.users), None)

    @property
    def password(self) -> str | None:
        return self.users.get(self.user) if self.user else None

    @property
    def messages(self) -> list[CapturedMessage]:
        with self._cond:
            return list(self._messages)

    def clear(self) -> None:
        with self._cond:
            self._messages.clear()
        self.auth_failures = 0

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[CapturedMessage]:
        """Block until at least *count* messages arrived; return them all. TimeoutError otherwise."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._messages) >= count, timeout):
                raise TimeoutError(f"expected {count} message(s) within {timeout} s, got {len(self._messages)}")
            return list(self._messages)

    def cpu_seconds(self) -> float:
        """CPU time the server's own thread has used so far (the ingest benchmark's budget)."""
        thread = self._controller._thread if self._controller is not None else None
        if thread is None or thread.ident is None:
            return 0.0
        return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))

    def reject(self, code: int = 550, text: str | None = None) -> None:
        """Answer every following DATA with *code* (e.g. 550 permanent, 451 temporary)."""
        default = {4: "4.3.0 Temporary failure, try again later", 5: "5.7.1 Message rejected"}
        self.data_reply = f"{code} {text or default.get(code // 100, 'Rejected')}"

    def accept(self) -> None:
        self.data_reply = None

    def settings(self, security: Literal["none", "starttls", "ssl"] | None = None) -> dict:
        """Keyword arguments for ``mailbot.adapters.smtp.send`` / the [smtp] config section."""
        return {"host": self.host, "port": self.port, "security": security or self.tls or "none",
                "username": self.user, "password": self.password}

    def ssl_context(self) -> ssl.SSLContext:
        return client_ssl_context(self.cafile)

    # -- life cycle
    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> "CaptureSMTPServer":
        if self._controller is not None:
            return self
        from aiosmtpd.controller import Controller

        _quiet_aiosmtpd()
        kwargs: dict = {"hostname": self.host, "port": self.port, "enable_SMTPUTF8": self.smtputf8}
        if self.tls:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(self.cafile, self._key)
            if self.tls == "ssl":
                kwargs["ssl_context"] = ctx
            else:
                kwargs.update(tls_context=ctx, require_starttls=True)
        if self.users:
            # with implicit TLS aiosmtpd only advertises AUTH when auth_require_tls=False
            kwargs.update(authenticator=self._authenticate, auth_required=True,
                          auth_require_tls=self.tls == "starttls")
        controller = Controller(_CaptureHandler(self), **kwargs)
        controller.start()
        self._controller = controller
        return self

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def restart(self) -> "CaptureSMTPServer":
        self.stop()
        return self.start()

    close = stop

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<CaptureSMTPServer {self.host}:{self.port} tls={self.tls} auth={bool(self.users)} messages={len(self._messages)}>"

    # -- aiosmtpd callbacks
    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult, LoginPassword

        if isinstance(auth_data, LoginPassword):
            login = auth_data.login.decode(errors="replace")
            if self.users.get(login) == auth_data.password.decode(errors="replace"):
                return AuthResult(success=True, auth_data=login)
        self.auth_failures += 1
        # handled=False makes aiosmtpd send "535 Authentication credentials invalid";
        # with the default handled=True it sends nothing and the client hangs.
        return AuthResult(success=False, handled=False)

    def _record(self, envelope, session) -> CapturedMessage:
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        auth = session.auth_data if session.authenticated else None
        captured = CapturedMessage(
            mail_from=envelope.mail_from, rcpt_tos=tuple(envelope.rcpt_tos), raw=raw,
            authenticated_as=auth if isinstance(auth, str) else None,
            tls=self.tls == "ssl" or session.ssl is not None,
        )
        with self._cond:
            self._messages.append(captured)
            self._cond.notify_all()
        return captured

    def _deliver(self, captured: CapturedMessage) -> None:
        target = self.deliver_to
        if target is None:
            return
        users = {rcpt.rsplit("@", 1)[0] for rcpt in captured.rcpt_tos}
        for user in sorted(users & set(target.users)) or [target.user]:
            target.append(captured.raw, user=user)


@functools.cache
def _quiet_aiosmtpd() -> None:
    """Drop aiosmtpd's known noise: a deprecation line on every login it makes itself, and
    the AUTH-without-TLS warning that implicit TLS (port 465 style) triggers by design."""
    import warnings

    noise = ("Session.login_data is deprecated", "auth_required == True but auth_require_tls == False")

    class _Filter(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            return not str(record.msg).startswith(noise)

    logging.getLogger("mail.log").addFilter(_Filter())
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS", category=UserWarning)


class _CaptureHandler:
    def __init__(self, owner: CaptureSMTPServer) -> None:
        self.owner = owner

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        reply = self.owner.rcpt_replies.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        reply = self.owner.data_reply
        if reply:
            return reply
        captured = self.owner._record(envelope, session)
        if self.owner.deliver_to is not None:
            import asyncio

            try:
                await asyncio.get_running_loop().run_in_executor(None, self.owner._deliver, captured)
            except Exception as exc:  # the mail was captured; report the loop failure to the client
                log.exception("delivery into IMAP failed")
                return f"451 4.3.0 Captured but IMAP delivery failed: {exc}"
        return "250 2.0.0 OK: captured"
