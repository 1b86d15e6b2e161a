"""An index of the revoked session rows by family: every request asks whether its session's
family is revoked (auth.SESSION_STANDS), and without it the answer read every row of the family."""
from eoffice.migrate import create_indexes
from services.gateway.models import sessions

revision = "0005"
down_revision = "0004"


def upgrade():
    create_indexes(*(index for index in sessions.indexes if index.name == "sessions_revoked_by_family"))
