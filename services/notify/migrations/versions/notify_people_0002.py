"""Notifying people: notifications to posts, preferences, e-mails and SMS, digests, where each
receipt and file is, and the reminders sent."""
from alembic import op

from services.notify.people_tables import digests, messages, notifications, preferences, reminders, whereabouts

revision = "notify_people_0002"
down_revision = "0001"


def upgrade():
    bind = op.get_bind()
    for table in (notifications, preferences, messages, digests, whereabouts, reminders):
        table.create(bind, checkfirst=True)
