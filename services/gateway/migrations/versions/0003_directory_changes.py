"""The counter of directory changes made through the gateway (see models.directory_changes)."""
from alembic import op
from sqlalchemy import select
from sqlalchemy.schema import CreateSequence

from services.gateway.models import directory_changes

revision = "0003"
down_revision = "0002"


def upgrade():
    op.execute(CreateSequence(directory_changes))
    # A new sequence's first nextval leaves last_value as it was: take it once here, so every
    # later bump changes what the requests read.
    op.execute(select(directory_changes.next_value()))
