"""Offices, holidays, posts, users, postings, delegations and the sign-in log.

`users` and `sign_in_log` are spelled out as first released, so that 0004 (which changes
them) applies on top of exactly this; the other tables are as in `models.py`."""
from alembic import op
from sqlalchemy import Boolean, Column, DateTime, Integer, MetaData, String, Table, Text, func

from services.directory.models import delegations, holidays, offices, postings, posts

revision = "0002"
down_revision = "0001"

metadata = MetaData(schema="directory")
users = Table(
    "users", metadata,
    Column("employee_id", String(40), primary_key=True),
    Column("name_en", Text, nullable=False),
    Column("name_hi", Text, nullable=False),
    Column("email", String(200), nullable=False, unique=True),
    Column("mobile", String(15), nullable=False),
    Column("password_hash", Text),
    Column("failed_sign_ins", Integer, nullable=False, server_default="0"),
    Column("locked_until", DateTime(timezone=True)),
    Column("active", Boolean, nullable=False, server_default="true"),
)
sign_in_log = Table(
    "sign_in_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(200), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("outcome", String(20), nullable=False),
)


def upgrade():
    bind = op.get_bind()
    for table in (offices, holidays, posts, users, postings, delegations, sign_in_log):
        table.create(bind)
