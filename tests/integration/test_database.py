"""`eoffice.db` on the real PostgreSQL: what `UnitOfWork.autocommit` saves and what it keeps, and
statements compiled once (`fixed_text`)."""
from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import BigInteger, Column, DateTime, MetaData, String, Table, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine.default import DefaultDialect

from eoffice.db import UnitOfWork, fixed_text, make_engine

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
        with uow.autocommit() as db:
            first, second = now_twice(db)
        assert second > first, "each read statement is a transaction of its own"
    with uow.transaction() as db:
        first, second = now_twice(db)
    assert second == first, "a transaction is still one transaction"


def test_without_a_reader_a_read_is_a_transaction(migrated):
    plain = UnitOfWork(make_engine(migrated.database_url, pool_size=1))
    try:
        with plain.autocommit() as db:
            first, second = now_twice(db)
    finally:
        plain.dispose()
    assert second == first


def probe_table() -> Table:
    return Table(
        "fixed_probe", MetaData(),
        Column("id", String(10), primary_key=True),
        Column("detail", JSONB),
        Column("posts", ARRAY(String(60))),
        Column("at", DateTime(timezone=True)),
        Column("note", String(20)),
        Column("serial", BigInteger, server_default="7"),
        prefixes=["TEMPORARY"],
    )


def test_an_on_conflict_statement_compiled_once_runs_as_built_with_its_types(uow):
    probe = probe_table()
    built = (
        pg_insert(probe)
        .values(id=bindparam("id"), detail=bindparam("detail"), posts=bindparam("posts"), at=bindparam("at"),
                note=None)  # a value of the statement's own, not given when run
        .on_conflict_do_nothing()
        .returning(probe.c.id, probe.c.detail, probe.c.at, probe.c.serial)
    )
    fixed = fixed_text(built)
    at = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    values = {"id": "a", "detail": {"दिनांक": [1, "x"]}, "posts": ["SO(EST)-GAD", "DH1(EST)-GAD"], "at": at}
    with uow.transaction() as db:
        probe.create(db.connection())
        first = db.execute(fixed, values)
        assert first.context.cache_hit in (DefaultDialect.CACHE_MISS, DefaultDialect.CACHE_HIT)
        assert first.mappings().one() == {"id": "a", "detail": values["detail"], "at": at, "serial": 7}
        again = db.execute(fixed, {**values, "detail": {"other": True}})
        assert again.context.cache_hit == DefaultDialect.CACHE_HIT, "compiled once, found in the cache after"
        assert again.first() is None, "the conflict: nothing inserted, nothing returned"
        assert db.execute(select(probe.c.detail, probe.c.posts, probe.c.note)).one() == (
            values["detail"], values["posts"], None)
        # Why: SQLAlchemy 2.0 compiles the statement as built again on every execution.
        assert db.execute(built, {**values, "id": "b"}).context.cache_hit == DefaultDialect.NO_CACHE_KEY


def test_a_statement_reading_what_an_on_conflict_insert_made_is_compiled_once_too(uow):
    # notify's notification and its messages: a SELECT of a CTE made of INSERT ... ON CONFLICT.
    probe = probe_table()
    made = (
        pg_insert(probe).values(id=bindparam("id"), detail=bindparam("detail"))
        .on_conflict_do_nothing().returning(probe.c.id, probe.c.detail).cte("made")
    )
    fixed = fixed_text(select(made.c.id, made.c.detail))
    with uow.transaction() as db:
        probe.create(db.connection())
        first = db.execute(fixed, {"id": "a", "detail": {"क्रम": 1}})
        assert first.mappings().one() == {"id": "a", "detail": {"क्रम": 1}}
        again = db.execute(fixed, {"id": "b", "detail": {}})
        assert again.context.cache_hit == DefaultDialect.CACHE_HIT, "compiled once, found in the cache after"
        assert again.one() == ("b", {})
