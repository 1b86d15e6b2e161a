"""Keyset pages, the same in every service: rows after a key, and the key to go on from."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, literal, tuple_
from sqlalchemy.orm import Session

from eoffice.errors import InvalidInput

NOT_OURS = "cursor is not one this API made"
BIGGEST_ID = 2**63 - 1  # PostgreSQL's bigint: a larger number in a query is an error, not an empty page


def newest_first_page(session: Session, query, *, at, key, after: str | None, limit: int) -> dict:
    """Returns up to `limit` rows of `query`, newest first by the time column `at` (the unique
    `key` breaking ties), after the position `after`, and the position to go on from ("time|key",
    None on the last page). An `after` that is not such a position is InvalidInput naming
    `cursor`, like `keyset_page`'s."""
    query = query.order_by(at.desc(), key.desc()).limit(limit + 1)
    if after:
        time, _, last = after.partition("|")
        try:
            since = datetime.fromisoformat(time)
        except ValueError:
            raise InvalidInput(NOT_OURS, field="cursor") from None
        if not last or "\x00" in last or since.tzinfo is None:
            raise InvalidInput(NOT_OURS, field="cursor")
        query = query.where(tuple_(at, key) < tuple_(literal(since), literal(last)))
    rows = [dict(r) for r in session.execute(query).mappings()]
    more, rows = len(rows) > limit, rows[:limit]
    return {"items": rows, "next": f"{rows[-1][at.name].isoformat()}|{rows[-1][key.name]}" if more and rows else None}


def keyset_page(session: Session, query, key, *, after: str | None, limit: int, descending: bool = False) -> dict:
    """Returns up to `limit` rows of `query` after `after` in `key` order (the largest key
    first with `descending`), and the key to continue from as a string (None on the last page).
    Raises InvalidInput naming `cursor` (what the caller sent it as) for an `after` no key can
    be: a tampered cursor decodes to any string, and one PostgreSQL cannot even compare (a NUL,
    a number out of an integer key's range) must not become a server error."""
    query = query.order_by(key.desc() if descending else key).limit(limit + 1)
    if after:
        at = _key_value(key, after)
        query = query.where(key < at if descending else key > at)
    rows = [dict(r) for r in session.execute(query).mappings()]
    more, rows = len(rows) > limit, rows[:limit]
    return {"items": rows, "next": str(rows[-1][key.name]) if more and rows else None}


def _key_value(key, after: str) -> str | int:
    if "\x00" in after:
        raise InvalidInput(NOT_OURS, field="cursor")
    if not isinstance(key.type, Integer):
        return after
    try:
        value = int(after)
    except ValueError:
        raise InvalidInput(NOT_OURS, field="cursor") from None
    if not 0 <= value <= BIGGEST_ID:
        raise InvalidInput(NOT_OURS, field="cursor")
    return value
