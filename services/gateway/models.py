"""The gateway's own tables, in schema `gateway` (sign-in sessions and their refresh tokens,
rate-limit counters), and what its request and answer models share."""
from pydantic import ConfigDict
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    Sequence,
    String,
    Table,
    column,
    func,
    table,
    text,
)

from eoffice.validation import RequestModel, Text  # noqa: F401  (re-exported for the request models)

# The config of an answer built on a request model (a receipt on the letter diarised): a request
# refuses fields it does not name, but a service may well answer more than the caller asked.
ANSWER = ConfigDict(extra="ignore")

metadata = MetaData(schema="gateway")

# One row per refresh token. Rotation makes a new row in the same family; presenting a rotated
# token again (a stolen copy) revokes the whole family.
sessions = Table(
    "sessions", metadata,
    Column("id", String(36), primary_key=True),
    Column("family", String(36), nullable=False, index=True),
    Column("employee_id", String(40), nullable=False),
    Column("post_code", String(60), nullable=False),
    Column("refresh_sha256", String(64), nullable=False, unique=True),  # HMAC-SHA256 under the token secret
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),  # forgotten by it (eoffice.housekeeping)
    Column("rotated_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    # Whether a session's family is revoked, asked on every request (auth.SESSION_STANDS): an index
    # of the revoked rows alone, so the answer does not walk the family's rows.
    Index("sessions_revoked_by_family", "family", postgresql_where=text("revoked_at IS NOT NULL")),
)

# One row per rate-limited key ("sign-in-client/300:203.0.113.7"): the hits in its current fixed
# window. Shared by every gunicorn worker; see services/gateway/limits.py.
rate_counters = Table(
    "rate_counters", metadata,
    Column("key", String(300), primary_key=True),
    Column("window_start", BigInteger, nullable=False),  # Unix seconds, a multiple of the window
    Column("hits", Integer, nullable=False),
)

# Bumped (nextval) by every gateway route that changes who holds what in the directory (a
# hand-over, a delegation, an import), before and after its call: an actor a worker process
# keeps is used only while this is unchanged (services/gateway/auth.py). Read as its last_value
# in the query every request makes for its session.
directory_changes = Sequence("directory_changes", schema="gateway", metadata=metadata)
directory_changes_seen = table("directory_changes", column("last_value"), schema="gateway")
