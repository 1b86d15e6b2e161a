"""Indexes on the times by which old bookkeeping rows are forgotten (eoffice.housekeeping)."""
from eoffice.migrate import create_housekeeping_indexes

revision = "files_housekeeping_0001"
down_revision = ("files_dispatch_0005", "files_note_signatures_0004")


def upgrade():
    create_housekeeping_indexes("files")
