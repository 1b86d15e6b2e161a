"""Working days by an office's calendar: its weekly days off and the holidays of the office and
every office above it (a state holiday applies in every district). Time limits count these."""

from __future__ import annotations

import time
from datetime import date, timedelta

from eoffice.settings import get_settings

WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


def is_working_day(day: date, weekly_off: frozenset[str], holidays: frozenset[date]) -> bool:
    return WEEKDAYS[day.weekday()] not in weekly_off and day not in holidays


def day_off(day: date, weekly_off: frozenset[str], holidays: frozenset[date]) -> str | None:
    """Why `day` is no working day ("a Sunday, a weekly day off", "a holiday"), or None if it is one."""
    if WEEKDAYS[day.weekday()] in weekly_off:
        return f"a {day.strftime('%A')}, a weekly day off"
    if day in holidays:
        return "a holiday"
    return None


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


# When asked; weekly days off, holidays, office path, jurisdiction, office code, supervisor chain.
_Entry = tuple[float, frozenset[str], frozenset[date], str, str, str, tuple[str, ...]]


class CalendarCache:
    """The calendars of posts' offices, where the offices are, and each post's supervisor chain,
    as a service last heard them from the directory, so a due date is counted (and a recipient
    checked, and the levels a file sent up skips told) in-process instead of asking the directory
    on every movement.

    These change only when an organisation is imported (holidays, weekly days off, a post moved
    to another office or under another supervisor): the service clears the cache on the directory's
    organisation-imported event, and an entry is asked again after `ttl` seconds (default
    EOFFICE_CALENDAR_CACHE_TTL) in any case, which bounds how long a missed or still-travelling
    event can leave an old calendar in use. `fetch(post_codes)` is the directory's
    `calendars_of_posts` (NotFound for an unknown post reaches the caller unchanged). Holders
    and delegations are not cached here: a stale holder would move a file to the wrong person."""

    def __init__(self, *, ttl: float | None = None, clock=time.monotonic):
        self._ttl, self._clock = ttl, clock
        self._entries: dict[str, _Entry] = {}

    def _entry(self, post_code: str, fetch) -> _Entry:
        if self._ttl is None:
            self._ttl = get_settings().calendar_cache_ttl
        now = self._clock()
        entry = self._entries.get(post_code)
        if entry is None or now - entry[0] >= self._ttl:
            answer = fetch([post_code])[post_code]
            entry = (
                now,
                frozenset(answer["weekly_off"]),
                frozenset(date.fromisoformat(d) for d in answer["holidays"]),
                answer["office_path"],
                answer["jurisdiction"],
                answer["office_code"],
                # A directory still on older code answers without it: nobody is skipped until then.
                tuple(answer.get("supervisors", ())),
            )
            self._entries[post_code] = entry
        return entry

    def of_post(self, post_code: str, fetch) -> tuple[frozenset[str], frozenset[date]]:
        """Returns (weekly days off, holidays) of the post's office."""
        return self._entry(post_code, fetch)[1:3]

    def place_of(self, post_code: str, fetch) -> tuple[str, str]:
        """Returns the path of the post's office and of its jurisdiction (the department,
        head-of-department office or district it belongs to; the state for offices right under
        it), as the directory's `calendars_of_posts` answers them."""
        return self._entry(post_code, fetch)[3:5]

    def chain_of(self, post_code: str, fetch) -> tuple[str, ...]:
        """The post's supervisor chain, nearest first (the directory's `supervisors_of`)."""
        return self._entry(post_code, fetch)[6]

    def day_off(self, post_code: str, day: date, *, fetch) -> str | None:
        """Why `day` is no working day of the post's office ("a Sunday, a weekly day off of
        office LKO", "a holiday of office LKO"), or None if it is one."""
        weekly_off, holidays = self.of_post(post_code, fetch)
        why = day_off(day, weekly_off, holidays)
        return why and f"{why} of office {self._entry(post_code, fetch)[5]}"

    def due_date(self, post_code: str, start: date, working_days: int, *, fetch) -> date:
        """The day `working_days` working days after `start` by the post's office calendar
        (what the directory's `due_date` answers)."""
        weekly_off, holidays = self.of_post(post_code, fetch)
        return add_working_days(start, working_days, weekly_off=weekly_off, holidays=holidays)

    def clear(self) -> None:
        self._entries.clear()
