"""Items waiting to be (re)indexed: an event names an item here first, so that nothing is lost
while Elasticsearch or the owning service is away; the catch-up timer empties it."""
import sqlalchemy as sa
from alembic import op

revision = "search_index_0002"
down_revision = "0001"


def upgrade():
    op.create_table(
        "pending",
        sa.Column("kind", sa.String(10), primary_key=True),  # receipt, file
        sa.Column("item_id", sa.String(60), primary_key=True),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        schema="search",
    )
    op.create_index("pending_since", "pending", ["since"], schema="search")
