"""SQLAlchemy models and the small repository functions the service uses."""
from __future__ import annotations

import json
import threading
from datetime import date, datetime, timezone
from pathlib import Path

from sqlalchemy import (Boolean, Date, DateTime, ForeignKey, Integer, LargeBinary, String, Text, TypeDecorator,
                        UniqueConstraint, bindparam, create_engine, event, func, select, update)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, sessionmaker

from ..domain.case import Case, Item
from ..domain.states import State
from .storage import fsync_path


class Base(DeclarativeBase):
    pass


class UTCDateTime(TypeDecorator):
    """An instant: stored as UTC whatever zone it came in (SQLite keeps no offset), read back aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("an instant needs its time zone")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class CaseRow(Base):
    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True)
    state: Mapped[str] = mapped_column(String(20), index=True)
    customer: Mapped[str] = mapped_column(String(320), index=True)
    customer_name: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(5), default="id")
    request_text: Mapped[str] = mapped_column(Text, default="")
    linked_ref: Mapped[str | None] = mapped_column(String(32))
    thread_token: Mapped[str] = mapped_column(String(40), index=True)
    opened_on: Mapped[date | None] = mapped_column(Date)
    agreed: Mapped[bool] = mapped_column(Boolean, default=False)
    identity_received: Mapped[bool] = mapped_column(Boolean, default=False)
    identity_ok: Mapped[bool] = mapped_column(Boolean, default=False)
    deliverables: Mapped[str] = mapped_column(Text, default="[]")     # JSON list of file ids
    zero_reason: Mapped[str] = mapped_column(Text, default="")
    clear_on: Mapped[date | None] = mapped_column(Date)
    clock_used: Mapped[int] = mapped_column(Integer, default=0)
    clock_since: Mapped[date | None] = mapped_column(Date)
    service_due: Mapped[date | None] = mapped_column(Date)
    correction_due: Mapped[date | None] = mapped_column(Date)
    invoice_issued: Mapped[date | None] = mapped_column(Date)
    invoice_expires: Mapped[date | None] = mapped_column(Date)
    paid_on: Mapped[date | None] = mapped_column(Date)
    delivered_on: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    close_reason: Mapped[str] = mapped_column(Text, default="")
    rating: Mapped[int | None] = mapped_column(Integer)
    guesses: Mapped[str] = mapped_column(Text, default="[]")          # JSON: catalog guesses shown to petugas
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    items: Mapped[list["ItemRow"]] = relationship(order_by="ItemRow.line", cascade="all, delete-orphan")


class ItemRow(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    line: Mapped[int] = mapped_column(Integer)
    katalog: Mapped[str] = mapped_column(String(40))
    judul: Mapped[str] = mapped_column(Text)
    halaman: Mapped[int] = mapped_column(Integer)
    qty: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(Integer)


class InboundRow(Base):
    """Every inbound mail we took from the mailbox: the exactly-once record."""

    __tablename__ = "inbound"
    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(998), unique=True)
    uidvalidity: Mapped[int | None] = mapped_column(Integer)
    uid: Mapped[int | None] = mapped_column(Integer)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    sender: Mapped[str] = mapped_column(String(320), default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    raw_path: Mapped[str] = mapped_column(Text, default="")
    verdict: Mapped[str] = mapped_column(String(20), default="")      # human, machine, bounce, own, …
    outcome: Mapped[str] = mapped_column(String(30), default="")      # what was done
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The author's headers and body (ParsedMail.content_sha256): another mail under a Message-ID we know
    # is told apart from the same mail again. None on rows older than the column.
    content_sha256: Mapped[str | None] = mapped_column(String(64))


class FileRow(Base):
    """A stored file (attachment, deliverable, rendered document), kept under its sha256."""

    __tablename__ = "files"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound.id"))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)
    # identity, proof, defect (a customer's screenshot), deliverable, correction, invoice, receipt, attachment
    role: Mapped[str] = mapped_column(String(20))
    allowed: Mapped[bool] = mapped_column(Boolean, default=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class EventRow(Base):
    """The audit trail."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(320))
    detail: Mapped[str] = mapped_column(Text, default="")


