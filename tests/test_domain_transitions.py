"""Every command in every state through `decide`, against a matrix written here from the specification.

The expected matrix below is NOT read from `mailbot.domain.transitions`: it is written out by hand
from DESIGN.md (§1 the story, §2 case states, §4 keywords), docs/DECISIONS.md and the office's
service standard (`service-standard.txt`, cited as SS). Every (command, state) cell is driven
through `decide`, the public domain entry, and both acceptance and the resulting state are compared.
`tools/mutate_transitions.py` flips each cell of the code's table in turn and checks that this file
(with test_domain_clock.py) catches every flip.
"""
from __future__ import annotations

import copy
import re
from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from mailbot.domain import case as case_module
from mailbot.domain import commands as c
from mailbot.domain import effects as fx
from mailbot.domain.calendar import WorkingCalendar, invoice_valid_until
from mailbot.domain.case import Accepted, Case, Context, Item, Refused, decide, invoice_lapsed
from mailbot.domain.pricing import Tariff
from mailbot.domain.states import FINAL, State
from mailbot.domain.transitions import illegal_reason, legal_commands, state_label

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
BENDAHARA = "bendahara@bps.go.id"

# ---------------------------------------------------------------------------------------------------
# The expected matrix. Columns: the nine states of DESIGN §2, a contract, spelled out here on purpose.
# A cell is the state the command leads to, or `__` when the command is illegal there (refused with a
# reason, the case untouched: DESIGN §2 last paragraph).
# Each row's comment cites where the specification states its cells (DESIGN §n; SS = the service
# standard); "silent" marks cells the specification does not decide, with the reason an office would
# want the choice made (they agree with the code and with docs/DECISIONS.md).
# ---------------------------------------------------------------------------------------------------
__ = None
COLUMNS = ("new", "preparing", "invoiced", "payment_review", "delivered", "correction", "closed", "expired",
           "cancelled")

