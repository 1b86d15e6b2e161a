"""Bookkeeping and log rows are forgotten once they can serve no purpose, so that they do not
fill the database: on this box they took ten times the space of the records they keep safe (a
movement: 182 bytes; its event in the outbox 819, its idempotency key and answer 682, and a row
in the inbox of each handler that heard it, 217 each; tables with their indexes,
docs/scaling.md). The records themselves (receipts, files, notes, movements, letters,
signatures) are never forgotten here.

Every service's own tables, in its schema:
- `outbox`: an event published more than `EOFFICE_KEEP_PUBLISHED_EVENTS_DAYS` days ago (7). An
  event not yet published is never forgotten, however old.
- `inbox`: an event a handler saw more than `EOFFICE_KEEP_SEEN_EVENTS_DAYS` days ago (7). A
  redelivery of it after that would be done again; a redelivery comes within minutes (a lost
  acknowledgement, a retry after `EOFFICE_RETRY_DELAYS`), and a dead letter replayed later was
  never done, so has no row here.
- `idempotency_keys`: a key first used more than `EOFFICE_KEEP_IDEMPOTENCY_KEYS_DAYS` days ago
  (30). The same key after that is a new request (docs/api.md).

Tables of one service:
- `gateway.sessions`: a sign-in session's row (one for each refresh token: every refresh makes
  one) whose refresh token expired more than `EOFFICE_KEEP_EXPIRED_SESSIONS_DAYS` (30) days
  ago. Until then a stolen copy of a used token still ends its family when presented.
- `directory.sign_in_log`: a sign-in attempt older than `EOFFICE_KEEP_SIGN_IN_LOG_DAYS` (365;
  not below 180, the rolling period CERT-In's directions of April 2022 ask logs to be kept).
- `notify.messages` and `notify.digests`: e-mails and SMS sent, failed or moved with a
  hand-over, and daily digests sent, older than `EOFFICE_KEEP_SENT_MESSAGES_DAYS` (90). A
  message still to go (pending, waiting for a digest) is never forgotten.
- `notify.notifications`: a notification read more than `EOFFICE_KEEP_READ_NOTIFICATIONS_DAYS`
  (180) days ago, once its messages are gone. An unread one stays, however old.
- `notify.delivery_attempts` and `notify.deliveries`: a portal delivery delivered more than
  `EOFFICE_KEEP_DELIVERED_DAYS` (30) days ago, with its attempts. One pending or dead (a dead
  letter waiting for an admin's replay) stays with its attempts, however old.
- `signing.signature_requests` and `signing.certificate_requests`: a note's signature request
  never signed, and a certificate's registration request never proven, that expired more than
  `EOFFICE_KEEP_EXPIRED_REQUESTS_DAYS` (7) days ago: neither can be completed any more. A
  request that was signed (or registered the certificate) stays, and so does every letter's
  request, whose cancelled dispatch number the register shows.

`prune` deletes in batches, each its own short transaction, so that it never holds many rows
locked nor blocks the work beside it; one process of a service does a table at a time (the
others skip it). Every service runs it as it starts and hourly after
(`ServiceBase.forget_old_bookkeeping`), and so does every gateway worker (`keep_forgetting`).
Each rule reads an index (on its time column, or named in docs/scaling.md), declared with the
tables and made on existing ones by each service's migrations (`eoffice.migrate.create_indexes`)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import cast

from sqlalchemy import (
    Delete,
    Float,
    MetaData,
    Select,
    Table,
    bindparam,
    delete,
    func,
    literal_column,
    select,
    text,
    tuple_,
)
from sqlalchemy.engine import CursorResult

from eoffice.db import UnitOfWork, database_away
from eoffice.settings import get_settings

log = logging.getLogger(__name__)
INTERVAL = 3600  # seconds between two runs in each service process
BATCH = 5000  # rows a transaction deletes at most
PAUSE = 0.05  # seconds between batches: the service's own work goes first (a green sleep in a service)


@dataclass(frozen=True)
class Rule:
    table: str  # the table's name in the service's schema
    column: str  # its time column
    setting: str  # the setting that says how many days its rows are kept (NULL times: kept)
    schema: str = ""  # the one service whose table this is; "": every service's
    where: str = ""  # SQL a row must also meet: its table's columns as `table.column`, `{schema}` its schema


SENT = "messages.status IN ('sent', 'failed', 'moved')"
NO_MESSAGE_LEFT = "NOT EXISTS (SELECT FROM {schema}.messages m WHERE m.notification_id = notifications.id)"
DELIVERED = "deliveries.state = 'delivered'"
# An attempt goes with its delivery: by when that was delivered (an attempt is never later).
OF_ONE_DELIVERED_LONG_AGO = (
    "EXISTS (SELECT FROM {schema}.deliveries WHERE deliveries.id = delivery_attempts.delivery_id AND "
    + DELIVERED
    + " AND deliveries.delivered_at < now() - :days * interval '1 day')"
)
NEVER_SIGNED = "signature_requests.signature_id IS NULL"
NEVER_PROVEN = "certificate_requests.state = 'pending'"
NO_ATTEMPT_LEFT = "NOT EXISTS (SELECT FROM {schema}.delivery_attempts a WHERE a.delivery_id = deliveries.id)"
RULES = (
    Rule("outbox", "published_at", "keep_published_events_days"),
    Rule("inbox", "processed_at", "keep_seen_events_days"),
    Rule("idempotency_keys", "created_at", "keep_idempotency_keys_days"),
    Rule("sessions", "expires_at", "keep_expired_sessions_days", schema="gateway"),
    Rule("sign_in_log", "at", "keep_sign_in_log_days", schema="directory"),
    Rule("messages", "not_before", "keep_sent_messages_days", schema="notify", where=SENT),
    Rule("digests", "sent_at", "keep_sent_messages_days", schema="notify"),
    # After the messages: a notification with a message left stays for a later run.
    Rule("notifications", "read_at", "keep_read_notifications_days", schema="notify", where=NO_MESSAGE_LEFT),
    # The attempts first, then the deliveries none is left of.
    Rule("delivery_attempts", "at", "keep_delivered_days", schema="notify", where=OF_ONE_DELIVERED_LONG_AGO),
    Rule(
        "deliveries", "delivered_at", "keep_delivered_days", schema="notify", where=f"{DELIVERED} AND {NO_ATTEMPT_LEFT}"
    ),
    Rule("signature_requests", "expires_at", "keep_expired_requests_days", schema="signing", where=NEVER_SIGNED),
    Rule("certificate_requests", "expires_at", "keep_expired_requests_days", schema="signing", where=NEVER_PROVEN),
)


def delete_batch(table: Table, rule: Rule) -> Delete:
    """Deletes up to `batch` rows older than `days` (bound when run) by the database's clock."""
    older = table.c[rule.column] < func.now() - bindparam("days", type_=Float) * literal_column("interval '1 day'")
    chosen = select(*(keys := table.primary_key.columns)).where(older)
    if rule.where:
        chosen = chosen.where(text(rule.where.format(schema=table.schema)))
    return delete(table).where(tuple_(*keys).in_(chosen.limit(bindparam("batch"))))


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
        time.sleep(PAUSE)


