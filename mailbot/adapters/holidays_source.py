"""Build the WorkingCalendar from the `holidays` package (national holidays and cuti bersama) plus config dates."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import holidays as _holidays

from mailbot.domain.calendar import WorkingCalendar

CATEGORIES = ("public", "government")  # government = cuti bersama


def load_calendar(
    years: Iterable[int],
    extra_holidays: Iterable[date] = (),
    extra_working_days: Iterable[date] = (),
    assume_complete_years: Iterable[int] = (),
) -> WorkingCalendar:
    """A calendar of Indonesian national holidays and cuti bersama for ``years`` (names in Indonesian).

    A year counts as covered only when the package knows its cuti bersama
    (it returns "government" entries for it). The cuti bersama are set by a
    joint ministerial decree published a few months before the year starts,
    so the package lags: 2028 and later have none today. Such a year is left
    uncovered and every question about it raises ``CalendarGapError``.

    An office that has entered that year's cuti bersama by hand in
    ``[calendar] extra_holidays`` says so with ``assume_complete_years``:
    only then is the year treated as complete. Listing some extra dates for a
    year is not enough by itself, because a partial list is exactly the
    mistake this check exists to catch. Years in ``assume_complete_years``
    are loaded too, so their national holidays are included.
    """
    assumed = frozenset(assume_complete_years)
    wanted = sorted(set(years) | assumed)
    if not wanted:
        return WorkingCalendar({}, frozenset(), extra_holidays, extra_working_days)
    data = _holidays.country_holidays("ID", years=wanted, categories=CATEGORIES, language="id")
    cuti = _holidays.country_holidays("ID", years=wanted, categories=("government",))
    covered = {d.year for d in cuti} | assumed
    return WorkingCalendar(dict(data), frozenset(covered), extra_holidays, extra_working_days)