EXPECTED: dict[type[c.Command], tuple[str | None, ...]] = {
    #                    new          preparing    invoiced          payment_review    delivered     correction    closed    expired      cancelled
    # Customer SETUJU (DESIGN §1.2, §4): agreement is a requirement of a clear request (SS §1), so it is
    # recorded while the request is settled. silent for preparing: items may still change there (ITEM is
    # legal in preparing), so a renewed agreement to cost is worth recording rather than refusing.
    # From `invoiced` on, the customer has the invoice in hand: a SETUJU there is just a message.
    c.Agree:           ("new",       "preparing", __,               __,               __,           __,           __,       __,          __),
    # The identity card (DESIGN §1.2; SS §1) arrives while the request is being settled. silent for
    # preparing: a clearer or replacement photo after JELAS is still an identity document, and filing it
    # as one means it is purged with the others after retention. From `invoiced` on an attachment is
    # a payment proof (DESIGN §4), never an identity.
    c.SubmitIdentity:  ("new",       "preparing", __,               __,               __,           __,           __,       __,          __),
    # IDENTITAS OK (DESIGN §1.3, §4) precedes JELAS. silent for preparing: confirming a replacement card
    # (row above) must be possible; a second confirmation changes nothing else.
    c.ConfirmIdentity: ("new",       "preparing", __,               __,               __,           __,           __,       __,          __),
    # ITEM / HAPUS (DESIGN §1.3, §4) while the list is being settled: `new` and `preparing` (the service
    # clock runs but nothing is billed yet). Never while an invoice is in force or a proof is reviewed:
    # the invoice the customer pays must stay the one that was sent. silent for `expired`: TAGIH there
    # issues a new invoice (DESIGN §2), and the office may fix the list before it (e.g. the customer
    # now wants fewer titles). Nothing is added once delivered: a new purchase is a new case.
    c.AddItem:         ("new",       "preparing", __,               __,               __,           __,           __,       "expired",   __),
    c.RemoveItem:      ("new",       "preparing", __,               __,               __,           __,           __,       "expired",   __),
    # JELAS: `new` -> `preparing`, the clock starts (DESIGN §4, verbatim). Nowhere else.
    c.MarkClear:       ("preparing", __,          __,               __,               __,           __,           __,       __,          __),
    # SIAP: the files for the clear request (DESIGN §1.3: after JELAS; SS §2 "petugas menyiapkan softcopy"
    # once the list is known), so not in `new`. silent after TAGIH: the softcopy goes out only at
    # approval (DESIGN §1.5), so a wrong file may still be replaced while the customer pays, the
    # bendahara checks, or a new invoice is awaited. After delivery a fixed file is a correction
    # (PERBAIKAN, sent free: SS §2 Catatan), not SIAP.
    c.SetDeliverables: (__,          "preparing", "invoiced",       "payment_review", __,           __,           __,       "expired",   __),
    # TAGIH: `preparing` -> `invoiced` (DESIGN §1.3); on `expired` it issues a new invoice (DESIGN §2).
    # Not before JELAS; silent for `invoiced`: one invoice in force at a time (a second could be paid
    # twice); not while a proof is under review.
    c.IssueInvoice:    (__,          "invoiced",  __,               __,               __,           __,           __,       "invoiced",  __),
    # NOL skips payment (DESIGN §2): receipt (Rp0) and softcopy at once, so `preparing` -> `delivered`
    # (`paid` is not a resting state). Not before JELAS (the request must be clear). silent for
    # `invoiced`/`expired`: an invoice was already issued and numbered, and NOL does not void it; an office
# that learns only after TAGIH that the customer is exempt must BATAL and open a new case (open question).
    c.ZeroRate:        (__,          "delivered", __,               __,               __,           __,           __,       __,          __),
    # An attachment on an `invoiced` case is a payment proof (DESIGN §4) -> `payment_review` (DESIGN §2,
    # "proof received, in the digest"). silent for `payment_review`: a second or clearer proof joins the
    # one under review. silent for `expired`: a proof that comes after the lapse is evidence of money
    # that may have been paid; it is kept and shown to petugas (never lost, DESIGN intro), the case stays
    # expired until they act (TAGIH or BATAL).
    c.SubmitProof:     (__,          __,          "payment_review", "payment_review", __,           __,           __,       "expired",   __),
    # Bendahara SETUJU: `paid` is not a resting state, approval delivers (DESIGN §2, §1.5). Only a proof
    # in the digest can be approved (DESIGN §4: the ref is bound to the digest line).
    c.ApprovePayment:  (__,          __,          __,               "delivered",      __,           __,           __,       __,          __),
    # Bendahara TOLAK: a rejected proof goes back to `invoiced` (DESIGN §2).
    c.RejectPayment:   (__,          __,          __,               "invoiced",       __,           __,           __,       __,          __),
    # The scheduler expires unpaid invoices (DESIGN §1, §2 "invoice lapsed unpaid"): only `invoiced`
    # ("unpaid, not expired"). silent for `payment_review`: the customer says they paid and the bendahara
    # has not decided; the case must not lapse under the bendahara's hands.
    c.Expire:          (__,          __,          "expired",        __,               __,           __,           __,       __,          __),
    # Words of defect on a `delivered` case open a correction (DESIGN §1.6, §4). silent for `correction`:
    # a second complaint while a correction is owed is recorded on it (the first deadline stands).
    # Issue 17: a defect reported after the case closed (TUTUP or the 14-day auto-close) reopens the
    # free correction on that case within 30 days of delivery (the handler refuses it later).
    c.ReportDefect:    (__,          __,          __,               __,               "correction", "correction", "correction", __,    __),
    # PERBAIKAN: the fixed file is sent free and the case is delivered again (DESIGN §1.6; SS §2). silent
    # for `delivered`: SS §2 has petugas fix and resend a softcopy with an error from preparation, whether
    # or not the customer noticed it first. Before delivery the files are set with SIAP instead.
    c.SendCorrection:  (__,          __,          __,               __,               "delivered",  "delivered",  __,       __,          __),
    # TUTUP (DESIGN §1.7; SS §2 "menutup percakapan jika layanan ... telah selesai"): after delivery.
    # silent, as in docs/DECISIONS.md: in `new` (nothing is owed yet: a question answered, a duplicate),
    # in `correction` (a "defect" that was none), in `expired` (the customer never paid; nothing is owed).
    # Refused while the office owes the service (`preparing`) or money is in flight (`invoiced`,
    # `payment_review`): BATAL or finish first.
    c.Close:           ("closed",    __,          __,               __,               "closed",     "closed",     __,       "closed",    __),
    # BATAL (DESIGN §2 "cancelled by petugas or customer"): silent on where; before anything is paid.
    # Refused in `payment_review` (money may have come: the bendahara decides first) and once paid and
    # delivered (TUTUP ends those).
    c.Cancel:          ("cancelled", "cancelled", "cancelled",      __,               __,           __,           __,       "cancelled", __),
    # The satisfaction answer 1-4 (DESIGN §1.7) comes after closing: `closed` stays `closed`. silent for
    # `delivered`: a score the customer gives before the case is closed is recorded rather than refused.
    c.Rate:            (__,          __,          __,               __,               "delivered",  __,           "closed", __,          __),
}


