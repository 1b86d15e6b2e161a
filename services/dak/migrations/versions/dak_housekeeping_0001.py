"""Indexes on the times by which old bookkeeping rows are forgotten (eoffice.housekeeping)."""
from eoffice.migrate import create_housekeeping_indexes

revision = "dak_housekeeping_0001"
down_revision = "dak_file_closed_as_of_0006"


def upgrade():
    create_housekeeping_indexes("dak")
