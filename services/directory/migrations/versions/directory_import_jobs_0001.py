"""Organisation imports as jobs (`import_jobs`): queued, running, done or failed, with their
progress and report (services/directory/import_jobs.py)."""
from alembic import op

from services.directory.models import import_jobs

revision = "directory_import_jobs_0001"
down_revision = "0004"


def upgrade():
    import_jobs.create(op.get_bind(), checkfirst=True)
