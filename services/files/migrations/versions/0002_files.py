"""Files: numbering schemes and subject heads, the files, their notesheets (green and yellow
notes), correspondence, drafts for approval, movements and links.

Created from `models.py` as first released; a later revision that changes these tables must
spell out the columns it adds (see dak's 0002/0003), not create from the models again."""
from alembic import op

from services.files import models

revision = "0002"
down_revision = "0001"


def upgrade():
    models.metadata.create_all(op.get_bind(), tables=[
        models.schemes, models.subject_heads, models.counters, models.category_limits, models.files,
        models.notes, models.draft_notes, models.correspondence, models.drafts, models.draft_versions,
        models.movements, models.links])
