"""A new kind, `skipped` (a level a file went past is informed afterwards): saved preferences
that chose every kind there was take it too, as a person who never saved any does by default;
one who turned any kind off keeps their choice and ticks it if they want it."""

from alembic import op

revision = "notify_skipped_0001"
down_revision = "notify_unread_0001"

EVERY_KIND_BEFORE = '["arrived", "returned", "pulled_back", "due", "overdue", "escalated", "signed", "issued"]'


def upgrade():
    op.execute(
        "UPDATE notify.preferences SET settings = jsonb_set(settings, '{kinds}', settings->'kinds' || '[\"skipped\"]')"
        f" WHERE settings->'kinds' @> '{EVERY_KIND_BEFORE}' AND NOT settings->'kinds' ? 'skipped'"
    )
