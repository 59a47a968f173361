"""Calendar extras (invoice validity, unknown years, config dates), line pricing and document numbering."""
from __future__ import annotations

from datetime import date

import pytest

from mailbot.adapters.holidays_source import load_calendar
from mailbot.domain.calendar import CalendarGapError, WorkingCalendar, invoice_valid_until
from mailbot.domain.numbering import check_pattern, format_number
from mailbot.domain.pricing import Tariff, line_amount

YEARS = range(2025, 2028)
JELAS = date(2026, 3, 17)  # Tue before the Nyepi / Idul Fitri week; +10 working days = Wed 8 Apr 2026


@pytest.fixture(scope="module")
def cal():
    return load_calendar(YEARS)


# --- invoice validity: one calendar month, clamped, holidays ignored --------------
@pytest.mark.parametrize("issued,last_valid_day", [
    (date(2026, 1, 31), date(2026, 2, 28)),
    (date(2028, 1, 31), date(2028, 2, 29)),   # leap year; pure date arithmetic, no holiday data for 2028 needed
    (date(2026, 12, 30), date(2027, 1, 30)),
    (date(2026, 12, 31), date(2027, 1, 31)),
    (date(2026, 3, 31), date(2026, 4, 30)),
    (date(2026, 11, 15), date(2026, 12, 15)),
    (date(2026, 2, 21), date(2026, 3, 21)),   # lands on Idul Fitri: holidays do not move it
    (date(2026, 1, 30), date(2026, 2, 28)),
])
def test_invoice_valid_until(issued, last_valid_day):
    assert invoice_valid_until(issued) == last_valid_day


# --- unknown years -------------------------------------------------------------
def test_a_question_in_2028_raises_calendar_gap(cal):
    assert 2028 not in cal.covered_years and {2025, 2026, 2027} <= cal.covered_years
    with pytest.raises(CalendarGapError) as err:
        cal.is_working_day(date(2028, 1, 3))
    assert err.value.year == 2028
    assert "extra_holidays" in str(err.value) and "assume_complete_years" in str(err.value)
    with pytest.raises(CalendarGapError):
        cal.add_working_days(date(2027, 12, 29), 5)         # the walk crosses into 2028
    with pytest.raises(CalendarGapError):
        cal.working_days_between(date(2027, 12, 1), date(2028, 1, 5))
    with pytest.raises(CalendarGapError):
        cal.working_days_between(date(2028, 1, 5), date(2027, 12, 1))
    assert cal.add_working_days(date(2027, 12, 22), 3) == date(2027, 12, 28)  # 23, (24 cuti), 27, 28: still 2027


def test_extra_dates_alone_do_not_make_2028_known_but_assume_complete_does():
    partial = load_calendar(YEARS, extra_holidays=[date(2028, 1, 3)])
    with pytest.raises(CalendarGapError):
        partial.is_working_day(date(2028, 1, 4))
    full = load_calendar(YEARS, extra_holidays=[date(2028, 1, 3)], assume_complete_years=[2028])
    assert not full.is_working_day(date(2028, 1, 1))   # New Year from the package
    assert not full.is_working_day(date(2028, 1, 3))   # the office's own date
    assert full.is_working_day(date(2028, 1, 4))


# --- dates from the config -----------------------------------------------------
def test_baseline_deadline(cal):
    assert cal.add_working_days(JELAS, 10) == date(2026, 4, 8)


def test_extra_holiday_pushes_the_deadline():
    cal = load_calendar(YEARS, extra_holidays=[date(2026, 4, 7)])   # an office day off on Tue 7 Apr
    assert not cal.is_working_day(date(2026, 4, 7))
    assert cal.holiday_name(date(2026, 4, 7))
    assert cal.add_working_days(JELAS, 10) == date(2026, 4, 9)


def test_extra_working_day_beats_a_cuti_bersama_and_a_saturday():
    cal = load_calendar(YEARS, extra_working_days=[date(2026, 3, 24), date(2026, 3, 28)])
    assert cal.is_working_day(date(2026, 3, 24))      # cuti bersama Idul Fitri, worked by the office
    assert cal.is_working_day(date(2026, 3, 28))      # a Saturday, worked by the office
    assert cal.holiday_name(date(2026, 3, 24)) is None
    # 24, 25, 26, 27, 28, 30, 31 Mar, 1, 2, 6 Apr
    assert cal.add_working_days(JELAS, 10) == date(2026, 4, 6)
    assert cal.working_days_between(JELAS, date(2026, 4, 6)) == 10


