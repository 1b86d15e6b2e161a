"""Bookkeeping rows are forgotten once they can serve no purpose, so that they do not fill the
database: on this box they took ten times the space of the records they keep safe (a movement:
182 bytes; its event in the outbox 819, its idempotency key and answer 682, and a row in the
inbox of each handler that heard it, 217 each; tables with their indexes, docs/scaling.md).

Each service's own tables, in its schema:
- `outbox`: an event published more than `EOFFICE_KEEP_PUBLISHED_EVENTS_DAYS` days ago (7). An
  event not yet published is never forgotten, however old.
- `inbox`: an event a handler saw more than `EOFFICE_KEEP_SEEN_EVENTS_DAYS` days ago (7). A
  redelivery of it after that would be done again; a redelivery comes within minutes (a lost
  acknowledgement, a retry after `EOFFICE_RETRY_DELAYS`), and a dead letter replayed later was
  never done, so has no row here.
- `idempotency_keys`: a key first used more than `EOFFICE_KEEP_IDEMPOTENCY_KEYS_DAYS` days ago
  (30). The same key after that is a new request (docs/api.md).

`prune` deletes in batches, each its own short transaction, so that it never holds many rows
locked nor blocks the work beside it; one process of a service does a table at a time (the
others skip it). Every service runs it as it starts and hourly after
(`ServiceBase.forget_old_bookkeeping`). Each rule reads an index on its time column (declared
with the tables, made by each service's migration: `eoffice.migrate.create_housekeeping_indexes`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import cast

import eventlet
from sqlalchemy import Delete, Float, MetaData, Select, Table, bindparam, delete, func, literal_column, select, tuple_
from sqlalchemy.engine import CursorResult

from eoffice.db import UnitOfWork
from eoffice.settings import get_settings

log = logging.getLogger(__name__)
INTERVAL = 3600  # seconds between two runs in each service process
BATCH = 5000  # rows a transaction deletes at most
PAUSE = 0.05  # seconds between batches: the service's own work goes first


@dataclass(frozen=True)
class Rule:
    table: str  # the table's name in the service's schema
    column: str  # its time column
    setting: str  # the setting that says how many days its rows are kept (NULL times: kept)


RULES = (
    Rule("outbox", "published_at", "keep_published_events_days"),
    Rule("inbox", "processed_at", "keep_seen_events_days"),
    Rule("idempotency_keys", "created_at", "keep_idempotency_keys_days"),
)


def delete_batch(table: Table, rule: Rule) -> Delete:
    """Deletes up to `batch` rows older than `days` (bound when run) by the database's clock."""
    older = table.c[rule.column] < func.now() - bindparam("days", type_=Float) * literal_column("interval '1 day'")
    keys = table.primary_key.columns
    return delete(table).where(tuple_(*keys).in_(select(*keys).where(older).limit(bindparam("batch"))))


def turn(table: Table) -> Select:
    """Takes this process's turn on `table` for its transaction: False if another has it."""
    return select(func.pg_try_advisory_xact_lock(func.hashtext(f"eoffice.housekeeping:{table.fullname}")))


def prune_table(uow: UnitOfWork, table: Table, rule: Rule, *, days: float, batch: int = BATCH) -> int:
    """Deletes `table`'s rows older than `days` by `rule`, `batch` at a time; returns how many.
    Stops at once if another process is doing this table."""
    gone = 0
    statement, my_turn = delete_batch(table, rule), turn(table)
    while True:
        with uow.transaction() as session:
            if not session.execute(my_turn).scalar_one():
                return gone
            deleted = cast(CursorResult, session.execute(statement, {"days": days, "batch": batch})).rowcount
        gone += deleted
        if deleted < batch:
            return gone
        eventlet.sleep(PAUSE)


def prune(uow: UnitOfWork, metadata: MetaData, *, batch: int = BATCH) -> dict[str, int]:
    """Forgets the bookkeeping rows of a service's tables (`metadata`) past their time (see the
    module); returns how many went from each table that has rules."""
    settings, tables = get_settings(), {table.name: table for table in metadata.tables.values()}
    counts: dict[str, int] = {}
    for rule in RULES:
        if (table := tables.get(rule.table)) is not None:
            days = getattr(settings, rule.setting)
            counts[table.fullname] = prune_table(uow, table, rule, days=days, batch=batch)
    return counts
