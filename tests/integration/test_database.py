"""`eoffice.db.UnitOfWork` on the real PostgreSQL: what `reading` saves and what it keeps."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from eoffice.db import UnitOfWork, make_engine

pytestmark = pytest.mark.live


@pytest.fixture
def uow(migrated):
    made = UnitOfWork(make_engine(migrated.database_url, pool_size=1),
                      reader=make_engine(migrated.database_url, pool_size=1, autocommit=True))
    yield made
    made.dispose()


def now_twice(db) -> tuple:
    first = db.execute(select(func.now())).scalar_one()
    time.sleep(0.01)
    return first, db.execute(select(func.now())).scalar_one()


def test_a_read_runs_in_no_transaction_and_leaves_the_transactions_as_they_were(uow):
    # now() is the start of the transaction: the same for two statements of one transaction.
    for _ in range(2):  # the reader's one connection, given back and taken again, stays so
        with uow.reading() as db:
            first, second = now_twice(db)
        assert second > first, "each read statement is a transaction of its own"
    with uow.transaction() as db:
        first, second = now_twice(db)
    assert second == first, "a transaction is still one transaction"


def test_without_a_reader_a_read_is_a_transaction(migrated):
    plain = UnitOfWork(make_engine(migrated.database_url, pool_size=1))
    try:
        with plain.reading() as db:
            first, second = now_twice(db)
    finally:
        plain.dispose()
    assert second == first
