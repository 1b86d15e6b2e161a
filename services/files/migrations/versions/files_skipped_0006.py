"""The levels a send skipped: a file sent up past the sender's direct supervisor records the
posts in between on its movement (they are informed, and may read the file)."""
from alembic import op

revision = "files_skipped_0006"
down_revision = "files_housekeeping_0001"


def upgrade():
    op.execute("ALTER TABLE files.movements ADD COLUMN IF NOT EXISTS skipped VARCHAR(60)[] NOT NULL DEFAULT '{}'")
