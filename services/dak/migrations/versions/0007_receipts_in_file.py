"""An index of the receipts put in a file, by file: search asks for a moved file's receipts (their
documents carry the file's readers), and a file's closing marks its receipts; both walked the
whole table without it."""

from eoffice.migrate import create_indexes
from services.dak.models import receipts

revision = "dak_receipts_in_file_0007"
down_revision = "dak_housekeeping_0001"


def upgrade():
    create_indexes(*(index for index in receipts.indexes if index.name == "receipts_in_file"))
