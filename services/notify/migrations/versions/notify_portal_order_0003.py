"""Portal deliveries recorded in order by several notify processes: the recorder lease of each
emitter's events (services/notify/portals.py)."""

from alembic import op

from services.notify.subscription_tables import recorders

revision = "notify_portal_order_0003"
down_revision = "notify_subscriptions_0002"


def upgrade():
    recorders.create(op.get_bind(), checkfirst=True)