def prune(uow: UnitOfWork, metadata: MetaData, *, batch: int = BATCH) -> dict[str, int]:
    """Forgets the bookkeeping rows of a service's tables (`metadata`) past their time (see the
    module); returns how many went from each table that has rules."""
    settings, tables = get_settings(), {table.name: table for table in metadata.tables.values()}
    counts: dict[str, int] = {}
    for rule in RULES:
        table = tables.get(rule.table)
        if table is not None and rule.schema in ("", table.schema):
            days = getattr(settings, rule.setting)
            counts[table.fullname] = prune_table(uow, table, rule, days=days, batch=batch)
    return counts


def forget(uow: UnitOfWork, metadata: MetaData, *, who: str) -> None:
    """One run of `prune`, as a service's timer or the gateway's thread makes it: logs what went;
    while the database is away, a warning (the next run is within the hour). Any other error is
    raised."""
    try:
        counts = prune(uow, metadata)
    except Exception as exc:
        if database_away(exc) is None:
            raise
        log.warning("%s: old rows not forgotten now, the database is away: tried again within the hour", who)
        return
    if gone := {table: count for table, count in counts.items() if count}:
        log.info("%s: forgot old rows: %s", who, ", ".join(f"{t} {n}" for t, n in gone.items()))


def keep_forgetting(uow: UnitOfWork, metadata: MetaData, *, who: str) -> threading.Event:
    """For a process without nameko's timer (a gateway worker): runs `forget` now and hourly
    after, in a thread of its own, until the event returned is set."""
    stop = threading.Event()

    def run() -> None:
        while True:
            try:
                forget(uow, metadata, who=who)
            except Exception:
                log.exception("%s: old rows not forgotten now: tried again within the hour", who)
            if stop.wait(INTERVAL):
                return

    threading.Thread(target=run, name=f"{who}: forgetting old rows", daemon=True).start()
    return stop
