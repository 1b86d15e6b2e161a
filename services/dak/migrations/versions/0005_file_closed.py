"""A receipt in a file counts as disposed for its sender once the file is closed: dak keeps
the file's closed state on each receipt it holds (set from files' closed/reopened events)."""
from alembic import op

revision = "dak_file_closed_0005"
down_revision = "0004"


def upgrade():
    op.execute("ALTER TABLE dak.receipts ADD COLUMN IF NOT EXISTS file_closed boolean NOT NULL DEFAULT false")
