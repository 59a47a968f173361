"""Every state x every command through `decide`: the one transition table, refusals, and the handlers' guards."""
from __future__ import annotations

import copy
import re
from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from mailbot.domain import commands as c
from mailbot.domain import effects as fx
from mailbot.domain.calendar import WorkingCalendar
from mailbot.domain.case import Accepted, Case, Context, Item, Refused, decide
from mailbot.domain.pricing import Tariff
from mailbot.domain.states import FINAL, State
from mailbot.domain.transitions import TRANSITIONS, illegal_reason, legal_commands, state_label

WIB = ZoneInfo("Asia/Jakarta")
TODAY = date(2026, 6, 10)  # a Wednesday; weekends only: the transition rules do not depend on holidays
CTX = Context(
    now=datetime(2026, 6, 10, 9, 30, tzinfo=WIB),
    today=TODAY,
    calendar=WorkingCalendar({}, [2026, 2027]),
    tariff=Tariff("PP 13/2024", 1000),
)
PETUGAS = "petugas@bps.go.id"
CUSTOMER = "budi@example.com"

# One sensible instance of every command, built to pass its own guards.
EXAMPLES: dict[type[c.Command], c.Command] = {
    c.Agree: c.Agree(CUSTOMER),
    c.SubmitIdentity: c.SubmitIdentity(CUSTOMER, ("ktp-sha256",)),
    c.SubmitProof: c.SubmitProof(CUSTOMER, ("bukti-sha256",)),
    c.ReportDefect: c.ReportDefect(CUSTOMER, "halaman 12 kosong"),
    c.Rate: c.Rate(CUSTOMER, 4),
    c.ConfirmIdentity: c.ConfirmIdentity(PETUGAS),
    c.AddItem: c.AddItem(PETUGAS, "1102001.16", "Provinsi Sumatera Selatan Dalam Angka 2025", 412, 1),
    c.RemoveItem: c.RemoveItem(PETUGAS, 1),
    c.MarkClear: c.MarkClear(PETUGAS),
    c.SetDeliverables: c.SetDeliverables(PETUGAS, ("pdf-sha256",)),
    c.IssueInvoice: c.IssueInvoice(PETUGAS),
    c.ZeroRate: c.ZeroRate(PETUGAS, "instansi pemerintah"),
    c.SendCorrection: c.SendCorrection(PETUGAS, ("pdf-fixed-sha256",)),
    c.Close: c.Close(PETUGAS, "selesai"),
    c.Cancel: c.Cancel(PETUGAS, "pelanggan membatalkan"),
    c.ApprovePayment: c.ApprovePayment("bendahara@bps.go.id"),
    c.RejectPayment: c.RejectPayment("bendahara@bps.go.id", "nominal tidak sesuai"),
    c.Expire: c.Expire("system"),
}

ITEM = Item("1102001.16", "Provinsi Sumatera Selatan Dalam Angka 2025", 412, 1, 412_000)
_BASE = Case(
    ref="PUB-2026-0042", state=State.NEW, customer=CUSTOMER, customer_name="Budi Santoso",
    opened_on=date(2026, 5, 4), agreed=True, identity_received=True, identity_ok=True,
    items=(ITEM,), deliverables=("pdf-sha256",),
)
_CLEAR = dict(clear_on=date(2026, 5, 5))
_PAUSED = dict(_CLEAR, clock_used=3, invoice_issued=date(2026, 5, 8), invoice_expires=date(2026, 6, 8))

# A case in each state, with whatever the command guards look at already satisfied there.
# The invoiced case's invoice lapsed on 8 June (TODAY is 10 June) so that Expire passes its guard.
CASES: dict[State, Case] = {
    State.NEW: _BASE,
    State.PREPARING: replace(_BASE, state=State.PREPARING, **_CLEAR, clock_since=date(2026, 5, 5),
                             service_due=date(2026, 5, 19)),
    State.INVOICED: replace(_BASE, state=State.INVOICED, **_PAUSED),
    State.PAYMENT_REVIEW: replace(_BASE, state=State.PAYMENT_REVIEW, **_PAUSED, clock_since=date(2026, 6, 9),
                                  service_due=date(2026, 6, 18)),
    State.DELIVERED: replace(_BASE, state=State.DELIVERED, **_PAUSED, paid_on=date(2026, 6, 9),
                             delivered_on=date(2026, 6, 9)),
    State.CORRECTION: replace(_BASE, state=State.CORRECTION, **_PAUSED, paid_on=date(2026, 6, 1),
                              delivered_on=date(2026, 6, 1), correction_due=date(2026, 6, 9)),
    State.CLOSED: replace(_BASE, state=State.CLOSED, **_PAUSED, paid_on=date(2026, 6, 1),
                          delivered_on=date(2026, 6, 1), closed_on=date(2026, 6, 5)),
    State.EXPIRED: replace(_BASE, state=State.EXPIRED, **_PAUSED),
    State.CANCELLED: replace(_BASE, state=State.CANCELLED, closed_on=date(2026, 5, 6),
                             close_reason="pelanggan membatalkan"),
}

