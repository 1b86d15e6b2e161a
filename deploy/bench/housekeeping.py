"""What forgetting old bookkeeping rows costs (`eoffice.housekeeping`).

    deploy/eoffice bench housekeeping [--rows 200000] [--batch 5000]

On the running system's PostgreSQL, in a schema of its own (`bench_housekeeping`, made afresh
and dropped at the end): an outbox, an inbox and an idempotency-key table as every service has
them, with their indexes, each filled with `--rows` rows shaped like a movement's (an envelope
of about 600 bytes, an answer of about 450), their times spread evenly over twice the time they
are kept, oldest first: half of each table is past its time. The same for copies of the logs
one service each keeps (the gateway's sessions, the directory's sign-in log, notify's messages,
digests, notifications, portal deliveries and their attempts: one message a notification and one
attempt a delivery, all sent, read or delivered). Then each table is pruned as every service
prunes its own (`prune_table`, at its start and hourly), in the order of `RULES`. Reported per table: rows
forgotten, wall time, rows a second, and the CPU this process and PostgreSQL spent a thousand
rows; then the tables' size before and after (the
space of deleted rows is reused by new rows after autovacuum, not given back to the disk).
Last, what the index on an inbox's time costs each write: `--writes` rows written one a statement,
as a handler writes its inbox row, into an inbox without that index and into one with it.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import common
from sqlalchemy import MetaData, text

from eoffice import housekeeping
from eoffice.db import UnitOfWork, make_engine
from eoffice.idempotency import idempotency_table
from eoffice.messaging import messaging_tables
from eoffice.settings import get_settings
from services.directory.models import sign_in_log
from services.gateway.models import sessions
from services.notify.people_tables import digests, messages, notifications
from services.notify.subscription_tables import attempts, deliveries, subscriptions

SCHEMA = "bench_housekeeping"
TABLES = ("outbox", "inbox", "idempotency_keys", "sessions", "sign_in_log", "notifications", "messages", "digests",
          "subscriptions", "deliveries", "delivery_attempts")
ENVELOPE = ("'{\"id\": \"' || md5(i::text) || '\", \"type\": \"eoffice.file.sent.v1\", "
            "\"data\": {\"note\": \"' || repeat('x', 480) || '\"}}'")
ANSWER = "'{\"id\": \"' || md5(i::text) || '\", \"status\": \"open\", \"held\": \"' || repeat('y', 380) || '\"}'"


def fill(conn, rows: int) -> None:
    """`rows` rows a table, oldest first, their times spread over twice each table's keep."""
    settings = get_settings()

    def age(days: float) -> str:  # row i of `rows`: from 2*days ago (i = 1) to now (i = rows)
        return f"now() - ({2 * days} * (1 - i::float8 / {rows})) * interval '1 day'"

    conn.execute(text(f"""
        INSERT INTO {SCHEMA}.outbox (id, type, envelope, created_at, published_at)
        SELECT md5(i::text)::uuid::text, 'eoffice.file.sent.v1', ({ENVELOPE})::jsonb,
               {age(settings.keep_published_events_days)}, {age(settings.keep_published_events_days)}
        FROM generate_series(1, {rows}) AS i"""))
    conn.execute(text(f"""
        INSERT INTO {SCHEMA}.inbox (event_id, handler, processed_at)
        SELECT md5(i::text)::uuid::text, 'notify.people', {age(settings.keep_seen_events_days)}
        FROM generate_series(1, {rows}) AS i"""))
    conn.execute(text(f"""
        INSERT INTO {SCHEMA}.idempotency_keys (scope, operation, fingerprint, answer, created_at)
        SELECT encode(sha256(i::text::bytea), 'hex'), 'files.send', md5(i::text) || md5(i::text),
               ({ANSWER})::jsonb, {age(settings.keep_idempotency_keys_days)}
        FROM generate_series(1, {rows}) AS i"""))
    keep = settings.keep_expired_sessions_days
    conn.execute(text(f"""
        INSERT INTO {SCHEMA}.sessions (id, family, employee_id, post_code, refresh_sha256, created_at, expires_at)
        SELECT md5(i::text)::uuid::text, md5((i / 30)::text)::uuid::text, 'E' || (i % 1000), 'P' || (i % 1000),
               encode(sha256(i::text::bytea), 'hex'), {age(keep)} - interval '30 days', {age(keep)}
        FROM generate_series(1, {rows}) AS i"""))
    conn.execute(text(f"""
        INSERT INTO {SCHEMA}.sign_in_log (email, at, outcome, client)
        SELECT 'user' || (i % 5000) || '@up.gov.in', {age(settings.keep_sign_in_log_days)}, 'ok', '10.0.0.' || (i % 250)
        FROM generate_series(1, {rows}) AS i"""))
    read = age(settings.keep_read_notifications_days)
    conn.execute(text(f"""
        INSERT INTO {SCHEMA}.notifications (id, post_code, kind, item_type, item_id, number, detail, event_id,
                                            created_at, read_at, read_by)
        SELECT i, 'P' || (i % 1000), 'received', 'file', md5(i::text)::uuid::text, 'N-11016/' || i || '/2026-GAD',
               '{{"from_post": "GAD-SO", "due_date": "2026-12-04"}}', md5(i::text), {read}, {read}, 'E1'
        FROM generate_series(1, {rows}) AS i"""))
    conn.execute(text(f"""
        INSERT INTO {SCHEMA}.messages (notification_id, employee_id, channel, address, language, status,
                                       not_before, attempts, sent_at)
        SELECT i, 'E' || (i % 1000), 'email', 'user' || (i % 1000) || '@up.gov.in', 'hi', 'sent',
               {age(settings.keep_sent_messages_days)}, 1, {age(settings.keep_sent_messages_days)}
        FROM generate_series(1, {rows}) AS i"""))
    conn.execute(text(f"""
        INSERT INTO {SCHEMA}.digests (employee_id, day, items, sent_at)
        SELECT 'E' || i, ({age(settings.keep_sent_messages_days)})::date, 3, {age(settings.keep_sent_messages_days)}
        FROM generate_series(1, {rows}) AS i"""))
    conn.execute(text(f"""INSERT INTO {SCHEMA}.subscriptions (id, name, delivery, url, event_types, offices, admin_user)
        VALUES ('portal', 'a portal', 'webhook', 'https://portal.example.org/hook', '[]', '[]', 'E1')"""))
    delivered = age(settings.keep_delivered_days)
    conn.execute(text(f"""
        INSERT INTO {SCHEMA}.deliveries (id, subscription_id, event_id, event_type, subject, event_time, body, state,
                                         attempts, created_at, delivered_at)
        SELECT i, 'portal', md5(i::text)::uuid::text, 'eoffice.file.sent.v1', md5((i / 4)::text), {delivered},
               {ENVELOPE}, 'delivered', 1, {delivered}, {delivered}
        FROM generate_series(1, {rows}) AS i"""))
    conn.execute(text(f"""
        INSERT INTO {SCHEMA}.delivery_attempts (delivery_id, subscription_id, at, status, ok, seconds)
        SELECT i, 'portal', {delivered}, 204, true, 0.05 FROM generate_series(1, {rows}) AS i"""))
    conn.execute(text(f"ANALYZE {', '.join(f'{SCHEMA}.{name}' for name in TABLES)}"))


