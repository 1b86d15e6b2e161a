"""Tables of the notify service, all in its own PostgreSQL schema `notify`."""

from sqlalchemy import MetaData

from eoffice.messaging import messaging_tables

metadata = MetaData(schema="notify")
outbox, inbox = messaging_tables(metadata)
