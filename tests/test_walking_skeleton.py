"""Issue 2 done-when: a request through real IMAP and SMTP servers opens one case, once."""
from __future__ import annotations

import pytest

from world import PETUGAS, body_of, mail

pytestmark = pytest.mark.mail


def test_request_opens_case_acknowledges_and_notifies_once(world):
    world.deliver(mail("budi.santoso@gmail.com", "Permintaan publikasi",
                       "Selamat siang,\nsaya ingin membeli softcopy Provinsi Sumatera Selatan Dalam Angka 2025.\n"
                       "Terima kasih.", name="Budi Santoso"))
    result = world.run_once()
    assert result["mail"] == {"new_case": 1}

    cases = world.cases()
    assert len(cases) == 1
    ref = cases[0]["ref"]
    assert ref.startswith("PUB-") and cases[0]["state"] == "new"

    acks = world.sent_to("budi.santoso@gmail.com")
    assert len(acks) == 1
    ack = acks[0]
    assert f"[{ref}]" in ack["Subject"]
    text = body_of(ack)
    assert ref in text and "kartu identitas" in text and "SETUJU" in text
    assert "Sumatera Selatan Dalam Angka 2025" in text                  # the catalog guess
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["X-Auto-Response-Suppress"] == "All"
    assert ack["Message-ID"].endswith("@mailbot.bps.go.id>")
    assert ack["In-Reply-To"]

    for petugas in PETUGAS:
        notes = world.sent_to(petugas)
        assert len(notes) == 1, petugas
        note = body_of(notes[0])
        assert "#1 " in note and "ITEM" in note              # the numbered guess ITEM #1 picks
        assert "JELAS" in note and "budi.santoso@gmail.com" in note
    # one notice for the whole petugas list: one mail, one SMTP transaction, every petugas a recipient
    assert len(world.smtp.messages) == 2
    notice = next(m for m in world.smtp.messages if "budi.santoso@gmail.com" not in m.rcpt_tos)
    assert sorted(notice.rcpt_tos) == sorted(PETUGAS)
    assert notice.message["To"].addresses and {a.addr_spec for a in notice.message["To"].addresses} == set(PETUGAS)

    assert world.imap.list_messages("INBOX") == []
    assert len(world.imap.list_messages("Processed")) == 1

    # A second run finds nothing and sends nothing.
    again = world.run_once()
    assert again["mail"] == {} and again["outbox"]["sent"] == 0
    assert len(world.smtp.messages) == 2

    shown = world.case(ref)
    assert shown["customer"] == "budi.santoso@gmail.com"
    kinds = [e["kind"] for e in shown["events"]]
    assert "opened" in kinds
    assert {"ref", "state", "customer", "items", "total", "invoice_number", "invoice_expires", "receipt_number",
            "due", "events"} <= set(shown)
    assert all({"time", "kind", "actor"} <= set(e) for e in shown["events"])


def test_redelivered_copy_is_not_a_second_case(world):
    msg = mail("siti@yahoo.co.id", "Beli publikasi", "Mohon info harga Statistik Daerah Sumsel 2025")
    world.deliver(msg)
    world.run_once()
    world.deliver(msg)            # the same Message-ID again (a client re-sent it)
    result = world.run_once()
    assert result["mail"] == {"duplicate": 1}
    assert len(world.cases()) == 1
    assert len(world.sent_to("siti@yahoo.co.id")) == 1


def test_unparseable_mail_is_quarantined_and_next_mail_processed(world):
    world.deliver(b"\x00\x01garbage without any header\r\n")
    world.deliver(mail("andi@ui.ac.id", "Permintaan", "saya ingin membeli Statistik Daerah Provinsi Sumatera Selatan"))
    result = world.run_once()
    assert result["mail"].get("new_case") == 1
    assert len(world.imap.list_messages("Quarantine")) == 1
    assert len(world.imap.list_messages("Processed")) == 1


def test_unknown_case_is_a_clear_error(world):
    code, _ = world.cli("case", "PUB-2099-9999", "--json")
    assert code == 1


def test_bad_config_names_key_and_file(tmp_path, capsys):
    from mailbot.cli import main
    bad = tmp_path / "mailbot.toml"
    bad.write_text('[imap]\nport = "abc"\n')
    assert main(["--config", str(bad), "status"]) == 1
    err = capsys.readouterr().err
    assert "mailbot.toml" in err and "Traceback" not in err