def index_cost(engine, rows: int, rounds: int) -> tuple[float, float]:
    """PostgreSQL's CPU (median of `rounds`, us) a row written as a handler writes its inbox row
    (one `INSERT ... ON CONFLICT DO NOTHING RETURNING` a row), into an inbox without and with
    the index on its time; the two tables take turns."""
    per_row: dict[str, list[float]] = {"plain": [], "indexed": []}
    with engine.begin() as conn:
        for name in per_row:
            conn.execute(text(f"CREATE TABLE {SCHEMA}.inbox_{name} (event_id varchar(36), handler varchar(200), "
                              "processed_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (event_id, handler))"))
        conn.execute(text(f"CREATE INDEX ON {SCHEMA}.inbox_indexed (processed_at)"))
    for n in range(rounds):
        for name in per_row:
            statement = text(f"INSERT INTO {SCHEMA}.inbox_{name} (event_id, handler) VALUES (:e, 'h') "
                             "ON CONFLICT DO NOTHING RETURNING event_id")
            with engine.begin() as conn:
                before = common.processes()
                for i in range(rows):
                    conn.execute(statement, {"e": f"{n}-{i}"}).first()
                per_row[name].append(common.postgres_cpu(before, common.processes()) / rows * 1e6)
    return statistics.median(per_row["plain"]), statistics.median(per_row["indexed"])


