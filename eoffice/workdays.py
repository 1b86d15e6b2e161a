"""Working days by an office's calendar: its weekly days off and the holidays of the office and
every office above it (a state holiday applies in every district). Time limits count these."""

from __future__ import annotations

from datetime import date, timedelta

WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


def is_working_day(day: date, weekly_off: frozenset[str], holidays: frozenset[date]) -> bool:
    return WEEKDAYS[day.weekday()] not in weekly_off and day not in holidays


def working_days_between(start: date, end: date, *, weekly_off: frozenset[str], holidays: frozenset[date]) -> int:
    """Returns how many working days passed after `start` up to and including `end` (0 if
    `end` is not after `start`): a file received on Friday and sent on Monday was kept one
    working day, if Saturday and Sunday are off."""
    days, day = 0, start + timedelta(days=1)
    while day <= end:
        days += is_working_day(day, weekly_off, holidays)
        day += timedelta(days=1)
    return days


def add_working_days(start: date, count: int, *, weekly_off: frozenset[str], holidays: frozenset[date]) -> date:
    """Returns the day `count` working days after `start` (a due date)."""
    if len(weekly_off) >= 7:
        raise ValueError("an office with every day off has no working days")
    day = start
    while count > 0:
        day += timedelta(days=1)
        count -= is_working_day(day, weekly_off, holidays)
    return day
