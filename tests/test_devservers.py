"""The development mail servers and the conftest fixtures built on them."""

from __future__ import annotations

import email.policy
import os
import re
import smtplib
import ssl
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import pytest
from imapclient import IMAPClient

import servers as devservers
from servers import CaptureSMTPServer, DevServerError, DovecotServer, PymapServer

pytestmark = pytest.mark.mail

RAW = b"From: a@example.com\r\nTo: b@example.org\r\nSubject: Uji\r\n\r\nHalo.\r\n"


def _login(server, port=None, **kw):
    kw.setdefault("ssl", False)
    client = IMAPClient(server.host, port or server.port, timeout=5, **kw)
    client.login(server.user, server.password)
    return client


# ------------------------------------------------------------ Dovecot


@pytest.fixture
def dovecot_needed(request):
    request.getfixturevalue("dovecot_server")  # skips (or fails in CI) like the session fixture


def test_dovecot_restart_keeps_port_and_mail_and_stop_closes_the_port(dovecot_needed):
    with DovecotServer(users={"petugas": "rahasia"}) as srv:
        with IMAPClient(srv.host, srv.port, ssl=False, timeout=5) as c:   # the user given is the one served
            assert c.login("petugas", "rahasia")
        assert srv.start_seconds < 5
        srv.append(RAW)
        port = srv.port
        srv.stop()
        assert not devservers.port_answers(srv.host, port)
        assert not srv.running
        srv.start()
        assert srv.port == port and srv.list_messages() == [RAW]
        root = srv.root
        assert (root / "dovecot.conf").exists()
    assert not root.exists()  # close() removes the directory it created
    assert not devservers.port_answers("127.0.0.1", port)


def test_dovecot_config_is_private_and_valid(dovecot_needed):
    srv = DovecotServer()
    try:
        srv._prepare()
        text = srv.config_path.read_text()
        assert "/etc/dovecot" not in text.replace("nothing from /etc/dovecot", "")
        assert oct(srv.root.stat().st_mode & 0o777) == "0o755"
        check = subprocess.run(["doveconf", "-c", str(srv.config_path), "-n"], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
    finally:
        srv.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="the trap only exists when Dovecot drops root")
def test_dovecot_refuses_a_root_under_pytest_tmp_path(dovecot_needed, tmp_path):
    with pytest.raises(DevServerError, match="tempfile.mkdtemp"):
        DovecotServer(root=tmp_path / "dovecot")


def test_dovecot_tls_offers_imaps_and_starttls_with_its_own_ca(dovecot_server):
    srv = dovecot_server
    assert srv.tls_port and srv.cafile.exists()
    ctx = srv.ssl_context()
    c = _login(srv, srv.tls_port, ssl=True, ssl_context=ctx)
    assert c.select_folder("INBOX")[b"UIDVALIDITY"]
    c.logout()
    c = IMAPClient(srv.host, srv.port, ssl=False, timeout=5)
    c.starttls(ctx)
    c.login(srv.user, srv.password)
    c.logout()
    with pytest.raises(ssl.SSLCertVerificationError):
        IMAPClient(srv.host, srv.tls_port, ssl=True, ssl_context=ssl.create_default_context(), timeout=5)


def test_dovecot_add_user_works_without_restart(dovecot_server):
    name = f"bendahara{time.monotonic_ns()}"
    dovecot_server.add_user(name, "uang")
    dovecot_server.append(RAW, user=name)
    assert dovecot_server.list_messages(user=name) == [RAW]
    assert RAW not in dovecot_server.list_messages()  # separate mailboxes


# ------------------------------------------------------------ pymap


def test_pymap_restart_keeps_port_but_loses_mail():
    with PymapServer() as srv:
        assert srv.tls_port is None
        uid = srv.append(RAW)
        assert uid == 101
        port = srv.port
        srv.restart()
        assert srv.port == port
        assert srv.list_messages() == []  # in memory: documented


def test_pymap_serves_one_user_only():
    with pytest.raises(DevServerError):
        PymapServer(users={"a": "1", "b": "2"})


