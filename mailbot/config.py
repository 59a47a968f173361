"""Load and validate mailbot.toml into frozen dataclasses; every problem is one line naming the file and key."""
from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .domain.numbering import check_pattern

SECURITY_MODES = ("ssl", "starttls", "none")
IMAP_PORTS = {"ssl": 993, "starttls": 143, "none": 143}
SMTP_PORTS = {"ssl": 465, "starttls": 587, "none": 25}
LOOPBACK = ("127.0.0.1", "::1", "localhost")
EMAIL_RE = re.compile(r"[^@\s<>\"',;]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


class ConfigError(ValueError):
    """A configuration problem; str() is one line: "FILE: KEY: what was expected"."""


# ---------------------------------------------------------------- the sections


@dataclass(frozen=True)
class Office:
    name: str
    address: str
    city: str
    service_address: str           # the mailbox customers write to, lower-case
    signatory: str                 # who signs invoices and receipts
    signatory_title: str = "Bendahara Penerimaan"
    nip: str = ""                  # signatory's NIP (18 digits); "" prints none
    timezone: str = "Asia/Jakarta"
    phone: str = ""
    email: str = ""                # shown on documents; defaults to service_address
    website: str = ""
    logo: Path | None = None
    # Right side of our Message-IDs: "mailbot." + the service domain by default, so that mail
    # of the office's own staff (same domain) is never mistaken for ours coming back.
    message_id_domain: str = ""

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class Imap:
    host: str
    username: str
    password: str = field(repr=False)
    port: int = 993
    security: str = "ssl"
    mailbox: str = "INBOX"
    processed_folder: str = "Processed"
    quarantine_folder: str = "Quarantine"
    idle: bool = True
    poll_seconds: int = 60
    timeout_seconds: int = 60
    create_folders: bool = True
    alert_after_failures: int = 8   # consecutive failed connects before the supervisor list is told


@dataclass(frozen=True)
class Smtp:
    host: str
    port: int = 587
    security: str = "starttls"
    username: str = ""             # "" = no AUTH (a relay that trusts this machine)
    password: str = field(default="", repr=False)
    from_name: str = ""
    timeout_seconds: int = 60


@dataclass(frozen=True)
class Database:
    url: str


@dataclass(frozen=True)
class Storage:
    dir: Path
    library_dir: Path
    max_attachment_mb: float = 20
    max_message_mb: float = 25
    stamp_deliveries: bool = False   # footer with buyer and invoice number on each delivered PDF page
    font_dir: Path | None = None     # optional fonts for the PDFs, searched before the system font directories


@dataclass(frozen=True)
class Roles:
    petugas: tuple[str, ...]
    bendahara: tuple[str, ...]
    supervisor: tuple[str, ...] = ()


@dataclass(frozen=True)
class Security:
    authserv_id: str = ""          # "" = trust no Authentication-Results header; thread tokens only
    digest_token_days: int = 7


@dataclass(frozen=True)
class Payment:
    bank: str
    account_number: str
    account_name: str


@dataclass(frozen=True)
class Schedule:
    digest_time: time = time(8, 0)
    reminder_days: tuple[int, ...] = (7, 1)    # days before invoice expiry, descending
    auto_close_days: int = 14
    id_retention_days: int = 90                # identity documents deleted this long after the case ends
    warn_working_days: int = 2
    digest_on_proof: bool = False
    max_auto_replies_per_day: int = 10            # per sender address, its +tag ignored
    max_auto_replies_per_domain_per_day: int = 500
    max_new_cases_per_day: int = 5                # per sender; more requests are filed to the latest case
    max_staff_notices_per_sender_per_day: int = 20
    proof_wait_seconds: int = 10               # the proof's acknowledgement and digest wait this long for its reading
    new_reminder_days: int = 7                 # a `new` case waiting on its customer is reminded after this
    new_expiry_days: int = 30                  # … and cancelled after this, counted from the last mail


@dataclass(frozen=True)
class CalendarSettings:
    extra_holidays: tuple[date, ...] = ()
    extra_working_days: tuple[date, ...] = ()
    assume_complete_years: tuple[int, ...] = ()


@dataclass(frozen=True)
class Tariffs:
    regulation: str
    per_page: int                  # rupiah per page of an electronic publication
    zero_basis: str = ""           # legal basis printed for a Rp0 (NOL) service
    zero_categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class Numbering:
    invoice_pattern: str = "{seq:04d}/INV/1600/{month_roman}/{year}"
    receipt_pattern: str = "{seq:04d}/KWT/1600/{month_roman}/{year}"


@dataclass(frozen=True)
class Backup:
    dir: Path | None = None          # None: the daemon makes no daily backup
    keep: int = 7                    # daily backups kept; older ones are deleted
    time: time = time(1, 0)          # local time from which the day's backup is made


REPORT_ROLES = ("supervisor", "bendahara", "petugas")


@dataclass(frozen=True)
class Report:
    monthly_mail: bool = True        # the previous month's report, mailed on the first working day
    recipients: tuple[str, ...] = ("supervisor", "bendahara")   # role names and/or addresses


@dataclass(frozen=True)
class Config:
    office: Office
    imap: Imap
    smtp: Smtp
    database: Database
    storage: Storage
    roles: Roles
    security: Security
    payment: Payment
    schedule: Schedule
    calendar: CalendarSettings
    tariffs: Tariffs
    numbering: Numbering
    templates_dir: Path | None
    path: Path
    backup: Backup = Backup()
    report: Report = Report()

    @classmethod
    def for_tests(cls, base_dir: str | os.PathLike = "/tmp/mailbot-test", **sections: Mapping[str, Any]) -> Config:
        """A valid config for tests; each keyword replaces keys of one section, e.g. schedule={...}."""
        data: dict[str, Any] = {k: dict(v) for k, v in _TEST_CONFIG.items()}
        for name, values in sections.items():
            data.setdefault(name, {}).update(values)
        return parse_config(data, Path(base_dir) / "mailbot.toml", env={})


_TEST_CONFIG: dict[str, dict[str, Any]] = {
    "office": {
        "name": "Badan Pusat Statistik Provinsi Sumatera Selatan",
        "address": "Jl. Kapten P. Tendean No. 1, Palembang",
        "city": "Palembang",
        "service_address": "diseminasi1600@bps.go.id",
        "signatory": "Nama Bendahara",
    },
    "imap": {"host": "127.0.0.1", "security": "none", "username": "svc", "password": "secret"},
    "smtp": {"host": "127.0.0.1", "security": "none"},
    "roles": {"petugas": ["petugas@bps.go.id"], "bendahara": ["bendahara@bps.go.id"],
              "supervisor": ["kepala@bps.go.id"]},
    "payment": {"bank": "Bank Contoh", "account_number": "1234567890", "account_name": "RPL 027 BPS Prov Sumsel"},
    "tariffs": {"regulation": "PP 13/2024", "per_page": 1000},
}

# ---------------------------------------------------------------- reading


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    return str(value)


_REQUIRED = object()


class _Table:
    """One TOML table being read: typed getters that name the key in every error, and unknown-key checks."""

    def __init__(self, ctx: _Ctx, data: Mapping[str, Any], name: str):
        self.ctx, self.data, self.name = ctx, data, name
        self.used: set[str] = set()

    def key(self, key: str) -> str:
        return f"{self.name}.{key}" if self.name else key

    def error(self, key: str, msg: str) -> ConfigError:
        return self.ctx.error(self.key(key), msg)

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str, default: Any, what: str) -> Any:
        self.used.add(key)
        if key in self.data:
            return self.data[key]
        if default is _REQUIRED:
            raise self.error(key, f"missing (expected {what})")
        return default

    def text(self, key: str, default: Any = _REQUIRED, *, empty_ok: bool = False) -> str:
        v = self.raw(key, default, "a string")
        if not isinstance(v, str):
            raise self.error(key, f"expected a string, got {_show(v)}")
        v = v.strip()
        if not v and not empty_ok:
            raise self.error(key, "must not be empty")
        return v

    def integer(self, key: str, default: Any, lo: int, hi: int | None = None) -> int:
        what = f"an integer {lo}-{hi}" if hi is not None else f"an integer >= {lo}"
        v = self.raw(key, default, what)
        if isinstance(v, bool) or not isinstance(v, int) or v < lo or (hi is not None and v > hi):
            raise self.error(key, f"expected {what}, got {_show(v)}")
        return v

    def number(self, key: str, default: Any, lo: float, hi: float) -> float:
        v = self.raw(key, default, f"a number {lo:g}-{hi:g}")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
            raise self.error(key, f"expected a number {lo:g}-{hi:g}, got {_show(v)}")
        return v

    def flag(self, key: str, default: Any) -> bool:
        v = self.raw(key, default, "true or false")
        if not isinstance(v, bool):
            raise self.error(key, f"expected true or false, got {_show(v)}")
        return v

    def choice(self, key: str, default: Any, choices: tuple[str, ...]) -> str:
        v = self.text(key, default)
        if v not in choices:
            raise self.error(key, f"expected one of {', '.join(choices)}, got {_show(v)}")
        return v

    def items(self, key: str, default: Any = ()) -> list[Any]:
        v = self.raw(key, default, "a list")
        if not isinstance(v, (list, tuple)):
            raise self.error(key, f"expected a list [...], got {_show(v)}")
        return list(v)

    def texts(self, key: str, default: Any = ()) -> tuple[str, ...]:
        out = []
        for i, item in enumerate(self.items(key, default)):
            if not isinstance(item, str) or not item.strip():
                raise self.error(f"{key}[{i}]", f"expected a non-empty string, got {_show(item)}")
            out.append(item.strip())
        return tuple(out)

    def addresses(self, key: str) -> tuple[str, ...]:
        out: list[str] = []
        for i, item in enumerate(self.texts(key)):
            if not EMAIL_RE.fullmatch(item):
                raise self.error(f"{key}[{i}]", f"expected an email address like nama@bps.go.id, got {_show(item)}")
            if item.lower() not in out:
                out.append(item.lower())
        return tuple(out)

    def dates(self, key: str) -> tuple[date, ...]:
        out = []
        for i, item in enumerate(self.items(key)):
            d = item if isinstance(item, date) and not isinstance(item, datetime) else None
            if isinstance(item, str):
                try:
                    d = date.fromisoformat(item.strip())
                except ValueError:
                    d = None
            if d is None:
                raise self.error(f"{key}[{i}]", f"expected a date YYYY-MM-DD, got {_show(item)}")
            out.append(d)
        return tuple(sorted(set(out)))

    def path(self, key: str, default: Any = _REQUIRED) -> Path | None:
        v = self.raw(key, default, "a path")
        if v is None or isinstance(v, Path):
            return v
        if not isinstance(v, str) or not v.strip():
            raise self.error(key, f"expected a path, got {_show(v)}")
        return self.ctx.resolve(v.strip())

    def table(self, key: str, required: bool = False) -> _Table:
        v = self.raw(key, _REQUIRED if required else {}, "a table")
        if not isinstance(v, Mapping):
            raise self.error(key, f"expected a table [{self.key(key)}], got {_show(v)}")
        return _Table(self.ctx, v, self.key(key))

    def secret(self, required: bool = True) -> str:
        """Exactly one of password / password_file / password_env, resolved to its value."""
        given = [k for k in ("password", "password_file", "password_env") if k in self.data]
        if len(given) > 1:
            raise self.error(given[1], f"give only one of password, password_file, password_env (also {given[0]} given)")
        if not given:
            if required:
                raise self.error("password", "missing (give one of password, password_file, password_env)")
            return ""
        key = given[0]
        if key == "password":
            if not isinstance(self.data[key], str):
                raise self.error(key, "expected a string in quotes")     # never echo a secret
            return self.text(key)
        if key == "password_file":
            p = self.path(key)
            try:
                value = p.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise self.error(key, f"cannot read {str(p)!r}: {getattr(exc, 'strerror', None) or exc}") from None
            value = value[:-1] if value.endswith("\n") else value
            value = value[:-1] if value.endswith("\r") else value
        else:
            var = self.text(key)
            value = self.ctx.env.get(var)
            if value is None:
                raise self.error(key, f"environment variable {var} is not set")
        if not value:
            raise self.error(key, "the password is empty")
        return value

    def done(self) -> None:
        """Unknown keys are errors, with a suggestion."""
        for key in self.data:
            if key not in self.used:
                hint = difflib.get_close_matches(key, sorted(self.used), n=1)
                more = f"; did you mean {hint[0]!r}?" if hint else ""
                raise self.error(key, f"unknown {'key' if self.name else 'section'}{more}")


