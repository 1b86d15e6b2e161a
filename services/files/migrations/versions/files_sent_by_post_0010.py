"""An index of each post's sends (movements_sent_by_post: from_post, file_id, id of the movements
of action 'sent'): a post's Sent list (GET /files/sent) takes each file's latest send by the post
from it alone, where it read every movement of the state. Built concurrently, if not there."""

from eoffice.migrate import create_indexes
from services.files.models import movements

revision = "files_sent_by_post_0010"
down_revision = "files_levels_undo_0009"


def upgrade():
    create_indexes(*(index for index in movements.indexes if index.name == "movements_sent_by_post"))
