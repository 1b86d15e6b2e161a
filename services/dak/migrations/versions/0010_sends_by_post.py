"""The index of a post's sends for its Sent list takes the copies it marked too
(movements_sends_by_post: action 'sent', 'forwarded' or 'copied'), as the list now does; the one
of sends and forwards alone (movements_sent_by_post), which the list's statement can no longer
use, is dropped. Both concurrently: the services' writes go on meanwhile."""

from alembic import op

from eoffice.migrate import create_indexes
from services.dak.models import movements

revision = "dak_sends_by_post_0010"
down_revision = "dak_ocr_progress_0009"


def upgrade():
    create_indexes(*(index for index in movements.indexes if index.name == "movements_sends_by_post"))
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS dak.movements_sent_by_post")
