"""Indexes on the times by which old bookkeeping rows are forgotten (eoffice.housekeeping)."""
from eoffice.migrate import create_housekeeping_indexes

revision = "directory_housekeeping_0001"
down_revision = "directory_import_jobs_0001"


def upgrade():
    create_housekeeping_indexes("directory")
