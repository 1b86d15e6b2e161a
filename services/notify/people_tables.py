"""Tables of notifying people, in notify's schema: notifications to posts, each person's
preferences, the e-mails and SMS sent (and waiting), daily digests, where each receipt and file
is (from events) and the reminders sent about them."""

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
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
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from services.notify.models import metadata

# One notification to a post: whoever holds the post, or acts for it by delegation, when they
# look sees it, so a hand-over moves the unread ones with the post. The id orders the live
# stream (its SSE event id).
notifications = Table(
    "notifications",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("post_code", String(60), nullable=False),
    Column("kind", String(30), nullable=False),  # templates.KINDS
    Column("item_type", String(10), nullable=False),  # receipt or file
    Column("item_id", String(36), nullable=False),
    Column("number", Text, nullable=False, server_default=""),  # diary or file number
    Column("detail", JSONB, nullable=False, server_default="{}"),  # from_post, remarks, due_date, ...
    Column("event_id", String(64), nullable=False),  # what caused it (an event, or a reminder run)
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("read_at", DateTime(timezone=True)),
    Column("read_by", String(40)),
    UniqueConstraint("event_id", "post_code", "kind", name="notifications_once"),
    Index("notifications_of_post", "post_code", "id"),
    # The unread ones alone, by post and kind: their count (repository.unread_count) reads it, so it
    # does not walk a post's read ones, and stops at its cap however many are unread.
    Index("notifications_unread", "post_code", "kind", postgresql_where=text("read_at IS NULL")),
    # Read ones are forgotten by it (eoffice.housekeeping); unread ones are not in it.
    Index("notifications_read_at", "read_at", postgresql_where=text("read_at IS NOT NULL")),
)

# Each user's choices; a user with no row has the defaults (preferences.Preferences).
preferences = Table(
    "preferences",
    metadata,
    Column("employee_id", String(40), primary_key=True),
    Column("settings", JSONB, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# One message to one person by one channel (email, sms). `pending` goes out from `not_before`
# (after quiet hours); `digest` waits for the person's daily digest.
messages = Table(
    "messages",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("notification_id", BigInteger, ForeignKey("notify.notifications.id"), nullable=False),
    Column("employee_id", String(40), nullable=False),
    Column("channel", String(10), nullable=False),
    Column("address", String(200), nullable=False),
    Column("language", String(2), nullable=False),
    Column("status", String(10), nullable=False),  # pending, digest, sent, failed, moved
    Column("not_before", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    Column("sent_at", DateTime(timezone=True)),
    UniqueConstraint("notification_id", "employee_id", "channel", name="messages_once"),
    Index("messages_due", "status", "not_before"),
)

# The daily digest each person got, one a day.
digests = Table(
    "digests",
    metadata,
    Column("employee_id", String(40), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("items", Integer, nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=False, server_default=func.now(), index=True),  # housekeeping
)

# Where each receipt and file is (its holder, due date, state), from dak's and files' events:
# what the reminders look at.
whereabouts = Table(
    "whereabouts",
    metadata,
    Column("item_id", String(36), primary_key=True),
    Column("item_type", String(10), nullable=False),
    Column("number", Text, nullable=False, server_default=""),
    Column("holder_post", String(60)),
    Column("due_date", Date),
    Column("status", String(10), nullable=False, server_default="open"),  # open, parked, done
    Column("posts_seen", ARRAY(String(60)), nullable=False, server_default="{}"),
    # When the last event that moved it happened: an older event arriving late moves it no more.
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Reminders and escalations sent: each once per item, holder and due date.
reminders = Table(
    "reminders",
    metadata,
    Column("item_id", String(36), primary_key=True),
    Column("post_code", String(60), primary_key=True),
    Column("due_date", Date, primary_key=True),
    Column("stage", String(12), primary_key=True),  # reminder, escalation
    Column("day", Date, nullable=False),
)

# Issued letters (eoffice.letter.issued.v1) to dispatch, and each e-mail addressee's dispatch.
letters = Table(
    "letters",
    metadata,
    Column("letter_id", String(36), primary_key=True),
    Column("letter", JSONB, nullable=False),  # the event's payload: number, file, signed PDF, addressees
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("dispatched_at", DateTime(timezone=True)),  # every addressee with an e-mail dealt with
)

dispatches = Table(
    "dispatches",
    metadata,
    Column("letter_id", String(36), ForeignKey("notify.letters.letter_id"), primary_key=True),
    Column("position", Integer, primary_key=True),  # the addressee's place on the letter, from 1
    Column("name", Text, nullable=False),
    Column("email", String(254)),  # None: dispatched otherwise (by post or hand)
    Column("status", String(10), nullable=False),  # pending, sent, failed, by_hand
    Column("not_before", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    Column("message_id", Text),
    Column("sent_at", DateTime(timezone=True)),
)
