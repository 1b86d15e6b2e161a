"""`eoffice.migrate.create_indexes` on the real PostgreSQL: a migration that adds an index to a
table the running services write to does not hold their writes while it builds, and one a
failed build left invalid is built again."""
from __future__ import annotations

import threading

import pytest
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Index, Integer, MetaData, String, Table, text
from sqlalchemy.exc import IntegrityError

from eoffice.db import make_engine
from eoffice.migrate import INDEX_VALID, create_indexes
from tests.support.system import wait_until

pytestmark = pytest.mark.live
SCHEMA = "test_migrations"


@pytest.fixture
def engine(migrated):
    made = make_engine(migrated.database_url, pool_size=3)
    with made.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{SCHEMA}"'))
    yield made
    with made.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
    made.dispose()


def letters_table(engine) -> Table:
    """A table made before the index the tests declare on it."""
    letters = Table("letters", MetaData(schema=SCHEMA), Column("id", Integer, primary_key=True),
                    Column("sender", String(40), nullable=False))
    letters.create(engine)
    return letters


def migrate(engine, *indexes: Index) -> None:
    """Runs `create_indexes` as a migration runs it: inside the migration's transaction."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn)
        with Operations.context(context), context.begin_transaction():
            create_indexes(*indexes)


def validity(engine, name: str) -> bool | None:
    with engine.connect() as conn:
        return conn.execute(INDEX_VALID, {"schema": SCHEMA, "name": name}).scalar()


def waiting(engine, index_name: str) -> bool:
    """Whether the build of that index waits for a lock (a transaction of its own: what
    `pg_stat_activity` says is kept for the rest of a transaction)."""
    with engine.connect() as conn:
        return bool(conn.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE :building AND wait_event_type = 'Lock'"),
            {"building": f"CREATE INDEX%{index_name}%"}).scalar())


def test_writes_go_on_while_a_migration_builds_an_index(engine):
    """A write still open when the migration starts makes the build wait for it, as any build
    must; a plain `CREATE INDEX` would queue for its lock meanwhile, and every write after it
    would queue behind (here: fail at its 2 s lock timeout). Built concurrently, a new write goes
    through at once, and the index is there, valid, once the old write ends."""
    letters = letters_table(engine)
    index = Index("letters_sender", letters.c.sender)
    open_write = engine.connect()
    open_write.execute(letters.insert().values(id=1, sender="collectorate"))  # not committed yet
    building = threading.Thread(target=migrate, args=(engine, index))
    building.start()
    try:
        wait_until(lambda: waiting(engine, "letters_sender"), 30, "the build waiting for the open write")
        with engine.begin() as new_write:
            new_write.execute(text("SET LOCAL lock_timeout = '2s'"))
            new_write.execute(letters.insert().values(id=2, sender="tehsil"))
    finally:
        open_write.commit()
        open_write.close()
        building.join(60)
    assert not building.is_alive()
    assert validity(engine, "letters_sender") is True


def test_an_index_a_failed_build_left_invalid_is_built_again(engine):
    letters = letters_table(engine)
    with engine.begin() as conn:
        conn.execute(letters.insert(), [{"id": 1, "sender": "tehsil"}, {"id": 2, "sender": "tehsil"}])
    unique = Index("letters_one_per_sender", letters.c.sender, unique=True)
    with pytest.raises(IntegrityError):  # two letters of one sender: the build fails, and leaves it
        migrate(engine, unique)
    assert validity(engine, "letters_one_per_sender") is False

    with engine.begin() as conn:
        conn.execute(letters.delete().where(letters.c.id == 2))
    migrate(engine, unique)

    assert validity(engine, "letters_one_per_sender") is True
    with pytest.raises(IntegrityError), engine.begin() as conn:  # and it holds
        conn.execute(letters.insert().values(id=3, sender="tehsil"))
