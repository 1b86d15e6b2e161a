"""The office day: offices work on Indian Standard Time, whatever the server's zone."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

IST = timezone(timedelta(hours=5, minutes=30))


def today() -> date:
    return datetime.now(timezone.utc).astimezone(IST).date()