ALL_PAIRS = [(state, cmd_type) for state in State for cmd_type in EXAMPLES]

_INDONESIAN = {"tidak", "belum", "sudah", "kasus", "gunakan", "sedang", "harus", "memerlukan", "masih",
               "ada", "dahulu", "terlebih", "dapat", "diperiksa", "berstatus"}
_ENGLISH = {"the", "not", "cannot", "is", "already", "must", "state", "illegal", "invalid", "command"}


def _assert_indonesian(reason: str) -> None:
    words = set(re.findall(r"[a-z]+", reason.lower()))
    assert reason.strip(), "empty reason"
    assert words & _INDONESIAN, f"reason does not read as Indonesian: {reason!r}"
    assert not words & _ENGLISH, f"English words in a reason for petugas: {reason!r}"


def _all_command_classes(base=c.Command) -> set[type]:
    found = set()
    for sub in base.__subclasses__():
        found |= {sub} | _all_command_classes(sub)
    return found


def test_examples_and_table_cover_every_command_class():
    assert set(EXAMPLES) == _all_command_classes()
    assert set(TRANSITIONS) == _all_command_classes()
    assert set(CASES) == set(State)
    assert all(CASES[s].state is s for s in State)


@pytest.mark.parametrize("state,cmd_type", ALL_PAIRS, ids=[f"{s.value}-{t.__name__}" for s, t in ALL_PAIRS])
def test_every_state_and_command(state, cmd_type):
    case = CASES[state]
    before = copy.deepcopy(case)
    decision = decide(case, EXAMPLES[cmd_type], CTX)
    expected = TRANSITIONS[cmd_type].get(state)
    assert case == before  # decide never mutates its input, legal or not
    if expected is None:
        assert isinstance(decision, Refused), decision
        _assert_indonesian(decision.reason)
        assert decision.reason == illegal_reason(EXAMPLES[cmd_type], state)
    else:
        assert isinstance(decision, Accepted), decision
        assert decision.case.state is expected
        assert decision.event, "every accepted change leaves one audit line"
        assert all(isinstance(e, fx.Effect) for e in decision.effects)


def test_the_story_from_design_section_2():
    """The contract sentences of DESIGN §2, independent of how the table is written."""
    t = TRANSITIONS
    assert t[c.MarkClear][State.NEW] is State.PREPARING
    assert t[c.IssueInvoice][State.PREPARING] is State.INVOICED
    assert t[c.SubmitProof][State.INVOICED] is State.PAYMENT_REVIEW
    assert t[c.ApprovePayment][State.PAYMENT_REVIEW] is State.DELIVERED  # `paid` is not a resting state
    assert t[c.RejectPayment][State.PAYMENT_REVIEW] is State.INVOICED     # a rejected proof goes back
    assert t[c.IssueInvoice][State.EXPIRED] is State.INVOICED             # TAGIH on expired: a new invoice
    assert t[c.ZeroRate][State.PREPARING] is State.DELIVERED              # NOL skips payment
    assert t[c.ReportDefect][State.DELIVERED] is State.CORRECTION
    assert t[c.SendCorrection][State.CORRECTION] is State.DELIVERED
    assert t[c.Expire][State.INVOICED] is State.EXPIRED
    assert State.PAYMENT_REVIEW not in t[c.Expire]                         # a proof under review never lapses


def test_final_states_accept_only_a_late_rating():
    for state in FINAL:
        allowed = legal_commands(state)
        assert allowed == ([c.Rate] if state is State.CLOSED else [])
        for cmd_type in EXAMPLES:
            if cmd_type not in allowed:
                reason = illegal_reason(EXAMPLES[cmd_type], state)
                assert state_label(state) in reason and "sudah" in reason


def test_legal_commands_lists_the_table_rows_in_order():
    assert legal_commands(State.PAYMENT_REVIEW) == [c.SetDeliverables, c.SubmitProof, c.ApprovePayment,
                                                    c.RejectPayment]
    for state in State:
        assert legal_commands(state) == [t for t in TRANSITIONS if state in TRANSITIONS[t]]


