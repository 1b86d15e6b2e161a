"""Probing queries on the real database: a session whose work is all rolled back, and what
PostgreSQL would do with a statement a piece of code runs (for tests that a query reads an index,
not the whole table)."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import event, text
from sqlalchemy.orm import Session

from eoffice.db import UnitOfWork, make_engine


@contextmanager
def rolled_back(database_url: str) -> Iterator[Session]:
    """A session in a transaction that is rolled back at the end: nothing of the probe stays."""
    uow = UnitOfWork(make_engine(database_url, pool_size=1))
    made = uow._sessions()
    made.begin()
    try:
        yield made
    finally:
        made.rollback()
        made.close()
        uow.dispose()


def plan_of(session: Session, call: Callable[[], object]) -> str:
    """The plan (EXPLAIN) of the one statement `call` runs on `session`, as the planner makes it
    for a large table: sequential scans are off for the rest of the session's transaction (a small
    test table is otherwise read whole, whatever indexes it has)."""
    statements: list[tuple] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    session.execute(text("SET LOCAL enable_seqscan = off"))
    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", seen)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    ((statement, parameters),) = statements
    return "\n".join(row[0] for row in session.connection().exec_driver_sql("EXPLAIN " + statement, parameters))
