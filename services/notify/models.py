"""Tables of the notify service, all in its own PostgreSQL schema `notify`."""

from sqlalchemy import MetaData

from eoffice.idempotency import idempotency_table
from eoffice.messaging import messaging_tables

metadata = MetaData(schema="notify")
outbox, inbox = messaging_tables(metadata)
# The keys of the admin's calls that are not safe to repeat as they are (a secret's rotation).
idempotency_keys = idempotency_table(metadata)
