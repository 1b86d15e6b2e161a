"""Idempotency keys (`eoffice.idempotency`) for notify's calls that a retry must not do twice:
the rotation of a portal's signing secret, whose retry used to make a third secret."""

from alembic import op

from eoffice.migrate import create_idempotency_table

revision = "notify_idempotency_0001"
down_revision = "notify_skipped_0001"


def upgrade():
    create_idempotency_table(op.get_bind(), "notify")


def downgrade():
    op.execute("DROP TABLE IF EXISTS notify.idempotency_keys")
