"""The 10-working-day service clock and the 5-working-day correction clock, on the real Indonesian calendar."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from mailbot.adapters.holidays_source import load_calendar
from mailbot.domain import commands as c
from mailbot.domain import effects as fx
from mailbot.domain.calendar import CalendarGapError
from mailbot.domain.case import Accepted, Case, Context, Item, decide
from mailbot.domain.pricing import Tariff
from mailbot.domain.states import State

WIB = ZoneInfo("Asia/Jakarta")
TARIFF = Tariff("PP 13/2024", 1000)
P, K, B = "petugas@bps.go.id", "budi@example.com", "bendahara@bps.go.id"


@pytest.fixture(scope="module")
def cal():
    return load_calendar(range(2025, 2028))


def _ctx(cal, day: date) -> Context:
    return Context(now=datetime.combine(day, time(10, 0), WIB), today=day, calendar=cal, tariff=TARIFF)


def _do(cal, case: Case, cmd: c.Command, day: date) -> Case:
    d = decide(case, cmd, _ctx(cal, day))
    assert isinstance(d, Accepted), d
    return d.case


def _ready() -> Case:
    """A `new` case with everything JELAS asks for."""
    return Case(ref="PUB-2026-0042", state=State.NEW, customer=K, opened_on=date(2026, 3, 16), agreed=True,
                identity_received=True, identity_ok=True,
                items=(Item("1102001.16", "Provinsi Sumatera Selatan Dalam Angka 2025", 412, 1, 412_000),))


def _clear_on_17_march(cal) -> Case:
    return _do(cal, _ready(), c.MarkClear(P), date(2026, 3, 17))


def test_the_calendar_around_idul_fitri_2026(cal):
    # Nyepi 19 Mar (cuti 18), Idul Fitri 21-22 Mar (cuti 20, 23, 24): 18-24 Mar is one closed week.
    for day in range(18, 25):
        assert not cal.is_working_day(date(2026, 3, day)), day
    # so the working day before Idul Fitri (Sat 21 Mar) is Tue 17 Mar
    assert cal.add_working_days(date(2026, 3, 21), -1) == date(2026, 3, 17)


def test_jelas_before_idul_fitri_gets_a_due_date_past_the_holidays(cal):
    # JELAS on Tue 17 Mar 2026. The 10 working days after it:
    #   18 Wed cuti Nyepi, 19 Thu Nyepi, 20 Fri cuti Idul Fitri, 21-22 Sat-Sun Idul Fitri,
    #   23 Mon + 24 Tue cuti Idul Fitri                                    -> none count
    #   Wed 25 (1), Thu 26 (2), Fri 27 (3), Mon 30 (4), Tue 31 (5),
    #   Wed 1 Apr (6), Thu 2 Apr (7), Fri 3 Apr Good Friday (holiday),
    #   Mon 6 Apr (8), Tue 7 Apr (9), Wed 8 Apr (10)                        -> due Wed 8 April 2026
    d = decide(_ready(), c.MarkClear(P), _ctx(cal, date(2026, 3, 17)))
    assert isinstance(d, Accepted)
    case = d.case
    assert case.state is State.PREPARING
    assert case.service_due == date(2026, 4, 8)
    assert case.due == date(2026, 4, 8)
    assert (case.clear_on, case.clock_since, case.clock_used) == (date(2026, 3, 17), date(2026, 3, 17), 0)
    assert fx.Notify("customer", "clear") in d.effects


def test_clock_pauses_at_tagih_resumes_at_proof_and_stops_at_delivery(cal):
    case = _clear_on_17_march(cal)
    case = _do(cal, case, c.SetDeliverables(P, ("pdf",)), date(2026, 3, 25))
    # TAGIH Wed 25 Mar: one working day used (25 Mar); the customer's turn, the clock is paused
    case = _do(cal, case, c.IssueInvoice(P), date(2026, 3, 25))
    assert case.state is State.INVOICED
    assert (case.clock_used, case.clock_since, case.service_due, case.due) == (1, None, None, None)
    # proof Mon 30 Mar: 9 days left, counted after 30 Mar: 31, 1, 2, (3 Good Fri), 6, 7, 8, 9, 10, 13 -> Mon 13 Apr
    case = _do(cal, case, c.SubmitProof(K, ("bukti",)), date(2026, 3, 30))
    assert case.state is State.PAYMENT_REVIEW
    assert case.due == case.service_due == date(2026, 4, 13)
    assert case.clock_since == date(2026, 3, 30)
    # a second proof while under review does not restart anything
    case = _do(cal, case, c.SubmitProof(K, ("bukti-2",)), date(2026, 3, 31))
    assert case.due == date(2026, 4, 13)
    # approval Wed 1 Apr delivers: the clock stops with 1 + 2 (31 Mar, 1 Apr) days used
    case = _do(cal, case, c.ApprovePayment(B), date(2026, 4, 1))
    assert case.state is State.DELIVERED
    assert (case.clock_used, case.clock_since, case.service_due, case.due) == (3, None, None, None)
    assert case.delivered_on == date(2026, 4, 1)


def test_rejected_proof_pauses_the_clock_again(cal):
    case = _clear_on_17_march(cal)
    case = _do(cal, case, c.IssueInvoice(P), date(2026, 3, 25))                  # used 1
    case = _do(cal, case, c.SubmitProof(K, ("bukti",)), date(2026, 3, 30))      # runs again
    case = _do(cal, case, c.RejectPayment(B, "nominal kurang"), date(2026, 3, 31))
    assert case.state is State.INVOICED
    assert (case.clock_used, case.clock_since, case.due) == (2, None, None)      # + 31 Mar
    # the days the customer takes (1, 2 Apr) do not count; a new proof Mon 6 Apr gets the 8 days left:
    # 7, 8, 9, 10, 13, 14, 15, 16 Apr -> Thu 16 Apr
    case = _do(cal, case, c.SubmitProof(K, ("bukti-benar",)), date(2026, 4, 6))
    assert case.due == date(2026, 4, 16)
    # the office's share adds up to exactly 10 working days: 25 Mar + 31 Mar + 8 after 6 Apr
    assert (cal.working_days_between(date(2026, 3, 17), date(2026, 3, 25))
            + cal.working_days_between(date(2026, 3, 30), date(2026, 3, 31))
            + cal.working_days_between(date(2026, 4, 6), case.due)) == 10


def test_overrun_clock_resumes_with_nothing_left(cal):
    case = _clear_on_17_march(cal)
    case = _do(cal, case, c.IssueInvoice(P), date(2026, 4, 10))   # 12 working days used, already late
    assert case.clock_used == 12
    case = _do(cal, case, c.SubmitProof(K, ("bukti",)), date(2026, 4, 13))
    assert case.due == date(2026, 4, 13)  # no fresh days are granted


def test_nol_stops_the_clock(cal):
    case = _do(cal, _clear_on_17_march(cal), c.ZeroRate(P, "instansi pemerintah"), date(2026, 3, 26))
    assert case.state is State.DELIVERED
    assert (case.clock_used, case.due) == (2, None)


def test_cancel_stops_the_clock(cal):
    case = _do(cal, _clear_on_17_march(cal), c.Cancel(P, "tidak jadi"), date(2026, 3, 25))
    assert case.state is State.CANCELLED and case.due is None


def _delivered_on(cal, day: date) -> Case:
    case = _do(cal, _ready(), c.MarkClear(P), date(2026, 3, 2))
    return _do(cal, case, c.ZeroRate(P, "instansi pemerintah"), day)


def test_correction_clock_five_working_days_over_idul_fitri(cal):
    case = _delivered_on(cal, date(2026, 3, 16))
    # defect reported Tue 17 Mar: 18-24 Mar closed; 25, 26, 27, 30, 31 -> Tue 31 Mar
    case = _do(cal, case, c.ReportDefect(K, "halaman 12 kosong"), date(2026, 3, 17))
    assert case.state is State.CORRECTION
    assert case.correction_due == date(2026, 3, 31)
    assert case.due == date(2026, 3, 31)


def test_correction_clock_runs_from_the_report_and_resets_after_perbaikan(cal):
    case = _delivered_on(cal, date(2026, 4, 1))
    assert case.due is None
    # reported Thu 2 Apr: Good Friday 3 Apr and the weekend skipped: 6, 7, 8, 9, 10 -> Fri 10 Apr
    case = _do(cal, case, c.ReportDefect(K, "file rusak"), date(2026, 4, 2))
    assert case.due == date(2026, 4, 10)
    # a second complaint while the correction is pending keeps the first deadline
    case = _do(cal, case, c.ReportDefect(K, "masih rusak?"), date(2026, 4, 6))
    assert (case.state, case.due) == (State.CORRECTION, date(2026, 4, 10))
    case = _do(cal, case, c.SendCorrection(P, ("pdf-fixed",)), date(2026, 4, 8))
    assert (case.state, case.due, case.correction_due) == (State.DELIVERED, None, None)
    # a new defect after the correction gets its own 5 days: 14, 15, 16, 17, 20 Apr
    case = _do(cal, case, c.ReportDefect(K, "halaman 30 terpotong"), date(2026, 4, 13))
    assert case.due == date(2026, 4, 20)


def test_due_is_the_correction_deadline_only_in_correction():
    both = Case(ref="X", state=State.CORRECTION, customer=K,
                service_due=date(2026, 4, 8), correction_due=date(2026, 4, 10))
    assert both.due == date(2026, 4, 10)
    assert replace(both, state=State.PREPARING).due == date(2026, 4, 8)


def test_deadline_in_an_unknown_year_is_reported_not_guessed(cal):
    # JELAS Mon 20 Dec 2027: 21, 22, 23 Dec, (24 cuti Natal), 27-31 Dec = 8 days; the rest would be in 2028,
    # whose cuti bersama are not published: decide raises instead of computing a too-early deadline.
    case = replace(_ready(), ref="PUB-2027-0500")
    with pytest.raises(CalendarGapError) as err:
        decide(case, c.MarkClear(P), _ctx(cal, date(2027, 12, 20)))
    assert err.value.year == 2028
    assert "extra_holidays" in str(err.value)          # says how the office can supply the year
    # early December 2027 stays within the known year
    assert _do(cal, case, c.MarkClear(P), date(2027, 12, 1)).due == date(2027, 12, 15)
