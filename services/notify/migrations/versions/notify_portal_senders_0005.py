"""Several notify processes share the portal subscriptions evenly: each says it is alive in
`portal_senders` (services/notify/portals.py)."""

from alembic import op

from services.notify.subscription_tables import senders

revision = "notify_portal_senders_0005"
down_revision = "notify_webhook_due_0004"


def upgrade():
    senders.create(op.get_bind(), checkfirst=True)


def downgrade():
    senders.drop(op.get_bind(), checkfirst=True)
