"""Working days by an office calendar."""
from datetime import date

import pytest

from eoffice.workdays import add_working_days, working_days_between

SECRETARIAT = frozenset({"SAT", "SUN"})
DISTRICT = frozenset({"SUN"})
REPUBLIC_DAY = frozenset({date(2026, 1, 26)})


def test_weekend_and_holiday_do_not_count():
    # Received Friday 23 Jan, sent Tuesday 27 Jan: Sat, Sun off and Monday is Republic Day.
    friday, tuesday = date(2026, 1, 23), date(2026, 1, 27)
    assert working_days_between(friday, tuesday, weekly_off=SECRETARIAT, holidays=REPUBLIC_DAY) == 1
    # A district works on Saturday.
    assert working_days_between(friday, tuesday, weekly_off=DISTRICT, holidays=REPUBLIC_DAY) == 2


def test_same_day_or_backwards_is_zero():
    assert working_days_between(date(2026, 3, 2), date(2026, 3, 2), weekly_off=SECRETARIAT, holidays=frozenset()) == 0
    assert working_days_between(date(2026, 3, 3), date(2026, 3, 2), weekly_off=SECRETARIAT, holidays=frozenset()) == 0


def test_due_date_skips_days_off():
    # Seven working days from Friday 23 Jan 2026 in the secretariat: 27,28,29,30 Jan, 2,3,4 Feb.
    assert add_working_days(date(2026, 1, 23), 7, weekly_off=SECRETARIAT, holidays=REPUBLIC_DAY) == date(2026, 2, 4)
    due = add_working_days(date(2026, 1, 23), 7, weekly_off=DISTRICT, holidays=REPUBLIC_DAY)
    assert working_days_between(date(2026, 1, 23), due, weekly_off=DISTRICT, holidays=REPUBLIC_DAY) == 7


def test_office_without_working_days_is_refused():
    with pytest.raises(ValueError):
        add_working_days(date(2026, 1, 1), 1, weekly_off=frozenset({"MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"}),
                         holidays=frozenset())


def test_calendar_cache_asks_once_then_again_after_ttl_or_clear():
    from eoffice.workdays import CalendarCache

    asked, now = [], [0.0]

    def directory(posts):  # the directory's calendars_of_posts
        asked.append(posts)
        return {posts[0]: {"office_code": "LKO", "office_path": "UP/DIST-LKO/LKO", "jurisdiction": "UP/DIST-LKO",
                           "weekly_off": ["SAT", "SUN"], "holidays": ["2026-01-26"]}}
    cache = CalendarCache(ttl=60, clock=lambda: now[0])
    friday = date(2026, 1, 23)
    assert cache.due_date("SO(EST)-GAD", friday, 7, fetch=directory) == date(2026, 2, 4)
    assert cache.due_date("SO(EST)-GAD", friday, 7, fetch=directory) == date(2026, 2, 4)
    assert len(asked) == 1
    now[0] = 60.0  # expired: asked again
    cache.due_date("SO(EST)-GAD", friday, 7, fetch=directory)
    cache.clear()  # an organisation import: asked again
    cache.due_date("SO(EST)-GAD", friday, 7, fetch=directory)
    assert len(asked) == 3
    assert cache.place_of("SO(EST)-GAD", fetch=directory) == ("UP/DIST-LKO/LKO", "UP/DIST-LKO")
    assert len(asked) == 3  # the same entry


def test_a_day_off_says_why_and_whose():
    """A due date asked for must be a working day of the recipient's office: the cache says why
    a day is not one (a weekly day off, a holiday of the office or one above it), naming it."""
    from eoffice.workdays import CalendarCache

    def directory(posts):
        return {posts[0]: {"office_code": "LKO", "office_path": "UP/DIST-LKO/LKO", "jurisdiction": "UP/DIST-LKO",
                           "weekly_off": ["SUN"], "holidays": ["2026-01-26"]}}
    cache = CalendarCache(ttl=60)
    assert cache.day_off("DM-LKO", date(2026, 1, 25), fetch=directory) == "a Sunday, a weekly day off of office LKO"
    assert cache.day_off("DM-LKO", date(2026, 1, 26), fetch=directory) == "a holiday of office LKO"
    assert cache.day_off("DM-LKO", date(2026, 1, 24), fetch=directory) is None  # a district works on Saturday
