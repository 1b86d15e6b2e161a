"""Tables of the search service, all in its own PostgreSQL schema `search`."""

from sqlalchemy import MetaData

from eoffice.messaging import messaging_tables

metadata = MetaData(schema="search")
outbox, inbox = messaging_tables(metadata)