def sizes(conn) -> dict[str, int]:
    return dict(conn.execute(text(
        "SELECT n.nspname || '.' || c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = :s AND c.relkind = 'r'"), {"s": SCHEMA}).all())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000, help="rows in each table")
    parser.add_argument("--writes", type=int, default=20_000, help="rows written to time the index's cost")
    parser.add_argument("--batch", type=int, default=housekeeping.BATCH, help="rows a transaction deletes")
    args = parser.parse_args()

    engine = make_engine(os.environ["EOFFICE_DATABASE_URL"], pool_size=2)
    metadata = MetaData(schema=SCHEMA)
    messaging_tables(metadata)
    idempotency_table(metadata)
    for table in (sessions, sign_in_log, notifications, messages, digests, subscriptions, deliveries, attempts):
        table.to_metadata(metadata, schema=SCHEMA)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        metadata.create_all(conn)
        started = time.perf_counter()
        fill(conn, args.rows)
        filled = time.perf_counter() - started
    with engine.connect() as conn:
        before = sizes(conn)

    uow, settings = UnitOfWork(engine), get_settings()
    print(f"# housekeeping benchmark: {platform.node()}, {os.cpu_count()} cores, {args.rows} rows a table "
          f"(filled in {filled:.1f} s), batches of {args.batch}\n")
    print("| table | kept (days) | rows forgotten | wall | rows/s | CPU a 1,000 rows: PostgreSQL / this process |")
    print("|---|---|---|---|---|---|")
    try:
        for rule in housekeeping.RULES:
            table = metadata.tables[f"{SCHEMA}.{rule.table}"]
            days = getattr(settings, rule.setting)
            cpu_before, started = common.processes(), time.perf_counter()
            gone = housekeeping.prune_table(uow, table, rule, days=days, batch=args.batch)
            wall, cpu_after = time.perf_counter() - started, common.processes()
            mine = common.cpu_by_group(cpu_before, cpu_after).get("this benchmark", 0.0)
            per = 1000 / max(gone, 1) * 1000  # ms a 1,000 rows, from seconds
            print(f"| {rule.table} | {days:g} | {gone:,} | {wall:.2f} s | {gone / wall:,.0f} "
                  f"| {common.postgres_cpu(cpu_before, cpu_after) * per:.1f} / {mine * per:.1f} ms |")
        with engine.connect() as conn:
            after = sizes(conn)
        print("\n| table | size before | size after the deletes (reused, not given back) |\n|---|---|---|")
        for name, size in before.items():
            print(f"| {name} | {size / 2**20:.1f} MiB | {after[name] / 2**20:.1f} MiB |")
        plain, indexed = index_cost(engine, args.writes, rounds=3)
        print(f"\nWhat the index on an inbox's time costs a write: {args.writes:,} inbox rows written one a "
              f"statement, PostgreSQL's CPU a row (median of 3 rounds, the tables taking turns): without it "
              f"{plain:.1f} us, with it {indexed:.1f} us.")
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        engine.dispose()


if __name__ == "__main__":
    main()
