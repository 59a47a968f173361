"""A whole office for end-to-end tests: config file, real IMAP and SMTP servers, the CLI, mail builders."""
from __future__ import annotations

import io
import json
import shutil
import tempfile
from contextlib import redirect_stdout
from datetime import datetime, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from mailbot.cli import main
from servers import write_config

PETUGAS = ("petugas1@bps.go.id", "petugas2@bps.go.id")
BENDAHARA = "bendahara@bps.go.id"
SUPERVISOR = "kepala@bps.go.id"
SERVICE = "diseminasi1600@bps.go.id"
AUTHSERV = "mx.bps.go.id"
CATALOG = Path(__file__).resolve().parents[1] / "mailbot" / "data" / "katalog-contoh.csv"


class World:
    """One configured mailbot over the given IMAP and SMTP test servers and database."""

    def __init__(self, imap_server, smtp_server, db_url: str, **sections: dict):
        imap, smtp = self.imap, self.smtp = imap_server, smtp_server
        self.dir = Path(tempfile.mkdtemp(prefix="mailbot-world-"))
        self.storage = self.dir / "var"
        self.library = self.dir / "library"
        self.library.mkdir()
        values = {
            "imap": {"poll_seconds": 5, "timeout_seconds": 10},
            "database": {"url": db_url},
            "storage": {"dir": str(self.storage), "library_dir": str(self.library)},
            "roles": {"petugas": list(PETUGAS), "bendahara": [BENDAHARA], "supervisor": [SUPERVISOR]},
        }
        for name, extra in sections.items():
            values.setdefault(name, {}).update(extra)
        self.config = write_config(self.dir / "mailbot.toml", imap, smtp, **values)

    def close(self) -> None:
        if self._app is not None:
            self._app.engine.dispose()
        shutil.rmtree(self.dir, ignore_errors=True)

    # --- time travel: the App driven at chosen instants -----------------------------------------
    _app = None

    @property
    def app(self):
        if self._app is None:
            from mailbot.config import load_config
            from mailbot.app.bootstrap import App
            self._app = App(load_config(self.config))
        return self._app

    def feed(self, msg: EmailMessage, at: datetime):
        """Handle one mail as if it arrived at `at`, read the proofs it brought, then send what it queued."""
        outcome = self.app.handle_mail(msg.as_bytes(), now=at)
        self.app.read_proofs(lambda: at)
        self.drain(at)
        return outcome

    def drain(self, at: datetime) -> None:
        import asyncio

        from mailbot.runtime.sender import drain
        asyncio.run(drain(self.app, lambda: at))

    def jobs(self, at: str) -> dict:
        code, out = self.cli("jobs", "--at", at)
        assert code == 0, out
        return json.loads(out)

    # --- the CLI -------------------------------------------------------------------------
    def cli(self, *args: str) -> tuple[int, str]:
        out = io.StringIO()
        with redirect_stdout(out):
            code = main(["--config", str(self.config), *args])
        return code, out.getvalue()

    def run_once(self) -> dict:
        code, out = self.cli("run", "--once")
        assert code == 0, out
        return json.loads(out)

    def case(self, ref: str) -> dict:
        code, out = self.cli("case", ref, "--json")
        assert code == 0, out
        return json.loads(out)

    def cases(self, *extra: str) -> list[dict]:
        code, out = self.cli("cases", "--json", *extra)
        assert code == 0, out
        return json.loads(out)

    def import_catalog(self, path: Path = CATALOG) -> None:
        code, out = self.cli("catalog", "import", str(path))
        assert code == 0, out

    # --- mail ------------------------------------------------------------------------------
    def deliver(self, msg: EmailMessage | bytes) -> None:
        self.imap.append(msg if isinstance(msg, bytes) else msg.as_bytes())

    def sent(self) -> list[EmailMessage]:
        return [message_from_bytes(m.raw, policy=policy.default) for m in self.smtp.messages]

    def sent_to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.sent() if address in str(m["To"])]


def mail(frm: str, subject: str, body: str, *, to: str = SERVICE, name: str = "", reply_to: EmailMessage | None = None,
         attachments: tuple[tuple[str, bytes, str], ...] = (), auth: str | None = None,
         date: datetime | None = None) -> EmailMessage:
    """A mail as a client would send it; `reply_to` threads it under one of our messages;
    `auth` adds our server's Authentication-Results with that result for the sender's domain."""
    msg = EmailMessage()
    if auth is not None:
        domain = frm.rsplit("@", 1)[1]
        msg["Authentication-Results"] = f"{AUTHSERV}; dkim={auth} header.d={domain}; spf={auth} smtp.mailfrom={frm}"
    msg["From"] = f"{name} <{frm}>" if name else frm
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date or datetime.now(timezone.utc))
    msg["Message-ID"] = make_msgid(domain=frm.rsplit("@", 1)[1])
    if reply_to is not None:
        msg["In-Reply-To"] = reply_to["Message-ID"]
        msg["References"] = reply_to["Message-ID"]
    msg.set_content(body)
    for filename, data, ctype in attachments:
        main_type, sub = ctype.split("/")
        msg.add_attachment(data, maintype=main_type, subtype=sub, filename=filename)
    return msg


def body_of(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    return part.get_content() if part else ""


def attachments_of(msg: EmailMessage) -> list[tuple[str, bytes]]:
    return [(a.get_filename(), a.get_content()) for a in msg.iter_attachments()]
