"""Indexes on the times by which old bookkeeping rows are forgotten (eoffice.housekeeping)."""
from eoffice.migrate import create_housekeeping_indexes

revision = "search_housekeeping_0001"
down_revision = "search_pending_0004"


def upgrade():
    create_housekeeping_indexes("search")
