"""Cursor pagination, the same on every list: `?limit=` and an opaque `?cursor=` from the
previous page's `next_cursor` (null on the last page)."""
from __future__ import annotations

import base64
import binascii
from typing import Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from eoffice.errors import InvalidInput
from eoffice.paging import BIGGEST_ID

T = TypeVar("T")

CURSOR = Query(None, max_length=200, description="next_cursor of the previous page")
LIMIT = Query(50, ge=1, le=200)
BEFORE = Query(
    None,
    ge=0,
    le=BIGGEST_ID,
    deprecated=True,
    description="Deprecated, kept for one release for clients written before cursors: use `cursor`. The id of the "
    "last item of the previous page (the items older than it follow). Not together with `cursor`.",
)


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


class PageRequest(BaseModel):
    after: str | None
    limit: int


def page_request(cursor: str | None = CURSOR, limit: int = LIMIT) -> PageRequest:
    """Returns the position a cursor stands for; raises InvalidInput for a cursor we did not make."""
    if cursor is None:
        return PageRequest(after=None, limit=limit)
    try:
        after = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput("cursor is not one this API made", field="cursor") from None
    return PageRequest(after=after, limit=limit)


def page_request_or_before(cursor: str | None = CURSOR, before: int | None = BEFORE,
                           limit: int = LIMIT) -> PageRequest:
    """page_request for a list, newest first by id, that paged with `before` (an id) until it had
    cursors: the deprecated `before` stands for the same position as the cursor of the page that
    ended with that id. Raises InvalidInput naming `before` when both are given."""
    if before is None:
        return page_request(cursor, limit)
    if cursor is not None:
        raise InvalidInput("give cursor or before, not both (before is deprecated: use cursor)", field="before")
    return PageRequest(after=str(before), limit=limit)


def page(result: dict) -> dict:
    """Turns a service's {items, next, ...} into {items, next_cursor, ...} (other fields kept)."""
    nxt = result.get("next")
    return {**{k: v for k, v in result.items() if k != "next"},
            "next_cursor": base64.urlsafe_b64encode(nxt.encode()).decode().rstrip("=") if nxt else None}
