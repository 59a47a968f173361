"""Shared fixtures: real IMAP/SMTP servers on 127.0.0.1 and database URLs (SQLite, PostgreSQL).

Environment:
  MAILBOT_REQUIRE_DOVECOT=1   fail (not skip) when Dovecot is not installed (CI).
  MAILBOT_DOVECOT=PATH        the dovecot binary (default: PATH, then /usr/sbin/dovecot);
                              a missing path behaves like a machine without Dovecot.
  MAILBOT_TEST_PG=URL         also run ``db_url`` tests on PostgreSQL, e.g.
                              postgresql+psycopg://postgres@127.0.0.1:5432/test
                              (a fresh schema per test; unreachable → failure);
                              ``module_db_url`` is the same, once per module.

Mail fixtures:
  dovecot_server / pymap_server  session-scoped, TLS enabled (plain LOGIN, STARTTLS;
                                 Dovecot also implicit TLS on ``tls_port``).
  imap_server                    session-scoped: Dovecot when installed, else pymap.
  fresh_mailbox                  ``imap_server`` with a mailbox that looks new: INBOX
                                 empty, every other folder (Processed, Quarantine, …)
                                 deleted. Takes a few milliseconds.
  smtp_server                    a new plain CaptureSMTPServer per test (no TLS, no AUTH).
A test that stops or restarts a server should start its own instance instead of
using the session ones (``fresh_mailbox`` restarts a stopped session server anyway).
"""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

import servers as devservers

REQUIRE_DOVECOT = os.environ.get("MAILBOT_REQUIRE_DOVECOT") == "1"
TEST_PG = os.environ.get("MAILBOT_TEST_PG", "").strip()


def pytest_configure(config):
    # aiosmtpd warns when AUTH is offered on an implicit-TLS port; that is the point there
    config.addinivalue_line("filterwarnings", "ignore:Requiring AUTH while not requiring TLS:UserWarning")


# ---------------------------------------------------------------- IMAP


@pytest.fixture(scope="session")
def dovecot_server():
    """A private Dovecot (TLS on) for the whole session; skipped (or failed in CI) without Dovecot."""
    if devservers.find_dovecot() is None:
        if REQUIRE_DOVECOT:
            pytest.fail("MAILBOT_REQUIRE_DOVECOT=1 but Dovecot is not installed (apt-get install dovecot-imapd)")
        pytest.skip("Dovecot is not installed")
    server = devservers.DovecotServer(tls=True).start()
    yield server
    server.close()


@pytest.fixture(scope="session")
def pymap_server():
    """pymap's in-memory server (STARTTLS on) for the whole session."""
    server = devservers.PymapServer(tls=True).start()
    yield server
    server.close()


@pytest.fixture(scope="session")
def imap_server(request):
    """Dovecot when installed, else pymap (MAILBOT_REQUIRE_DOVECOT=1 makes a missing Dovecot fail)."""
    if devservers.find_dovecot() is not None or REQUIRE_DOVECOT:
        return request.getfixturevalue("dovecot_server")
    return request.getfixturevalue("pymap_server")


def _fresh(server):
    if not server.running:  # a test stopped it; bring it back for the next one
        server.start()
    server.reset()
    return server


@pytest.fixture
def fresh_mailbox(imap_server):
    """``imap_server`` with an empty INBOX and no other folders.

    Use ``fresh_mailbox.settings()`` for Mailbox/config keyword arguments,
    ``.append(raw, folder)`` and ``.list_messages(folder)`` to look inside.
    """
    return _fresh(imap_server)


# ---------------------------------------------------------------- SMTP


@pytest.fixture
def smtp_server():
    """A fresh CaptureSMTPServer (plain, no AUTH) per test; ``.messages``, ``.wait_for(n)``."""
    server = devservers.CaptureSMTPServer().start()
    yield server
    server.stop()


# ---------------------------------------------------------------- database


def _pg_admin_conninfo(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


# Every test that takes a database runs on each of these.
DB_KINDS = ["sqlite", "postgresql"] if TEST_PG else ["sqlite"]


@contextmanager
def _database(kind: str, directory: Path) -> Iterator[str]:
    """A SQLAlchemy URL of an empty database: a SQLite file in `directory`, or (with MAILBOT_TEST_PG)
    a fresh PostgreSQL schema ``mb_<random>`` that the URL selects through ``options=-csearch_path=…``;
    the schema is dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{directory / 'mailbot.sqlite3'}"
        return
    import psycopg
    from sqlalchemy.engine import make_url

    schema = f"mb_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(_pg_admin_conninfo(TEST_PG), autocommit=True, connect_timeout=5)
    except psycopg.Error as exc:
        pytest.fail(f"MAILBOT_TEST_PG is set but PostgreSQL is unreachable: {exc}")
    with admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        url = make_url(TEST_PG).update_query_dict(
            {"options": f"-csearch_path={schema}", "application_name": schema})
        yield url.render_as_string(hide_password=False)
        # connections a test left open (even idle in a transaction) would block the drop
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE application_name = %s AND pid <> pg_backend_pid()", (schema,))
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=DB_KINDS)
def db_url(request, tmp_path):
    """The URL of an empty database, once per kind in DB_KINDS (see `_database`)."""
    with _database(request.param, tmp_path) as url:
        yield url


@pytest.fixture(scope="module", params=DB_KINDS)
def module_db_url(request, tmp_path_factory):
    """`db_url` shared by a whole module (tests/test_forgery.py builds one office for all its tests),
    on the same databases."""
    with _database(request.param, tmp_path_factory.mktemp("db")) as url:
        yield url


# ---------------------------------------------------------------- a whole office


@pytest.fixture
def world(fresh_mailbox, smtp_server, db_url):
    """A configured mailbot (tests/world.py) over a fresh mailbox, a capture SMTP server and an
    empty database, with the example catalog imported."""
    from world import World

    w = World(fresh_mailbox, smtp_server, db_url)
    w.import_catalog()
    yield w
    w.close()