class OutboxRow(Base):
    """A fully rendered outbound mail waiting for, or past, SMTP."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(998), unique=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    sender: Mapped[str] = mapped_column(String(320))
    # For people to read: a customer, or a whole staff list joined by ", " (never split again).
    recipient: Mapped[str] = mapped_column(Text, index=True)
    # The envelope recipients, a JSON list: what the sender hands to SMTP (see recipients_of).
    recipients: Mapped[str] = mapped_column(Text, default="[]")
    # Whose mail caused this one: the sender's address without its +tag, and its domain (None for
    # mail the scheduler or the command line sent). The daily caps count by these.
    cause: Mapped[str | None] = mapped_column(String(320), index=True)
    cause_domain: Mapped[str | None] = mapped_column(String(255), index=True)
    subject: Mapped[str] = mapped_column(Text)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)   # pending, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())     # a sender is handing it to SMTP
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


def recipient_field(addresses: tuple[str, ...]) -> str:
    """What an outbox row's `recipient` shows people for these envelope recipients."""
    return ", ".join(addresses)


def recipients_field(addresses: tuple[str, ...]) -> str:
    """What an outbox row's `recipients` holds: the list itself, never a string to split."""
    return json.dumps(list(addresses), ensure_ascii=False)


def recipients_of(row_or_field: "OutboxRow | str") -> list[str]:
    """The envelope recipients of an outbox row (or of its `recipients` field)."""
    field = row_or_field if isinstance(row_or_field, str) else row_or_field.recipients
    return list(json.loads(field or "[]"))


class DocumentRow(Base):
    """An invoice or kuitansi: numbered gap-free per year, never renumbered, voided not deleted."""

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("kind", "year", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))       # invoice, receipt
    number: Mapped[str] = mapped_column(String(80), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    issued_on: Mapped[date] = mapped_column(Date)
    total: Mapped[int] = mapped_column(Integer)
    valid_until: Mapped[date | None] = mapped_column(Date)
    billing_code: Mapped[str | None] = mapped_column(String(20))
    billing_expires: Mapped[date | None] = mapped_column(Date)
    file_sha256: Mapped[str] = mapped_column(String(64), default="")
    void: Mapped[bool] = mapped_column(Boolean, default=False)
    void_reason: Mapped[str] = mapped_column(Text, default="")


class ProofReadingRow(Base):
    """One payment-proof file waiting to be read, or read: the queue worked after the mail's commit.
    The rows of one mail (`message_id`) share the notices that wait for their reading (`then`, JSON
    effects) and the instant those go out at the latest (`notify_by`)."""

    __tablename__ = "proof_readings"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("files.id"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))   # the invoice it pays
    message_id: Mapped[str] = mapped_column(String(998), default="")
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)   # pending, done
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    then: Mapped[str] = mapped_column(Text, default="[]")
    notify_by: Mapped[datetime] = mapped_column(UTCDateTime())
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    method: Mapped[str] = mapped_column(String(12), default="")       # text, ocr, no_ocr, unreadable
    result: Mapped[str] = mapped_column(Text, default="")             # the Reading, JSON
    ref_key: Mapped[str | None] = mapped_column(String(80), index=True)   # NTPN or bank reference, for reuse
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SequenceRow(Base):
    __tablename__ = "sequences"
    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class DigestTokenRow(Base):
    """A bendahara reference token: bound to one invoice and one digest, single use, expiring."""

    __tablename__ = "digest_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(16), unique=True)
    digest_id: Mapped[str] = mapped_column(String(40), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class JobRunRow(Base):
    """A scheduled action already done (reminder sent, warning given): makes every job idempotent."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class CatalogRow(Base):
    """One edition of a publication: BPS keeps the catalog number of a series from year to year."""

    __tablename__ = "catalog"
    katalog: Mapped[str] = mapped_column(String(40), primary_key=True)
    tahun: Mapped[int] = mapped_column(Integer, primary_key=True)
    judul: Mapped[str] = mapped_column(Text)
    halaman: Mapped[int] = mapped_column(Integer)
    file: Mapped[str] = mapped_column(Text, default="")


class ComplaintRow(Base):
    """One complaint message (service standard §6): on its case when there is one, else on its own.
    A complaint's follow-ups share its `ref` (ADU-YYYY-NNNN)."""

    __tablename__ = "complaints"
    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    customer: Mapped[str] = mapped_column(String(320), index=True)
    customer_name: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(5), default="id")
    message_id: Mapped[str] = mapped_column(String(998), index=True)     # the customer's mail
    text: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StatusRow(Base):
    """Small key/value facts for `mailbot status` (last fetch, …)."""

    __tablename__ = "status"
    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


