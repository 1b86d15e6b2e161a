"""Indexes on the times by which old bookkeeping rows are forgotten (eoffice.housekeeping)."""
from eoffice.migrate import create_housekeeping_indexes

revision = "notify_housekeeping_0001"
down_revision = ("notify_dispatch_0003", "notify_partial_indexes_0006")


def upgrade():
    create_housekeeping_indexes("notify")
