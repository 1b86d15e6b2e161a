"""Issued letters: the dispatch register's counters and its letters (services/signing/register.py),
and the service's idempotency keys (created only if another revision has not made them)."""
from alembic import op
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB

from eoffice.idempotency import idempotency_table

revision = "signing_letters_0002"
down_revision = "0001"

metadata = MetaData(schema="signing")
Table(
    "dispatch_counters", metadata,
    Column("office_code", String(40), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("last_serial", Integer, nullable=False),
)
Table(
    "letters", metadata,
    Column("id", String(36), primary_key=True),
    Column("letter_number", String(120), nullable=False, unique=True),
    Column("office_code", String(40), nullable=False),
    Column("year", Integer, nullable=False),
    Column("serial", Integer, nullable=False),
    Column("file_id", String(36), nullable=False, index=True),
    Column("file_number", String(200), nullable=False),
    Column("draft_id", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("title", Text, nullable=False),
    Column("record_category", String(1), nullable=False),
    Column("signer_user", String(40), nullable=False),
    Column("signer_post", String(60), nullable=False),
    Column("signer_name", Text, nullable=False),
    Column("signer_designation", Text, nullable=False),
    Column("key_path", String(20), nullable=False),
    Column("certificate_sha256", String(64), nullable=False),
    Column("level", String(6), nullable=False),
    Column("addressees", JSONB, nullable=False),
    Column("object_name", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("pages", Integer, nullable=False),
    Column("record_version", Text),
    Column("retain_until", DateTime(timezone=True), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("draft_id", "version", name="one_letter_per_draft_version"),
    UniqueConstraint("office_code", "year", "serial", name="dispatch_serial_once"),
)


def upgrade():
    bind = op.get_bind()
    metadata.create_all(bind)
    idempotency_table(MetaData(schema="signing")).create(bind, checkfirst=True)
