"""Scans and their text, corrections, and the rest of a receipt's metadata and state: sender
details, category, VIP, status, priority and due date, physical receipt received, public
tracking code, copies."""
from alembic import op
from sqlalchemy import Column

from services.dak.models import corrections, movements, receipts, scans

revision = "0003"
down_revision = "0002"

NEW_RECEIPT_COLUMNS = ("sender_organisation", "sender_email", "sender_mobile", "category", "vip", "remarks",
                       "received", "status", "file_id", "priority", "due_date", "moved", "tracking_code", "copy_of")


def _column(table, name: str) -> Column:
    column = table.c[name]
    return Column(name, column.type, nullable=column.nullable, server_default=column.server_default)


def upgrade():
    for name in NEW_RECEIPT_COLUMNS:
        op.add_column("receipts", _column(receipts, name), schema="dak")
    op.create_unique_constraint("receipts_tracking_code_key", "receipts", ["tracking_code"], schema="dak")
    # Receipts diarised before this revision get a tracking code too.
    op.execute("UPDATE dak.receipts SET tracking_code = upper(substr(md5(random()::text || id), 1, 12)),"
               " moved = EXISTS (SELECT 1 FROM dak.movements m WHERE m.receipt_id = receipts.id"
               " AND m.action = 'sent'), received = opened OR NOT physical")
    for name in ("priority", "due_date"):
        op.add_column("movements", _column(movements, name), schema="dak")
    for table in (scans, corrections):
        table.create(op.get_bind())
