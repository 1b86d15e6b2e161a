"""Cursor pagination, the same on every list: `?limit=` and an opaque `?cursor=` from the
previous page's `next_cursor` (null on the last page)."""
from __future__ import annotations

import base64
import binascii
from typing import Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from eoffice.errors import InvalidInput

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


class PageRequest(BaseModel):
    after: str | None
    limit: int


def page_request(cursor: str | None = Query(None, max_length=200, description="next_cursor of the previous page"),
                 limit: int = Query(50, ge=1, le=200)) -> PageRequest:
    """Returns the position a cursor stands for; raises InvalidInput for a cursor we did not make."""
    if cursor is None:
        return PageRequest(after=None, limit=limit)
    try:
        after = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput("cursor is not one this API made", field="cursor") from None
    return PageRequest(after=after, limit=limit)


def page(result: dict) -> dict:
    """Turns a service's {items, next} into {items, next_cursor}."""
    nxt = result.get("next")
    return {"items": result["items"],
            "next_cursor": base64.urlsafe_b64encode(nxt.encode()).decode().rstrip("=") if nxt else None}
