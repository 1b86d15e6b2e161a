"""PostgreSQL through SQLAlchemy: engines, transactions, and the nameko dependency for services.

Each service owns one schema; its tables are declared on a `MetaData(schema=...)` of its own."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from nameko.extensions import DependencyProvider
from sqlalchemy import Executable, bindparam, column, create_engine, event, exc, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import BindTyping, Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from eoffice.errors import Unavailable
from eoffice.events import EventPayload
from eoffice.settings import get_settings

# Writes one event to the service's outbox in the session's transaction (`Outbox.add`).
RecordEvent = Callable[[Session, EventPayload, "str | None"], Any]


# A pooled connection unused for longer than this is tried (SELECT 1) before it is handed out.
# One used more recently is handed out as it is: PostgreSQL cannot have restarted and come back
# within a second unnoticed by every request meanwhile, and a ping on every checkout cost a
# round trip on each transaction (5% of the files service's time on a movement).
PING_AFTER_IDLE = 1.0


# Statements on a hot path (every request, command or event) are built once, with bindparam()s,
# and executed with their values: SQLAlchemy keys its statement cache on a walk of the whole
# statement, which for a statement built afresh on each call cost 0.1-0.25 ms of CPU, more than
# the statement took PostgreSQL (docs/benchmarks.md, "built once"). A statement built once keeps
# its key.
_NAMED = postgresql.dialect(paramstyle="named")
_NAMED.bind_typing = BindTyping.NONE  # no casts after parameters: the text's typed parameters get them when run


def fixed_text(statement: Any) -> Executable:
    """`statement`, built with bindparam()s, as its SQL text, for statements SQLAlchemy 2.0 does
    not cache at all and so compiles again on every execution (PostgreSQL's `INSERT ... ON
    CONFLICT`: ~0.1 ms of CPU each time); a text is compiled once. Its parameters keep their
    types, and so do the columns it returns: as plain named columns, since a column of the built
    statement (one of a CTE made of such an INSERT) would leave the text uncacheable too."""
    compiled = statement.compile(dialect=_NAMED)
    fixed = text(str(compiled)).bindparams(
        *(
            bindparam(compiled.bind_names[bind], value=bind.value, type_=bind.type, required=bind.required)
            for bind in compiled.binds.values()
        )
    )
    returned = [column(returned.name, returned.type) for returned in statement.exported_columns]
    return fixed.columns(*returned) if returned else fixed


def make_engine(url: str | None = None, *, pool_size: int | None = None, autocommit: bool = False) -> Engine:
    """Returns an engine for `url` (default: EOFFICE_DATABASE_URL) whose pool tries a
    connection before handing it out if it sat unused (`PING_AFTER_IDLE`): one that died with
    a PostgreSQL restart is replaced instead of failing the transaction. `autocommit`: its
    connections stay in autocommit, for `UnitOfWork.autocommit` (a connection switched to it and
    back costs a round trip to reset)."""
    settings = get_settings()
    engine = create_engine(
        url or settings.database_url,
        **({"isolation_level": "AUTOCOMMIT"} if autocommit else {}),
        pool_size=pool_size or settings.database_pool_size,
        max_overflow=10,
        # The connection given back last is handed out first. First in, first out (the default)
        # hands out the one unused longest: with pools as large as the workers, at a few
        # transactions a second nearly every checkout found its connection idle past
        # PING_AFTER_IDLE and paid the ping (7% of notify's time on file movements).
        pool_use_lifo=True,
        future=True,
    )
    event.listen(engine, "checkin", _note_checkin)
    event.listen(engine, "checkout", _ping_if_idle)
    return engine


def _note_checkin(dbapi_connection, record) -> None:
    record.info["checked_in"] = time.monotonic()


def _ping_if_idle(dbapi_connection, record, proxy) -> None:
    if time.monotonic() - record.info.get("checked_in", float("-inf")) <= PING_AFTER_IDLE:
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SELECT 1")
    except Exception as error:
        # The pool discards this connection and checks out another (a fresh one if need be).
        raise exc.DisconnectionError(f"pooled connection is dead: {error}") from error
    finally:
        try:
            cursor.close()
        except Exception:  # noqa: BLE001  (a dead connection's cursor may refuse to close)
            pass


def database_away(error: BaseException) -> Unavailable | None:
    """The `Unavailable` (503, retry with the same key) to answer for a database error that
    means PostgreSQL is away or restarting (no connection, shutting down, the connection lost
    mid-transaction), or None for any other error. The transaction was rolled back, so a retry
    is safe; a 500 would tell the caller the request itself was wrong."""
    if isinstance(error, exc.DBAPIError) and (error.connection_invalidated or isinstance(error, exc.OperationalError)):
        return Unavailable(f"the database is not answering ({type(error.orig).__name__}); try again in a moment")
    return None


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

    def __init__(self, engine: Engine, *, reader: Engine | None = None):
        self.engine, self.reader = engine, reader
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
    def autocommit(self) -> Iterator[Connection | Session]:
        """A connection of `reader` (an engine made with `make_engine(autocommit=True)`) on
        which each statement commits as it ends: one round trip a statement, not three (no BEGIN
        and COMMIT around it). For one statement, which is atomic on its own (a read, an upsert,
        an `UPDATE ... RETURNING`), or statements each of which stands alone: nothing rolls
        back together, and two statements may see different snapshots. Without a reader, a
        transaction."""
        if self.reader is None:
            with self.transaction() as session:
                yield session
            return
        with self.reader.connect() as connection:
            yield connection

    def dispose(self) -> None:
        """Closes the pooled connections of the engine and of the reader."""
        for engine in (self.engine, self.reader):
            if engine is not None:
                engine.dispose()

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
        # A connection for every worker at once (and one for a timer or two): a smaller pool
        # closes its overflow connections on return, so under load each transaction beyond
        # the pool's size paid for a new PostgreSQL connection (a process forked on the server).
        size = max(get_settings().database_pool_size, self.container.max_workers + 2)
        url = self.container.config.get("DATABASE_URL")
        # The reader's connections are opened only when `autocommit` is first used.
        self.uow = UnitOfWork(
            make_engine(url, pool_size=size), reader=make_engine(url, pool_size=size, autocommit=True)
        )

    def stop(self):
        self.uow.dispose()

    def get_dependency(self, worker_ctx) -> UnitOfWork:
        return self.uow

    if TYPE_CHECKING:
        # nameko sets each worker's attribute to what get_dependency returns: tell mypy so.
        def __get__(self, instance: object, owner: type | None = None) -> UnitOfWork: ...