@dataclass
class _Ctx:
    label: str
    base: Path
    env: Mapping[str, str]

    def error(self, key: str, msg: str) -> ConfigError:
        return ConfigError(f"{self.label}: {key}: {msg}")

    def resolve(self, value: str) -> Path:
        p = Path(value).expanduser()
        return p if p.is_absolute() else (self.base / p)


# ---------------------------------------------------------------- sections


def _office(t: _Table) -> Office:
    service = t.text("service_address").lower()
    if not EMAIL_RE.fullmatch(service):
        raise t.error("service_address", f"expected an email address, got {_show(service)}")
    tz = t.text("timezone", "Asia/Jakarta")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise t.error("timezone", f"unknown time zone {_show(tz)} (expected e.g. 'Asia/Jakarta')") from None
    nip = t.text("nip", "", empty_ok=True)
    if nip and (not re.fullmatch(r"[\d ]+", nip) or len(nip.replace(" ", "")) != 18):
        raise t.error("nip", f"expected 18 digits (spaces allowed), got {_show(nip)}")
    email = t.text("email", service).lower()
    if not EMAIL_RE.fullmatch(email):
        raise t.error("email", f"expected an email address, got {_show(email)}")
    logo = t.path("logo", None)
    if logo is not None and not logo.is_file():
        raise t.error("logo", f"file {str(logo)!r} not found")
    domain = t.text("message_id_domain", "mailbot." + service.rsplit("@", 1)[1]).lower()
    if not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", domain):
        raise t.error("message_id_domain", f"expected a domain name, got {_show(domain)}")
    return Office(
        name=t.text("name"), address=t.text("address"), city=t.text("city"), service_address=service,
        signatory=t.text("signatory"), signatory_title=t.text("signatory_title", "Bendahara Penerimaan"),
        nip=nip, timezone=tz, phone=t.text("phone", "", empty_ok=True), email=email,
        website=t.text("website", "", empty_ok=True), logo=logo, message_id_domain=domain,
    )


