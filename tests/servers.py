"""Test servers: Dovecot beside the demo's pymap and capture SMTP server, and the fixtures' config writer.

What the product ships for the demo lives in mailbot/demo/servers.py; what only the tests need lives here."""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import sys  # noqa: F401 - tests replace servers.sys.executable
import tempfile
import time
from pathlib import Path
from typing import Literal

from mailbot.adapters.imap import logout_quietly
from mailbot.demo.servers import *  # noqa: F401,F403 - the tests use one module for every server
from mailbot.demo.servers import (CaptureSMTPServer, DevServerError, PymapServer, _ImapServer, _tail,  # noqa: F401
                                  free_port, self_signed_cert)

class DovecotServer(_ImapServer):
    """A private Dovecot instance with its own config, maildirs and passwd-file.

    ``root`` defaults to a fresh ``tempfile.mkdtemp()`` directory (mode 755: the
    unprivileged Dovecot processes must be able to enter it, which pytest's
    ``tmp_path`` does not allow). Mail survives ``restart()``. With ``tls=True``
    STARTTLS is offered on ``port`` and implicit TLS on ``tls_port``; ``cafile``
    is the self-signed certificate to trust.
    """

    kind = "dovecot"
    # A Dovecot that has served a client exits on SIGTERM in milliseconds; one that has not
    # yet takes ~6 s (1 s after a single login). Mail is on disk once APPEND returned, so
    # SIGKILL after a short grace loses nothing.
    stop_grace = 0.5

    def __init__(self, root: Path | None = None, users: dict[str, str] | None = None, tls: bool = False,
                 binary: str | None = None) -> None:
        super().__init__(users, tls)
        self.binary = binary or find_dovecot()
        if not self.binary:
            raise DevServerError("Dovecot is not installed (apt-get install dovecot-imapd)")
        if root is None:
            root = Path(tempfile.mkdtemp(prefix="mailbot-dovecot-"))
            self._owned_dir = root
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o755)
        if os.geteuid() == 0:  # the mail processes run as nobody and must reach the maildirs
            closed = [p for p in self.root.parents if not p.stat().st_mode & 0o001]
            if closed:
                raise DevServerError(
                    f"{closed[0]} is not enterable by other users, so Dovecot's unprivileged processes "
                    f"cannot reach {self.root} (pytest's tmp_path is like that): leave root=None "
                    f"or use tempfile.mkdtemp()")
        if tls:
            self.tls_port = free_port()
            self.cafile, self._key = self_signed_cert()
        self.config_path = self.root / "dovecot.conf"

    @property
    def logfile(self) -> Path:
        return self.root / "dovecot.log"

    def _argv(self) -> list[str]:
        return [self.binary, "-F", "-c", str(self.config_path)]

    def _write_users(self) -> None:
        tmp = self.root / "users.tmp"
        tmp.write_text("".join(f"{u}:{{PLAIN}}{p}\n" for u, p in self.users.items()))
        os.chmod(tmp, 0o644)
        tmp.replace(self.root / "users")  # passwd-file is re-read when it changes

    def add_user(self, name: str, password: str) -> None:
        """Add a mailbox user without a restart. Dovecot re-reads the passwd-file at most once
        a second, so on a running server this waits (up to ~1 s) until the login works."""
        if not name or any(c in name + password for c in ":\n\r"):
            raise ValueError(f"unsupported user name or password for {name!r}")
        self.users[name] = password
        self._write_users()
        if not self.running:
            return
        from imapclient import IMAPClient

        deadline = time.monotonic() + 5
        while True:
            client = IMAPClient(self.host, self.port, ssl=False, timeout=5)
            try:
                client.login(name, password)
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise DevServerError(f"Dovecot did not pick up the new user {name!r}") from None
                time.sleep(0.1)
            finally:
                logout_quietly(client)

    def _prepare(self) -> None:
        mail = self.root / "mail"
        for sub in ("run", "state", "mail"):
            (self.root / sub).mkdir(exist_ok=True)
        self._write_users()
        as_root = os.geteuid() == 0
        if as_root:
            uid, gid = pwd.getpwnam("nobody").pw_uid, _nogroup_gid()
            for path in [mail, *mail.rglob("*")]:
                os.chown(path, uid, gid)
            userdb = f"uid=nobody gid={grp.getgrgid(gid).gr_name} home={self.root}/mail/%u"
            unprivileged = ""
            chroot = ""
        else:
            me = pwd.getpwuid(os.geteuid()).pw_name
            group = grp.getgrgid(os.getegid()).gr_name
            userdb = f"home={self.root}/mail/%u"
            unprivileged = (f"default_internal_user = {me}\ndefault_login_user = {me}\n"
                            f"default_internal_group = {group}\n")
            chroot = "  chroot =\n"
        if self.tls:
            tls = f"ssl = yes\nssl_cert = <{self.cafile}\nssl_key = <{self._key}\n"
            imaps = self.tls_port
        else:
            tls, imaps = "ssl = no\n", 0
        self.config_path.write_text(f"""# written by the test servers (tests/servers.py); nothing from /etc/dovecot is used
protocols = imap
listen = {self.host}
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.logfile}
{unprivileged}{tls}disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:{self.root}/mail/%u/Maildir
postmaster_address = postmaster@localhost
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.root}/users
}}
userdb {{
  driver = static
  args = {userdb}
}}
service imap-login {{
{chroot}  inet_listener imap {{
    port = {self.port}
  }}
  inet_listener imaps {{
    port = {imaps}
  }}
}}
# no growing delay after failed logins (tests fail logins on purpose; the penalty
# would slow the next *successful* login from 127.0.0.1 by up to 15 s)
service anvil {{
{chroot}  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
""")


