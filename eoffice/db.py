"""PostgreSQL through SQLAlchemy: engines, transactions, and the nameko dependency for services.

Each service owns one schema; its tables are declared on a `MetaData(schema=...)` of its own."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

from nameko.extensions import DependencyProvider
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from eoffice.settings import get_settings


def make_engine(url: str | None = None, *, pool_size: int | None = None) -> Engine:
    """Returns an engine for `url` (default: EOFFICE_DATABASE_URL) with pre-ping on checkout."""
    settings = get_settings()
    return create_engine(url or settings.database_url, pool_pre_ping=True,
                         pool_size=pool_size or settings.database_pool_size, max_overflow=10,
                         future=True)


class UnitOfWork:
    """Opens transactions on one engine: `with uow.transaction() as session: ...` commits on
    success and rolls back on any exception."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._sessions = sessionmaker(bind=engine, expire_on_commit=False, future=True)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Session]:
        session = self._sessions()
        try:
            with session.begin():
                yield session
        finally:
            session.close()

    def ping(self) -> None:
        """Raises if the database does not answer."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))


class Database(DependencyProvider):
    """Gives each worker the service's `UnitOfWork`; one engine per service container."""

    def setup(self):
        # psycopg2 blocks the whole eventlet hub unless told to wait cooperatively.
        from psycogreen.eventlet import patch_psycopg
        patch_psycopg()
        self.uow = UnitOfWork(make_engine(self.container.config.get("DATABASE_URL")))

    def stop(self):
        self.uow.engine.dispose()

    def get_dependency(self, worker_ctx) -> UnitOfWork:
        return self.uow