def test_failed_start_reports_the_log(tmp_path):
    srv = PymapServer()
    srv._argv = lambda: [devservers.sys.executable, "-c", "import sys; print('kaput'); sys.exit(3)"]
    with pytest.raises(DevServerError, match="kaput"):
        srv.start()
    srv.close()


# ------------------------------------------------------------ choosing a server


def test_start_imap_server_prefers_dovecot(dovecot_needed):
    srv = devservers.start_imap_server()
    try:
        assert isinstance(srv, DovecotServer)
    finally:
        srv.close()
    srv = devservers.start_imap_server(prefer="pymap")
    try:
        assert isinstance(srv, PymapServer)
    finally:
        srv.close()


def test_start_imap_server_without_dovecot(monkeypatch):
    monkeypatch.setattr(devservers, "find_dovecot", lambda: None)
    with pytest.raises(DevServerError, match="dovecot-imapd"):
        devservers.start_imap_server(require_dovecot=True)
    srv = devservers.start_imap_server()
    try:
        assert isinstance(srv, PymapServer) and srv.running
    finally:
        srv.close()


# ------------------------------------------------------------ fixtures and helpers


def test_imap_server_fixture_kind(imap_server):
    """Also the target of the next test, run in a child pytest with a chosen environment."""
    assert imap_server.running
    expected = os.environ.get("MAILBOT_EXPECT_KIND")
    assert expected in (None, imap_server.kind)


@pytest.mark.slow  # a child pytest run each (~2 s)
@pytest.mark.parametrize("require, expect_rc, expect_text", [
    ("0", 0, "1 passed"),                       # no Dovecot: pymap stands in
    ("1", 1, "MAILBOT_REQUIRE_DOVECOT=1 but Dovecot is not installed"),  # CI: loud failure, no skip
])
def test_imap_server_without_dovecot_falls_back_or_fails_loudly(require, expect_rc, expect_text):
    env = dict(os.environ, MAILBOT_DOVECOT="/nonexistent/dovecot", MAILBOT_REQUIRE_DOVECOT=require,
               MAILBOT_EXPECT_KIND="pymap")
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          f"{__file__}::test_imap_server_fixture_kind"],
                         env=env, capture_output=True, text=True, timeout=120, cwd=Path(__file__).parents[1])
    assert run.returncode == expect_rc, run.stdout[-2000:]
    assert expect_text in run.stdout
    assert not re.search(r"\d+ skipped", run.stdout)


def test_fresh_mailbox_starts_empty_and_helpers_round_trip(fresh_mailbox):
    srv = fresh_mailbox
    assert srv.list_messages() == []
    devservers.append(srv.host, srv.port, srv.user, srv.password, RAW, folder="Processed")
    assert devservers.list_messages(srv, "Processed") == [RAW]
    assert devservers.list_messages(srv, "Tidak-Ada") == []
    srv.append(RAW)
    srv.reset()
    c = _login(srv)
    assert [name for _f, _d, name in c.list_folders()] == ["INBOX"]
    c.logout()
    assert srv.list_messages() == []


def test_fresh_mailbox_brings_a_stopped_session_server_back(imap_server, request):
    imap_server.stop()
    assert request.getfixturevalue("fresh_mailbox").running


# ------------------------------------------------------------ SMTP capture


def _mail(subject="Tagihan PUB-2026-0042"):
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = "diseminasi@example.org", "budi@example.com", subject
    m.set_content("Terima kasih, Bapak/Ibu.")
    return m


def test_smtp_server_captures_envelope_raw_and_parsed(smtp_server):
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5) as s:
        s.send_message(_mail(), from_addr="bounce@example.org", to_addrs=["budi@example.com", "ani@example.com"])
    (got,) = smtp_server.wait_for(1)
    assert got.mail_from == "bounce@example.org"
    assert got.rcpt_tos == ("budi@example.com", "ani@example.com")
    assert got.message["Subject"] == "Tagihan PUB-2026-0042"
    assert got.message.get_content().strip() == "Terima kasih, Bapak/Ibu."
    assert b"Subject: Tagihan PUB-2026-0042" in got.raw
    assert got.authenticated_as is None and got.tls is False


