"""Pending issued letters: their item id is `file_id:letter_id` (two UUIDs), longer than 60."""

import sqlalchemy as sa
from alembic import op

revision = "search_letters_0003"
down_revision = "search_index_0002"


def upgrade():
    op.alter_column("pending", "item_id", type_=sa.String(80), schema="search")


def downgrade():
    op.alter_column("pending", "item_id", type_=sa.String(60), schema="search")
