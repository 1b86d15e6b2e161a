"""A pull back undoes a send's levels to a decision: each send's movement keeps the file's levels
before it (movements.levels_before), which a pull back of that send restores (files.levels_to_decision,
so the over_four_levels report drops a file pulled back below its fifth level).

Sends recorded before this have none: the levels before them are not known here (a decision between
two sends is not a movement), so a pull back of such a send leaves the file's levels as they are, as
it did before. Only sends made from now on are undone."""
from alembic import op

revision = "files_levels_undo_0009"
down_revision = "files_links_0008"


def upgrade():
    op.execute("ALTER TABLE files.movements ADD COLUMN IF NOT EXISTS levels_before INTEGER")
