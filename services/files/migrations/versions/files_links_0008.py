"""Linked files move with their main file: each file linked (a `links` row of kind link) names its
main file in files.linked_to, read with the file's lock on every step, and a main file's linked
files are found by the partial index files_linked_to (built concurrently).

Links of kind link recorded before this were not held to the rules that make a file travel with
another (one post holds both, one main file per linked file, no chains, neither closed). Those
that keep them become travelling links; a linked file under two main files goes with the one it
was linked to first. The others are kept as references (they are still shown, and cite the file),
so that no file starts moving, or stops being sendable, for a link nobody could have meant that way."""
from alembic import op

from eoffice.migrate import create_indexes
from services.files import models

# Run twice, it changes nothing more (tests/integration/test_files_links.py).
TRAVELLING = """
    WITH candidate AS (
        SELECT DISTINCT ON (l.other_id) l.file_id, l.other_id
        FROM files.links AS l
        JOIN files.files AS m ON m.id = l.file_id
        JOIN files.files AS o ON o.id = l.other_id
        WHERE l.kind = 'link' AND l.file_id <> l.other_id AND m.holder_post = o.holder_post
          AND m.status IN ('open', 'parked') AND o.status IN ('open', 'parked')
        ORDER BY l.other_id, l.at, l.file_id
    ), travelling AS (
        SELECT c.file_id, c.other_id FROM candidate AS c
        WHERE c.other_id NOT IN (SELECT file_id FROM candidate) AND c.file_id NOT IN (SELECT other_id FROM candidate)
    ), moved AS (
        UPDATE files.files AS f SET linked_to = t.file_id FROM travelling AS t
        WHERE f.id = t.other_id AND f.linked_to IS DISTINCT FROM t.file_id
        RETURNING f.id
    )
    UPDATE files.links AS l SET kind = 'reference'
    WHERE l.kind = 'link'
      AND NOT EXISTS (SELECT 1 FROM travelling AS t WHERE t.file_id = l.file_id AND t.other_id = l.other_id)
"""

revision = "files_links_0008"
down_revision = "files_levels_0007"


def upgrade():
    op.execute("ALTER TABLE files.files ADD COLUMN IF NOT EXISTS linked_to VARCHAR(36) REFERENCES files.files (id)")
    op.execute(TRAVELLING)
    create_indexes(*(index for index in models.files.indexes if index.name == "files_linked_to"))
