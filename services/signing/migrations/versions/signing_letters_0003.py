"""Letters signed by the officer (own token or eSign): prepared requests holding a reserved
dispatch number (services/signing/models.py `letter_requests`)."""

from alembic import op

from services.signing import models

revision = "signing_letters_0003"
down_revision = "signing_letters_0002"


def upgrade():
    models.letter_requests.create(op.get_bind(), checkfirst=True)
