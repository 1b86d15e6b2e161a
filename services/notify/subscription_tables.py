"""Tables of portal subscriptions, in notify's schema: the subscriptions, one outbox of
deliveries per subscription, the log of every attempt, and what notify learned about each
receipt and file from their events (office, grading) to filter and redact, and which process
records deliveries now."""

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from services.notify.models import metadata

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", Text, nullable=False),
    Column("delivery", String(10), nullable=False),  # webhook | amqp
    Column("url", Text),
    Column("event_types", JSONB, nullable=False),
    Column("offices", JSONB, nullable=False),
    Column("note_text", Boolean, nullable=False, server_default="false"),
    Column("contact_email", Text),
    Column("admin_user", String(40), nullable=False),
    Column("secret", Text),  # webhook: whsec_...; amqp: the broker password
    Column("previous_secret", Text),  # still signed with until previous_until
    Column("previous_until", DateTime(timezone=True)),
    Column("amqp_user", Text),
    Column("amqp_queue", Text),
    Column("active", Boolean, nullable=False, server_default="true"),
    Column("failures", Integer, nullable=False, server_default="0"),  # attempts failed in a row
    Column("failing_since", DateTime(timezone=True)),
    Column("flagged_at", DateTime(timezone=True)),  # set when flagged failing (and the admin alerted)
    Column("last_error", Text),
    Column("lease_owner", String(64)),  # the notify process delivering for it now
    Column("lease_until", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("subscription_id", String(36), ForeignKey("subscriptions.id"), nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("event_type", String(200), nullable=False),
    Column("subject", Text, nullable=False),  # order is kept per subject ("" when none)
    Column("event_time", DateTime(timezone=True), nullable=False),
    Column("body", Text, nullable=False),  # the envelope as sent, redacted for this subscriber
    Column("state", String(10), nullable=False, server_default="pending"),  # pending | delivered | dead
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("delivered_at", DateTime(timezone=True)),
    UniqueConstraint("subscription_id", "event_id", name="deliveries_once_per_event"),
    # Partial: a delivery leaves these indexes when it is delivered, so marking it delivered adds
    # no entry to them and they stay as small as the backlog (notify_partial_indexes_0006).
    Index(
        "deliveries_pending_by_subject",
        "subscription_id",
        "subject",
        "event_time",
        "id",
        postgresql_where=text("state = 'pending'"),
    ),
    Index("deliveries_dead", "subscription_id", "event_time", "id", postgresql_where=text("state = 'dead'")),
    # The delivered ones, by when: forgotten by it (eoffice.housekeeping).
    Index("deliveries_delivered_at", "delivered_at", postgresql_where=text("state = 'delivered'")),
    # The pending ones in the order they go: `subscriptions.due` stops after a batch.
    Index("deliveries_due", "subscription_id", "event_time", "id", postgresql_where=text("state = 'pending'")),
)

attempts = Table(
    "delivery_attempts",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("delivery_id", BigInteger, ForeignKey("deliveries.id"), nullable=False, index=True),
    Column("subscription_id", String(36), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("status", Integer),  # the HTTP status, None when no answer came
    Column("ok", Boolean, nullable=False),
    Column("error", Text),
    Column("seconds", Float, nullable=False),
    Index("delivery_attempts_by_subscription", "subscription_id", "id"),
)

# Which notify process records the portal deliveries of an emitter's events now: one at a time,
# so that a process taking over never records an event while the one before it may still be
# recording earlier events of the same file (services/notify/portals.py).
recorders = Table(
    "portal_recorders",
    metadata,
    Column("emitter", String(40), primary_key=True),  # dak, files, signing
    Column("owner", String(64), nullable=False),
    Column("until", DateTime(timezone=True)),  # None: released
)

# The notify processes sending portal deliveries now, each seen within the last few seconds:
# they share the active subscriptions evenly among themselves (services/notify/portals.py).
senders = Table(
    "portal_senders",
    metadata,
    Column("owner", String(64), primary_key=True),
    Column("seen_at", DateTime(timezone=True), nullable=False),
)

subject_facts = Table(
    "subject_facts",
    metadata,
    Column("subject", Text, primary_key=True),
    Column("office_code", Text),
    Column("grading", Text),  # a receipt's security grading; None: unknown (withheld)
    Column("facts", JSON),
)