def _server(t: _Table, ports: dict[str, int], default_security: str) -> tuple[str, str, int]:
    host = t.text("host")
    security = t.choice("security", default_security, SECURITY_MODES)
    if security == "none" and host.lower() not in LOOPBACK:
        raise t.error("security", "'none' sends the password in clear; allowed only for a server on this machine "
                                  "(127.0.0.1/localhost); use ssl or starttls")
    return host, security, t.integer("port", ports[security], 1, 65535)


def _imap(t: _Table) -> Imap:
    host, security, port = _server(t, IMAP_PORTS, "ssl")
    folders = {k: t.text(k, d) for k, d in
               (("mailbox", "INBOX"), ("processed_folder", "Processed"), ("quarantine_folder", "Quarantine"))}
    if len(set(folders.values())) < 3:
        raise t.error("processed_folder", "mailbox, processed_folder and quarantine_folder must all differ")
    return Imap(
        host=host, port=port, security=security, username=t.text("username"), password=t.secret(),
        idle=t.flag("idle", True), poll_seconds=t.integer("poll_seconds", 60, 5, 3600),
        timeout_seconds=t.integer("timeout_seconds", 60, 5, 600), create_folders=t.flag("create_folders", True),
        alert_after_failures=t.integer("alert_after_failures", 8, 1, 1000),
        **folders,
    )


