"""Offices, holidays, posts, users, postings, delegations and the sign-in log."""
from alembic import op

from services.directory.models import (delegations, holidays, offices, postings, posts, sign_in_log,
                                       users)

revision = "0002"
down_revision = "0001"


def upgrade():
    bind = op.get_bind()
    for table in (offices, holidays, posts, users, postings, delegations, sign_in_log):
        table.create(bind)
