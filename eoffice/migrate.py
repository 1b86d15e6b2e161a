"""Brings every service's schema up to date and makes sure the MinIO buckets exist.

    python -m eoffice.migrate            all services
    python -m eoffice.migrate dak files  only these

Each service keeps its own Alembic migrations in `services/<name>/migrations/` whose `env.py`
calls `run_env` below; the version table lives in the service's own schema."""

from __future__ import annotations

import sys
from pathlib import Path

from alembic import command, context, op
from alembic.config import Config
from sqlalchemy import Index, MetaData, inspect, text

from eoffice.db import make_engine
from eoffice.idempotency import idempotency_table
from eoffice.messaging import messaging_tables
from eoffice.programs import programs
from eoffice.settings import get_settings

REPO = Path(__file__).resolve().parent.parent
# From the one list of programs (deploy/programs): each program with migrations of its own owns
# a schema of its name; dak_ocr works in dak's. The gateway keeps its sign-in sessions.
SCHEMAS = tuple(p.name for p in programs() if (REPO / "services" / p.name / "migrations").is_dir())
SERVICES = tuple(name for name in SCHEMAS if name != "gateway")  # the nameko services that own one


def alembic_config(service: str, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(REPO / "services" / service / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["schema"] = service
    return config


def upgrade(service: str, url: str | None = None) -> None:
    """Applies `service`'s migrations up to every head (a service's chain may branch where two
    pieces of work each added a revision). Safe to run again."""
    command.upgrade(alembic_config(service, url or get_settings().database_url), "heads")


def run_env() -> None:
    """The body of every service's migrations/env.py (online mode only)."""
    config = context.config
    schema = config.attributes["schema"]
    engine = make_engine(config.get_main_option("sqlalchemy.url"), pool_size=1)
    try:
        with engine.connect() as connection:
            # One migration of a schema at a time, however many machines start at once: the
            # others wait here, then find it up to date. Held until the connection closes.
            connection.execute(text("SELECT pg_advisory_lock(hashtext(:key))"), {"key": f"eoffice.migrate:{schema}"})
            connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            connection.commit()
            # A transaction for each migration: one that builds an index without holding writes
            # (`create_indexes`) commits those before it, as it must.
            context.configure(connection=connection, version_table_schema=schema, transaction_per_migration=True)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()  # closes the connection, and so ends the lock


def create_messaging_tables(bind, schema: str) -> None:
    """Creates the service's outbox and inbox (for its first migration)."""
    metadata = MetaData(schema=schema)
    messaging_tables(metadata)
    metadata.create_all(bind)


def create_idempotency_table(bind, schema: str) -> None:
    """Creates the service's `idempotency_keys` table (`eoffice.idempotency`)."""
    idempotency_table(MetaData(schema=schema)).create(bind)


def create_housekeeping_indexes(schema: str) -> None:
    """Makes the indexes `eoffice.housekeeping` reads on the service's outbox, inbox and
    idempotency keys, where the table exists and the index does not (a migration: tables made
    before these indexes were declared)."""
    metadata = MetaData(schema=schema)
    messaging_tables(metadata)
    idempotency_table(metadata)
    present = set(inspect(op.get_bind()).get_table_names(schema=schema))
    create_indexes(*(index for table in metadata.tables.values() if table.name in present for index in table.indexes))


# Whether an index of that name is there (None: it is not) and valid (False: a build that failed left it).
INDEX_VALID = text(
    "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
    " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = :schema AND c.relname = :name"
)


def create_indexes(*indexes: Index) -> None:
    """Makes each of `indexes` (declared with a service's tables, on plain columns) that is not
    there yet: a migration of a table made before the index was declared, which may be large by
    then. Each is built `CONCURRENTLY`, so the running services' writes to the table go on while
    it is built (a plain `CREATE INDEX` holds them all for as long). PostgreSQL builds one so only
    outside a transaction: the migrations before it are committed first (each migration is a
    transaction of its own, `run_env`). An index a failed build left invalid is built again.
    An index is known by its name: one whose columns change needs a new name (and the old one
    dropped), or a database that has the old one keeps it."""
    with op.get_context().autocommit_block():
        bind = op.get_bind()
        for index in indexes:
            table, name = index.table, index.name
            assert table is not None and name, f"an index to build needs a name and a table: {index!r}"
            valid = bind.execute(INDEX_VALID, {"schema": table.schema, "name": name}).scalar()
            if valid:
                continue
            if valid is False:
                op.drop_index(name, table_name=table.name, schema=table.schema, postgresql_concurrently=True)
            op.create_index(
                name,
                table.name,
                [column.name for column in index.columns],
                schema=table.schema,
                unique=index.unique,
                postgresql_where=index.dialect_options["postgresql"]["where"],
                postgresql_concurrently=True,
            )


def main(argv: list[str]) -> int:
    import argparse

    from eoffice.storage import DocumentStore

    parser = argparse.ArgumentParser(
        prog="python -m eoffice.migrate",
        description="Brings the services' schemas up to date and makes sure the MinIO buckets exist.",
    )
    parser.add_argument(
        "services",
        nargs="*",
        metavar="SERVICE",
        help=f"only these services' schemas (default: all of {', '.join(SCHEMAS)})",
    )
    services = parser.parse_args(argv).services
    if unknown := [name for name in services if name not in SCHEMAS]:
        parser.error(f"{', '.join(unknown)}: no such service with a schema (one of {', '.join(SCHEMAS)})")
    for service in services or SCHEMAS:
        upgrade(service)
        print(f"{service}: schema up to date")
    DocumentStore().ensure_buckets()
    print("MinIO buckets present")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