def _nogroup_gid() -> int:
    for name in ("nogroup", "nobody"):
        try:
            return grp.getgrnam(name).gr_gid
        except KeyError:
            continue
    return pwd.getpwnam("nobody").pw_gid


def find_dovecot() -> str | None:
    """Path of the dovecot binary, or None. ``MAILBOT_DOVECOT`` names a binary explicitly
    (a path that does not exist means: behave as if Dovecot were not installed)."""
    explicit = os.environ.get("MAILBOT_DOVECOT")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    found = shutil.which("dovecot")
    if found:
        return found
    return "/usr/sbin/dovecot" if os.access("/usr/sbin/dovecot", os.X_OK) else None


def start_imap_server(prefer: Literal["dovecot", "pymap"] = "dovecot", require_dovecot: bool = False,
                      users: dict[str, str] | None = None, tls: bool = False) -> _ImapServer:
    """Start and return Dovecot when installed (or when preferred), else pymap.

    ``require_dovecot=True`` raises DevServerError when Dovecot is missing
    instead of falling back to pymap.
    """
    have_dovecot = find_dovecot() is not None
    if require_dovecot and not have_dovecot:
        raise DevServerError("Dovecot is required (MAILBOT_REQUIRE_DOVECOT) but not installed: "
                             "apt-get install dovecot-imapd")
    if have_dovecot and (prefer == "dovecot" or require_dovecot):
        return DovecotServer(users=users, tls=tls).start()
    return PymapServer(users=users, tls=tls).start()


# ---------------------------------------------------------------- a config for the dev servers

EXAMPLE_OFFICE: dict[str, dict] = {
    "office": {"name": "Badan Pusat Statistik Provinsi Sumatera Selatan",
               "address": "Jl. Kapten P. Tendean No. 1, Palembang", "city": "Palembang",
               "service_address": "diseminasi1600@bps.go.id", "signatory": "Nama Bendahara",
               "nip": "198001012005011001"},
    "roles": {"petugas": ["petugas1@bps.go.id", "petugas2@bps.go.id"], "bendahara": ["bendahara@bps.go.id"],
              "supervisor": ["kepala@bps.go.id"]},
    "security": {"authserv_id": "mx.bps.go.id"},
    "payment": {"bank": "Bank Contoh", "account_number": "1234567890", "account_name": "RPL 027 BPS Prov Sumsel"},
    "tariffs": {"regulation": "PP 13/2024", "per_page": 1000, "zero_basis": "contoh dasar hukum"},
}


def write_config(path: Path, imap_server: "_ImapServer", smtp_server: "CaptureSMTPServer", **sections: dict) -> Path:
    """A mailbot.toml for an example office over these dev servers; `sections` add or replace keys."""
    import json
    values = {name: dict(keys) for name, keys in EXAMPLE_OFFICE.items()}
    values["imap"] = {**imap_server.settings(), "timeout_seconds": 30}
    values["smtp"] = {"host": smtp_server.host, "port": smtp_server.port, "security": "none",
                      "from_name": "BPS Sumsel"}
    for name, extra in sections.items():
        values.setdefault(name, {}).update(extra)
    lines = []
    for section, keys in values.items():
        lines.append(f"[{section}]")
        lines += [f"{k} = {str(v).lower() if isinstance(v, bool) else json.dumps(v)}" for k, v in keys.items()]
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
