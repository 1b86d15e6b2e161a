"""An index of each post's sends and forwards (movements_sent_by_post: from_post, receipt_id, id of
the movements of action 'sent' or 'forwarded'): a post's Sent list (GET /receipts/sent) takes each
receipt's latest one by the post from it alone, where it read every movement of the state. Built
concurrently, if not there."""

from eoffice.migrate import create_indexes
from services.dak.models import movements

revision = "dak_sent_by_post_0008"
down_revision = "dak_receipts_in_file_0007"


def upgrade():
    create_indexes(*(index for index in movements.indexes if index.name == "movements_sent_by_post"))
