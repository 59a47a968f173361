"""Working-day calendar: Idul Fitri 2026, weekends, config extras, invoice validity, unknown years."""
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from mailbot.adapters.holidays_source import load_calendar
from mailbot.domain.calendar import (
    CalendarGapError,
    WorkingCalendar,
    invoice_valid_until,
)

WIB = ZoneInfo("Asia/Jakarta")


@pytest.fixture(scope="module")
def cal():
    return load_calendar([2025, 2026, 2027])


def test_idul_fitri_2026_from_the_package(cal):
    # Nyepi 19 Mar + cuti 18; Idul Fitri 21-22 Mar + cuti 20, 23, 24 (SKB 2026 as in `holidays`).
    for d in (18, 19, 20, 23, 24):
        assert not cal.is_working_day(date(2026, 3, d)), d
    assert "Idul Fitri" in cal.holiday_name(date(2026, 3, 23))
    assert cal.is_working_day(date(2026, 3, 17))
    assert cal.is_working_day(date(2026, 3, 25))


def test_jelas_on_17_march_2026_plus_10_working_days(cal):
    # Working days after Tue 17 Mar: 25, 26, 27, 30, 31 Mar, 1, 2 Apr (3 Apr Good Friday), 6, 7, 8 Apr.
    jelas = date(2026, 3, 17)
    due = cal.add_working_days(jelas, 10)
    assert due == date(2026, 4, 8)
    assert cal.working_days_between(jelas, due) == 10
    assert cal.next_working_day(jelas) == date(2026, 3, 25)
    # the two-working-day warning before that deadline
    assert cal.add_working_days(due, -2) == date(2026, 4, 6)


def test_correction_clock_five_working_days_over_a_weekend(cal):
    # Thu 7 May 2026 + 5: 8 Fri, 11 Mon, 12, 13 (14 Ascension, 15 cuti), 18 Mon.
    assert cal.add_working_days(date(2026, 5, 7), 5) == date(2026, 5, 18)


def test_weekends_and_start_not_counted(cal):
    fri = date(2026, 6, 5)
    assert cal.is_working_day(fri)
    assert not cal.is_working_day(fri + timedelta(days=1))
    assert not cal.is_working_day(fri + timedelta(days=2))
    assert cal.add_working_days(fri, 1) == date(2026, 6, 8)
    # starting on a Saturday: Monday is the first working day after it
    assert cal.add_working_days(date(2026, 6, 6), 1) == date(2026, 6, 8)
    assert cal.add_working_days(fri, 0) == fri
    assert cal.next_working_day(date(2026, 6, 6)) == date(2026, 6, 8)


def test_working_days_between_is_signed_and_excludes_start(cal):
    a, b = date(2026, 6, 1), date(2026, 6, 12)  # Mon 1 Jun is Pancasila Day
    assert cal.working_days_between(a, b) == 9
    assert cal.working_days_between(b, a) == -9
    assert cal.working_days_between(a, a) == 0


def test_year_boundary_2026_to_2027(cal):
    # 24 Dec cuti, 25 Dec Christmas, 1 Jan 2027 New Year.
    assert cal.add_working_days(date(2026, 12, 23), 1) == date(2026, 12, 28)
    assert cal.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)


def test_extras_from_config():
    extra_holiday = date(2026, 6, 10)          # e.g. a regional holiday in Palembang
    extra_working = date(2026, 6, 13)          # a working Saturday
    cal = load_calendar([2026], extra_holidays=[extra_holiday], extra_working_days=[extra_working])
    assert not cal.is_working_day(extra_holiday)
    assert cal.holiday_name(extra_holiday)
    assert cal.is_working_day(extra_working)
    # Tue 9 Jun + 3: 11, 12, Sat 13
    assert cal.add_working_days(date(2026, 6, 9), 3) == date(2026, 6, 13)


def test_extra_working_day_overrides_a_cuti_bersama():
    cal = load_calendar([2026], extra_working_days=[date(2026, 12, 24)])
    assert cal.is_working_day(date(2026, 12, 24))


def test_same_date_as_holiday_and_working_day_is_refused():
    with pytest.raises(ValueError, match="2026-06-10"):
        WorkingCalendar({}, {2026}, [date(2026, 6, 10)], [date(2026, 6, 10)])


def test_2028_is_not_covered_and_says_so():
    cal = load_calendar([2027, 2028])
    assert 2027 in cal.covered_years
    assert 2028 not in cal.covered_years
    with pytest.raises(CalendarGapError) as err:
        cal.is_working_day(date(2028, 3, 1))
    assert err.value.year == 2028
    msg = str(err.value)
    assert "2028" in msg and "extra_holidays" in msg and "holidays package" in msg
    # a deadline computed late in 2027 that runs into 2028 is refused too, not guessed
    with pytest.raises(CalendarGapError):
        cal.add_working_days(date(2027, 12, 27), 10)
    with pytest.raises(CalendarGapError):
        cal.working_days_between(date(2027, 12, 1), date(2028, 1, 10))


def test_extra_dates_alone_do_not_cover_a_year_but_assume_complete_does():
    cuti = [date(2028, 1, 24)]
    partial = load_calendar([2028], extra_holidays=cuti)
    with pytest.raises(CalendarGapError):
        partial.is_working_day(date(2028, 1, 25))
    full = load_calendar([2028], extra_holidays=cuti, assume_complete_years=[2028])
    assert not full.is_working_day(date(2028, 1, 24))
    assert not full.is_working_day(date(2028, 1, 1))  # national holiday still from the package
    assert full.is_working_day(date(2028, 1, 25))


def test_year_never_loaded_is_a_gap():
    cal = WorkingCalendar({}, {2026})
    with pytest.raises(CalendarGapError):
        cal.is_working_day(date(2025, 12, 31))


@pytest.mark.parametrize(
    "issued, until",
    [
        (date(2026, 1, 15), date(2026, 2, 15)),
        (date(2026, 1, 31), date(2026, 2, 28)),
        (date(2028, 1, 31), date(2028, 2, 29)),   # leap year
        (date(2026, 1, 29), date(2026, 2, 28)),
        (date(2026, 3, 31), date(2026, 4, 30)),
        (date(2026, 5, 31), date(2026, 6, 30)),
        (date(2026, 8, 31), date(2026, 9, 30)),
        (date(2026, 12, 30), date(2027, 1, 30)),
        (date(2026, 12, 31), date(2027, 1, 31)),
        (date(2026, 2, 28), date(2026, 3, 28)),
    ],
)
def test_invoice_valid_until_one_calendar_month(issued, until):
    assert invoice_valid_until(issued) == until


def test_invoice_valid_through_the_last_day_in_jakarta():
    from mailbot.domain.case import Case, invoice_lapsed
    from mailbot.domain.states import State
    case = Case(ref="PUB-2026-0001", state=State.INVOICED, customer="a@b.c",
                invoice_expires=invoice_valid_until(date(2026, 1, 31)))

    def lapsed(instant: datetime) -> bool:         # the office's date decides, not the server's
        return invoice_lapsed(case, instant.astimezone(WIB).date())
    assert not lapsed(datetime(2026, 2, 28, 23, 59, tzinfo=WIB))          # still valid late on 28 Feb
    assert not lapsed(datetime(2026, 2, 28, 16, 59, tzinfo=ZoneInfo("UTC")))
    assert lapsed(datetime(2026, 2, 28, 17, 0, tzinfo=ZoneInfo("UTC")))    # 00:00 WIB on 1 Mar
