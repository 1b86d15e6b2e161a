"""How far the reading of a document has gone: when the OCR worker began its current attempt
(`ocr_started_at`; null while it waits in the queue) and how many of its pages are read
(`pages_read`), shown with the receipt while its text is pending."""
from alembic import op

revision = "dak_ocr_progress_0009"
down_revision = "dak_sent_by_post_0008"


def upgrade():
    op.execute("ALTER TABLE dak.scans ADD COLUMN IF NOT EXISTS ocr_started_at timestamptz")
    op.execute("ALTER TABLE dak.scans ADD COLUMN IF NOT EXISTS pages_read integer NOT NULL DEFAULT 0")
