"""A green note records its signature (services/files/notesheet.py: sign, link). IF NOT EXISTS:
0002 creates `notes` from the models, which have the columns on a fresh database."""
from alembic import op

revision = "files_note_signatures_0004"
down_revision = "0003"


def upgrade():
    for column in ("signature_sha256 VARCHAR(64)", "signature_record TEXT", "signature_version TEXT",
                   "signed_by_user VARCHAR(40)", "signed_at TIMESTAMP WITH TIME ZONE"):
        op.execute(f"ALTER TABLE files.notes ADD COLUMN IF NOT EXISTS {column}")
