"""Configuration: the shipped example loads, every key is documented, broken configs give one clear line."""
import dataclasses
import re
from datetime import date, time
from pathlib import Path

import pytest

from mailbot import config as cfgmod
from mailbot.config import Config, ConfigError, load_config

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"
ENV = {"MAILBOT_IMAP_PASSWORD": "imap-secret"}

MINIMAL = """\
[office]
name = "Badan Pusat Statistik Provinsi Sumatera Selatan"
address = "Jl. Kapten P. Tendean No. 1, Palembang"
city = "Palembang"
service_address = "Diseminasi1600@BPS.go.id"
signatory = "Nama Bendahara"

[imap]
host = "mail.example.go.id"
username = "svc"
password = "pw"

[smtp]
host = "mail.example.go.id"

[roles]
petugas = ["Petugas1@bps.go.id"]
bendahara = ["bendahara@bps.go.id"]

[payment]
bank = "Bank Contoh"
account_number = "123-456-7890"
account_name = "Bendahara Penerimaan"

[tariffs]
regulation = "PP 13/2024"
per_page = 1000
"""


@pytest.fixture
def example_dir(tmp_path):
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "smtp-password").write_text("smtp-secret\n")
    target = tmp_path / "mailbot.toml"
    target.write_bytes(EXAMPLE.read_bytes())
    return tmp_path