# --- engine -----------------------------------------------------------------------
SQLITE_BUSY_SECONDS = 30


def _lower(value):
    return value.lower() if isinstance(value, str) else value


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets foreign keys, a busy timeout and immediate transactions."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_SECONDS})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            dbapi_conn.isolation_level = None   # let SQLAlchemy's BEGIN below be the only one
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            # Commits survive a crash of mailbot at once; against a power cut they are made durable by
            # make_durable() before anything leaves the machine (IMAP move, SMTP send).
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()
            # SQLite's lower() folds A–Z only; Python's folds every script, as PostgreSQL's does.
            dbapi_conn.create_function("lower", 1, _lower, deterministic=True)

        # One writer at a time, decided at BEGIN: no upgrade deadlocks, numbers stay gap-free. Within
        # this process writers first queue on `writer`, held from BEGIN to COMMIT or ROLLBACK: a waiting
        # thread wakes the moment it is free, where SQLite's busy handler would sleep-poll (1, 2, 5 …
        # 100 ms) — the intake and the sender take turns hundreds of times a second. (SQLAlchemy's
        # commit and rollback events come just before the statement: a thread that wakes in between
        # meets SQLite's lock for a millisecond.) Other processes still meet SQLite's own lock.
        writer = threading.Lock()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            info = conn.connection.info          # one dict per DBAPI connection, as the pool events see it
            if not writer.acquire(timeout=SQLITE_BUSY_SECONDS):
                raise TimeoutError(f"no database write turn within {SQLITE_BUSY_SECONDS} s")
            info["writer"] = True
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                _end_turn(info)
                raise

        def _end_turn(info: dict) -> None:
            if info.pop("writer", False):
                writer.release()

        def _transaction_ended(conn) -> None:
            if not conn.invalidated:             # an invalidated one was checked in: its turn is over
                _end_turn(conn.connection.info)

        event.listen(engine, "commit", _transaction_ended)
        event.listen(engine, "rollback", _transaction_ended)
        # a connection that broke (invalidated) or went back to the pool mid-transaction gives it up too
        event.listen(engine, "checkin", lambda _dbapi, record: _end_turn(record.info))

        return engine
    return create_engine(url, pool_pre_ping=True)


def make_durable(engine: Engine) -> None:
    """Everything committed so far is on disk. PostgreSQL syncs every commit. SQLite in WAL mode with
    synchronous=NORMAL leaves commits in the log unsynced; fsyncing the log here is what
    synchronous=FULL does after every commit, done once per batch instead. (A checkpoint would do too,
    but it is refused while another thread commits or checkpoints: the sender and the intake run side
    by side.) Commits already checkpointed are in the main file, which SQLite syncs before it reuses
    the log."""
    if engine.dialect.name != "sqlite":
        return
    raw = engine.raw_connection()
    try:    # the file SQLite opened, whatever form the URL gave it in ("" for an in-memory database)
        database = next(f for _, name, f in raw.driver_connection.execute("PRAGMA database_list") if name == "main")
    finally:
        raw.close()
    if not database:
        return
    wal = Path(database + "-wal")
    try:
        fsync_path(wal)
    except FileNotFoundError:
        return                          # nothing was ever written through the log
    fsync_path(wal.parent)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def current_document(session: Session, case_id: int | None, kind: str) -> "DocumentRow | None":
    """The case's newest invoice or receipt that is not void."""
    if case_id is None:
        return None
    return session.scalar(select(DocumentRow).where(
        DocumentRow.case_id == case_id, DocumentRow.kind == kind, DocumentRow.void.is_(False))
        .order_by(DocumentRow.id.desc()).limit(1))


