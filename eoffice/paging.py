"""Keyset pages, the same in every service: rows after a key, and the key to go on from."""
from __future__ import annotations

from sqlalchemy.orm import Session


def keyset_page(session: Session, query, key, after: str | None, limit: int) -> dict:
    """Returns up to `limit` rows of `query` after `after` in `key` order, and the key to
    continue from (None on the last page)."""
    query = query.order_by(key).limit(limit + 1)
    if after:
        query = query.where(key > after)
    rows = [dict(r) for r in session.execute(query).mappings()]
    more, rows = len(rows) > limit, rows[:limit]
    return {"items": rows, "next": rows[-1][key.name] if more and rows else None}
