"""Tables of the search service, all in its own PostgreSQL schema `search`."""

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, func

from eoffice.messaging import messaging_tables

metadata = MetaData(schema="search")
outbox, inbox = messaging_tables(metadata)

# Items an event named and the index does not reflect yet (see migrations/search_index_0002).
pending = Table(
    "pending",
    metadata,
    Column("kind", String(10), primary_key=True),
    Column("item_id", String(80), primary_key=True),  # a letter: file_id:letter_id (search_letters_0003)
    Column("since", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    # Not tried again before `next_try` (backoff); given up at `abandoned_at` when its owner has
    # answered without it since `unlisted_since` for too long (search_pending_0004).
    Column("next_try", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("unlisted_since", DateTime(timezone=True)),
    Column("abandoned_at", DateTime(timezone=True)),
)
