"""inbound/address.py: which mailbox a From line names, when it names none for sure, and what may be mailed."""
from __future__ import annotations

import pytest

from mailbot.inbound.address import base_address, read_from, smtp_address, valid_address
from mailbot.inbound.parse import _decode_words, parse_message

ONE_MAILBOX = {
    "bare": ("petugas1@bps.go.id", "petugas1@bps.go.id", ""),
    "named": ("Petugas Satu <Petugas1@BPS.go.id>", "petugas1@bps.go.id", "Petugas Satu"),
    "quoted-name-with-comma": ('"Santoso, Budi" <budi@x.com>', "budi@x.com", "Santoso, Budi"),
    "name-is-the-address": ('"petugas1@bps.go.id" <petugas1@bps.go.id>', "petugas1@bps.go.id", "petugas1@bps.go.id"),
    "comment-with-name": ("budi@x.com (Budi Santoso)", "budi@x.com", ""),
    "quoted-local-part": ('"x, victim3@evil.com, y"@example.com', '"x, victim3@evil.com, y"@example.com', ""),
    "utf8-local-part": ("büdi@example.com", "büdi@example.com", ""),
    "encoded-name": ("=?utf-8?q?Bud=C3=AD?= <budi@x.com>", "budi@x.com", "Budí"),
}


@pytest.mark.parametrize("value, address, name", ONE_MAILBOX.values(), ids=ONE_MAILBOX.keys())
def test_a_from_line_with_one_mailbox(value, address, name):
    line = read_from(value, _decode_words)
    assert (line.address, line.name, line.problem) == (address, name, "")


AMBIGUOUS = {
    "address-as-display-name": ("petugas1@bps.go.id <mallory@bps.go.id>", "mallory@bps.go.id", "alamat lain"),
    "two-angle-addresses": ("<petugas1@bps.go.id><mallory@bps.go.id>", "petugas1@bps.go.id", "lebih dari satu"),
    "semicolon": ("petugas1@bps.go.id;<mallory@bps.go.id>", "mallory@bps.go.id", "alamat lain"),
    "quoted-display-name": ('"petugas1@bps.go.id" <mallory@bps.go.id>', "mallory@bps.go.id", "alamat lain"),
    "encoded-display-name": ("=?utf-8?q?petugas1=40bps=2Ego=2Eid?= <m@bps.go.id>", "m@bps.go.id", "alamat lain"),
    "address-in-comment": ("Budi <budi@x.com> (petugas1@bps.go.id)", "budi@x.com", "alamat lain"),
    "address-in-quoted-angle": ('"a <petugas1@bps.go.id>" <m@x.com>', "m@x.com", "alamat lain"),
    "two-mailboxes": ("petugas1@bps.go.id, mallory@bps.go.id", "petugas1@bps.go.id", "lebih dari satu"),
    "group": ("staf: petugas1@bps.go.id, m@x.com;", None, "lebih dari satu"),
    "unclosed-angle": ("<petugas1@bps.go.id", "petugas1@bps.go.id", "tidak lengkap"),
    "unclosed-quote": ('"petugas1@bps.go.id <m@x.com>', None, "tidak lengkap"),
    "overlong": ("=?utf-8?q?a?= " * 400 + "<petugas1@bps.go.id>", None, "lebih dari 2048"),
}


@pytest.mark.parametrize("value, address, problem", AMBIGUOUS.values(), ids=AMBIGUOUS.keys())
def test_a_from_line_that_names_no_single_mailbox_says_why(value, address, problem):
    line = read_from(value, _decode_words)
    assert problem in line.problem
    if address is not None:
        assert line.address == address


def test_the_parsed_mail_reads_the_from_line_the_same_way_and_flags_two_from_headers():
    raw = b"From: petugas1@bps.go.id <mallory@bps.go.id>\r\nSubject: x\r\nMessage-ID: <1@x>\r\n\r\nBATAL\r\n"
    m = parse_message(raw)
    assert (m.from_addr, m.from_shown[1]) == ("mallory@bps.go.id", "petugas1@bps.go.id") and m.from_problem
    two = parse_message(b"From: a@x.com\r\nFrom: b@y.com\r\nSubject: x\r\n\r\nisi\r\n")
    assert two.from_addr == "a@x.com" and "lebih dari satu header From" in two.from_problem


@pytest.mark.parametrize("address, ok", [
    ("budi.santoso@gmail.com", True), ("o'brien+tag@x.co.id", True), ("büdi@example.com", True),
    ("budi@bücher.de", True), ('"x, victim3@evil.com, y"@example.com', False), ("a b@x.com", False),
    ("a..b@x.com", False), (".a@x.com", False), ("a@x", False), ("a@-x.com", False), ("x@[1.2.3.4]", False),
    ("a@1.2.3.4", False), ("a@@x.com", False), ("a\r\nb@x.com", False), ("a\x00b@x.com", False),
    ("<a@x.com>", False), ("a,b@x.com", False), ("x" * 65 + "@x.com", False), ("a@" + "b" * 250 + ".com", False),
])
def test_only_plain_addresses_may_be_mailed(address, ok):
    assert valid_address(address) is ok


def test_the_tag_is_not_part_of_the_sender_and_a_domain_goes_out_as_a_labels():
    assert base_address("Robot3+17@Example.org") == "robot3@example.org" == base_address("robot3@example.org")
    assert base_address("+x@example.org") == "+x@example.org"
    assert smtp_address("budi@bücher.de") == "budi@xn--bcher-kva.de" and smtp_address("büdi@x.com") == "büdi@x.com"
