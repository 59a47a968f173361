"""The SMTP adapter against a real aiosmtpd server: delivery, TLS, AUTH and error classes."""

from __future__ import annotations

import asyncio
import socket
import time
from email.message import EmailMessage

import pytest

from mailbot.adapters.smtp import (SendAuthError, SendPermanentError, SendResult, SendTemporaryError,
                                   send)
from servers import CaptureSMTPServer

pytestmark = pytest.mark.mail

SENDER = "diseminasi@example.org"


def _mail(subject: str = "Tagihan PUB-2026-0042") -> EmailMessage:
    m = EmailMessage()
    m["From"] = f"BPS Provinsi Sumatera Selatan <{SENDER}>"
    m["To"] = "Budi Santoso <budi@example.com>"
    m["Subject"] = subject
    m.set_content("Yth. Bapak Budi,\n\nterlampir tagihan untuk permintaan Anda.\n\nSalam,\nPetugas")
    return m


def _send(message, server: CaptureSMTPServer, recipients=("budi@example.com",), **overrides):
    kwargs = server.settings() | {"timeout": 5}
    if server.tls:
        kwargs["ssl_context"] = server.ssl_context()
    kwargs |= overrides
    return asyncio.run(send(message, sender=SENDER, recipients=list(recipients), **kwargs))


@pytest.fixture
def secure_smtp():
    """STARTTLS required, AUTH required."""
    with CaptureSMTPServer(tls="starttls", auth=("diseminasi", "rahasia")) as srv:
        yield srv


# ------------------------------------------------------------ delivery


def test_plain_send_delivers_envelope_and_message(smtp_server):
    result = _send(_mail(), smtp_server, recipients=["budi@example.com", "arsip@example.org"])
    assert isinstance(result, SendResult)
    assert result.accepted == ("budi@example.com", "arsip@example.org") and result.refused == {}
    (got,) = smtp_server.wait_for(1)
    assert got.mail_from == SENDER
    assert got.rcpt_tos == ("budi@example.com", "arsip@example.org")
    assert got.message["Subject"] == "Tagihan PUB-2026-0042"
    assert "terlampir tagihan" in got.message.get_content()
    assert got.tls is False and got.authenticated_as is None


def test_raw_bytes_are_sent_unchanged(smtp_server):
    raw = b"From: a@example.org\r\nTo: b@example.com\r\nSubject: Mentah\r\n\r\nIsi.\r\n"
    _send(raw, smtp_server)
    assert smtp_server.wait_for(1)[0].raw == raw


def test_bcc_only_in_the_envelope(smtp_server):
    m = _mail()
    m["Bcc"] = "bendahara@example.org"
    _send(m, smtp_server, recipients=["budi@example.com", "bendahara@example.org"])
    (got,) = smtp_server.wait_for(1)
    assert "bendahara@example.org" in got.rcpt_tos
    assert got.message["Bcc"] is None


def test_starttls_with_auth(secure_smtp):
    _send(_mail(), secure_smtp)
    (got,) = secure_smtp.wait_for(1)
    assert got.tls and got.authenticated_as == "diseminasi"


def test_implicit_tls_with_auth():
    with CaptureSMTPServer(tls="ssl", auth=("diseminasi", "rahasia")) as srv:
        assert srv.settings()["security"] == "ssl"
        _send(_mail(), srv)
        (got,) = srv.wait_for(1)
    assert got.tls and got.authenticated_as == "diseminasi"


def test_some_recipients_refused_is_reported_not_raised():
    with CaptureSMTPServer(rcpt_replies={"hilang@example.com": "550 5.1.1 No such user"}) as srv:
        result = _send(_mail(), srv, recipients=["budi@example.com", "hilang@example.com"])
        assert srv.wait_for(1)[0].rcpt_tos == ("budi@example.com",)
    assert result.accepted == ("budi@example.com",)
    assert result.refused == {"hilang@example.com": (550, "5.1.1 No such user")}


# ------------------------------------------------------------ failures


def test_wrong_password_fails_fast_with_a_clear_error(secure_smtp):
    t0 = time.monotonic()
    with pytest.raises(SendAuthError) as err:
        _send(_mail(), secure_smtp, password="salah")
    assert time.monotonic() - t0 < 3
    assert err.value.code == 535            # the outbox keeps such a mail: tests/test_outbox.py
    assert "diseminasi" in str(err.value)
    assert secure_smtp.messages == []


def test_rejected_message_is_permanent_with_server_code_and_text(smtp_server):
    smtp_server.reject(550, "5.7.1 Pesan ditolak oleh kebijakan")
    with pytest.raises(SendPermanentError) as err:
        _send(_mail(), smtp_server)
    assert err.value.code == 550
    assert "Pesan ditolak oleh kebijakan" in err.value.text
    assert smtp_server.messages == []


def test_deferred_message_is_temporary(smtp_server):
    smtp_server.reject(451)
    with pytest.raises(SendTemporaryError) as err:
        _send(_mail(), smtp_server)
    assert err.value.code == 451
    assert not isinstance(err.value, SendPermanentError)


def test_all_recipients_refused_permanently():
    with CaptureSMTPServer(rcpt_replies={"hilang@example.com": "550 5.1.1 No such user"}) as srv:
        with pytest.raises(SendPermanentError) as err:
            _send(_mail(), srv, recipients=["hilang@example.com"])
    assert err.value.code == 550 and "hilang@example.com" in str(err.value)


def test_all_recipients_refused_for_now_is_temporary():
    with CaptureSMTPServer(rcpt_replies={"penuh@example.com": "452 4.2.2 Mailbox full"}) as srv:
        with pytest.raises(SendTemporaryError) as err:
            _send(_mail(), srv, recipients=["penuh@example.com"])
    assert err.value.code == 452


def test_server_down_is_temporary_and_mail_goes_out_after_restart():
    srv = CaptureSMTPServer().start()
    srv.stop()
    with pytest.raises(SendTemporaryError, match="unreachable"):
        _send(_mail(), srv)
    srv.start()
    try:
        _send(_mail(), srv)
        assert len(srv.wait_for(1)) == 1
    finally:
        srv.stop()


def test_silent_server_times_out_as_temporary():
    with socket.socket() as listener:  # accepts, never greets
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        t0 = time.monotonic()
        with pytest.raises(SendTemporaryError, match="timed out"):
            asyncio.run(send(_mail(), sender=SENDER, recipients=["budi@example.com"], host="127.0.0.1",
                             port=listener.getsockname()[1], security="none", timeout=0.5))
        assert time.monotonic() - t0 < 3


def test_untrusted_certificate_is_temporary_and_clear(secure_smtp):
    import ssl
    with pytest.raises(SendTemporaryError, match="certificate"):
        _send(_mail(), secure_smtp, ssl_context=ssl.create_default_context())
    assert secure_smtp.messages == []


def test_starttls_required_but_not_offered_is_not_sent_in_clear(smtp_server):
    with pytest.raises(SendTemporaryError, match="STARTTLS|TLS"):
        _send(_mail(), smtp_server, security="starttls")
    assert smtp_server.messages == []


def test_security_none_does_not_upgrade_silently(secure_smtp):
    # the server demands STARTTLS; "none" must not negotiate it behind the user's back
    with pytest.raises((SendTemporaryError, SendPermanentError)):
        _send(_mail(), secure_smtp, security="none")
    assert secure_smtp.messages == []


def test_bad_arguments_are_programming_errors(smtp_server):
    with pytest.raises(ValueError):
        _send(_mail(), smtp_server, security="tls")
    with pytest.raises(ValueError):
        _send(_mail(), smtp_server, recipients=[])

