"""Levels to a decision (DOMAIN.md: a file should pass through at most four): where each file's
current round started if at a decision, how many levels it has gone up through since, and on a
send the count after it. Also joins the two heads before it.

Files in their first round count from their creator (NULL round_post). A file decided on before
(its last draft approval or reopening, whichever is later) counts from the post that approved
the draft or got the file back. The supervisor chains are the directory's, so the levels a file
went up through before this migration are not known here: every file starts at 0, and its next
send up counts from where its round started (a file held by the round's fourth level and sent to
the fifth is counted at five). The over_four_levels report's partial index is built concurrently."""
from alembic import op

from eoffice.migrate import create_indexes
from services.files import models

# Each file decided on before: its round starts at its last decision (tests/integration/test_files_levels.py).
ROUND_POSTS = """
    UPDATE files.files AS f SET round_post = decided.post
    FROM (
        SELECT DISTINCT ON (file_id) file_id, post FROM (
            SELECT file_id, to_post AS post, at FROM files.movements WHERE action = 'reopened'
            UNION ALL
            SELECT file_id, approved_post, approved_at FROM files.drafts WHERE approved_at IS NOT NULL
        ) AS decisions
        ORDER BY file_id, at DESC
    ) AS decided
    WHERE decided.file_id = f.id AND f.round_post IS NULL
"""

revision = "files_levels_0007"
down_revision = ("files_drafts_withdrawn_0006", "files_skipped_0006")


def upgrade():
    op.execute("ALTER TABLE files.files ADD COLUMN IF NOT EXISTS round_post VARCHAR(60)")
    op.execute("ALTER TABLE files.files ADD COLUMN IF NOT EXISTS levels_to_decision INTEGER NOT NULL DEFAULT 0")
    op.execute("ALTER TABLE files.movements ADD COLUMN IF NOT EXISTS levels_to_decision INTEGER")
    op.execute(ROUND_POSTS)
    create_indexes(*(index for index in models.files.indexes if index.name == "files_over_four_levels"))
