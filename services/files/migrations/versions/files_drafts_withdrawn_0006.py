"""A draft can be withdrawn before it is issued: who withdrew it, when and why."""
from alembic import op

revision = "files_drafts_withdrawn_0006"
down_revision = "files_housekeeping_0001"


def upgrade():
    for column, kind in (("withdrawn_by", "VARCHAR(40)"), ("withdrawn_post", "VARCHAR(60)"),
                         ("withdrawn_at", "TIMESTAMP WITH TIME ZONE"), ("withdrawn_remarks", "TEXT")):
        op.execute(f"ALTER TABLE files.drafts ADD COLUMN IF NOT EXISTS {column} {kind}")
