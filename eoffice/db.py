"""PostgreSQL through SQLAlchemy: engines, transactions, and the nameko dependency for services.

Each service owns one schema; its tables are declared on a `MetaData(schema=...)` of its own."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from nameko.extensions import DependencyProvider
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from eoffice.events import EventPayload
from eoffice.settings import get_settings

# Writes one event to the service's outbox in the session's transaction (`Outbox.add`).
RecordEvent = Callable[[Session, EventPayload, "str | None"], Any]


def make_engine(url: str | None = None, *, pool_size: int | None = None) -> Engine:
    """Returns an engine for `url` (default: EOFFICE_DATABASE_URL) with pre-ping on checkout."""
    settings = get_settings()
    return create_engine(
        url or settings.database_url,
        pool_pre_ping=True,
        pool_size=pool_size or settings.database_pool_size,
        max_overflow=10,
        future=True,
    )


class Changes:
    """What a domain step works with inside a unit of work (`UnitOfWork.changes`): the
    transaction's `session`, and the events the step raises, kept until the commit."""

    def __init__(self, session: Session):
        self.session = session
        self._events: list[tuple[EventPayload, str | None]] = []

    def raise_event(self, payload: EventPayload, *, subject: str | None = None) -> None:
        """Notes that `payload` happened (about `subject`, e.g. a file id). It reaches the
        outbox only if the unit of work commits."""
        self._events.append((payload, subject))

    def collect_new_events(self) -> Iterator[tuple[EventPayload, str | None]]:
        """Yields each event raised and not yet collected, oldest first, and forgets it."""
        while self._events:
            yield self._events.pop(0)


class UnitOfWork:
    """Opens transactions on one engine: `with uow.transaction() as session: ...` commits on
    success and rolls back on any exception; `with uow.changes(record) as changes: ...` does
    the same and also writes the events the step raised to the outbox in that commit."""

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

    @contextlib.contextmanager
    def changes(self, record: RecordEvent) -> Iterator[Changes]:
        """Opens a transaction for one domain step. When the block ends without an exception,
        every event it raised (`Changes.raise_event`) is written with `record` (the service's
        outbox) in the same transaction, which then commits: the change and its events are
        stored together or not at all. On any exception everything rolls back and the events
        raised are dropped."""
        with self.transaction() as session:
            changes = Changes(session)
            yield changes
            for payload, subject in changes.collect_new_events():
                record(session, payload, subject)

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

    if TYPE_CHECKING:
        # nameko sets each worker's attribute to what get_dependency returns: tell mypy so.
        def __get__(self, instance: object, owner: type | None = None) -> UnitOfWork: ...
