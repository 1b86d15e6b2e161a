"""Portal subscriptions: subscriptions, their deliveries (an outbox each), the attempts log,
and what notify learned about receipts and files to filter and redact."""

from alembic import op

from services.notify.subscription_tables import attempts, deliveries, subject_facts, subscriptions

revision = "notify_subscriptions_0002"
down_revision = "0001"


def upgrade():
    bind = op.get_bind()
    for table in (subscriptions, deliveries, attempts, subject_facts):
        table.create(bind, checkfirst=True)