def test_specific_reasons_point_to_the_right_keyword():
    assert "JELAS" in decide(CASES[State.NEW], EXAMPLES[c.IssueInvoice], CTX).reason
    assert "TOLAK" in decide(CASES[State.PAYMENT_REVIEW], EXAMPLES[c.Cancel], CTX).reason
    assert "TUTUP" in decide(CASES[State.DELIVERED], EXAMPLES[c.Cancel], CTX).reason
    assert "SIAP" in decide(CASES[State.PREPARING], EXAMPLES[c.SendCorrection], CTX).reason
    assert "BATAL" in decide(CASES[State.INVOICED], EXAMPLES[c.Close], CTX).reason


# --- guards inside legal transitions ------------------------------------------------
def _refused(case: Case, cmd: c.Command) -> str:
    before = copy.deepcopy(case)
    decision = decide(case, cmd, CTX)
    assert isinstance(decision, Refused), decision
    assert case == before
    _assert_indonesian(decision.reason)
    return decision.reason


@pytest.mark.parametrize("missing,needle,others", [
    (dict(identity_ok=False), "IDENTITAS OK", ("SETUJU", "ITEM")),
    (dict(agreed=False), "SETUJU", ("IDENTITAS", "ITEM")),
    (dict(items=()), "ITEM", ("IDENTITAS", "SETUJU")),
])
def test_jelas_names_exactly_what_is_missing(missing, needle, others):
    reason = _refused(replace(CASES[State.NEW], **missing), c.MarkClear(PETUGAS))
    assert needle in reason
    for other in others:
        assert other not in reason


def test_jelas_with_nothing_settled_lists_all_three():
    fresh = Case(ref="PUB-2026-0043", state=State.NEW, customer=CUSTOMER, opened_on=TODAY)
    reason = _refused(fresh, c.MarkClear(PETUGAS))
    assert all(k in reason for k in ("IDENTITAS OK", "SETUJU", "ITEM"))


def test_jelas_identity_received_is_not_enough():
    case = replace(CASES[State.NEW], identity_received=True, identity_ok=False)
    assert "IDENTITAS OK" in _refused(case, c.MarkClear(PETUGAS))


def test_tagih_on_expired_reissues():
    expired = CASES[State.EXPIRED]
    d = decide(expired, c.IssueInvoice(PETUGAS, "820260610123456", date(2026, 6, 17)), CTX)
    assert isinstance(d, Accepted)
    assert d.case.state is State.INVOICED
    assert d.case.invoice_issued == TODAY and d.case.invoice_expires == date(2026, 7, 10)
    assert d.effects == (fx.SendInvoice("820260610123456", date(2026, 6, 17)),)
    assert d.event == "invoice reissued"
    assert d.case.items == expired.items  # amounts fixed when the lines were added


def test_tagih_needs_a_nonzero_total_and_points_to_nol():
    free = replace(CASES[State.PREPARING], items=(replace(ITEM, amount=0),))
    assert "NOL" in _refused(free, c.IssueInvoice(PETUGAS))
    assert "ITEM" in _refused(replace(CASES[State.PREPARING], items=()), c.IssueInvoice(PETUGAS))


@pytest.mark.parametrize("reason", ["", "   "])
def test_nol_requires_a_reason(reason):
    assert "alasan" in _refused(CASES[State.PREPARING], c.ZeroRate(PETUGAS, reason))


def test_nol_sets_every_amount_to_zero_and_delivers():
    two = replace(CASES[State.PREPARING], items=(ITEM, Item("3201001.16", "Statistik Daerah", 80, 2, 160_000)))
    d = decide(two, c.ZeroRate(PETUGAS, "  instansi pemerintah "), CTX)
    assert isinstance(d, Accepted) and d.case.state is State.DELIVERED
    assert [i.amount for i in d.case.items] == [0, 0]
    assert [(i.katalog, i.halaman, i.qty) for i in d.case.items] == [("1102001.16", 412, 1), ("3201001.16", 80, 2)]
    assert d.case.total == 0 and two.total == 572_000
    assert d.case.zero_reason == "instansi pemerintah"
    assert d.effects == (fx.IssueReceiptAndDeliver(),)


def test_perbaikan_without_files_is_refused():
    for state in (State.CORRECTION, State.DELIVERED):
        assert "lampiran" in _refused(CASES[state], c.SendCorrection(PETUGAS, ()))