def _expected(cmd_type: type[c.Command], state: State) -> State | None:
    cell = EXPECTED[cmd_type][COLUMNS.index(state.value)]
    return None if cell is None else State(cell)


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
    c.ApprovePayment: c.ApprovePayment(BENDAHARA),
    c.RejectPayment: c.RejectPayment(BENDAHARA, "nominal tidak sesuai"),
    c.Expire: c.Expire("system"),
}

ITEM = Item("1102001.16", "Provinsi Sumatera Selatan Dalam Angka 2025", 412, 1, 412_000)
# Every case below satisfies every handler guard, whatever its state: terms agreed, identity checked, an
# item with a non-zero price, files, and an invoice that lapsed on 8 June (TODAY is 10 June). A `new`
# case with a lapsed invoice date cannot happen; it is there on purpose, so that a refusal in the matrix
# can only come from the transition table, never from a guard (see test_fixtures_pass_every_guard).
_BASE = Case(
    ref="PUB-2026-0042", state=State.NEW, customer=CUSTOMER, customer_name="Budi Santoso",
    opened_on=date(2026, 5, 4), agreed=True, identity_received=True, identity_ok=True,
    items=(ITEM,), deliverables=("pdf-sha256",),
    invoice_issued=date(2026, 5, 8), invoice_expires=date(2026, 6, 8),
)
_CLEAR = dict(clear_on=date(2026, 5, 5))
_PAUSED = dict(_CLEAR, clock_used=3)

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

ALL_PAIRS = [(state, cmd_type) for state in State for cmd_type in EXPECTED]

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


def test_the_matrix_covers_every_state_and_command():
    assert COLUMNS == tuple(s.value for s in State)           # the nine contract names of DESIGN §2
    assert set(EXPECTED) == _all_command_classes() == set(EXAMPLES)
    assert all(len(row) == len(COLUMNS) for row in EXPECTED.values())
    assert all(cell is None or cell in COLUMNS for row in EXPECTED.values() for cell in row)
    assert "paid" not in COLUMNS                               # `paid` is not a resting state
    assert set(CASES) == set(State) and all(CASES[s].state is s for s in State)


def test_fixtures_pass_every_guard():
    """The handlers' own checks accept every example in every fixture, so only the table can refuse.

    Without this a forbidden cell added to the table could hide behind a guard (e.g. Expire on a case
    without an invoice date) and the matrix would not notice. Handlers are private; this test only
    vouches for the fixtures of this file.
    """
    for state, cmd_type in ALL_PAIRS:
        result = case_module._HANDLERS[cmd_type](CASES[state], EXAMPLES[cmd_type], CTX)
        assert not isinstance(result, Refused), (state, cmd_type, result)


@pytest.mark.parametrize("state,cmd_type", ALL_PAIRS, ids=[f"{s.value}-{t.__name__}" for s, t in ALL_PAIRS])
def test_every_state_and_command(state, cmd_type):
    case = CASES[state]
    before = copy.deepcopy(case)
    decision = decide(case, EXAMPLES[cmd_type], CTX)
    expected = _expected(cmd_type, state)
    assert case == before  # decide never mutates its input, legal or not
    if expected is None:
        assert isinstance(decision, Refused), f"{cmd_type.__name__} must be refused in {state.value}: {decision}"
        _assert_indonesian(decision.reason)
    else:
        assert isinstance(decision, Accepted), f"{cmd_type.__name__} must be legal in {state.value}: {decision}"
        assert decision.case.state is expected
        assert decision.case.ref == case.ref and decision.case.customer == case.customer
        assert decision.event, "every accepted change leaves one audit line"
        assert all(isinstance(e, fx.Effect) for e in decision.effects)


@pytest.mark.parametrize("state", list(State), ids=[s.value for s in State])
def test_legal_commands_are_the_allowed_cells(state):
    """The list the notifications draw the applicable keywords from (staff.applicable_keywords)."""
    assert set(legal_commands(state)) == {t for t in EXPECTED if _expected(t, state) is not None}


def test_legal_commands_keep_the_table_order():
    assert legal_commands(State.PAYMENT_REVIEW) == [c.SetDeliverables, c.SubmitProof, c.ApprovePayment,
                                                    c.RejectPayment]