def catalog_entry(session: Session, katalog: str, tahun: int | None = None, judul: str | None = None):
    """The edition asked for: by year, else by exact title, else the newest."""
    q = select(CatalogRow).where(CatalogRow.katalog == katalog)
    if tahun is not None:
        return session.scalar(q.where(CatalogRow.tahun == tahun))
    if judul is not None:
        exact = session.scalar(q.where(CatalogRow.judul == judul).limit(1))
        if exact is not None:
            return exact
    return session.scalar(q.order_by(CatalogRow.tahun.desc()).limit(1))


def proof_readings_of(session: Session, case_id: int) -> list[tuple["ProofReadingRow", "FileRow"]]:
    """The case's proof files in the order they came, each with its reading (pending or done)."""
    return [tuple(r) for r in session.execute(
        select(ProofReadingRow, FileRow).join(FileRow, FileRow.id == ProofReadingRow.file_id)
        .where(ProofReadingRow.case_id == case_id).order_by(ProofReadingRow.id))]


def seen_elsewhere(session: Session, case_id: int, sha256: str, ref_key: str | None) -> list[tuple[str, str]]:
    """(case ref, how) of other cases that had this very file as a proof, or a proof with this NTPN or
    bank reference: a proof paid once may be sent again for a second order."""
    found: dict[str, str] = {}
    same_file = (select(CaseRow.ref).join(FileRow, FileRow.case_id == CaseRow.id)
                 .where(FileRow.sha256 == sha256, FileRow.role == "proof", CaseRow.id != case_id))
    for ref in session.scalars(same_file):
        found.setdefault(ref, "file yang sama")
    if ref_key:
        same_ref = (select(CaseRow.ref).join(ProofReadingRow, ProofReadingRow.case_id == CaseRow.id)
                    .where(ProofReadingRow.ref_key == ref_key, CaseRow.id != case_id))
        kind = ref_key.split(":", 1)[0]
        how = f"{kind} yang sama" if kind in ("NTPN", "NTB") else "nomor referensi yang sama"
        for ref in session.scalars(same_ref):
            found.setdefault(ref, how)
    return sorted(found.items())


# --- sequences --------------------------------------------------------------------
def next_seq(session: Session, name: str) -> int:
    """The next number of sequence `name`, inside the caller's transaction (gap-free: rolled back with it).
    One upsert statement: the first number of a new sequence (a new year) and every later one alike."""
    upsert = _NEXT_SEQ["postgresql" if session.get_bind().dialect.name == "postgresql" else "sqlite"]
    return session.connection().execute(upsert, {"name": name}).scalar_one()


_NEXT_SEQ = {dialect: ins(SequenceRow.__table__).values(name=bindparam("name"), value=1)
             .on_conflict_do_update(index_elements=[SequenceRow.name], set_={"value": SequenceRow.value + 1})
             .returning(SequenceRow.value)
             for dialect, ins in (("postgresql", pg_insert), ("sqlite", sqlite_insert))}   # built once each


# --- case <-> row -----------------------------------------------------------------
_CASE_FIELDS = ("customer_name", "opened_on", "agreed", "identity_received", "identity_ok", "zero_reason",
                "clear_on", "clock_used", "clock_since", "service_due", "correction_due", "invoice_issued",
                "invoice_expires", "paid_on", "delivered_on", "closed_on", "close_reason", "rating")


