"""Working days (Mon-Fri minus holidays and cuti bersama) and calendar-month validity; pure data, no clock."""
from __future__ import annotations

import calendar as _stdcal
from collections.abc import Iterable, Mapping
from datetime import date, timedelta

OFFICE_HOLIDAY = "Libur kantor (konfigurasi)"


class CalendarGapError(LookupError):
    """A question touched a year whose holiday data (with cuti bersama) is not known to be complete."""

    def __init__(self, year: int):
        self.year = year
        super().__init__(
            f"holiday data for {year} is not known (cuti bersama not published); "
            f"add the dates to [calendar] extra_holidays (and {year} to assume_complete_years) "
            f"or upgrade the holidays package"
        )


class WorkingCalendar:
    """Which dates are working days, built from data only.

    Rules, in order of precedence:

    1. A date in ``extra_working_days`` is a working day (an office Saturday, a cancelled cuti).
    2. A date in ``extra_holidays`` or ``holidays`` (national holidays and cuti bersama) is not.
    3. Otherwise Monday to Friday are working days, Saturday and Sunday are not.

    Every question about a date whose year is not in ``covered_years`` raises
    ``CalendarGapError`` instead of guessing: a year without cuti bersama data
    would silently make deadlines too early.
    """

    def __init__(
        self,
        holidays: Mapping[date, str],
        covered_years: Iterable[int],
        extra_holidays: Iterable[date] = (),
        extra_working_days: Iterable[date] = (),
    ):
        extra = frozenset(extra_holidays)
        self._holidays: dict[date, str] = dict(holidays)
        for d in extra:
            self._holidays.setdefault(d, OFFICE_HOLIDAY)
        self._working: frozenset[date] = frozenset(extra_working_days)
        clash = sorted(self._working & extra)
        if clash:
            raise ValueError(f"date listed both as extra holiday and extra working day: {clash[0].isoformat()}")
        self.covered_years: frozenset[int] = frozenset(covered_years)

    def __repr__(self) -> str:
        return f"WorkingCalendar(covered_years={sorted(self.covered_years)}, holidays={len(self._holidays)})"

    def _check(self, d: date) -> None:
        if d.year not in self.covered_years:
            raise CalendarGapError(d.year)

    def is_working_day(self, d: date) -> bool:
        """True when ``d`` is a working day (see the class rules)."""
        self._check(d)
        if d in self._working:
            return True
        return d.weekday() < 5 and d not in self._holidays

    def holiday_name(self, d: date) -> str | None:
        """The name of the holiday on ``d`` (Indonesian when loaded so), or None; no coverage check."""
        if d in self._working:
            return None
        return self._holidays.get(d)

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after ``start`` (``start`` itself never counts).

        ``n == 0`` returns ``start`` unchanged; a negative ``n`` counts backwards
        (the |n|-th working day before ``start``), e.g. for "warn two working days
        before the deadline". Raises ``CalendarGapError`` if the walk enters an
        uncovered year.
        """
        step = timedelta(days=1 if n >= 0 else -1)
        remaining = abs(n)
        d = start
        while remaining:  # ends: the walk either counts down or leaves the (finite) covered years
            d += step
            if self.is_working_day(d):
                remaining -= 1
        return d

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after ``d``."""
        return self.add_working_days(d, 1)

    def working_days_between(self, a: date, b: date) -> int:
        """Working days ``d`` with ``a < d <= b`` (negative when ``b < a``).

        Consistent with ``add_working_days``: if ``b == add_working_days(a, n)``
        then ``working_days_between(a, b) == n``. Both ends are checked for
        coverage even when the range is empty.
        """
        if b < a:
            return -self.working_days_between(b, a)
        self._check(a)
        self._check(b)
        count = 0
        d = a + timedelta(days=1)
        while d <= b:
            if self.is_working_day(d):
                count += 1
            d += timedelta(days=1)
        return count


def invoice_valid_until(issued: date) -> date:
    """The last day (inclusive) an invoice issued on ``issued`` is valid: one calendar month later.

    Same day number in the next month, clamped to that month's last day:
    31 Jan -> 28 Feb (29 Feb in a leap year), 31 Mar -> 30 Apr, 30 Dec -> 30 Jan.
    Holidays do not move it. The invoice is valid through the whole of that
    day (office time); ``case.invoice_lapsed`` is the rule that reads it.
    """
    year, month = (issued.year + 1, 1) if issued.month == 12 else (issued.year, issued.month + 1)
    last = _stdcal.monthrange(year, month)[1]
    return date(year, month, min(issued.day, last))
