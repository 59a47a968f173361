"""`mailbot report --month`: two cases played through the service at chosen instants, then the report."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from mailbot.adapters import db
from mailbot.config import load_config
from mailbot.app.digest import send_digest
from mailbot.app.bootstrap import App
from world import BENDAHARA, PETUGAS, World, mail

WIB = timezone(timedelta(hours=7))
P1 = PETUGAS[0]
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 3000 + b"\xff\xd9"


class _Server:
    """Only the addresses go into the config: no mail server is contacted here."""

    host, port, user, password = "127.0.0.1", 1, "svc", "secret"

    def settings(self) -> dict:
        return {"host": self.host, "port": self.port, "security": "none", "username": self.user,
                "password": self.password}


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00").replace(tzinfo=WIB)


@pytest.fixture
def office(db_url):
    w = World(_Server(), _Server(), db_url)
    w.import_catalog()
    app = App(load_config(w.config))
    yield w, app
    app.engine.dispose()
    w.close()


def handle(app: App, msg, when: datetime, expect: str | None = None) -> str:
    outcome = app.handle_mail(msg.as_bytes(), now=when)
    if expect:
        assert outcome.action == expect, outcome
    return outcome.case_ref


def staff(app: App, ref: str, body: str, when: datetime, attachments=()) -> None:
    handle(app, mail(P1, f"Re: [{ref}] Permintaan", body, auth="pass", attachments=attachments), when, "staff")
    with app.sessions() as s:
        last = s.scalars(select(db.EventRow).where(db.EventRow.case_id == s.scalar(
            select(db.CaseRow.id).where(db.CaseRow.ref == ref))).order_by(db.EventRow.id)).all()
    assert not [e for e in last if e.kind == "refused" and db.utc(e.at) == when.astimezone(timezone.utc)], \
        [e.detail for e in last if e.kind == "refused"]


def customer(app: App, ref: str, frm: str, body: str, when: datetime, attachments=()) -> None:
    handle(app, mail(frm, f"Re: [{ref}] Permintaan", body, attachments=attachments), when)


def approve(app: App, when: datetime) -> None:
    with app.unit(when, scheduled=True) as unit:
        digest_id = send_digest(unit)
        token = unit.session.scalar(select(db.DigestTokenRow.token).where(db.DigestTokenRow.digest_id == digest_id))
    handle(app, mail(BENDAHARA, f"Re: Digest (kode {digest_id})", f"SETUJU {token}", auth="pass"), when, "staff")


def state(app: App, ref: str) -> str:
    with app.sessions() as s:
        return s.scalar(select(db.CaseRow.state).where(db.CaseRow.ref == ref))


def play_october(app: App) -> tuple[str, str]:
    """A: paid, delivered late (service clock 14 of 10 working days).
    B: zero-rupiah, delivered on time; a correction sent late; closed and rated 3."""
    a = handle(app, mail("budi@gmail.com", "Permintaan", "Mohon softcopy Statistik Daerah 2025"),
               at("2026-10-01", 9), "new_case")
    customer(app, a, "budi@gmail.com", "SETUJU", at("2026-10-01", 10), (("ktp.jpg", JPEG, "image/jpeg"),))
    staff(app, a, "IDENTITAS OK\nITEM 1102001.16\nJELAS", at("2026-10-01", 11))
    b = handle(app, mail("dinas@sumselprov.go.id", "Permintaan", "Mohon softcopy Statistik Daerah 2025"),
               at("2026-10-05", 9), "new_case")
    customer(app, b, "dinas@sumselprov.go.id", "SETUJU", at("2026-10-05", 10), (("ktp.jpg", JPEG, "image/jpeg"),))
    staff(app, b, "IDENTITAS OK\nITEM 1102001.16\nJELAS", at("2026-10-05", 11))
    staff(app, b, "SIAP\nNOL instansi pemerintah", at("2026-10-06"), (("sda.pdf", PDF, "application/pdf"),))
    assert state(app, b) == "delivered"
    customer(app, b, "dinas@sumselprov.go.id", "Halaman 12 kosong, mohon diperbaiki.", at("2026-10-07"))
    assert state(app, b) == "correction"
    app.run_jobs(at("2026-10-16", 8))        # A's service (15th) and B's correction (14th) deadlines passed
    staff(app, a, "SIAP\nTAGIH", at("2026-10-20"), (("sda.pdf", PDF, "application/pdf"),))
    assert state(app, a) == "invoiced"
    staff(app, b, "PERBAIKAN", at("2026-10-20"), (("sda-perbaikan.pdf", PDF, "application/pdf"),))
    customer(app, a, "budi@gmail.com", "sudah transfer", at("2026-10-21"), (("bukti.jpg", JPEG, "image/jpeg"),))
    assert state(app, a) == "payment_review"
    staff(app, b, "TUTUP selesai", at("2026-10-21"))
    approve(app, at("2026-10-22"))
    assert state(app, a) == "delivered"
    customer(app, b, "dinas@sumselprov.go.id", "3", at("2026-10-22"))
    return a, b


def test_month_report_counts_money_documents_cases_deadlines_and_satisfaction(office):
    world, app = office
    a, b = play_october(app)
    code, out = world.cli("report", "--month", "2026-10", "--json")
    assert code == 0, out
    r = json.loads(out)
    code, shown = world.cli("case", a, "--json")
    total_a = json.loads(shown)["total"]
    assert total_a == 684 * 1000
    assert r["month"] == "2026-10" and r["from"] == "2026-10-01" and r["to"] == "2026-10-31"
    assert (r["revenue"], r["receipts"], r["zero_rupiah"]) == (total_a, 2, 1)
    assert (r["invoices_issued"], r["invoices_voided"]) == (1, 0)
    assert (r["cases_opened"], r["cases_closed"], r["cases_cancelled"]) == (2, 1, 0)
    assert r["deadlines"]["service"] == {"met": 1, "missed": 1, "unknown": 0, "missed_cases": [a]}
    assert r["deadlines"]["correction"] == {"met": 0, "missed": 1, "unknown": 0, "missed_cases": [b]}
    assert (r["deadlines_met"], r["deadlines_missed"]) == (1, 2)
    assert r["deadlines"]["missed_alerts"] == 2 and r["deadlines"]["missed_alert_cases"] == sorted([a, b])
    assert (r["satisfaction_average"], r["satisfaction_responses"]) == (3.0, 1)


def test_other_months_are_empty_and_expiry_voids_count(office):
    world, app = office
    play_october(app)
    code, out = world.cli("report", "--month", "2026-09", "--json")
    r = json.loads(out)
    assert code == 0 and r["revenue"] == 0 and r["receipts"] == 0 and r["cases_opened"] == 0
    assert r["satisfaction_average"] is None and r["deadlines_missed"] == 0

    # A third case invoiced in October and left unpaid expires in December: voided then, not in October.
    c = handle(app, mail("siti@yahoo.co.id", "Permintaan", "Mohon softcopy Statistik Daerah 2025"),
               at("2026-10-26", 9), "new_case")
    customer(app, c, "siti@yahoo.co.id", "SETUJU", at("2026-10-26", 10), (("ktp.jpg", JPEG, "image/jpeg"),))
    staff(app, c, "IDENTITAS OK\nITEM 1102001.16\nJELAS\nSIAP\nTAGIH", at("2026-10-27"),
          (("sda.pdf", PDF, "application/pdf"),))
    app.run_jobs(at("2026-12-01", 8))
    assert state(app, c) == "expired"
    oct_, dec = (json.loads(world.cli("report", "--month", m, "--json")[1]) for m in ("2026-10", "2026-12"))
    assert (oct_["invoices_issued"], oct_["invoices_voided"]) == (2, 0)
    assert (dec["invoices_issued"], dec["invoices_voided"], dec["invoices_expired"]) == (0, 1, 1)


def test_bad_month_is_a_clear_error(office, capsys):
    world, _ = office
    code, _ = world.cli("report", "--month", "2026-13")
    assert code == 1
    assert re.search(r"--month: expected YYYY-MM", capsys.readouterr().err)