def to_case(row: CaseRow) -> Case:
    """The domain view of a stored case."""
    items = tuple(Item(i.katalog, i.judul, i.halaman, i.qty, i.amount) for i in row.items)
    return Case(ref=row.ref, state=State(row.state), customer=row.customer, items=items,
                deliverables=tuple(json.loads(row.deliverables or "[]")),
                **{f: getattr(row, f) for f in _CASE_FIELDS})


def store_case(row: CaseRow, case: Case, now: datetime) -> None:
    """Write the domain case back into its row (items replaced when they changed)."""
    row.state = case.state.value
    row.customer = case.customer
    row.deliverables = json.dumps(list(case.deliverables))
    for f in _CASE_FIELDS:
        setattr(row, f, getattr(case, f))
    current = tuple(Item(i.katalog, i.judul, i.halaman, i.qty, i.amount) for i in row.items)
    if current != case.items:
        row.items.clear()
        row.items.extend(ItemRow(line=n, katalog=i.katalog, judul=i.judul, halaman=i.halaman, qty=i.qty,
                                 amount=i.amount) for n, i in enumerate(case.items, 1))
    row.updated_at = now


def add_event(conn: Connection, case_id: int | None, at: datetime, kind: str, actor: str, detail: str = "") -> None:
    """One line of a case's audit trail, written at once (`session.connection()` within a unit)."""
    conn.execute(_EVENT_INSERT, {"case_id": case_id, "at": at, "kind": kind, "actor": actor, "detail": detail})


def add_outbox(conn: Connection, *, message_id: str, case_id: int | None, kind: str, sender: str,
               recipients: tuple[str, ...], subject: str, raw: bytes, at: datetime, cause: str | None = None,
               cause_domain: str | None = None) -> None:
    """A mail ready to send, due at once."""
    conn.execute(_OUTBOX_INSERT, {"message_id": message_id, "case_id": case_id, "kind": kind, "sender": sender,
                                  "recipient": recipient_field(recipients), "recipients": recipients_field(recipients),
                                  "subject": subject, "raw": raw, "status": "pending", "attempts": 0,
                                  "next_attempt_at": at, "created_at": at, "last_error": "", "cause": cause,
                                  "cause_domain": cause_domain})


def add_inbound(conn: Connection, *, message_id: str, uid: int | None, uidvalidity: int | None, sender: str,
                subject: str, verdict: str, at: datetime, raw_path: str = "", outcome: str = "",
                content_sha256: str | None = None) -> int:
    """The exactly-once record of a mail taken from the mailbox; its id."""
    return conn.execute(_INBOUND_INSERT, {
        "message_id": message_id, "uid": uid, "uidvalidity": uidvalidity, "sender": sender[:320],
        "subject": subject[:2000], "verdict": verdict, "raw_path": raw_path, "outcome": outcome,
        "received_at": at, "content_sha256": content_sha256}).inserted_primary_key[0]


def finish_inbound(conn: Connection, inbound_id: int, outcome: str, case_id: int | None) -> None:
    """What became of the mail, and the case it landed on."""
    conn.execute(_INBOUND_DONE, {"inbound": inbound_id, "action": outcome, "case": case_id})


def inbound_by_message_id(conn: Connection, message_id: str):
    """(id, case_id, content_sha256) of the mail recorded under this Message-ID, or None."""
    return conn.execute(_INBOUND_BY_ID, {"message_id": message_id}).first()


def cases_by_message_id(conn: Connection, message_ids: list[str]) -> dict[str, int]:
    """The case of each of these Message-IDs that we sent, or took in on a case."""
    known = dict(conn.execute(_OURS_BY_ID, {"ids": message_ids}).all())
    known.update(conn.execute(_THEIRS_BY_ID, {"ids": message_ids}).all())
    return {mid: case_id for mid, case_id in known.items() if case_id}


def first_mail_of(conn: Connection, case_id: int) -> str | None:
    """The Message-ID of the first mail taken in on a case (the root of its thread)."""
    return conn.scalar(_FIRST_MAIL, {"case": case_id})


