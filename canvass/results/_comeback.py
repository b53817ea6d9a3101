"""When to come back: the optional ``come_back`` of a "come back" result.

A voter who asks the canvasser to come back may say when: a day (``2026-09-19``),
a time of day (``18:30``), both (``2026-09-19T18:30``) or a time slot
(``weekend_day``, ``weekday_evening``, ``weekend``, ``evening``, ...). The phone
CSV and the paper results template carry it in their ``come_back`` column;
:func:`parse_come_back` checks and normalises what was written, and
:func:`come_back_meets` says whether the next shift (``output.date``,
``campaign.next_slot``) is when the voter asked for (docs/replan.md).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Final

__all__ = ["COME_BACK_SLOTS", "come_back_meets", "parse_come_back"]

#: Slots a ``come_back`` may name: a day type, a part of the day, or both.
COME_BACK_SLOTS: Final = (
    "weekday_day",
    "weekday_evening",
    "weekend_day",
    "weekend_evening",
    "weekday",
    "weekend",
    "day",
    "evening",
)
_DATE_FORMATS: Final = ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%Y/%m/%d")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::\d{2})?\s*(am|pm)?(?:[+-]\d{2}:?\d{2}|z)?$")
_DATE_TIME = re.compile(r"^(\S+?)(?:t|\s+)(\d{1,2}:\d{2}.*)$")


def _time(text: str) -> str | None:
    hit = _TIME.match(text)
    if hit is None:
        return None
    hour, minute = int(hit.group(1)), int(hit.group(2))
    if hit.group(3):
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if hit.group(3) == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"


def _date(text: str) -> str | None:
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    return None


def parse_come_back(text: str) -> str | None:
    """
    Return `text` as a normalised come-back time, ``""`` when blank, None when bad.

    Parameters
    ----------
    text
        What was written: a date (``2026-09-19``, ``9/19/2026``), a time of day
        (``18:30``, ``6:30 pm``), a date and a time (``2026-09-19T18:30`` or with a
        space), or a slot of :data:`COME_BACK_SLOTS` (case, spaces and hyphens
        ignored: ``Weekend day``).

    Returns
    -------
    when
        ``YYYY-MM-DD``, ``HH:MM``, ``YYYY-MM-DDTHH:MM`` or a slot name.
    """
    raw = " ".join(str(text).strip().lower().split())
    if not raw:
        return ""
    slot = re.sub(r"[\s-]+", "_", raw)
    if slot in COME_BACK_SLOTS:
        return slot
    if (t := _time(raw)) is not None:
        return t
    if (d := _date(raw)) is not None:
        return d
    if (hit := _DATE_TIME.match(raw)) is not None:
        d, t = _date(hit.group(1)), _time(hit.group(2))
        if d is not None and t is not None:
            return f"{d}T{t}"
    return None


def come_back_meets(when: str, date: str, next_slot: str, evening_hour: int) -> bool:
    """
    Return whether the next shift is when a come-back asked for.

    Parameters
    ----------
    when
        A normalised come-back time (:func:`parse_come_back`); blank meets any shift.
    date
        The next shift's day (``output.date``); blank: the day is not checked.
    next_slot
        The next shift's slot (``campaign.next_slot``); blank: the slot is not
        checked.
    evening_hour
        Hour from which a time is in the evening.

    Returns
    -------
    meets
        False when the shift is before the day asked for, or in another type of
        day (weekday, weekend) or part of the day (day, evening) than asked for.
    """
    if not when:
        return True
    day, _, clock = when.partition("T")
    if ":" in day:  # a time alone
        day, clock = "", day
    want_type = want_part = ""
    if day in COME_BACK_SLOTS:
        slot, day = day, ""
        if slot in ("day", "evening"):
            want_part = slot
        else:
            want_type, _, want_part = slot.partition("_")
    if clock:
        want_part = "evening" if int(clock[:2]) >= evening_hour else "day"
    if day and date and date < day:
        return False
    if day and date == day:
        want_type = ""  # the day itself says weekday or weekend
    if next_slot:
        have_type, _, have_part = next_slot.partition("_")
        if want_type and want_type != have_type:
            return False
        if want_part and have_part and want_part != have_part:
            return False
    return True