def _run(case: Case, *cmds: c.Command) -> Case:
    for cmd in cmds:
        d = decide(case, cmd, CTX)
        assert isinstance(d, Accepted), (cmd, d)
        case = d.case
    return case


def test_the_story_of_design_section_1_through_decide():
    """DESIGN §1 from the first mail to the satisfaction answer, one command after another."""
    case = Case(ref="PUB-2026-0042", state=State.NEW, customer=CUSTOMER, opened_on=TODAY)
    case = _run(case, c.Agree(CUSTOMER), c.SubmitIdentity(CUSTOMER, ("ktp",)), c.ConfirmIdentity(PETUGAS),
                EXAMPLES[c.AddItem])
    assert case.state is State.NEW
    case = _run(case, c.MarkClear(PETUGAS))
    assert case.state is State.PREPARING
    case = _run(case, c.SetDeliverables(PETUGAS, ("pdf",)), c.IssueInvoice(PETUGAS))
    assert case.state is State.INVOICED
    case = _run(case, c.SubmitProof(CUSTOMER, ("bukti",)))
    assert case.state is State.PAYMENT_REVIEW
    case = _run(case, c.ApprovePayment(BENDAHARA))
    assert case.state is State.DELIVERED                       # never a resting `paid`
    case = _run(case, c.ReportDefect(CUSTOMER, "halaman 12 kosong"))
    assert case.state is State.CORRECTION
    case = _run(case, c.SendCorrection(PETUGAS, ("pdf-fixed",)))
    assert case.state is State.DELIVERED
    case = _run(case, c.Close(PETUGAS), c.Rate(CUSTOMER, 4))
    assert (case.state, case.rating) == (State.CLOSED, 4)


def test_the_side_roads_of_design_section_2():
    invoiced = _run(CASES[State.PREPARING], c.IssueInvoice(PETUGAS))
    reviewed = _run(invoiced, c.SubmitProof(CUSTOMER, ("bukti",)))
    assert _run(reviewed, c.RejectPayment(BENDAHARA, "nominal kurang")).state is State.INVOICED
    lapsed = _run(replace(invoiced, invoice_expires=date(2026, 6, 9)), c.Expire("system"))
    assert lapsed.state is State.EXPIRED
    assert _run(lapsed, c.IssueInvoice(PETUGAS)).state is State.INVOICED    # TAGIH on expired: a new invoice
    assert _run(CASES[State.PREPARING], c.ZeroRate(PETUGAS, "sekolah")).state is State.DELIVERED  # NOL


def test_final_states_accept_only_a_late_rating_and_a_late_defect():
    for state in FINAL:
        allowed = legal_commands(state)
        assert allowed == ([c.ReportDefect, c.Rate] if state is State.CLOSED else [])
        for cmd_type in EXAMPLES:
            if cmd_type not in allowed:
                reason = illegal_reason(EXAMPLES[cmd_type], state)
                assert state_label(state) in reason and "sudah" in reason


def test_specific_reasons_point_to_the_right_keyword():
    assert "JELAS" in decide(CASES[State.NEW], EXAMPLES[c.IssueInvoice], CTX).reason
    assert "TOLAK" in decide(CASES[State.PAYMENT_REVIEW], EXAMPLES[c.Cancel], CTX).reason
    assert "TUTUP" in decide(CASES[State.DELIVERED], EXAMPLES[c.Cancel], CTX).reason
    assert "SIAP" in decide(CASES[State.PREPARING], EXAMPLES[c.SendCorrection], CTX).reason
    assert "BATAL" in decide(CASES[State.INVOICED], EXAMPLES[c.Close], CTX).reason


# --- the invoice-expiry rule ---------------------------------------------------------------------------
def _with_invoice(expires: date | None) -> Case:
    return replace(CASES[State.INVOICED], invoice_expires=expires)


def test_invoice_lapsed_only_after_the_last_valid_day():
    assert not invoice_lapsed(_with_invoice(None), TODAY)                   # no invoice, nothing lapses
    assert not invoice_lapsed(_with_invoice(date(2026, 6, 11)), TODAY)
    assert not invoice_lapsed(_with_invoice(TODAY), TODAY)                  # valid through the whole day
    assert invoice_lapsed(_with_invoice(date(2026, 6, 9)), TODAY)
    assert invoice_lapsed(_with_invoice(date(2025, 6, 10)), TODAY)


