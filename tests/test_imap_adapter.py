"""The IMAP adapter against real servers: Dovecot (when installed) and pymap."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from imapclient import IMAPClient

import servers as devservers
from mailbot.adapters.imap import (Mailbox, MailboxAuthError, MailboxError, MailboxUnavailable,
                                   MessageNotFound, PendingMessage)

pytestmark = pytest.mark.mail


def _raw(n: int, body: str = "Saya ingin membeli softcopy publikasi.") -> bytes:
    return (f"From: Budi <budi{n}@example.com>\r\nTo: diseminasi@example.org\r\n"
            f"Subject: Permintaan data {n}\r\nMessage-ID: <m{n}@example.com>\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n").encode()


@pytest.fixture(params=["dovecot", "pymap"])
def server(request):
    """Each session server in turn, with a mailbox that looks new."""
    srv = request.getfixturevalue(f"{request.param}_server")
    if not srv.running:
        srv.start()
    srv.reset()
    return srv


@pytest.fixture
def mailbox(server):
    with Mailbox(**server.settings(), timeout=5) as mb:
        yield mb


def _flags(server, folder: str = "INBOX") -> dict[int, tuple]:
    with IMAPClient(server.host, server.port, ssl=False, timeout=5) as c:
        c.login(server.user, server.password)
        c.select_folder(folder, readonly=True)
        uids = c.search("ALL")
        return {uid: data[b"FLAGS"] for uid, data in c.fetch(uids, ["FLAGS"]).items()} if uids else {}


# ------------------------------------------------------------ folders


def test_ensure_folders_creates_processed_and_quarantine_once(server, mailbox):
    assert mailbox.ensure_folders(create=False) == ["Processed", "Quarantine"]
    assert mailbox.ensure_folders(create=False) == ["Processed", "Quarantine"]  # only reported
    assert mailbox.ensure_folders() == ["Processed", "Quarantine"]
    assert mailbox.ensure_folders() == []
    assert server.list_messages("Processed") == []


def test_missing_watched_mailbox_is_an_error_not_created(server):
    mb = Mailbox(**server.settings(), mailbox="Kotak-Tidak-Ada", timeout=5)
    with pytest.raises(MailboxError) as err:
        mb.connect()
    assert not isinstance(err.value, MailboxUnavailable)
    assert "Kotak-Tidak-Ada" in str(err.value)
    assert not mb.connected


# ------------------------------------------------------------ reading


def test_pending_lists_uids_sizes_and_uidvalidity(server, mailbox):
    raws = [_raw(1), _raw(2, "x" * 5000)]
    uids = [server.append(r) for r in raws]
    found = mailbox.pending()
    assert [p.uid for p in found] == uids
    assert [p.size for p in found] == [len(r) for r in raws]
    assert {p.uidvalidity for p in found} == {mailbox.uidvalidity}
    assert isinstance(found[0], PendingMessage)
    with pytest.raises(AttributeError):
        found[0].uid = 7  # frozen


def test_pending_is_empty_on_an_empty_mailbox(mailbox):
    assert mailbox.pending() == []


def test_fetch_returns_exact_bytes_and_leaves_message_unseen(server, mailbox):
    raw = _raw(3, "Terima kasih atas layanannya — salam dari Palembang.")
    uid = server.append(raw)
    assert mailbox.fetch(uid) == raw
    assert b"\\Seen" not in _flags(server)[uid]


def test_fetch_headers_returns_only_the_header_block(server, mailbox):
    raw = _raw(4, "BODY-MARKER " * 100)
    uid = server.append(raw)
    headers = mailbox.fetch_headers(uid)
    assert headers.startswith(b"From: Budi") and headers.endswith(b"\r\n\r\n")
    assert b"Subject: Permintaan data 4" in headers
    assert b"BODY-MARKER" not in headers
    assert b"\\Seen" not in _flags(server)[uid]


def test_fetch_many_returns_each_exact_message_unseen_and_leaves_out_what_is_not_there(server, mailbox):
    raws = {server.append(_raw(n, f"Permintaan ke-{n} — salam.")): _raw(n, f"Permintaan ke-{n} — salam.")
            for n in range(10, 14)}
    gone = max(raws) + 1000
    got = mailbox.fetch_many([*raws, gone])
    assert got == raws
    assert all(b"\\Seen" not in flags for flags in _flags(server).values())
    assert mailbox.fetch_many([]) == {}


def test_fetch_of_an_unknown_uid_raises_message_not_found(server, mailbox):
    uid = server.append(_raw(5))
    with pytest.raises(MessageNotFound):
        mailbox.fetch(uid + 1000)
    with pytest.raises(MessageNotFound):
        mailbox.fetch_headers(uid + 1000)
    assert [p.uid for p in mailbox.pending()] == [uid]  # the connection is still usable


# ------------------------------------------------------------ moving


def test_move_takes_the_message_out_of_the_inbox(server, mailbox):
    mailbox.ensure_folders()
    uids = [server.append(_raw(n)) for n in (6, 7)]
    mailbox.move(uids[0], "Processed")
    assert [p.uid for p in mailbox.pending()] == [uids[1]]
    assert server.list_messages("Processed") == [_raw(6)]
    assert server.list_messages("INBOX") == [_raw(7)]


def test_move_without_move_capability_uses_copy_delete_expunge(server, mailbox, monkeypatch):
    mailbox.ensure_folders()
    monkeypatch.setattr(type(mailbox), "has_move", property(lambda self: False))
    keep, gone = server.append(_raw(8)), server.append(_raw(9))
    mailbox.move(gone, "Quarantine")
    assert [p.uid for p in mailbox.pending()] == [keep]
    assert server.list_messages("Quarantine") == [_raw(9)]
    assert server.list_messages("INBOX") == [_raw(8)]


def test_move_to_a_missing_folder_creates_it(server, mailbox):
    uid = server.append(_raw(10))
    mailbox.move(uid, "Quarantine")
    assert server.list_messages("Quarantine") == [_raw(10)]
    assert mailbox.pending() == []


def test_no_custom_keywords_or_flags_are_set(server, mailbox):
    mailbox.ensure_folders()
    uid = server.append(_raw(11))
    mailbox.pending()
    mailbox.fetch(uid)
    mailbox.fetch_headers(uid)
    assert _flags(server)[uid] in ((), (b"\\Recent",))


# ------------------------------------------------------------ waiting for mail


def test_idle_wait_wakes_when_mail_arrives(server, mailbox):
    assert mailbox.has_idle
    mailbox.pending()
    timer = threading.Timer(1.0, server.append, args=(_raw(12),))   # well inside IDLE, even on a busy machine
    timer.start()
    t0 = time.monotonic()
    try:
        assert mailbox.idle_wait(10) is True
    finally:
        timer.join()
    assert time.monotonic() - t0 < 5
    assert [p.size for p in mailbox.pending()] == [len(_raw(12))]


def test_idle_wait_times_out_without_mail(mailbox):
    mailbox.pending()
    t0 = time.monotonic()
    assert mailbox.idle_wait(0.5) is False
    assert 0.4 < time.monotonic() - t0 < 3
    assert mailbox.pending() == []  # still usable after IDLE


def test_idle_wait_sees_mail_that_arrived_while_busy(server, mailbox):
    mailbox.ensure_folders()
    first = server.append(_raw(13))
    assert [p.uid for p in mailbox.pending()] == [first]
    server.append(_raw(14))  # arrives while the first one is processed
    mailbox.move(first, "Processed")  # its response may carry the EXISTS for the new mail
    t0 = time.monotonic()
    assert mailbox.idle_wait(5) is True
    assert time.monotonic() - t0 < 2


def test_idle_wait_sees_mail_that_arrived_into_an_empty_mailbox_while_busy(server, mailbox):
    assert mailbox.pending() == []
    server.append(_raw(20))
    mailbox.fetch_headers(server.append(_raw(21)))  # a command whose response carries the EXISTS
    t0 = time.monotonic()
    assert mailbox.idle_wait(5) is True
    assert time.monotonic() - t0 < 2


@pytest.mark.parametrize("security", ["none", "starttls"])    # TLS keeps a buffer of its own
@pytest.mark.parametrize("landing_before", [1, 2])              # which IDLE of idle_wait the mail precedes
def test_idle_wait_sees_mail_that_arrived_just_before_idle_began(server, security, landing_before,
                                                                 monkeypatch):
    """Dovecot announces mail that landed after the last look and before IDLE together with its
    "+ idling", in the same packet: imaplib then holds the announcement in its buffer, where a wait on
    the socket does not see it (such a mail waited for the server's next keepalive, minutes). pymap
    announces only mail that lands during IDLE: there the look after the IDLE slice finds it, so the
    mail waits one slice (1 s, then 2 s), never the whole timeout — whichever slice it precedes."""
    mailbox = Mailbox(**server.settings(security), ssl_context=server.ssl_context(), timeout=5).connect()
    assert mailbox.pending() == []
    real_idle = IMAPClient.idle
    idles = []

    def idle_after_mail_lands(client):
        idles.append(client)
        if len(idles) == landing_before:
            server.append(_raw(22))      # after idle_wait's own look, before this IDLE command
            time.sleep(0.6)              # Dovecot notices other sessions' mail about 0.5 s late
        return real_idle(client)

    monkeypatch.setattr(IMAPClient, "idle", idle_after_mail_lands)
    t0 = time.monotonic()
    try:
        assert mailbox.idle_wait(20) is True
        waited = time.monotonic() - t0
        # the slices before it and its own (1 s, then 2 s), the 0.6 s above, a look; far below 20 s
        assert waited < {1: 1, 2: 1 + 2}[landing_before] + 2.5
        assert [p.size for p in mailbox.pending()] == [len(_raw(22))]
    finally:
        mailbox.close()


def test_idle_wait_returns_false_at_once_without_idle(mailbox, monkeypatch):
    monkeypatch.setattr(type(mailbox), "has_idle", property(lambda self: False))
    t0 = time.monotonic()
    assert mailbox.idle_wait(30) is False
    assert time.monotonic() - t0 < 0.1


# ------------------------------------------------------------ failures


def test_wrong_password_raises_auth_error(server):
    settings = server.settings() | {"password": "salah"}
    with pytest.raises(MailboxAuthError) as err:
        Mailbox(**settings, timeout=5).connect()
    assert server.user in str(err.value)


def test_closed_port_is_unavailable():
    with pytest.raises(MailboxUnavailable):
        Mailbox("127.0.0.1", devservers.free_port(), "none", "u", "p", timeout=2).connect()


def test_silent_server_times_out_as_unavailable():
    with socket.socket() as listener:  # accepts connections, never sends a greeting
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        t0 = time.monotonic()
        with pytest.raises(MailboxUnavailable):
            Mailbox("127.0.0.1", listener.getsockname()[1], "none", "u", "p", timeout=0.5).connect()
        assert time.monotonic() - t0 < 3


def test_operations_before_connect_raise_unavailable():
    mb = Mailbox("127.0.0.1", 1, "none", "u", "p")
    with pytest.raises(MailboxUnavailable):
        mb.pending()
    with pytest.raises(MailboxError):
        mb.uidvalidity


@pytest.mark.parametrize("kind", ["dovecot", "pymap"])
def test_server_outage_and_reconnect(kind, request):
    if kind == "dovecot":
        request.getfixturevalue("dovecot_server")  # skip/fail like the session fixture
    srv = devservers.DovecotServer() if kind == "dovecot" else devservers.PymapServer()
    with srv:
        srv.append(_raw(15))
        mb = Mailbox(**srv.settings(), timeout=3)
        mb.connect()
        before = mb.pending()
        srv.stop()
        with pytest.raises(MailboxUnavailable):
            mb.pending()
        assert not mb.connected
        with pytest.raises(MailboxUnavailable):
            mb.connect()
        srv.start()
        mb.connect()
        after = mb.pending()
        mb.close()
    if kind == "dovecot":  # mail on disk survives
        assert [(p.uid, p.uidvalidity) for p in after] == [(p.uid, p.uidvalidity) for p in before]
    else:  # pymap is in memory: everything is gone, UIDVALIDITY is new
        assert after == [] and before[0].uidvalidity != mb.uidvalidity


def test_uidvalidity_change_is_visible_after_reconnect(server):
    server.append(_raw(16), folder="Kerja")
    mb = Mailbox(**server.settings(), mailbox="Kerja", timeout=5)
    with mb:
        old = mb.pending()[0].uidvalidity
    with IMAPClient(server.host, server.port, ssl=False, timeout=5) as c:  # folder re-created
        c.login(server.user, server.password)
        c.delete_folder("Kerja")
        c.create_folder("Kerja")
    server.append(_raw(17), folder="Kerja")
    with mb:
        fresh = mb.pending()
    assert [p.size for p in fresh] == [len(_raw(17))]
    assert fresh[0].uidvalidity != old


# ------------------------------------------------------------ TLS


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_connections_verify_the_certificate(server, security):
    if security == "ssl" and server.tls_port is None:
        pytest.skip("pymap has no implicit-TLS port")
    uid = server.append(_raw(18))
    with Mailbox(**server.settings(security), ssl_context=server.ssl_context(), timeout=5) as mb:
        assert [p.uid for p in mb.pending()] == [uid]
        assert mb.fetch(uid) == _raw(18)


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_untrusted_certificate_is_a_clear_error(server, security):
    if security == "ssl" and server.tls_port is None:
        pytest.skip("pymap has no implicit-TLS port")
    with pytest.raises(MailboxError) as err:
        Mailbox(**server.settings(security), timeout=5).connect()  # system CAs only
    assert not isinstance(err.value, MailboxUnavailable)
    assert "certificate" in str(err.value)


def test_implicit_tls_against_a_plain_port_is_a_setup_error(server):
    with pytest.raises(MailboxError) as err:
        Mailbox(**server.settings() | {"security": "ssl"}, ssl_context=server.ssl_context(), timeout=5).connect()
    assert not isinstance(err.value, MailboxUnavailable)
    assert "security setting" in str(err.value)


def test_starttls_required_but_not_offered():
    with devservers.PymapServer() as plain:
        with pytest.raises(MailboxError) as err:
            Mailbox(**plain.settings() | {"security": "starttls"}, timeout=5).connect()
    assert "STARTTLS" in str(err.value)
