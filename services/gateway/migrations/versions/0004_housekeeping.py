"""An index on when each session's refresh token expires: sessions are forgotten by it
(eoffice.housekeeping)."""
from eoffice.migrate import create_indexes
from services.gateway.models import sessions

revision = "0004"
down_revision = "0003"


def upgrade():
    create_indexes(*(index for index in sessions.indexes if "expires_at" in index.columns))