def test_perbaikan_with_files_delivers_them_free():
    d = decide(CASES[State.CORRECTION], c.SendCorrection(PETUGAS, ("a", "b")), CTX)
    assert d.case.state is State.DELIVERED and d.case.correction_due is None and d.case.delivered_on == TODAY
    assert d.effects == (fx.DeliverCorrection(("a", "b")),)


@pytest.mark.parametrize("score", [0, 5, -1, 44])
def test_rate_outside_one_to_four_is_refused(score):
    for state in (State.DELIVERED, State.CLOSED):
        assert "1 sampai 4" in _refused(CASES[state], c.Rate(CUSTOMER, score))


@pytest.mark.parametrize("score", [1, 2, 3, 4])
def test_rate_one_to_four_is_recorded(score):
    d = decide(CASES[State.CLOSED], c.Rate(CUSTOMER, score), CTX)
    assert d.case.rating == score and d.case.state is State.CLOSED


@pytest.mark.parametrize("expires", [date(2026, 6, 11), TODAY])  # after today, and today itself (valid all day)
def test_expire_before_the_end_of_validity_is_refused(expires):
    case = replace(CASES[State.INVOICED], invoice_expires=expires)
    assert "masih berlaku" in _refused(case, c.Expire("system"))


def test_expire_the_day_after_validity_voids_and_tells_both_sides():
    case = replace(CASES[State.INVOICED], invoice_expires=date(2026, 6, 9))
    d = decide(case, c.Expire("system"), CTX)
    assert d.case.state is State.EXPIRED
    assert d.effects == (fx.VoidInvoice(), fx.Notify("customer", "expired"), fx.Notify("petugas", "expired"))


def test_other_handler_guards():
    prep = CASES[State.PREPARING]
    assert "alasan" in _refused(CASES[State.PAYMENT_REVIEW], c.RejectPayment("bendahara@bps.go.id", " "))
    assert "alasan" in _refused(prep, c.Cancel(PETUGAS, ""))
    assert "SIAP" in _refused(prep, c.SetDeliverables(PETUGAS, ()))
    assert "baris 2" in _refused(prep, c.RemoveItem(PETUGAS, 2))
    assert "baris 0" in _refused(prep, c.RemoveItem(PETUGAS, 0))
    assert "minimal 1" in _refused(prep, replace(EXAMPLES[c.AddItem], qty=0))


@pytest.mark.parametrize("halaman", [0, -5])
def test_item_with_bad_page_count_is_refused_not_raised(halaman):
    assert "halaman" in _refused(CASES[State.NEW], replace(EXAMPLES[c.AddItem], halaman=halaman))


def test_item_amount_is_fixed_at_the_tariff_in_force():
    d = decide(CASES[State.NEW], c.AddItem(PETUGAS, "3201001.16", "Statistik Daerah", 80, 3), CTX)
    assert d.case.items[-1] == Item("3201001.16", "Statistik Daerah", 80, 3, 240_000)
    dearer = replace(CTX, tariff=Tariff("PP 13/2024", 2000))
    later = decide(d.case, c.AddItem(PETUGAS, "x", "y", 10, 1), dearer).case
    assert [i.amount for i in later.items] == [412_000, 240_000, 20_000]


def test_cancel_of_an_invoiced_case_voids_the_invoice_first():
    d = decide(CASES[State.INVOICED], EXAMPLES[c.Cancel], CTX)
    assert d.effects == (fx.VoidInvoice(), fx.Notify("customer", "cancelled"))
    assert d.case.close_reason == "pelanggan membatalkan" and d.case.closed_on == TODAY


def test_proof_after_expiry_stays_expired_and_tells_petugas_once_it_is_read():
    d = decide(CASES[State.EXPIRED], EXAMPLES[c.SubmitProof], CTX)
    assert d.case.state is State.EXPIRED
    (read,) = d.effects
    assert isinstance(read, fx.ReadProof) and read.files == ("bukti-sha256",)
    assert fx.Notify("petugas", "proof_after_expiry", attach="proof") in read.then
    assert fx.RefreshDigest() not in read.then            # no digest lists an expired case


def test_a_proof_is_acknowledged_and_listed_for_the_bendahara_only_after_its_reading():
    d = decide(CASES[State.INVOICED], EXAMPLES[c.SubmitProof], CTX)
    assert d.case.state is State.PAYMENT_REVIEW
    assert d.effects == (fx.ReadProof(("bukti-sha256",), (fx.Notify("customer", "proof_received"),
                                                         fx.RefreshDigest())),)
