"""Rate-limit counters shared by the gateway's worker processes."""
from alembic import op

from services.gateway.models import rate_counters

revision = "0002"
down_revision = "0001"


def upgrade():
    rate_counters.create(op.get_bind())
