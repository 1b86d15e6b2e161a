"""Diary counters, receipts and their movements."""
from alembic import op

from services.dak.models import diary_counters, movements, receipts

revision = "0002"
down_revision = "0001"


def upgrade():
    for table in (diary_counters, receipts, movements):
        table.create(op.get_bind())
