"""Gap-free serial numbers (diary numbers, file numbers, dispatch numbers), once for every service.

A counter is a row of the service's own counter table, keyed by whatever the numbers restart
with (office and year, say), with a `last_serial` column. Taking a number increments that row
in the caller's transaction: the row stays locked until it ends, so two numbers of one counter
are taken one after the other, and a rollback gives the number back (no gap)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session


def take_next(session: Session, counters: Table, **key: Any) -> int:
    """Returns the next serial of the counter `key` (column=value of the table's primary key)
    in `counters`, creating the counter at 0 first if it is new. The row stays locked until the
    caller's transaction ends."""
    session.execute(insert(counters).values(**key, last_serial=0).on_conflict_do_nothing())
    return session.execute(
        update(counters)
        .where(*(counters.c[column] == value for column, value in key.items()))
        .values(last_serial=counters.c.last_serial + 1)
        .returning(counters.c.last_serial)
    ).scalar_one()
