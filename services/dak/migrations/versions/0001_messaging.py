"""The dak service's outbox and inbox."""
from alembic import op

from eoffice.migrate import create_messaging_tables

revision = "0001"
down_revision = None


def upgrade():
    create_messaging_tables(op.get_bind(), "dak")
