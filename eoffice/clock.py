"""The office day: offices work on Indian Standard Time, whatever the server's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

IST = timezone(timedelta(hours=5, minutes=30))


def now() -> datetime:
    """The current instant, in UTC (the one place the services read the clock for the day)."""
    return datetime.now(UTC)


def today() -> date:
    """The office day: the date in India now. Never `date.today()`, which is the server's day
    (UTC here), a day behind India from 18:30 UTC."""
    return now().astimezone(IST).date()
