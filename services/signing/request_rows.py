"""Signature requests kept until the signer's value comes back, the same for every kind: a
note's (`signature_requests`), a letter's (`letter_requests`) and a certificate's registration
(`certificate_requests`), each in a table of its own with an `id` and the `user_id` it is for.
A request is only its user's: anybody else is told it does not exist."""

from __future__ import annotations

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from eoffice.errors import NotFound

NOT_YOURS = "no such signature request of yours"


def find(session: Session, table: Table, request_id: str) -> dict | None:
    """The request `request_id` in `table`, whoever it is for; None if there is none."""
    row = session.execute(select(table).where(table.c.id == request_id)).mappings().first()
    return dict(row) if row else None


def own(session: Session, table: Table, *, user_id: str, request_id: str, lock: bool = False) -> dict:
    """The user's request `request_id` in `table` (locked if asked); NotFound for anybody else's."""
    query = select(table).where(table.c.id == request_id)
    row = session.execute(query.with_for_update() if lock else query).mappings().first()
    if row is None or row["user_id"] != user_id:
        raise NotFound(NOT_YOURS)
    return dict(row)


def add(session: Session, table: Table, *, row: dict, state: str) -> dict:
    """Keeps a new request in `state` and returns it as stored."""
    session.execute(insert(table).values(state=state, **row))
    return own(session, table, user_id=row["user_id"], request_id=row["id"])
