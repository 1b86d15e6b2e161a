"""Idempotency keys scoped to the caller (`eoffice.idempotency`). A file no longer keeps the key
that opened it: that key was unique across all callers, so one person's key found (or blocked)
another's file."""
from alembic import op

from eoffice.migrate import create_idempotency_table

revision = "0003"
down_revision = "0002"


def upgrade():
    create_idempotency_table(op.get_bind(), "files")
    # IF EXISTS: 0002 creates `files` from the models, which no longer have the column.
    op.execute("ALTER TABLE files.files DROP COLUMN IF EXISTS idempotency_key")
