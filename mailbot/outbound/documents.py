"""What an invoice and a receipt (kuitansi) show: plain frozen data, amounts in integer rupiah."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path


@dataclass(frozen=True)
class Office:
    """The issuing office and its signatory."""

    name: str
    address: str
    city: str
    phone: str
    email: str
    logo_path: Path | str | None
    signatory: str
    signatory_title: str
    nip: str


@dataclass(frozen=True)
class DocLine:
    """One publication on a document: ``amount`` = ``halaman`` × ``qty`` × ``rate`` as priced by the domain."""

    katalog: str
    judul: str
    halaman: int
    qty: int
    rate: int
    amount: int


@dataclass(frozen=True)
class InvoiceDocument:
    """An invoice; ``billing_code`` (SIMPONI), when given, supersedes the bank account."""

    office: Office
    number: str
    issued: date
    case_ref: str
    customer_name: str
    customer_address: str
    customer_email: str
    lines: tuple[DocLine, ...]
    total: int
    valid_until: date
    bank: str | None
    account_number: str | None
    account_name: str | None
    billing_code: str | None
    billing_expires: date | None
    regulation: str


@dataclass(frozen=True)
class ReceiptDocument:
    """A receipt (kuitansi); a zero-tariff receipt has ``total`` 0 and a ``zero_reason``."""

    office: Office
    number: str
    issued: date
    case_ref: str
    invoice_number: str | None
    customer_name: str
    customer_address: str
    lines: tuple[DocLine, ...]
    total: int
    paid_on: date | None
    zero_reason: str | None
    regulation: str