@pytest.mark.parametrize("issued,last_valid", [
    (date(2026, 1, 31), date(2026, 2, 28)),   # SS §2 Catatan: one month; 31 Jan -> 28 Feb (DESIGN §7)
    (date(2028, 1, 31), date(2028, 2, 29)),   # leap year
    (date(2026, 12, 30), date(2027, 1, 30)),
])
def test_invoice_lapsed_one_calendar_month_after_issue(issued, last_valid):
    case = _with_invoice(invoice_valid_until(issued))
    assert case.invoice_expires == last_valid
    assert not invoice_lapsed(case, last_valid)
    assert invoice_lapsed(case, last_valid + timedelta(days=1))


@pytest.mark.parametrize("local", [
    datetime(2026, 6, 8, 23, 59, 59), datetime(2026, 6, 9, 0, 0), datetime(2026, 6, 9, 0, 0, 1),
    datetime(2026, 6, 7, 12, 0), datetime(2026, 6, 10, 6, 0),
])
def test_invoice_lapsed_from_midnight_in_jakarta_after_the_last_day(local):
    """Valid through the whole of 8 June in Asia/Jakarta; lapsed from 00:00 WIB on 9 June."""
    now = local.replace(tzinfo=WIB)
    case = _with_invoice(date(2026, 6, 8))
    assert invoice_lapsed(case, now.date()) == (now >= datetime(2026, 6, 9, 0, 0, tzinfo=WIB))


def test_expire_uses_the_same_rule():
    for expires in (date(2026, 6, 9), TODAY, date(2026, 6, 11)):
        case = _with_invoice(expires)
        assert isinstance(decide(case, c.Expire("system"), CTX), Accepted) == invoice_lapsed(case, TODAY)


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


def test_a_late_defect_reopens_a_closed_case_within_30_days_of_delivery_only():
    """Issue 17: a closed case delivered on 1 June reopens for a defect reported on 10 June (the
    correction clock starts that day), and on 1 July; on 2 July it is a new request."""
    closed = CASES[State.CLOSED]
    d = decide(closed, c.ReportDefect(CUSTOMER, "halaman 12 kosong"), CTX)
    assert isinstance(d, Accepted) and d.case.state is State.CORRECTION and d.case.closed_on is None
    assert d.case.correction_due == date(2026, 6, 17)                 # 5 working days after 10 June
    day30 = replace(CTX, today=date(2026, 7, 1))
    assert isinstance(decide(closed, c.ReportDefect(CUSTOMER, "x"), day30), Accepted)
    day31 = replace(CTX, today=date(2026, 7, 2))
    late = decide(closed, c.ReportDefect(CUSTOMER, "x"), day31)
    assert isinstance(late, Refused) and "30 hari" in late.reason
    never_delivered = replace(closed, paid_on=None, delivered_on=None)
    assert isinstance(decide(never_delivered, c.ReportDefect(CUSTOMER, "x"), CTX), Refused)


def test_a_reopened_case_that_was_rated_is_not_asked_the_satisfaction_question_again():
    rated = replace(CASES[State.CLOSED], rating=4)
    reopened = _run(rated, c.ReportDefect(CUSTOMER, "halaman 12 kosong"), c.SendCorrection(PETUGAS, ("pdf",)))
    d = decide(reopened, c.Close(PETUGAS), CTX)
    assert fx.Notify("customer", "closed") in d.effects and fx.Notify("customer", "survey") not in d.effects
    d = decide(replace(reopened, rating=None), c.Close(PETUGAS), CTX)
    assert fx.Notify("customer", "survey") in d.effects


def test_who_cancels_decides_the_words_the_customer_reads():
    new = CASES[State.NEW]
    assert decide(new, c.Cancel(PETUGAS, "ganda"), CTX).effects == (fx.Notify("customer", "cancelled"),)
    by_customer = decide(new, c.Cancel(CUSTOMER, "x", by="customer"), CTX).effects
    assert fx.Notify("customer", "cancelled_by_customer") in by_customer
    assert fx.Notify("petugas", "cancelled_by_customer") in by_customer
    lapsed = decide(new, c.Cancel("system", "x", by="abandoned"), CTX)
    assert fx.Notify("customer", "new_expired") in lapsed.effects and lapsed.case.closed_on == TODAY
    assert fx.VoidInvoice() in decide(CASES[State.INVOICED], c.Cancel(CUSTOMER, "x", by="customer"), CTX).effects