def _smtp(t: _Table, office_name: str) -> Smtp:
    host, security, port = _server(t, SMTP_PORTS, "starttls")
    username = t.text("username", "", empty_ok=True)
    password = t.secret(required=bool(username))
    if password and not username:
        raise t.error("username", "missing: a password is given but no username")
    return Smtp(host=host, port=port, security=security, username=username, password=password,
                from_name=t.text("from_name", office_name), timeout_seconds=t.integer("timeout_seconds", 60, 5, 600))


def _storage(t: _Table) -> Storage:
    base = t.path("dir", "var")
    library = t.path("library_dir", base / "library")
    att = t.number("max_attachment_mb", 20, 0.1, 1024)
    msg = t.number("max_message_mb", 25, 0.1, 1024)
    if att > msg:
        raise t.error("max_attachment_mb", f"must not exceed max_message_mb ({msg:g})")
    font_dir = t.path("font_dir", None)
    if font_dir is not None and not font_dir.is_dir():
        raise t.error("font_dir", f"directory {str(font_dir)!r} not found")
    return Storage(dir=base, library_dir=library, max_attachment_mb=att, max_message_mb=msg,
                   stamp_deliveries=t.flag("stamp_deliveries", False), font_dir=font_dir)


def _database(t: _Table, storage: Storage, ctx: _Ctx) -> Database:
    url = t.text("url", f"sqlite:///{storage.dir / 'mailbot.sqlite3'}")
    if url.startswith("sqlite:///"):
        rest = url[len("sqlite:///"):]
        if rest and rest != ":memory:" and not rest.startswith("/"):
            url = f"sqlite:///{ctx.resolve(rest)}"
    elif not url.startswith(("postgresql://", "postgresql+", "sqlite://")):
        raise t.error("url", f"expected sqlite:///PATH or postgresql+psycopg://USER@HOST/DB, got {_show(url)}")
    return Database(url=url)


