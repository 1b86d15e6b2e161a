"""Tables of the dak service, all in its own PostgreSQL schema `dak`."""

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)

from eoffice.idempotency import idempotency_table
from eoffice.messaging import messaging_tables

metadata = MetaData(schema="dak")
outbox, inbox = messaging_tables(metadata)
idempotency_keys = idempotency_table(metadata)

MODES = ("post", "hand", "email", "portal", "fax")
GRADINGS = ("normal", "confidential", "secret", "top_secret")
PRIORITIES = ("normal", "urgent", "immediate")
STATUSES = ("open", "in_file", "closed")  # a receipt in a file moves with the file
OCR_STATUSES = ("pending", "done", "failed")

# One row per office and year; taking a number locks the row until the receipt commits, so
# numbers are gap-free under concurrent intake and a failed diarisation gives its number back.
diary_counters = Table(
    "diary_counters",
    metadata,
    Column("office_code", String(40), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("last_serial", Integer, nullable=False),
)

receipts = Table(
    "receipts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("diary_number", String(80), nullable=False, unique=True),
    Column("office_code", String(40), nullable=False),
    Column("year", Integer, nullable=False),
    Column("serial", Integer, nullable=False),
    Column("subject", Text, nullable=False),
    Column("sender_name", Text, nullable=False),
    Column("sender_address", Text, nullable=False, server_default=""),
    Column("sender_organisation", Text, nullable=False, server_default=""),
    Column("sender_email", Text, nullable=False, server_default=""),
    Column("sender_mobile", String(15), nullable=False, server_default=""),
    Column("letter_number", Text, nullable=False, server_default=""),
    Column("letter_date", Date),
    Column("received_date", Date, nullable=False),
    Column("mode", String(10), nullable=False),
    Column("language", String(10), nullable=False),
    Column("security_grading", String(20), nullable=False),
    Column("category", Text, nullable=False, server_default=""),
    Column("vip", Boolean, nullable=False, server_default="false"),
    Column("remarks", Text, nullable=False, server_default=""),
    Column("physical", Boolean, nullable=False),
    Column("holder_post", String(60), nullable=False, index=True),  # work belongs to posts
    Column("opened", Boolean, nullable=False, server_default="false"),
    Column("received", Boolean, nullable=False, server_default="true"),  # physical: in hand at the holder
    Column("status", String(10), nullable=False, server_default="open"),
    Column("file_id", String(60)),  # the file it was put in
    # the file holding it is closed (files' eoffice.file.closed.v1 / reopened.v1): the sender sees "disposed"
    Column("file_closed", Boolean, nullable=False, server_default="false"),
    Column("file_closed_as_of", DateTime(timezone=True)),  # the time of the event that set file_closed
    Column("priority", String(10), nullable=False, server_default="normal"),
    Column("due_date", Date),  # when the current holder should have dealt with it
    Column("moved", Boolean, nullable=False, server_default="false"),  # left the diarising post once
    Column("tracking_code", String(14), unique=True),  # for the sender's public status page
    Column("copy_of", String(36)),  # marked to several posts: each further post gets a copy
    Column("diarised_by", String(40), nullable=False),
    Column("diarised_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("office_code", "year", "serial", name="diary_serial_once"),
    # The receipts put in a file: search re-indexes them when their file moves (whoever reads the
    # file reads them, `search_view.records(in_files=...)`), and a file's closing marks them.
    Index("receipts_in_file", "file_id", postgresql_where=text("file_id IS NOT NULL")),
)

movements = Table(
    "movements",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("receipt_id", String(36), ForeignKey("dak.receipts.id"), nullable=False, index=True),
    Column("action", String(20), nullable=False),
    Column("from_post", String(60)),
    Column("to_post", String(60), nullable=False),
    Column("by_user", String(40), nullable=False),
    Column("remarks", Text, nullable=False, server_default=""),
    Column("priority", String(10)),
    Column("due_date", Date),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # A post's sends, forwards and copies marked (receipts.SENDS), for its Sent list (receipts.sent:
    # each receipt's latest one by the post, read from this index alone), not from every movement
    # of the state. (Named anew when copies joined: an index is known by its name, create_indexes.)
    Index(
        "movements_sends_by_post",
        "from_post",
        "receipt_id",
        "id",
        postgresql_where=text("action IN ('sent', 'forwarded', 'copied')"),
    ),
)


# The documents of an electronic receipt: scanned pages, e-mail attachments, the e-mail itself.
# Objects live in MinIO under names unique to their upload; the text read from them is stored
# beside the original as `<object>.txt`.
scans = Table(
    "scans",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("receipt_id", String(36), ForeignKey("dak.receipts.id"), nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("filename", Text, nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", Integer, nullable=False),
    Column("pages", Integer, nullable=False),
    Column("object_name", Text, nullable=False, index=True),
    Column("sha256", String(64), nullable=False),
    Column("text_layer", Boolean, nullable=False),
    Column("ocr_status", String(10), nullable=False),
    Column("ocr_method", String(12)),
    Column("ocr_attempts", Integer, nullable=False, server_default="0"),
    Column("ocr_error", Text),
    Column("ocr_started_at", DateTime(timezone=True)),  # the current attempt's start; null: waiting in the queue
    Column("pages_read", Integer, nullable=False, server_default="0"),  # of `pages`, by the current attempt
    Column("text_chars", Integer),
    Column("text_sha256", String(64)),  # of the text object, checked when it is read back
    Column("read_at", DateTime(timezone=True)),
    UniqueConstraint("receipt_id", "position", name="scan_position_once"),
)

# Every metadata correction, with the old and the new value.
corrections = Table(
    "corrections",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("receipt_id", String(36), ForeignKey("dak.receipts.id"), nullable=False, index=True),
    Column("field", String(40), nullable=False),
    Column("old_value", Text),
    Column("new_value", Text),
    Column("by_user", String(40), nullable=False),
    Column("by_post", String(60), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
