"""An index on when each sign-in was attempted: the sign-in log is forgotten by it after its
keeping time (eoffice.housekeeping)."""
from eoffice.migrate import create_indexes
from services.directory.models import sign_in_log

revision = "directory_housekeeping_0002"
down_revision = "directory_housekeeping_0001"


def upgrade():
    create_indexes(*sign_in_log.indexes)
