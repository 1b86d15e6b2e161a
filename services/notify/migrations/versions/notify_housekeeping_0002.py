"""Indexes on the times by which notify's logs are forgotten (eoffice.housekeeping): read
notifications, daily digests sent, delivered portal deliveries (their attempts are found through
them). The e-mails and SMS sent are found by `messages_due` (status, not_before)."""
from eoffice.migrate import create_indexes
from services.notify.people_tables import digests, notifications
from services.notify.subscription_tables import deliveries

revision = "notify_housekeeping_0002"
down_revision = "notify_housekeeping_0001"


def upgrade():
    create_indexes(
        *(index for index in notifications.indexes if index.name == "notifications_read_at"),
        *digests.indexes,
        *deliveries.indexes,
    )
