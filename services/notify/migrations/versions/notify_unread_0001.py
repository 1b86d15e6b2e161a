"""An index of the unread notifications alone, by post and kind: every opening of the
notifications list counts a post's unread ones (repository.unread_count), and without it the
count walked the post's every notification, or the table."""
from eoffice.migrate import create_indexes
from services.notify.people_tables import notifications

revision = "notify_unread_0001"
down_revision = "notify_housekeeping_0002"


def upgrade():
    create_indexes(*(index for index in notifications.indexes if index.name == "notifications_unread"))
