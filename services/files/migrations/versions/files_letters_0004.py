"""Issued letters in the correspondence: the locked version of the signed PDF in the records
bucket (the signing service issues it; files adds it from eoffice.letter.issued.v1)."""
from alembic import op

revision = "files_letters_0004"
down_revision = "0003"


def upgrade():
    op.execute("ALTER TABLE files.correspondence ADD COLUMN IF NOT EXISTS record_version TEXT")
