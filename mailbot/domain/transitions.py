"""The one table of legal state changes: (command, from-state) -> to-state."""
from __future__ import annotations

from . import commands as c
from .states import State as S

# Every command that changes or may change a case, and the states it is legal in.
# A pair missing here is illegal: the case stays as it is and the sender gets a reason.
TRANSITIONS: dict[type[c.Command], dict[S, S]] = {
    c.Agree:           {S.NEW: S.NEW, S.PREPARING: S.PREPARING},
    c.SubmitIdentity:  {S.NEW: S.NEW, S.PREPARING: S.PREPARING},
    c.ConfirmIdentity: {S.NEW: S.NEW, S.PREPARING: S.PREPARING},
    c.AddItem:         {S.NEW: S.NEW, S.PREPARING: S.PREPARING, S.EXPIRED: S.EXPIRED},
    c.RemoveItem:      {S.NEW: S.NEW, S.PREPARING: S.PREPARING, S.EXPIRED: S.EXPIRED},
    c.MarkClear:       {S.NEW: S.PREPARING},
    c.SetDeliverables: {S.PREPARING: S.PREPARING, S.INVOICED: S.INVOICED,
                        S.PAYMENT_REVIEW: S.PAYMENT_REVIEW, S.EXPIRED: S.EXPIRED},
    c.IssueInvoice:    {S.PREPARING: S.INVOICED, S.EXPIRED: S.INVOICED},
    c.ZeroRate:        {S.PREPARING: S.DELIVERED},
    c.SubmitProof:     {S.INVOICED: S.PAYMENT_REVIEW, S.PAYMENT_REVIEW: S.PAYMENT_REVIEW,
                        S.EXPIRED: S.EXPIRED},
    c.ApprovePayment:  {S.PAYMENT_REVIEW: S.DELIVERED},
    c.RejectPayment:   {S.PAYMENT_REVIEW: S.INVOICED},
    c.Expire:          {S.INVOICED: S.EXPIRED},
    c.ReportDefect:    {S.DELIVERED: S.CORRECTION, S.CORRECTION: S.CORRECTION, S.CLOSED: S.CORRECTION},
    c.SendCorrection:  {S.CORRECTION: S.DELIVERED, S.DELIVERED: S.DELIVERED},
    c.Close:           {S.NEW: S.CLOSED, S.DELIVERED: S.CLOSED, S.CORRECTION: S.CLOSED, S.EXPIRED: S.CLOSED},
    c.Cancel:          {S.NEW: S.CANCELLED, S.PREPARING: S.CANCELLED, S.INVOICED: S.CANCELLED,
                        S.EXPIRED: S.CANCELLED},
    c.Rate:            {S.DELIVERED: S.DELIVERED, S.CLOSED: S.CLOSED},
}

# Why a command is illegal in a state, in the words petugas read in a transcript.
# Specific reasons first; `illegal_reason` falls back to a generic sentence.
_REASONS: dict[tuple[type[c.Command], S], str] = {
    (c.IssueInvoice, S.NEW): "permintaan belum JELAS; kirim JELAS terlebih dahulu",
    (c.IssueInvoice, S.INVOICED): "invoice sudah terkirim dan masih berlaku",
    (c.IssueInvoice, S.PAYMENT_REVIEW): "bukti bayar sedang diperiksa bendahara",
    (c.ZeroRate, S.NEW): "permintaan belum JELAS; kirim JELAS terlebih dahulu",
    (c.MarkClear, S.PREPARING): "permintaan sudah JELAS sebelumnya",
    (c.SendCorrection, S.PREPARING): "softcopy belum pernah dikirim; gunakan SIAP",
    (c.Close, S.PREPARING): "layanan belum selesai; gunakan BATAL untuk membatalkan",
    (c.Close, S.INVOICED): "invoice belum dibayar; gunakan BATAL untuk membatalkan",
    (c.Close, S.PAYMENT_REVIEW): "bukti bayar sedang diperiksa bendahara",
    (c.Cancel, S.PAYMENT_REVIEW): "bukti bayar sedang diperiksa bendahara; minta bendahara TOLAK dahulu",
    (c.Cancel, S.DELIVERED): "softcopy sudah dikirim dan dibayar; gunakan TUTUP",
}


def target(command: c.Command, state: S) -> S | None:
    """The state `command` leads to from `state`, or None when it is illegal there."""
    return TRANSITIONS.get(type(command), {}).get(state)


def legal_commands(state: S) -> list[type[c.Command]]:
    """Commands legal in `state`, in table order (used to list the applicable keywords)."""
    return [cmd for cmd, row in TRANSITIONS.items() if state in row]


def illegal_reason(command: c.Command, state: S) -> str:
    """A clear sentence why `command` cannot be done in `state`."""
    specific = _REASONS.get((type(command), state))
    if specific:
        return specific
    if state in (S.CLOSED, S.CANCELLED):
        return f"kasus sudah {state_label(state)}"
    return f"tidak dapat dilakukan saat kasus berstatus {state_label(state)}"


_LABELS = {
    S.NEW: "baru (new)",
    S.PREPARING: "disiapkan (preparing)",
    S.INVOICED: "menunggu pembayaran (invoiced)",
    S.PAYMENT_REVIEW: "pemeriksaan pembayaran (payment_review)",
    S.DELIVERED: "terkirim (delivered)",
    S.CORRECTION: "perbaikan (correction)",
    S.CLOSED: "ditutup (closed)",
    S.EXPIRED: "kedaluwarsa (expired)",
    S.CANCELLED: "dibatalkan (cancelled)",
}


def state_label(state: S) -> str:
    """The state as petugas read it: Indonesian word, contract name in brackets."""
    return _LABELS[state]
