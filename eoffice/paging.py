"""Keyset pages, the same in every service: rows after a key, and the key to go on from."""

from __future__ import annotations

from sqlalchemy.orm import Session

from eoffice.errors import InvalidInput


def keyset_page(session: Session, query, key, *, after: str | None, limit: int) -> dict:
    """Returns up to `limit` rows of `query` after `after` in `key` order, and the key to
    continue from (None on the last page). Raises InvalidInput naming `cursor` (what the caller
    sent it as) for an `after` no key can be: a tampered cursor decodes to any string, and one
    PostgreSQL cannot even compare (a NUL) must not become a server error."""
    if after is not None and "\x00" in after:
        raise InvalidInput("cursor is not one this API made", field="cursor")
    query = query.order_by(key).limit(limit + 1)
    if after:
        query = query.where(key > after)
    rows = [dict(r) for r in session.execute(query).mappings()]
    more, rows = len(rows) > limit, rows[:limit]
    return {"items": rows, "next": rows[-1][key.name] if more and rows else None}
