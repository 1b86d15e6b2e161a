"""The gateway's own tables, in schema `gateway` (sign-in sessions and their refresh tokens),
and the string type every request model uses."""
from sqlalchemy import Column, DateTime, MetaData, String, Table, func

from eoffice.validation import Text  # noqa: F401  (re-exported for the request models)

metadata = MetaData(schema="gateway")

# One row per refresh token. Rotation makes a new row in the same family; presenting a rotated
# token again (a stolen copy) revokes the whole family.
sessions = Table(
    "sessions", metadata,
    Column("id", String(36), primary_key=True),
    Column("family", String(36), nullable=False, index=True),
    Column("employee_id", String(40), nullable=False),
    Column("post_code", String(60), nullable=False),
    Column("refresh_sha256", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("rotated_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
)