def test_smtp_wait_for_times_out(smtp_server):
    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        smtp_server.wait_for(1, timeout=0.2)
    assert time.monotonic() - t0 < 1


def test_smtp_reject_and_accept(smtp_server):
    smtp_server.reject(550)
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5) as s:
        with pytest.raises(smtplib.SMTPDataError) as err:
            s.send_message(_mail())
        assert err.value.smtp_code == 550
        smtp_server.accept()
        s.send_message(_mail())
    assert len(smtp_server.messages) == 1


def test_smtp_stop_and_start_on_the_same_port():
    srv = CaptureSMTPServer().start()
    port = srv.port
    srv.stop()
    with pytest.raises(OSError):
        smtplib.SMTP(srv.host, port, timeout=2)
    srv.start()
    with smtplib.SMTP(srv.host, port, timeout=5) as s:
        s.send_message(_mail())
    assert srv.port == port and len(srv.wait_for(1)) == 1
    srv.stop()


def test_smtp_cpu_seconds_counts_the_server_thread_only():
    srv = CaptureSMTPServer()
    assert srv.cpu_seconds() == 0.0                  # not started: no thread to ask
    with srv:
        idle, c0 = srv.cpu_seconds(), time.thread_time()
        sum(i * i for i in range(2_000_000))         # this thread's work is not the server's
        busy = time.thread_time() - c0
        before = srv.cpu_seconds()
        big = _mail()
        big.add_attachment(os.urandom(300_000), maintype="application", subtype="pdf", filename="ktp.pdf")
        with smtplib.SMTP(srv.host, srv.port, timeout=10) as s:
            for _ in range(5):
                s.send_message(big)
        srv.wait_for(5)
        receiving = srv.cpu_seconds() - before
    assert before - idle < busy / 10                 # the loop above did not count
    assert receiving > 0.005                         # taking 2 MB line by line did


def test_smtp_starttls_and_auth_are_required_and_bad_login_gets_an_answer():
    with CaptureSMTPServer(tls=True, auth=("svc", "pw")) as srv:
        with smtplib.SMTP(srv.host, srv.port, timeout=5) as s:
            with pytest.raises(smtplib.SMTPException):
                s.send_message(_mail())  # no STARTTLS yet
        with smtplib.SMTP(srv.host, srv.port, timeout=5) as s:
            s.starttls(context=srv.ssl_context())
            t0 = time.monotonic()
            with pytest.raises(smtplib.SMTPAuthenticationError):
                s.login("svc", "salah")
            assert time.monotonic() - t0 < 2  # answered, not hung
            s.login("svc", "pw")
            s.send_message(_mail())
        (got,) = srv.wait_for(1)
        assert got.authenticated_as == "svc" and got.tls
        assert srv.auth_failures >= 1  # smtplib tries PLAIN, then LOGIN


def test_smtp_delivers_into_the_imap_mailbox(fresh_mailbox):
    with CaptureSMTPServer(deliver_to=fresh_mailbox) as srv:
        with smtplib.SMTP(srv.host, srv.port, timeout=5) as s:
            s.send_message(_mail("Bukti bayar"))
        srv.wait_for(1)
    (raw,) = fresh_mailbox.list_messages()
    assert email.message_from_bytes(raw, policy=email.policy.default)["Subject"] == "Bukti bayar"


# ------------------------------------------------------------ database URL fixture


def test_db_url_is_an_empty_private_database(db_url):
    import sqlalchemy                    # a dependency of mailbot: missing, it is a failure, not a skip
    engine = sqlalchemy.create_engine(db_url)
    try:
        with engine.begin() as conn:
            assert sqlalchemy.inspect(conn).get_table_names() == []
            conn.execute(sqlalchemy.text("CREATE TABLE probe (id INTEGER PRIMARY KEY)"))
            if engine.dialect.name == "postgresql":
                schema = conn.execute(sqlalchemy.text("SELECT current_schema()")).scalar()
                assert schema.startswith("mb_")
                where = conn.execute(sqlalchemy.text(
                    "SELECT table_schema FROM information_schema.tables WHERE table_name = 'probe'")).scalars().all()
                assert where == [schema]
    finally:
        engine.dispose()
