"""Wrong passwords counted per account and client address (`sign_in_failures`) instead of per
account; the sign-in log records the client address."""
import sqlalchemy as sa
from alembic import op

from services.directory.models import sign_in_failures

revision = "0004"
down_revision = "0003"


def upgrade():
    sign_in_failures.create(op.get_bind())
    op.add_column("sign_in_log", sa.Column("client", sa.String(64), nullable=False, server_default=""),
                  schema="directory")
    # A lock set by the old rule may have been set by anyone: it ends here.
    op.drop_column("users", "failed_sign_ins", schema="directory")
    op.drop_column("users", "locked_until", schema="directory")
