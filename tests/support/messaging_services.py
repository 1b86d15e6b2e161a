"""Two small services built only from the shared messaging parts, for testing those parts
against the real broker and database:

- `test_clerk` records a note and its event in one transaction, through the outbox;
- `test_tally` handles those events idempotently, and has a handler that always fails.

Run with `nameko run tests.support.messaging_services:ClerkService` (and `:TallyService`)."""
from __future__ import annotations

from nameko.rpc import rpc
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert

from eoffice.db import Database
from eoffice.events import EventPayload
from eoffice.messaging import Outbox, first_time, messaging_tables, reliable_handler
from eoffice.settings import get_settings


class NoteRecorded(EventPayload):
    event_type = "eoffice.test.note-recorded.v1"
    key: str


class DoomedNote(EventPayload):
    event_type = "eoffice.test.doomed.v1"
    key: str


clerk_metadata = MetaData(schema="test_clerk")
notes = Table("notes", clerk_metadata, Column("key", String(100), primary_key=True))
clerk_outbox, clerk_inbox = messaging_tables(clerk_metadata)

tally_metadata = MetaData(schema="test_tally")
seen = Table("seen", tally_metadata, Column("event_id", String(36), primary_key=True),
             Column("key", String(100), nullable=False))
attempts = Table("attempts", tally_metadata, Column("id", Integer, primary_key=True, autoincrement=True),
                 Column("key", String(100), nullable=False))
tally_outbox, tally_inbox = messaging_tables(tally_metadata)


class ClerkService:
    name = "test_clerk"
    db = Database()
    outbox = Outbox(clerk_outbox)

    @rpc
    def record(self, key: str, doomed: bool = False) -> str:
        """Stores a note and its event together; returns the event id."""
        with self.db.transaction() as session:
            session.execute(insert(notes).values(key=key))
            payload = DoomedNote(key=key) if doomed else NoteRecorded(key=key)
            return self.outbox.add(session, payload, subject=key).id


class TallyService:
    name = "test_tally"
    db = Database()

    @reliable_handler("test_clerk", NoteRecorded.event_type)
    def count(self, event):
        with self.db.transaction() as session:
            if first_time(session, tally_inbox, event_id=event.id, handler="test_tally.count"):
                session.execute(insert(seen).values(event_id=event.id, key=event.payload(NoteRecorded).key))

    @reliable_handler("test_clerk", DoomedNote.event_type)
    def doomed(self, event):
        # Count the attempt outside the handler's transaction, which the failure rolls back.
        engine = create_engine(get_settings().database_url)
        with engine.begin() as conn:
            conn.execute(insert(attempts).values(key=event.payload(DoomedNote).key))
        engine.dispose()
        raise RuntimeError(f"cannot file note {event.payload(DoomedNote).key}")
