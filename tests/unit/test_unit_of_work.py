"""The one command path (`eoffice.db.UnitOfWork.changes`, `eoffice.idempotency.command`): a
step's change and the events it raised are stored in one commit or not at all, once per key.

Runs on SQLite in memory (SQLAlchemy's own, no server) with the real outbox and idempotency
tables and the real `record_event`; PostgreSQL runs the same code in tests/integration."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, event, insert, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.pool import StaticPool

from eoffice.actor import Actor
from eoffice.db import UnitOfWork
from eoffice.errors import Conflict, InvalidInput
from eoffice.events import EventPayload
from eoffice.idempotency import command, idempotency_table
from eoffice.messaging import messaging_tables, record_event


@compiles(JSONB, "sqlite")
def _jsonb_on_sqlite(type_, compiler, **kw):
    return "JSON"


class FileSent(EventPayload):
    event_type = "test.file.sent.v1"
    file_id: str
    to_post: str


CLERK = Actor(user_id="UP1", post_id="SO-GAD", office_id="GAD")
metadata = MetaData()
keys = idempotency_table(metadata)
outbox, _ = messaging_tables(metadata)
movements = Table("movements", metadata, Column("id", Integer, primary_key=True), Column("file_id", String),
                  Column("to_post", String))


@pytest.fixture
def uow() -> UnitOfWork:
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    # PostgreSQL's clock_timestamp(), which record_event stamps an event with.
    event.listen(engine, "connect", lambda connection, _: connection.create_function(
        "clock_timestamp", 0, lambda: datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")))
    metadata.create_all(engine)
    return UnitOfWork(engine)


def record(session, payload, subject):
    return record_event(session, outbox, service="files", payload=payload, subject=subject)


def stored(uow: UnitOfWork) -> tuple[list, list]:
    with uow.transaction() as session:
        return (session.execute(select(movements.c.file_id, movements.c.to_post).order_by(movements.c.id)).all(),
                [(row.type, row.envelope["subject"], row.envelope["data"]) for row in session.execute(
                    select(outbox.c.type, outbox.c.envelope).order_by(outbox.c.created_at))])


def send(file_id: str, to_post: str, *, fail: bool = False):
    """A domain step: writes a movement and raises its event; `fail` refuses after both."""
    def step(changes):
        changes.session.execute(insert(movements).values(file_id=file_id, to_post=to_post))
        changes.raise_event(FileSent(file_id=file_id, to_post=to_post), subject=file_id)
        if fail:
            raise Conflict(f"file {file_id} changed meanwhile")
        return {"file_id": file_id, "to_post": to_post}
    return step


def test_the_change_and_its_events_are_stored_in_one_commit(uow):
    with uow.changes(record) as changes:
        send("F-1", "US-GAD")(changes)
        changes.raise_event(FileSent(file_id="F-1", to_post="DS-GAD"), subject="F-1")
    moves, events = stored(uow)
    assert moves == [("F-1", "US-GAD")]
    assert [(t, s, d["to_post"]) for t, s, d in events] == [("test.file.sent.v1", "F-1", "US-GAD"),
                                                            ("test.file.sent.v1", "F-1", "DS-GAD")]


def test_a_step_that_fails_leaves_neither_change_nor_event(uow):
    with pytest.raises(Conflict):
        with uow.changes(record) as changes:
            send("F-1", "US-GAD", fail=True)(changes)
    assert stored(uow) == ([], [])


def test_events_are_collected_once():
    from eoffice.db import Changes
    changes = Changes(session=None)
    changes.raise_event(FileSent(file_id="F-1", to_post="US-GAD"))
    assert [p.to_post for p, _ in changes.collect_new_events()] == ["US-GAD"]
    assert list(changes.collect_new_events()) == []


def run(uow, key: str, request, step):
    return command(uow, record=record, table=keys, actor=CLERK, operation="files.send", key=key, request=request,
                   step=step)


def test_a_retried_command_answers_as_the_first_and_raises_no_event_again(uow):
    first = run(uow, "k-1", ["F-1", "US-GAD"], send("F-1", "US-GAD"))
    again = run(uow, "k-1", ["F-1", "US-GAD"], send("F-1", "US-GAD"))
    assert again == first == {"file_id": "F-1", "to_post": "US-GAD"}
    moves, events = stored(uow)
    assert len(moves) == 1 and len(events) == 1


def test_a_key_used_for_another_request_is_refused_and_changes_nothing(uow):
    run(uow, "k-1", ["F-1", "US-GAD"], send("F-1", "US-GAD"))
    with pytest.raises(InvalidInput, match="used before for a different request"):
        run(uow, "k-1", ["F-1", "DS-GAD"], send("F-1", "DS-GAD"))
    moves, events = stored(uow)
    assert moves == [("F-1", "US-GAD")] and len(events) == 1


def test_a_failed_command_gives_its_key_back(uow):
    with pytest.raises(Conflict):
        run(uow, "k-1", ["F-1", "US-GAD"], send("F-1", "US-GAD", fail=True))
    assert stored(uow) == ([], [])
    assert run(uow, "k-1", ["F-1", "US-GAD"], send("F-1", "US-GAD")) == {"file_id": "F-1", "to_post": "US-GAD"}
    assert len(stored(uow)[1]) == 1
