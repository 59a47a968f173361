"""Commands: every way a case can be asked to change, one frozen dataclass each."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Command:
    """Base: `actor` is who asked (an address, or "system" for the scheduler)."""

    actor: str


# --- customer -----------------------------------------------------------------
@dataclass(frozen=True)
class Agree(Command):
    """The customer agreed to the terms (SETUJU / AGREE); or a petugas records an agreement the
    customer gave another way (`via`: telephone, live chat …), with the petugas as actor."""

    via: str = ""


@dataclass(frozen=True)
class SubmitIdentity(Command):
    """The customer sent an identity document (attachment on a `new` case)."""

    files: tuple[str, ...] = ()


@dataclass(frozen=True)
class SubmitProof(Command):
    """The customer sent a payment proof (attachment on an `invoiced` case)."""

    files: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReportDefect(Command):
    """The customer reported a broken or wrong softcopy; or, by the office, a file missing at delivery."""

    text: str = ""
    by_office: bool = False


@dataclass(frozen=True)
class Rate(Command):
    """The customer answered the satisfaction question (1-4)."""

    score: int = 0


# --- petugas ------------------------------------------------------------------
@dataclass(frozen=True)
class ConfirmIdentity(Command):
    """IDENTITAS OK."""


@dataclass(frozen=True)
class AddItem(Command):
    """ITEM: one catalog publication, already resolved to its catalog data."""

    katalog: str = ""
    judul: str = ""
    halaman: int = 0
    qty: int = 1


@dataclass(frozen=True)
class RemoveItem(Command):
    """HAPUS <line>: 1-based line number."""

    line: int = 0


@dataclass(frozen=True)
class MarkClear(Command):
    """JELAS: the request is clear; the service clock starts."""


@dataclass(frozen=True)
class SetDeliverables(Command):
    """SIAP: stored file ids become the deliverables."""

    files: tuple[str, ...] = ()


@dataclass(frozen=True)
class IssueInvoice(Command):
    """TAGIH [BILLING code [expiry]]."""

    billing_code: str | None = None
    billing_expires: date | None = None


@dataclass(frozen=True)
class ZeroRate(Command):
    """NOL <reason>: the case is served at Rp0."""

    reason: str = ""


@dataclass(frozen=True)
class SendCorrection(Command):
    """PERBAIKAN: stored file ids are the corrected softcopy, sent free."""

    files: tuple[str, ...] = ()


@dataclass(frozen=True)
class Close(Command):
    """TUTUP [reason]; also the scheduler's auto-close."""

    reason: str = ""


@dataclass(frozen=True)
class Cancel(Command):
    """BATAL <reason>; the customer's own confirmed cancel (`by="customer"`); the scheduler's end of a
    request the customer never completed (`by="abandoned"`)."""

    reason: str = ""
    by: str = "petugas"


# --- bendahara ----------------------------------------------------------------
@dataclass(frozen=True)
class ApprovePayment(Command):
    """SETUJU <ref> from the bendahara."""


@dataclass(frozen=True)
class RejectPayment(Command):
    """TOLAK <ref> <reason> from the bendahara."""

    reason: str = ""


# --- scheduler ----------------------------------------------------------------
@dataclass(frozen=True)
class Expire(Command):
    """The invoice lapsed unpaid."""
