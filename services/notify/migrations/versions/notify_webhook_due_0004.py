"""Each subscription's pending deliveries in the order they go (issue 14): `subscriptions.due`
walks them oldest first and stops after a batch, instead of reading and sorting every pending
delivery of the subscription each round (which grew with the backlog)."""

from alembic import op

revision = "notify_webhook_due_0004"
down_revision = "notify_portal_order_0003"


def upgrade():
    op.execute(
        "CREATE INDEX IF NOT EXISTS deliveries_due ON notify.deliveries (subscription_id, event_time, id)"
        " WHERE state = 'pending'"
    )


def downgrade():
    op.execute("DROP INDEX IF EXISTS notify.deliveries_due")
