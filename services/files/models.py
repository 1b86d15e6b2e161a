"""Tables of the files service, all in its own PostgreSQL schema `files`."""
from sqlalchemy import MetaData

from eoffice.messaging import messaging_tables

metadata = MetaData(schema="files")
outbox, inbox = messaging_tables(metadata)
