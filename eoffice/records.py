"""Reading an owning service's items as the search service indexes them (`search_records` of
dak and files): the helpers both owners use, so that their records have one shape."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, bindparam, select
from sqlalchemy.orm import Session

from eoffice.access import moved_past


def selected(
    query: Select, key: ColumnElement, *, ids: list[str] | None, after: str, limit: int
) -> tuple[Select, dict]:
    """`query` (built once by the caller) in `key` order: only the rows whose key is one of
    `ids`, or else (ids None) the `limit` rows after `after`; as the statement and its values."""
    if ids is not None:
        return _window(query, key, by_ids=True), {"ids": ids}
    return _window(query, key, by_ids=False), {"after": after, "limit": limit}


@functools.cache
def _window(query: Select, key: ColumnElement, *, by_ids: bool) -> Select:
    """Built once for each query (`eoffice.db`, "built once")."""
    query = query.order_by(key)
    if by_ids:
        return query.where(key.in_(bindparam("ids", expanding=True)))
    return query.where(key > bindparam("after")).limit(bindparam("limit"))


def plain(row: Mapping[Any, Any], *, without: str = "") -> dict:
    """The row as JSON-ready values (dates as ISO strings), less the column `without`."""
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in row.items() if k != without}


def add_posts(session: Session, movements: Table, *, owner: str, by_id: dict[str, dict]) -> None:
    """Adds to each item's `posts` (a set) every post that sent or received it, or that a send
    skipped (where `movements` has a `skipped` column), as its `movements` (`owner` naming the
    item's column) record: the posts that may read it (`eoffice.access.require_visible`)."""
    for move in session.execute(_posts_of(movements, owner), {"found": list(by_id)}).mappings():
        by_id[move[owner]]["posts"] |= {post for post in (move["from_post"], move["to_post"]) if post}
        by_id[move[owner]]["posts"] |= moved_past(move)


@functools.cache
def _posts_of(movements: Table, owner: str) -> Select:
    column = movements.c[owner]
    skipped = [movements.c.skipped] if "skipped" in movements.c else []
    return select(column, movements.c.from_post, movements.c.to_post, *skipped).where(
        column.in_(bindparam("found", expanding=True))
    )


def add_children(session: Session, query: Select, *, owner: str, by_id: dict[str, dict], field: str) -> None:
    """Appends each row of `query` (built once by the caller; it selects the children of the
    items whose ids are its parameter `found`, with the item's id as `owner`) to its item's
    list `field`, as plain values without that id."""
    for row in session.execute(query, {"found": list(by_id)}).mappings():
        by_id[row[owner]][field].append(plain(row, without=owner))
