"""Tables of the dak service, all in its own PostgreSQL schema `dak`."""
from sqlalchemy import MetaData

from eoffice.messaging import messaging_tables

metadata = MetaData(schema="dak")
outbox, inbox = messaging_tables(metadata)