def write(tmp_path, text, name="mailbot.toml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def error_of(path, env=ENV):
    with pytest.raises(ConfigError) as err:
        load_config(path, env=env)
    msg = str(err.value)
    assert "\n" not in msg
    return msg


def test_example_loads_with_env_and_secret_file(example_dir):
    cfg = load_config(example_dir / "mailbot.toml", env=ENV)
    assert cfg.office.name == "Badan Pusat Statistik Provinsi Sumatera Selatan"
    assert cfg.office.service_address == "diseminasi1600@bps.go.id"
    assert cfg.office.tz.key == "Asia/Jakarta"
    assert cfg.imap.password == "imap-secret"
    assert cfg.smtp.password == "smtp-secret"          # trailing newline stripped
    assert (cfg.imap.port, cfg.smtp.port) == (993, 587)
    assert cfg.schedule.digest_time == time(8, 0)
    assert cfg.schedule.reminder_days == (7, 1)
    assert cfg.tariffs.regulation == "PP 13/2024"
    assert cfg.numbering.invoice_pattern == "{seq:04d}/INV/1600/{month_roman}/{year}"
    assert cfg.path == (example_dir / "mailbot.toml").resolve()
    assert "imap-secret" not in repr(cfg) and "smtp-secret" not in repr(cfg)


def test_example_documents_every_key():
    text = EXAMPLE.read_text(encoding="utf-8")
    sections = dict(re.findall(r"^\[(\w+)\]\n(.*?)(?=^\[\w+\]\n|\Z)", text, re.M | re.S))
    spelled = {"password": ("password_env", "password_file")}
    checks = {
        "office": cfgmod.Office, "imap": cfgmod.Imap, "smtp": cfgmod.Smtp, "database": cfgmod.Database,
        "storage": cfgmod.Storage, "roles": cfgmod.Roles, "security": cfgmod.Security,
        "payment": cfgmod.Payment, "schedule": cfgmod.Schedule, "calendar": cfgmod.CalendarSettings,
        "tariffs": cfgmod.Tariffs, "numbering": cfgmod.Numbering, "report": cfgmod.Report, "backup": cfgmod.Backup,
    }
    for section, cls in checks.items():
        body = sections[section]
        for f in dataclasses.fields(cls):
            names = spelled.get(f.name, (f.name,))
            assert any(re.search(rf"^(# )?{n} = ", body, re.M) for n in names), f"{section}.{f.name}"
    assert re.search(r"^# dir = ", sections["templates"], re.M)
    assert "EXAMPLE" in sections["tariffs"]


def test_minimal_config_gets_defaults(tmp_path):
    cfg = load_config(write(tmp_path, MINIMAL), env={})
    assert cfg.office.service_address == "diseminasi1600@bps.go.id"
    assert cfg.office.message_id_domain == "mailbot.bps.go.id"
    assert cfg.office.signatory_title == "Bendahara Penerimaan"
    assert cfg.roles.petugas == ("petugas1@bps.go.id",)
    assert cfg.roles.supervisor == ()
    assert cfg.smtp.from_name == cfg.office.name and cfg.smtp.username == ""
    assert cfg.storage.dir == tmp_path.resolve() / "var"
    assert cfg.database.url == f"sqlite:///{tmp_path.resolve()}/var/mailbot.sqlite3"
    assert cfg.schedule.id_retention_days == 90
    assert cfg.templates_dir is None


def test_relative_paths_and_dates(tmp_path):
    (tmp_path / "tpl").mkdir()
    text = MINIMAL + """
[storage]
dir = "data"
[database]
url = "sqlite:///db/mailbot.sqlite3"
[templates]
dir = "tpl"
[calendar]
extra_holidays = [2026-06-10, "2026-06-11"]
extra_working_days = ["2026-06-13"]
assume_complete_years = [2028]
[schedule]
reminder_days = [1, 7, 3]
"""
    cfg = load_config(write(tmp_path, text), env={})
    base = tmp_path.resolve()
    assert cfg.storage.library_dir == base / "data" / "library"
    assert cfg.database.url == f"sqlite:///{base}/db/mailbot.sqlite3"
    assert cfg.templates_dir == base / "tpl"
    assert cfg.calendar.extra_holidays == (date(2026, 6, 10), date(2026, 6, 11))
    assert cfg.calendar.assume_complete_years == (2028,)
    assert cfg.schedule.reminder_days == (7, 3, 1)


def replace(text, old, new):
    assert old in text
    return text.replace(old, new, 1)


def test_font_dir_is_optional_and_relative_to_the_config(tmp_path):
    assert load_config(write(tmp_path, MINIMAL), env={}).storage.font_dir is None
    (tmp_path / "fonts").mkdir()
    cfg = load_config(write(tmp_path, MINIMAL + '\n[storage]\nfont_dir = "fonts"\n'), env={})
    assert cfg.storage.font_dir == tmp_path.resolve() / "fonts"


@pytest.mark.parametrize(
    "edit, expected",
    [
        (lambda t: replace(t, 'username = "svc"', 'username = "svc"\nport = "abc"'),
         "mailbot.toml: imap.port: expected an integer 1-65535, got 'abc'"),
        (lambda t: replace(t, 'username = "svc"', 'username = "svc"\nport = 70000'),
         "mailbot.toml: imap.port: expected an integer 1-65535, got 70000"),
        (lambda t: replace(t, 'username = "svc"', 'username = "svc"\npoll_secnds = 30'),
         "mailbot.toml: imap.poll_secnds: unknown key; did you mean 'poll_seconds'?"),
        (lambda t: t + "\n[schedul]\nauto_close_days = 3\n",
         "mailbot.toml: schedul: unknown section; did you mean 'schedule'?"),
        (lambda t: replace(t, 'city = "Palembang"\n', ""),
         "mailbot.toml: office.city: missing (expected a string)"),
        (lambda t: replace(t, 'signatory = "Nama Bendahara"', 'signatory = "Nama Bendahara"\ntimezone = "Asia/Palembang"'),
         "mailbot.toml: office.timezone: unknown time zone 'Asia/Palembang' (expected e.g. 'Asia/Jakarta')"),
        (lambda t: replace(t, 'petugas = ["Petugas1@bps.go.id"]', "petugas = []"),
         "mailbot.toml: roles.petugas: expected at least one email address"),
        (lambda t: replace(t, 'petugas = ["Petugas1@bps.go.id"]', 'petugas = ["a@bps.go.id", "budi"]'),
         "mailbot.toml: roles.petugas[1]: expected an email address like nama@bps.go.id, got 'budi'"),
        (lambda t: replace(t, 'bendahara = ["bendahara@bps.go.id"]', 'bendahara = ["diseminasi1600@bps.go.id"]'),
         "mailbot.toml: roles.bendahara: diseminasi1600@bps.go.id is the service mailbox itself (mail loop)"),
        (lambda t: replace(t, 'password = "pw"', 'password = "pw"\npassword_env = "X"'),
         "mailbot.toml: imap.password_env: give only one of password, password_file, password_env (also password given)"),
        (lambda t: replace(t, 'password = "pw"', ""),
         "mailbot.toml: imap.password: missing (give one of password, password_file, password_env)"),
        (lambda t: replace(t, 'password = "pw"', 'password_env = "NOT_SET_ANYWHERE"'),
         "mailbot.toml: imap.password_env: environment variable NOT_SET_ANYWHERE is not set"),
        (lambda t: replace(t, 'password = "pw"', 'password_file = "nope.txt"'),
         "mailbot.toml: imap.password_file: cannot read"),
        (lambda t: replace(t, 'username = "svc"', 'username = "svc"\nsecurity = "tls"'),
         "mailbot.toml: imap.security: expected one of ssl, starttls, none, got 'tls'"),
        (lambda t: replace(t, 'username = "svc"', 'username = "svc"\nsecurity = "none"'),
         "mailbot.toml: imap.security: 'none' sends the password in clear"),
        (lambda t: replace(t, 'username = "svc"', 'username = "svc"\nidle = "yes"'),
         "mailbot.toml: imap.idle: expected true or false, got 'yes'"),
        (lambda t: t + '\n[schedule]\ndigest_time = "8 pagi"\n',
         "mailbot.toml: schedule.digest_time: expected a time HH:MM like '08:00', got '8 pagi'"),
        (lambda t: t + "\n[schedule]\nreminder_days = [7, 0]\n",
         "mailbot.toml: schedule.reminder_days[1]: expected an integer 1-60, got 0"),
        (lambda t: t + '\n[calendar]\nextra_holidays = ["2026-02-30"]\n',
         "mailbot.toml: calendar.extra_holidays[0]: expected a date YYYY-MM-DD, got '2026-02-30'"),
        (lambda t: t + '\n[calendar]\nextra_holidays = [2026-06-10]\nextra_working_days = [2026-06-10]\n',
         "mailbot.toml: calendar.extra_working_days: 2026-06-10 is also in extra_holidays"),
        (lambda t: replace(t, "per_page = 1000", "per_page = 1000.5"),
         "mailbot.toml: tariffs.per_page: expected an integer >= 0, got 1000.5"),
        (lambda t: t + '\n[numbering]\ninvoice_pattern = "{seq:04d}/INV/{bulan}/{year}"\n',
         "mailbot.toml: numbering.invoice_pattern: bad number pattern '{seq:04d}/INV/{bulan}/{year}': unknown field {bulan}"),
        (lambda t: t + '\n[numbering]\nreceipt_pattern = "{seq:04d}/KWT"\n',
         "mailbot.toml: numbering.receipt_pattern: number pattern '{seq:04d}/KWT' must contain {seq} and {year}"),
        (lambda t: t + '\n[database]\nurl = "mysql://x"\n',
         "mailbot.toml: database.url: expected sqlite:///PATH or postgresql+psycopg://USER@HOST/DB, got 'mysql://x'"),
        (lambda t: t + "\n[storage]\nmax_attachment_mb = 30\nmax_message_mb = 25\n",
         "mailbot.toml: storage.max_attachment_mb: must not exceed max_message_mb (25)"),
        (lambda t: t + '\n[templates]\ndir = "missing-dir"\n',
         "mailbot.toml: templates.dir: directory"),
        (lambda t: t + '\n[storage]\nfont_dir = "no-such-fonts"\n',
         "mailbot.toml: storage.font_dir: directory"),
        (lambda t: replace(t, "[payment]", 'nip = "12345"\n[payment]'),
         "mailbot.toml: roles.nip: unknown key"),
        (lambda t: replace(t, '[smtp]\nhost = "mail.example.go.id"', '[smtp]\nhost = "mail.example.go.id"\npassword = "x"'),
         "mailbot.toml: smtp.username: missing: a password is given but no username"),
        (lambda t: replace(t, "[payment]\n", "").replace('bank = "Bank Contoh"\n', "")
         .replace('account_number = "123-456-7890"\n', "").replace('account_name = "Bendahara Penerimaan"\n', ""),
         "mailbot.toml: payment: missing (expected a table)"),
    ],
)
def test_broken_configs_name_file_key_and_expectation(tmp_path, edit, expected):
    msg = error_of(write(tmp_path, edit(MINIMAL)), env={})
    assert msg.startswith(f"{tmp_path}/{expected}"), msg


def test_toml_syntax_error_names_the_line(tmp_path):
    path = write(tmp_path, MINIMAL.replace('city = "Palembang"', "city = Palembang"))
    msg = error_of(path, env={})
    assert msg == f"{path}: line 4, column 8: TOML syntax error: Invalid value"


def test_missing_file_and_bad_encoding(tmp_path):
    assert "cannot read" in error_of(tmp_path / "nothing.toml")
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(MINIMAL.encode() + "\n# caf\xe9\n".encode("latin-1"))
    assert error_of(bad).endswith("not UTF-8 text")


def test_password_file_keeps_inner_whitespace(tmp_path):
    (tmp_path / "pw").write_text("  spaced pass \r\n")
    cfg = load_config(write(tmp_path, replace(MINIMAL, 'password = "pw"', 'password_file = "pw"')), env={})
    assert cfg.imap.password == "  spaced pass "


def test_for_tests_builder(tmp_path):
    cfg = Config.for_tests(base_dir=tmp_path, schedule={"auto_close_days": 3})
    assert cfg.schedule.auto_close_days == 3
    assert cfg.roles.petugas == ("petugas@bps.go.id",)
    with pytest.raises(ConfigError, match="schedule.auto_close_days"):
        Config.for_tests(base_dir=tmp_path, schedule={"auto_close_days": 0})




def test_unanswered_request_days_default_to_7_and_30_and_the_reminder_comes_first(tmp_path):
    """Issue 17: schedule.new_reminder_days and new_expiry_days."""
    cfg = Config.for_tests(base_dir=tmp_path)
    assert (cfg.schedule.new_reminder_days, cfg.schedule.new_expiry_days) == (7, 30)
    cfg = Config.for_tests(base_dir=tmp_path, schedule={"new_reminder_days": 10, "new_expiry_days": 45})
    assert (cfg.schedule.new_reminder_days, cfg.schedule.new_expiry_days) == (10, 45)
    with pytest.raises(ConfigError, match="schedule.new_reminder_days"):
        Config.for_tests(base_dir=tmp_path, schedule={"new_reminder_days": 30, "new_expiry_days": 30})
