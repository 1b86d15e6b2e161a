"""Pending items retried with backoff (`next_try`), and given up (`abandoned_at`) when their
owner has answered without them (`unlisted_since`) for EOFFICE_SEARCH_GIVE_UP_AFTER seconds: an
issued letter files never adds. Abandoned rows stay, for the consistency check to report."""

import sqlalchemy as sa
from alembic import op

revision = "search_pending_0004"
down_revision = "search_letters_0003"


def upgrade():
    op.add_column(
        "pending",
        sa.Column("next_try", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema="search",
    )
    op.add_column("pending", sa.Column("unlisted_since", sa.DateTime(timezone=True)), schema="search")
    op.add_column("pending", sa.Column("abandoned_at", sa.DateTime(timezone=True)), schema="search")


def downgrade():
    op.drop_column("pending", "abandoned_at", schema="search")
    op.drop_column("pending", "unlisted_since", schema="search")
    op.drop_column("pending", "next_try", schema="search")
