"""Tables of the directory service, all in its own PostgreSQL schema `directory`."""
from sqlalchemy import MetaData

from eoffice.messaging import messaging_tables

metadata = MetaData(schema="directory")
outbox, inbox = messaging_tables(metadata)