def _roles(t: _Table, office: Office) -> Roles:
    roles = {k: t.addresses(k) for k in ("petugas", "bendahara", "supervisor")}
    for k in ("petugas", "bendahara"):
        if not roles[k]:
            raise t.error(k, "expected at least one email address")
    for k, addrs in roles.items():
        if office.service_address in addrs:
            raise t.error(k, f"{office.service_address} is the service mailbox itself (mail loop)")
    return Roles(**roles)


def _security(t: _Table, storage: Storage) -> Security:
    return Security(
        authserv_id=t.text("authserv_id", "", empty_ok=True),
        digest_token_days=t.integer("digest_token_days", 7, 1, 90),
    )


def _payment(t: _Table) -> Payment:
    number = t.text("account_number")
    if not re.fullmatch(r"[\d][\d .-]*", number):
        raise t.error("account_number", f"expected digits (spaces, dots, dashes allowed), got {_show(number)}")
    return Payment(bank=t.text("bank"), account_number=number, account_name=t.text("account_name"))


def _schedule(t: _Table) -> Schedule:
    raw = t.raw("digest_time", "08:00", "a time HH:MM")
    if isinstance(raw, time):
        digest = raw
    else:
        m = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", raw.strip()) if isinstance(raw, str) else None
        if not m:
            raise t.error("digest_time", f"expected a time HH:MM like '08:00', got {_show(raw)}")
        digest = time(int(m[1]), int(m[2]))
    days = t.items("reminder_days", [7, 1])
    for i, d in enumerate(days):
        if isinstance(d, bool) or not isinstance(d, int) or not 1 <= d <= 60:
            raise t.error(f"reminder_days[{i}]", f"expected an integer 1-60, got {_show(d)}")
    return Schedule(
        digest_time=digest, reminder_days=tuple(sorted(set(days), reverse=True)),
        auto_close_days=t.integer("auto_close_days", 14, 1, 365),
        id_retention_days=t.integer("id_retention_days", 90, 1, 3650),
        warn_working_days=t.integer("warn_working_days", 2, 0, 10),
        digest_on_proof=t.flag("digest_on_proof", False),
        max_auto_replies_per_day=t.integer("max_auto_replies_per_day", 10, 1, 1000),
        proof_wait_seconds=t.integer("proof_wait_seconds", 10, 0, 300),
        max_auto_replies_per_domain_per_day=t.integer("max_auto_replies_per_domain_per_day", 500, 1, 100000),
        max_new_cases_per_day=t.integer("max_new_cases_per_day", 5, 1, 1000),
        max_staff_notices_per_sender_per_day=t.integer("max_staff_notices_per_sender_per_day", 20, 1, 10000),
        **_new_request_days(t),
    )


def _new_request_days(t: _Table) -> dict:
    remind, expire = t.integer("new_reminder_days", 7, 1, 365), t.integer("new_expiry_days", 30, 2, 730)
    if remind >= expire:
        raise t.error("new_reminder_days", f"must be less than new_expiry_days ({expire}), got {remind}")
    return {"new_reminder_days": remind, "new_expiry_days": expire}


def _calendar(t: _Table) -> CalendarSettings:
    holidays, working = t.dates("extra_holidays"), t.dates("extra_working_days")
    both = sorted(set(holidays) & set(working))
    if both:
        raise t.error("extra_working_days", f"{both[0].isoformat()} is also in extra_holidays")
    years = t.items("assume_complete_years")
    for i, y in enumerate(years):
        if isinstance(y, bool) or not isinstance(y, int) or not 2000 <= y <= 2100:
            raise t.error(f"assume_complete_years[{i}]", f"expected a year like 2028, got {_show(y)}")
    return CalendarSettings(holidays, working, tuple(sorted(set(years))))


