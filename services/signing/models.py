"""Tables of the signing service, all in its own PostgreSQL schema `signing`."""

from sqlalchemy import MetaData

from eoffice.messaging import messaging_tables

metadata = MetaData(schema="signing")
outbox, inbox = messaging_tables(metadata)