def test_a_date_both_extra_holiday_and_extra_working_day_is_an_error():
    with pytest.raises(ValueError, match="2026-04-07"):
        WorkingCalendar({}, [2026], extra_holidays=[date(2026, 4, 7)], extra_working_days=[date(2026, 4, 7)])


def test_add_and_between_agree_both_ways(cal):
    for n in (0, 1, 5, 10, 23):
        end = cal.add_working_days(JELAS, n)
        assert cal.working_days_between(JELAS, end) == n
        assert cal.working_days_between(end, JELAS) == -n
    assert cal.add_working_days(date(2026, 4, 8), -10) == JELAS


# --- pricing -------------------------------------------------------------------
def test_line_amount_is_pages_times_rate_times_copies():
    tariff = Tariff("PP 13/2024", 1000)
    assert line_amount(tariff, 412, 1) == 412_000
    assert line_amount(tariff, 125, 3) == 375_000
    assert line_amount(Tariff("PP 13/2024", 1500), 1, 1) == 1_500
    assert line_amount(Tariff("PP 13/2024", 0, "Peraturan BPS"), 300, 2) == 0   # the zero-rupiah category


@pytest.mark.parametrize("halaman,qty", [(0, 1), (-1, 1), (10, 0), (10, -2)])
def test_line_amount_refuses_empty_or_negative_lines(halaman, qty):
    with pytest.raises(ValueError):
        line_amount(Tariff("PP 13/2024", 1000), halaman, qty)


def test_tariff_rate_cannot_be_negative():
    with pytest.raises(ValueError):
        Tariff("PP 13/2024", -1)


# --- numbering -----------------------------------------------------------------
DEFAULT = "{seq:04d}/INV/1600/{month_roman}/{year}"


def test_default_pattern():
    assert format_number(DEFAULT, 7, date(2026, 12, 3)) == "0007/INV/1600/XII/2026"
    assert format_number(DEFAULT, 1, date(2027, 1, 2)) == "0001/INV/1600/I/2027"
    assert format_number(DEFAULT, 12345, date(2026, 4, 30)) == "12345/INV/1600/IV/2026"
    romans = [format_number("{month_roman}", 1, date(2026, m, 1)) for m in range(1, 13)]
    assert romans == ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]
    assert format_number("PUB-{year}-{seq:04d}", 42, date(2026, 5, 4)) == "PUB-2026-0042"
    assert format_number("{seq}/{month:02d}/{year}", 3, date(2026, 5, 4)) == "3/05/2026"


def test_sequence_starts_at_one():
    with pytest.raises(ValueError):
        format_number(DEFAULT, 0, date(2026, 1, 1))


@pytest.mark.parametrize("pattern, number", [
    (DEFAULT, "0042/INV/1600/XII/2026"), ("{seq:04d}/KWT/1600/{month_roman}/{year}", "0042/KWT/1600/XII/2026"),
    ("PUB-{year}-{seq:04d}", "PUB-2026-0042"), ("{year}{month:02d}{seq:05d}", "20261200042"),
])
def test_check_pattern_accepts_good_patterns(pattern, number):
    assert check_pattern(pattern) is None
    assert format_number(pattern, 42, date(2026, 12, 3)) == number


@pytest.mark.parametrize("pattern,why", [
    ("{seq:04d}/INV/{bulan}/{year}", "bulan"),         # unknown field
    ("{seq:04d}/INV/{tahun}", "tahun"),
    ("{seq:04d}/KWT", "{year}"),                        # no year: numbers would repeat next year
    ("INV/{month_roman}/{year}", "{seq}"),              # no sequence
    ("{{seq}}/INV/{year}", "{seq}"),                    # escaped braces are literal text, not the field
    ("{seq}/INV/{{year}}", "{year}"),
    ("{}/{seq}/{year}", "unknown field"),               # positional field
    ("{year[0]}/{seq}", "unknown field"),               # index access
    ("{seq.__class__}/{year}", "unknown field"),        # attribute access
    ("{seq:s}/{year}", "bad number pattern"),           # format spec that cannot format an int
    ("{seq:{year}}/{year}", "nested"),
    ("{seq/{year}", "bad number pattern"),              # unbalanced brace
])
def test_check_pattern_refuses(pattern, why):
    with pytest.raises(ValueError) as err:
        check_pattern(pattern)
    assert why in str(err.value)