def _tariffs(t: _Table) -> Tariffs:
    return Tariffs(
        regulation=t.text("regulation"), per_page=t.integer("per_page", _REQUIRED, 0),
        zero_basis=t.text("zero_basis", "", empty_ok=True), zero_categories=t.texts("zero_categories"),
    )


def _pattern(t: _Table, key: str, default: str) -> str:
    pattern = t.text(key, default)
    try:
        check_pattern(pattern)            # the domain's rule for document numbers
    except ValueError as exc:
        raise t.error(key, str(exc)) from None
    return pattern


def _numbering(t: _Table) -> Numbering:
    d = Numbering()
    return Numbering(*(_pattern(t, k, getattr(d, k)) for k in ("invoice_pattern", "receipt_pattern")))


def _clock_time(t: _Table, key: str, default: str) -> time:
    raw = t.raw(key, default, "a time HH:MM")
    if isinstance(raw, time):
        return raw
    m = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", raw.strip()) if isinstance(raw, str) else None
    if not m:
        raise t.error(key, f"expected a time HH:MM like '{default}', got {_show(raw)}")
    return time(int(m[1]), int(m[2]))


def _backup(t: _Table) -> Backup:
    return Backup(dir=t.path("dir", None), keep=t.integer("keep", 7, 1, 366), time=_clock_time(t, "time", "01:00"))


def _report(t: _Table) -> Report:
    out = []
    for i, item in enumerate(t.texts("recipients", list(Report().recipients))):
        value = item.lower()
        if value not in REPORT_ROLES and not EMAIL_RE.fullmatch(value):
            raise t.error(f"recipients[{i}]", f"expected a role ({', '.join(REPORT_ROLES)}) or an email address, "
                                              f"got {_show(item)}")
        out.append(value)
    return Report(monthly_mail=t.flag("monthly_mail", True), recipients=tuple(dict.fromkeys(out)))


def _templates(t: _Table) -> Path | None:
    p = t.path("dir", None)
    if p is not None and not p.is_dir():
        raise t.error("dir", f"directory {str(p)!r} not found")
    return p


SECTIONS = ("office", "imap", "smtp", "database", "storage", "roles", "security", "payment",
            "schedule", "calendar", "tariffs", "numbering", "templates", "backup", "report")
REQUIRED_SECTIONS = ("office", "imap", "smtp", "roles", "payment", "tariffs")


def parse_config(data: Mapping[str, Any], path: Path, env: Mapping[str, str] | None = None) -> Config:
    """Validate already-parsed TOML data; relative paths resolve against ``path``'s directory."""
    path = Path(path)
    ctx = _Ctx(label=str(path), base=path.resolve().parent, env=os.environ if env is None else env)
    top = _Table(ctx, data, "")
    top.used.update(SECTIONS)
    top.done()  # a misspelt section is named before the section it should have been is missed
    tables = {s: top.table(s, required=s in REQUIRED_SECTIONS) for s in SECTIONS}
    office = _office(tables["office"])
    storage = _storage(tables["storage"])
    cfg = Config(
        office=office,
        imap=_imap(tables["imap"]),
        smtp=_smtp(tables["smtp"], office.name),
        database=_database(tables["database"], storage, ctx),
        storage=storage,
        roles=_roles(tables["roles"], office),
        security=_security(tables["security"], storage),
        payment=_payment(tables["payment"]),
        schedule=_schedule(tables["schedule"]),
        calendar=_calendar(tables["calendar"]),
        tariffs=_tariffs(tables["tariffs"]),
        numbering=_numbering(tables["numbering"]),
        templates_dir=_templates(tables["templates"]),
        path=path.resolve(),
        backup=_backup(tables["backup"]),
        report=_report(tables["report"]),
    )
    for t in tables.values():
        t.done()
    return cfg


def load_config(path: str | os.PathLike, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate a TOML config file; raises ConfigError with one clear line."""
    path = Path(path)
    label = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{label}: cannot read: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{label}: line {line}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\s*\(at line (\d+), column (\d+)\)$", msg)
        where = f"line {m[1]}, column {m[2]}" if m else "TOML"
        raise ConfigError(f"{label}: {where}: TOML syntax error: {msg[: m.start()] if m else msg}") from None
    return parse_config(data, path, env)
