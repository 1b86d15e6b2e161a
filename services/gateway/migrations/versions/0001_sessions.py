"""Sign-in sessions."""
from alembic import op

from services.gateway.models import sessions

revision = "0001"
down_revision = None


def upgrade():
    sessions.create(op.get_bind())
