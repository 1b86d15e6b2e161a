"""Reading an owning service's items as the search service indexes them (`search_records` of
dak and files): the helpers both owners use, so that their records have one shape."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session


def selected(query, key, *, ids: list[str] | None, after: str, limit: int):
    """`query` in `key` order: only the rows whose key is one of `ids`, or else (ids None) the
    `limit` rows after `after`."""
    query = query.order_by(key)
    return query.where(key.in_(ids)) if ids is not None else query.where(key > after).limit(limit)


def plain(row: Mapping[Any, Any], *, without: str = "") -> dict:
    """The row as JSON-ready values (dates as ISO strings), less the column `without`."""
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in row.items() if k != without}


def add_posts(session: Session, movements: Table, *, owner: str, by_id: dict[str, dict]) -> None:
    """Adds to each item's `posts` (a set) every post that sent or received it, as its
    `movements` (`owner` naming the item's column) record."""
    column = movements.c[owner]
    for move in session.execute(
        movements.select()
        .with_only_columns(column, movements.c.from_post, movements.c.to_post)
        .where(column.in_(list(by_id)))
    ).mappings():
        by_id[move[owner]]["posts"] |= {post for post in (move["from_post"], move["to_post"]) if post}


def add_children(session: Session, query, *, owner: str, by_id: dict[str, dict], field: str) -> None:
    """Appends each row of `query` (which selects the item's id as `owner`) to its item's list
    `field`, as plain values without that id."""
    for row in session.execute(query).mappings():
        by_id[row[owner]][field].append(plain(row, without=owner))
