"""Letters issued from a file's drafts and whether each is dispatched (rule 6: services/files/
casefile.py, close)."""
from alembic import op

revision = "files_dispatch_0005"
down_revision = "files_letters_0004"


def upgrade():
    op.execute("""
        CREATE TABLE IF NOT EXISTS files.letters (
            letter_id VARCHAR(36) PRIMARY KEY,
            file_id VARCHAR(36) NOT NULL,
            letter_number TEXT NOT NULL,
            draft_id INTEGER,
            issued_at TIMESTAMP WITH TIME ZONE,
            dispatched_at TIMESTAMP WITH TIME ZONE)""")
    op.execute("CREATE INDEX IF NOT EXISTS ix_files_letters_file_id ON files.letters (file_id)")
