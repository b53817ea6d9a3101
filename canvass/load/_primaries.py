"""Load stage: the election-day rules and the states' primary calendars.

:func:`general_day` is the Tuesday after the first Monday in November;
:data:`PRIMARY_CALENDAR` lists each covered state's statewide primary dates (with a
rule for later years where the statute fixes the day) and :func:`primary_dates`
reads it. :mod:`canvass.load._calendar` types a file's elections with them.

Extending the table: add the state's two-letter code to :data:`PRIMARY_CALENDAR` with
its statewide primary dates (and a rule for later years when the law fixes one);
until then its primaries are typed by label and coverage.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from .. import schema

__all__ = [
    "PRIMARY_CALENDAR",
    "Kinds",
    "PrimaryCalendar",
    "general_day",
    "nth_weekday",
    "primary_dates",
    "tuesday_after_first_monday",
]

_D = dt.date


def nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """Return the `n`-th `weekday` (0 = Monday) of a month (``n = -1``: the last)."""
    if n > 0:
        first = dt.date(year, month, 1)
        first += dt.timedelta((weekday - first.weekday()) % 7)
        return first + dt.timedelta(7 * (n - 1))
    last = dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(1)
    return last - dt.timedelta((last.weekday() - weekday) % 7)


def tuesday_after_first_monday(year: int, month: int) -> dt.date:
    """Return the Tuesday after the first Monday of a month (election day rule)."""
    return nth_weekday(year, month, 0, 1) + dt.timedelta(1)


def general_day(year: int) -> dt.date:
    """Election day: the Tuesday after the first Monday in November."""
    return tuesday_after_first_monday(year, 11)


Kinds = dict[str, frozenset[dt.date]]


@dataclass(frozen=True)
class PrimaryCalendar:
    """
    A state's statewide primary dates.

    Parameters
    ----------
    presidential, state, municipal, special
        Listed dates of the presidential (or combined) primaries, the state
        primaries, the odd-year local primaries and statewide dates that are not
        regular primaries (second primaries: typed special).
    rule
        Dates by kind for a year none of the lists cover (later years), or None.
    source
        Where the dates come from.
    """

    presidential: tuple[dt.date, ...]
    state: tuple[dt.date, ...]
    municipal: tuple[dt.date, ...] = ()
    special: tuple[dt.date, ...] = ()
    rule: Callable[[int], Kinds] | None = None
    source: str = ""
    listed: Kinds = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "listed",
            {
                schema.PRESIDENTIAL_PRIMARY: frozenset(self.presidential),
                schema.STATE_PRIMARY: frozenset(self.state),
                schema.MUNICIPAL: frozenset(self.municipal),
                schema.SPECIAL: frozenset(self.special),
            },
        )


def _ohio(year: int) -> Kinds:
    may = tuesday_after_first_monday(year, 5)
    if year % 4 == 0:  # ORC 3501.01(E): March in presidential years
        return {schema.PRESIDENTIAL_PRIMARY: frozenset({nth_weekday(year, 3, 1, 3)})}
    if year % 2 == 0:
        return {schema.STATE_PRIMARY: frozenset({may})}
    return {schema.MUNICIPAL: frozenset({may})}


def _pennsylvania(year: int) -> Kinds:
    may = nth_weekday(year, 5, 1, 3)  # third Tuesday in May
    if year % 4 == 0:
        return {schema.PRESIDENTIAL_PRIMARY: frozenset({nth_weekday(year, 4, 1, 4)})}
    if year % 2 == 0:
        return {schema.STATE_PRIMARY: frozenset({may})}
    return {schema.MUNICIPAL: frozenset({may})}


def _new_york(year: int) -> Kinds:
    june = nth_weekday(year, 6, 1, 4)  # Election Law 8-100(1)(a) since 2019
    if year % 2:
        return {schema.MUNICIPAL: frozenset({june})}
    return {schema.STATE_PRIMARY: frozenset({june})}


def _florida(year: int) -> Kinds:
    if year % 2:
        return {}
    # F.S. 100.061: the Tuesday 11 weeks before the general election (since 2020);
    # F.S. 103.101: presidential preference primary on the third Tuesday in March.
    kinds = {schema.STATE_PRIMARY: frozenset({general_day(year) - dt.timedelta(77)})}
    if year % 4 == 0:
        kinds[schema.PRESIDENTIAL_PRIMARY] = frozenset({nth_weekday(year, 3, 1, 3)})
    return kinds


def _north_carolina(year: int) -> Kinds:
    if year % 2:
        return {}
    # G.S. 163-1(b): the Tuesday after the first Monday in March (since 2020);
    # combined with the presidential primary in presidential years.
    march = tuesday_after_first_monday(year, 3)
    kind = schema.PRESIDENTIAL_PRIMARY if year % 4 == 0 else schema.STATE_PRIMARY
    return {kind: frozenset({march})}


#: Statewide primary dates per state. Combined primaries in presidential years (NC,
#: OH, NY 2020) are presidential primaries. Extend it for another state (see the
#: module docstring and docs/voter-files.md "How elections are typed").
PRIMARY_CALENDAR: Final[dict[str, PrimaryCalendar]] = {
    "OH": PrimaryCalendar(
        presidential=(
            _D(2000, 3, 7), _D(2004, 3, 2), _D(2008, 3, 4), _D(2012, 3, 6),
            _D(2016, 3, 15), _D(2020, 3, 17), _D(2020, 4, 28), _D(2024, 3, 19),
        ),
        state=(
            _D(2002, 5, 7), _D(2006, 5, 2), _D(2010, 5, 4), _D(2014, 5, 6),
            _D(2018, 5, 8), _D(2022, 5, 3),
        ),
        special=(_D(2022, 8, 2),),  # 2022 second primary (General Assembly only)
        rule=_ohio,
        source="ORC 3501.01(E); 2020 primary moved to 28 April (HB 197)",
    ),
    "MA": PrimaryCalendar(
        presidential=(
            _D(2000, 3, 7), _D(2004, 3, 2), _D(2008, 2, 5), _D(2012, 3, 6),
            _D(2016, 3, 1), _D(2020, 3, 3), _D(2024, 3, 5),
        ),
        state=(
            _D(2000, 9, 19), _D(2002, 9, 17), _D(2004, 9, 14), _D(2006, 9, 19),
            _D(2008, 9, 16),
            _D(2010, 9, 14), _D(2012, 9, 6), _D(2014, 9, 9), _D(2016, 9, 8),
            _D(2018, 9, 4), _D(2020, 9, 1), _D(2022, 9, 6), _D(2024, 9, 3),
            _D(2026, 9, 1),
        ),
        # No rule: M.G.L. c. 53 s. 28 sets a date the legislature moves most years
        # (2026: Acts of 2025 c. 34), so later years go by label and coverage.
        source="MA Secretary of the Commonwealth election calendars; 2026: Acts of "
        "2025 chapter 34",
    ),
    "NC": PrimaryCalendar(
        presidential=(
            _D(2008, 5, 6), _D(2012, 5, 8), _D(2016, 3, 15), _D(2020, 3, 3),
            _D(2024, 3, 5),
        ),
        state=(
            _D(2002, 9, 10), _D(2004, 7, 20), _D(2006, 5, 2), _D(2010, 5, 4),
            _D(2014, 5, 6), _D(2018, 5, 8), _D(2022, 5, 17), _D(2026, 3, 3),
        ),
        special=(_D(2016, 6, 7),),  # 2016 congressional primary after redistricting
        rule=_north_carolina,
        source="NC State Board of Elections; G.S. 163-1(b) for later years; second "
        "primaries are special",
    ),
    "FL": PrimaryCalendar(
        presidential=(
            _D(2000, 3, 14), _D(2004, 3, 9), _D(2008, 1, 29), _D(2012, 1, 31),
            _D(2016, 3, 15), _D(2020, 3, 17), _D(2024, 3, 19),
        ),
        state=(
            _D(2000, 9, 5), _D(2002, 9, 10), _D(2004, 8, 31), _D(2006, 9, 5),
            _D(2008, 8, 26),
            _D(2010, 8, 24), _D(2012, 8, 14), _D(2014, 8, 26), _D(2016, 8, 30),
            _D(2018, 8, 28), _D(2020, 8, 18), _D(2022, 8, 23), _D(2024, 8, 20),
            _D(2026, 8, 18),
        ),
        special=(_D(2000, 10, 3),),  # 2000 second primary (runoff)
        rule=_florida,
        source="FL Division of Elections; F.S. 100.061 and 103.101 for later years",
    ),
    "NY": PrimaryCalendar(
        presidential=(
            _D(2000, 3, 7), _D(2004, 3, 2), _D(2008, 2, 5), _D(2012, 4, 24),
            _D(2016, 4, 19), _D(2020, 6, 23), _D(2024, 4, 2),
        ),
        state=(
            _D(2000, 9, 12), _D(2002, 9, 10), _D(2004, 9, 14), _D(2006, 9, 12),
            _D(2008, 9, 9),
            _D(2010, 9, 14), _D(2012, 6, 26), _D(2012, 9, 13), _D(2014, 6, 24),
            _D(2014, 9, 9), _D(2016, 6, 28), _D(2016, 9, 13), _D(2018, 6, 26),
            _D(2018, 9, 13), _D(2022, 6, 28), _D(2022, 8, 23), _D(2024, 6, 25),
            _D(2026, 6, 23),
        ),
        municipal=(_D(2019, 6, 25), _D(2021, 6, 22), _D(2023, 6, 27)),
        rule=_new_york,
        source="NY State Board of Elections; Election Law 8-100: the Tuesday after "
        "the second Monday in September until 2010, federal June (court order, "
        "2012) and state September primaries until 2018, the fourth Tuesday in "
        "June since 2019",
    ),
    "PA": PrimaryCalendar(
        presidential=(
            _D(2000, 4, 4), _D(2004, 4, 27), _D(2008, 4, 22), _D(2012, 4, 24),
            _D(2016, 4, 26), _D(2020, 6, 2), _D(2024, 4, 23),
        ),
        state=(
            _D(2002, 5, 21), _D(2006, 5, 16), _D(2010, 5, 18), _D(2014, 5, 20),
            _D(2018, 5, 15), _D(2022, 5, 17),
        ),
        rule=_pennsylvania,
        source="25 P.S. 2753: third Tuesday in May; fourth Tuesday in April in "
        "presidential years",
    ),
}  # fmt: skip


def primary_dates(state: str, year: int) -> Kinds | None:
    """
    Statewide primary dates of `state` in `year`, by type.

    Returns
    -------
    dates or None
        Type -> dates for a year the table knows (listed dates, else the state's
        rule); None when the state is not in :data:`PRIMARY_CALENDAR` or the year is
        outside what it covers.
    """
    cal = PRIMARY_CALENDAR.get(state.upper())
    if cal is None:
        return None
    listed = {
        k: frozenset(d for d in v if d.year == year) for k, v in cal.listed.items()
    }
    if any(listed.values()):
        return listed
    if cal.rule is not None:
        return cal.rule(year)
    return None
