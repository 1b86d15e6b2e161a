"""Indexes on the times by which old bookkeeping rows are forgotten (eoffice.housekeeping)."""
from eoffice.migrate import create_housekeeping_indexes

revision = "signing_housekeeping_0001"
down_revision = ("signing_keys_0002", "signing_letters_0003")


def upgrade():
    create_housekeeping_indexes("signing")
