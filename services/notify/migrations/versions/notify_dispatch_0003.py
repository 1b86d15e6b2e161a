"""Dispatch of issued letters by e-mail: the letters and each addressee's dispatch."""
from alembic import op

from services.notify.people_tables import dispatches, letters

revision = "notify_dispatch_0003"
down_revision = "notify_people_0002"


def upgrade():
    bind = op.get_bind()
    for table in (letters, dispatches):
        table.create(bind, checkfirst=True)