def latest_mail_from(conn: Connection, case_id: int, sender: str) -> str | None:
    return conn.scalar(_LATEST_MAIL_FROM, {"case": case_id, "sender": sender})


def mails_caused_since(conn: Connection, since: datetime, *, kinds: list[str] | None = None,
                       kind_prefix: str | None = None, cause: str | None = None, domain: str | None = None) -> int:
    """How many outbox rows of these kinds (or of kinds starting with `kind_prefix`) the mail of one
    sender (`cause`, the address without +tag) or of one domain caused since `since`."""
    if kind_prefix is not None:
        params = {"cause": cause, "since": since, "prefix": kind_prefix.replace("_", "\\_") + "%"}
        return conn.scalar(_CAUSED_BY_PREFIX, params) or 0
    if cause is not None:
        return conn.scalar(_CAUSED_BY, {"cause": cause, "since": since, "kinds": kinds}) or 0
    return conn.scalar(_CAUSED_BY_DOMAIN, {"domain": domain, "since": since, "kinds": kinds}) or 0


def cases_opened_since(conn: Connection, domain: str, since: datetime) -> list[tuple[int, str, str]]:
    """(id, ref, customer) of the cases opened since `since` for a customer at `domain`, oldest first."""
    pattern = "%@" + domain.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return [tuple(r) for r in conn.execute(_CASES_OPENED, {"pattern": pattern, "since": since})]


# The statements every handled mail runs, built once: building one costs more than running it.
_IN, _OUT = InboundRow.__table__, OutboxRow.__table__
_INBOUND_INSERT = _IN.insert()
_INBOUND_DONE = update(_IN).where(_IN.c.id == bindparam("inbound")).values(
    outcome=bindparam("action"), case_id=bindparam("case"))
_INBOUND_BY_ID = select(_IN.c.id, _IN.c.case_id, _IN.c.content_sha256).where(
    _IN.c.message_id == bindparam("message_id"))
_OURS_BY_ID = select(_OUT.c.message_id, _OUT.c.case_id).where(_OUT.c.message_id.in_(bindparam("ids", expanding=True)))
_THEIRS_BY_ID = select(_IN.c.message_id, _IN.c.case_id).where(
    _IN.c.message_id.in_(bindparam("ids", expanding=True)), _IN.c.case_id.is_not(None))
_FIRST_MAIL = select(_IN.c.message_id).where(_IN.c.case_id == bindparam("case")).order_by(_IN.c.id).limit(1)
_LATEST_MAIL_FROM = (select(_IN.c.message_id)
                     .where(_IN.c.case_id == bindparam("case"), _IN.c.sender == bindparam("sender"))
                     .order_by(_IN.c.id.desc()).limit(1))
_CAUSED_BY = select(func.count()).where(
    _OUT.c.cause == bindparam("cause"), _OUT.c.created_at >= bindparam("since"),
    _OUT.c.kind.in_(bindparam("kinds", expanding=True)))
_CAUSED_BY_PREFIX = select(func.count()).where(
    _OUT.c.cause == bindparam("cause"), _OUT.c.created_at >= bindparam("since"),
    _OUT.c.kind.like(bindparam("prefix"), escape="\\"))
_CAUSED_BY_DOMAIN = select(func.count()).where(
    _OUT.c.cause_domain == bindparam("domain"), _OUT.c.created_at >= bindparam("since"),
    _OUT.c.kind.in_(bindparam("kinds", expanding=True)))
_CASES = CaseRow.__table__
_CASES_OPENED = (select(_CASES.c.id, _CASES.c.ref, _CASES.c.customer)
                 .where(_CASES.c.customer.like(bindparam("pattern"), escape="\\"),
                        _CASES.c.created_at >= bindparam("since")).order_by(_CASES.c.id))
_OUTBOX_INSERT = _OUT.insert()
_EVENT_INSERT = EventRow.__table__.insert()


def utc(dt: datetime) -> datetime:
    """Aware datetimes read back from SQLite come naive: they were stored as UTC."""
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt
