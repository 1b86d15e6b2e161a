"""Diary counters, receipts and their movements, as first released.

The tables are spelled out here rather than taken from `models.py`, so that later revisions
(which add to them) apply on top of exactly this."""
from alembic import op
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)

revision = "0002"
down_revision = "0001"

metadata = MetaData(schema="dak")
diary_counters = Table(
    "diary_counters", metadata,
    Column("office_code", String(40), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("last_serial", Integer, nullable=False),
)
receipts = Table(
    "receipts", metadata,
    Column("id", String(36), primary_key=True),
    Column("diary_number", String(80), nullable=False, unique=True),
    Column("office_code", String(40), nullable=False),
    Column("year", Integer, nullable=False),
    Column("serial", Integer, nullable=False),
    Column("subject", Text, nullable=False),
    Column("sender_name", Text, nullable=False),
    Column("sender_address", Text, nullable=False, server_default=""),
    Column("letter_number", Text, nullable=False, server_default=""),
    Column("letter_date", Date),
    Column("received_date", Date, nullable=False),
    Column("mode", String(10), nullable=False),
    Column("language", String(10), nullable=False),
    Column("security_grading", String(20), nullable=False),
    Column("physical", Boolean, nullable=False),
    Column("holder_post", String(60), nullable=False, index=True),
    Column("opened", Boolean, nullable=False, server_default="false"),
    Column("diarised_by", String(40), nullable=False),
    Column("idempotency_key", String(100), unique=True),
    Column("diarised_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("office_code", "year", "serial", name="diary_serial_once"),
)
movements = Table(
    "movements", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("receipt_id", String(36), ForeignKey("dak.receipts.id"), nullable=False, index=True),
    Column("action", String(20), nullable=False),
    Column("from_post", String(60)),
    Column("to_post", String(60), nullable=False),
    Column("by_user", String(40), nullable=False),
    Column("remarks", Text, nullable=False, server_default=""),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


def upgrade():
    for table in (diary_counters, receipts, movements):
        table.create(op.get_bind())
