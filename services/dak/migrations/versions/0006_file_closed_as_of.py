"""The file-closed flag on a receipt keeps the time of the files' event that set it: closed and
reopened events come on two queues, so a late one must not undo a newer one."""
from alembic import op

revision = "dak_file_closed_as_of_0006"
down_revision = "dak_file_closed_0005"


def upgrade():
    op.execute("ALTER TABLE dak.receipts ADD COLUMN IF NOT EXISTS file_closed_as_of timestamptz")
