"""The deliveries' index by subject holds only the pending ones, and the dead letters get one of
their own (issue 14): every delivery was kept in the index by subject with its state, so marking
it delivered added an entry there too, and the index grew with every delivery ever made while
only the pending ones are looked up by subject."""

from alembic import op

revision = "notify_partial_indexes_0006"
down_revision = "notify_portal_senders_0005"


def upgrade():
    op.execute(
        "CREATE INDEX IF NOT EXISTS deliveries_pending_by_subject"
        " ON notify.deliveries (subscription_id, subject, event_time, id) WHERE state = 'pending'"
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS deliveries_dead ON notify.deliveries (subscription_id, event_time, id)"
        " WHERE state = 'dead'"
    )
    op.execute("DROP INDEX IF EXISTS notify.deliveries_pending")


def downgrade():
    op.execute(
        "CREATE INDEX IF NOT EXISTS deliveries_pending"
        " ON notify.deliveries (subscription_id, state, subject, event_time)"
    )
    op.execute("DROP INDEX IF EXISTS notify.deliveries_dead")
    op.execute("DROP INDEX IF EXISTS notify.deliveries_pending_by_subject")
