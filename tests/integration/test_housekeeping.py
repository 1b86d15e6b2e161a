"""Old bookkeeping rows are forgotten (`eoffice.housekeeping`), on the real PostgreSQL: events
published and events seen over a week ago and idempotency keys over 30 days old go; everything
younger stays, and so does an event never published, however old."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import MetaData, func, select, text

from eoffice import housekeeping
from eoffice.db import UnitOfWork, make_engine
from eoffice.idempotency import idempotency_table
from eoffice.messaging import messaging_tables
from eoffice.migrate import SERVICES
from services.directory.models import inbox as directory_inbox
from tests.support.system import service_process, wait_until

pytestmark = pytest.mark.live
SCHEMA = "test_housekeeping"
metadata = MetaData(schema=SCHEMA)
outbox, inbox = messaging_tables(metadata)
keys = idempotency_table(metadata)


@pytest.fixture(scope="module")
def uow(migrated):
    engine = make_engine(migrated.database_url, pool_size=3)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{SCHEMA}"'))
    metadata.create_all(engine)
    yield UnitOfWork(engine)
    engine.dispose()


def ago(days: float):
    return func.now() - text(f"interval '{days} days'")


def add(uow, *, outbox_rows=(), inbox_rows=(), key_rows=()) -> None:
    """Adds rows with the given ages in days (`None`: an event not published)."""
    with uow.transaction() as session:
        for event_id, published_days_ago, created_days_ago in outbox_rows:
            session.execute(outbox.insert().values(
                id=event_id, type="eoffice.test.v1", envelope={}, created_at=ago(created_days_ago),
                published_at=None if published_days_ago is None else ago(published_days_ago)))
        for event_id, days_ago in inbox_rows:
            session.execute(inbox.insert().values(event_id=event_id, handler="test.h", processed_at=ago(days_ago)))
        for scope, days_ago in key_rows:
            session.execute(keys.insert().values(
                scope=scope, operation="test.op", fingerprint="f" * 64, answer={"id": scope}, created_at=ago(days_ago)))


def present(uow, table, column, ids) -> set[str]:
    with uow.transaction() as session:
        return set(session.execute(select(table.c[column]).where(table.c[column].in_(ids))).scalars())


def ids(n: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(n)]


def test_rows_past_their_time_are_forgotten_and_the_rest_kept(uow):
    old_sent, recent_sent, never_sent, old_seen, recent_seen = ids(5)
    old_key, recent_key = uuid.uuid4().hex, uuid.uuid4().hex
    add(uow,
        outbox_rows=[(old_sent, 8, 8), (recent_sent, 6, 6), (never_sent, None, 100)],
        inbox_rows=[(old_seen, 8), (recent_seen, 6)],
        key_rows=[(old_key, 31), (recent_key, 29)])

    counts = housekeeping.prune(uow, metadata)

    assert present(uow, outbox, "id", [old_sent, recent_sent, never_sent]) == {recent_sent, never_sent}
    assert present(uow, inbox, "event_id", [old_seen, recent_seen]) == {recent_seen}
    assert present(uow, keys, "scope", [old_key, recent_key]) == {recent_key}
    assert counts == {f"{SCHEMA}.outbox": 1, f"{SCHEMA}.inbox": 1, f"{SCHEMA}.idempotency_keys": 1}
    assert housekeeping.prune(uow, metadata) == dict.fromkeys(counts, 0)  # nothing more to forget


def test_many_rows_go_in_batches(uow):
    old = ids(23)
    add(uow, inbox_rows=[(event_id, 40) for event_id in old])
    rule = next(rule for rule in housekeeping.RULES if rule.table == "inbox")

    assert housekeeping.prune_table(uow, inbox, rule, days=30, batch=5) == 23
    assert present(uow, inbox, "event_id", old) == set()


def test_a_table_another_process_is_pruning_is_left_to_it(uow):
    old = ids(3)
    add(uow, inbox_rows=[(event_id, 40) for event_id in old])
    rule = next(rule for rule in housekeeping.RULES if rule.table == "inbox")
    with uow.transaction() as other:  # another process's turn on the table, held
        assert other.execute(housekeeping.turn(inbox)).scalar_one()
        assert housekeeping.prune_table(uow, inbox, rule, days=30) == 0
        assert present(uow, inbox, "event_id", old) == set(old)
    assert housekeeping.prune_table(uow, inbox, rule, days=30) == 3


def test_the_settings_say_how_long(uow, monkeypatch):
    event_id = str(uuid.uuid4())
    add(uow, inbox_rows=[(event_id, 3)])
    housekeeping.prune(uow, metadata)
    assert present(uow, inbox, "event_id", [event_id]) == {event_id}  # kept 7 days by default
    monkeypatch.setenv("EOFFICE_KEEP_SEEN_EVENTS_DAYS", "2.5")
    from eoffice.settings import get_settings
    get_settings.cache_clear()
    try:
        assert housekeeping.prune(uow, metadata)[f"{SCHEMA}.inbox"] >= 1
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert present(uow, inbox, "event_id", [event_id]) == set()


@pytest.mark.parametrize("service", SERVICES)
def test_each_services_deletes_read_an_index(migrated, service):
    """The migrations made the indexes the deletes read, in every service's schema: with
    sequential scans ruled out, PostgreSQL's plan for each delete reads one."""
    engine = make_engine(migrated.database_url, pool_size=1)
    service_tables = MetaData(schema=service)
    messaging_tables(service_tables)
    idempotency_table(service_tables)
    try:
        with engine.connect() as conn:
            present_tables = set(conn.execute(text(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = :s"), {"s": service}).scalars())
            conn.execute(text("SET enable_seqscan = off"))
            for rule in housekeeping.RULES:
                if rule.table not in present_tables:
                    continue
                table = service_tables.tables[f"{service}.{rule.table}"]
                statement = housekeeping.delete_batch(table, rule).compile(conn)
                plan = "\n".join(row[0] for row in conn.exec_driver_sql(
                    f"EXPLAIN {statement}", statement.construct_params({"days": 30.0, "batch": 10})))
                assert f"{rule.table}_{rule.column}" in plan, plan
            conn.rollback()
    finally:
        engine.dispose()
    assert "outbox" in present_tables and "inbox" in present_tables


def test_a_service_forgets_its_old_rows_as_it_starts(uow):
    """The timer every service has (`ServiceBase.forget_old_bookkeeping`) runs as the process
    starts, on the service's own schema: here the directory's inbox."""
    old, recent = ids(2)
    with uow.transaction() as session:
        for event_id, days_ago in ((old, 8), (recent, 1)):
            session.execute(directory_inbox.insert().values(event_id=event_id, handler="t", processed_at=ago(days_ago)))
    directory = service_process("directory").start()
    try:
        wait_until(lambda: not present(uow, directory_inbox, "event_id", [old]), 60, "the directory forgetting")
    finally:
        directory.stop()
    assert present(uow, directory_inbox, "event_id", [recent]) == {recent}
