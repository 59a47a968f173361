"""Effects: what a decision asks the outside world to do; the service carries them out."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Effect:
    """Base class."""


@dataclass(frozen=True)
class Notify(Effect):
    """Send the mail rendered from `template` to an audience: customer, petugas, bendahara or supervisor."""

    audience: str
    template: str
    attach: str = ""       # attach the case's stored files of this role (e.g. "identity" for petugas)


@dataclass(frozen=True)
class SendInvoice(Effect):
    """Number and render the invoice and send it to the customer (voiding any earlier one)."""

    billing_code: str | None = None
    billing_expires: date | None = None


@dataclass(frozen=True)
class VoidInvoice(Effect):
    """The current invoice lapsed unpaid: record it void."""


@dataclass(frozen=True)
class IssueReceiptAndDeliver(Effect):
    """Number and render the kuitansi, then deliver it with the softcopy."""


@dataclass(frozen=True)
class DeliverCorrection(Effect):
    """Send the corrected files, free of charge."""

    files: tuple[str, ...]


@dataclass(frozen=True)
class RefreshDigest(Effect):
    """A proof arrived: the bendahara digest has a new line (sent at once if configured)."""


@dataclass(frozen=True)
class ReadProof(Effect):
    """Read the proof files once the mail's transaction has committed, then carry out `then` (the
    acknowledgement, the digest) with what was read: when every file is read, or when the configured
    wait is over, whichever comes first. A reading is evidence: it never changes the case."""

    files: tuple[str, ...]
    then: tuple[Effect, ...] = ()
