"""Tables of the files service, all in its own PostgreSQL schema `files`."""

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Sequence,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from eoffice.idempotency import idempotency_table
from eoffice.messaging import messaging_tables

metadata = MetaData(schema="files")
outbox, inbox = messaging_tables(metadata)
idempotency_keys = idempotency_table(metadata)

PRIORITIES = ("normal", "urgent", "immediate")
RECORD_CATEGORIES = {"A": None, "B": None, "C": 10}  # years kept; A and B permanently (review at 25)
STATUSES = ("open", "parked", "closed")
DEFAULT_PATTERN = "{prefix}-{head}/{serial}/{year}-{office}"  # N-11016/6/2016-ARC-DARPG
DEFAULT_OVERDUE_DAYS = 7

# How an office numbers its files; an office without a row uses the defaults.
schemes = Table(
    "schemes",
    metadata,
    Column("office_code", String(40), primary_key=True),
    Column("prefix", String(10), nullable=False, server_default="N"),
    Column("pattern", String(200), nullable=False, server_default=DEFAULT_PATTERN),
    Column("office_suffix", String(60)),  # printed as {office}; the office code when empty
)

# The office's subject heads (its "scheme of subject heads"): a file is opened under one.
subject_heads = Table(
    "subject_heads",
    metadata,
    Column("office_code", String(40), primary_key=True),
    Column("code", String(20), primary_key=True),
    Column("title", Text, nullable=False),
)

# Gap-free file serials per office, subject head and year (taken like diary numbers).
counters = Table(
    "counters",
    metadata,
    Column("office_code", String(40), primary_key=True),
    Column("head", String(20), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("last_serial", Integer, nullable=False),
)

# Working days a file may stay with one holder, per file category (default 7).
category_limits = Table(
    "category_limits",
    metadata,
    Column("category", String(100), primary_key=True),
    Column("working_days", Integer, nullable=False),
)

computer_numbers = Sequence("computer_numbers", metadata=metadata)  # each file's internal number

files = Table(
    "files",
    metadata,
    Column("id", String(36), primary_key=True),
    Column(
        "computer_number",
        Integer,
        computer_numbers,
        server_default=computer_numbers.next_value(),
        nullable=False,
        unique=True,
    ),
    Column("file_number", String(200), nullable=False, unique=True),
    Column("office_code", String(40), nullable=False, index=True),
    Column("subject_head", String(20), nullable=False),
    Column("subject", Text, nullable=False),
    Column("category", String(100), nullable=False, server_default="general"),
    Column("priority", String(10), nullable=False, server_default="normal"),
    Column("record_category", String(1), nullable=False),
    Column("physical", Boolean, nullable=False, server_default="false"),
    Column("creator_post", String(60), nullable=False),
    Column("created_by", String(40), nullable=False),
    Column("holder_post", String(60), nullable=False, index=True),
    Column("held_since", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("opened", Boolean, nullable=False, server_default="true"),
    Column("received", Boolean, nullable=False, server_default="true"),
    Column("status", String(10), nullable=False, server_default="open"),
    Column("due_date", Date),
    Column("volume", Integer, nullable=False, server_default="1"),
    Column("parent_id", String(36), ForeignKey("files.files.id")),  # a part file's main file
    Column("part_number", Integer),
    # The notesheet's chain head: how many green notes, and the hash of the last one.
    Column("notes_count", Integer, nullable=False, server_default="0"),
    Column("notes_head", String(64)),
    Column("version", Integer, nullable=False, server_default="1"),  # bumped by every change
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("closed_at", DateTime(timezone=True)),
    Column("reopen_requested_by", String(60)),  # the post that asked for the closed file back
    # Levels to a decision (DOMAIN.md: at most four, a "should"; eoffice.movement.levels_to_decision):
    # where the file's current round started, if at a decision (the post that approved a draft,
    # or the one the file was reopened to; NULL: where it was opened, creator_post), and how many
    # levels of that post's supervisor chain the file has gone up through since, skipped ones counted.
    Column("round_post", String(60)),
    Column("levels_to_decision", Integer, nullable=False, server_default="0"),
    # The main file this file is linked to (a `links` row of kind link): it moves with that file
    # and not on its own. On the file's row, so that the lock every step takes reads it too.
    Column("linked_to", String(36), ForeignKey("files.files.id")),
    # The over_four_levels report's files: few, among every file of the state.
    Index(
        "files_over_four_levels", "office_code", postgresql_where=text("levels_to_decision > 4 AND status <> 'closed'")
    ),
    # A main file's linked files, read (locked) on every send: few files are linked.
    Index("files_linked_to", "linked_to", postgresql_where=text("linked_to IS NOT NULL")),
)

# Green notes: appended, never changed. Each commits to the one before (prev_hash); a copy of
# each is a locked record in the object store.
notes = Table(
    "notes",
    metadata,
    Column("file_id", String(36), ForeignKey("files.files.id"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("body", Text, nullable=False),
    Column("author_user", String(40), nullable=False),
    Column("author_post", String(60), nullable=False),
    Column("refs", JSONB, nullable=False),  # {"pages": [...], "notes": [...]}
    Column("confirmed_at", DateTime(timezone=True), nullable=False),
    Column("prev_hash", String(64)),
    Column("hash", String(64), nullable=False),
    Column("record_name", Text, nullable=False),
    Column("record_version", Text),
    # The note's signature (detached CAdES over its canonical bytes, made by the signing
    # service), a locked record of its own; the chain's next link covers it (notesheet.link).
    Column("signature_sha256", String(64)),
    Column("signature_record", Text),
    Column("signature_version", Text),
    Column("signed_by_user", String(40)),
    Column("signed_at", DateTime(timezone=True)),
)

# Yellow notes: drafts their author may edit or discard; confirming makes a green note.
draft_notes = Table(
    "draft_notes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("file_id", String(36), ForeignKey("files.files.id"), nullable=False, index=True),
    Column("body", Text, nullable=False),
    Column("author_user", String(40), nullable=False),
    Column("author_post", String(60), nullable=False),
    Column("refs", JSONB, nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("state", String(10), nullable=False, server_default="draft"),  # draft, confirmed, discarded
    Column("confirmed_seq", Integer),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# The right side of the file: receipts put in it and other documents, page-numbered across
# the whole file (numbers continue from volume to volume).
correspondence = Table(
    "correspondence",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("file_id", String(36), ForeignKey("files.files.id"), nullable=False, index=True),
    Column("kind", String(10), nullable=False),  # receipt, document, letter (issued by signing)
    Column("receipt_id", String(36)),
    Column("title", Text, nullable=False),
    Column("first_page", Integer, nullable=False),
    Column("last_page", Integer, nullable=False),
    Column("volume", Integer, nullable=False),
    Column("puc", Boolean, nullable=False, server_default="false"),
    Column("fr_number", Integer),  # FR I, FR II ... for fresh receipts
    Column("object_name", Text),  # an uploaded document (a receipt's own are with dak)
    Column("sha256", String(64)),
    Column("filename", Text),
    Column("content_type", String(100)),
    Column("record_version", Text),  # an issued letter: the locked version in the records bucket
    Column("added_by", String(40), nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("file_id", "receipt_id", name="receipt_in_file_once"),
)

drafts = Table(
    "drafts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("file_id", String(36), ForeignKey("files.files.id"), nullable=False, index=True),
    Column("title", Text, nullable=False),
    Column("status", String(12), nullable=False, server_default="draft"),  # draft, approved, withdrawn
    Column("current_version", Integer, nullable=False, server_default="1"),
    Column("approved_by", String(40)),
    Column("approved_post", String(60)),
    Column("approved_at", DateTime(timezone=True)),
    # A draft given up before it was issued (it stays, with its versions, and why).
    Column("withdrawn_by", String(40)),
    Column("withdrawn_post", String(60)),
    Column("withdrawn_at", DateTime(timezone=True)),
    Column("withdrawn_remarks", Text),
)

draft_versions = Table(
    "draft_versions",
    metadata,
    Column("draft_id", Integer, ForeignKey("files.drafts.id"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("body", Text, nullable=False),
    Column("object_name", Text),  # an uploaded document, if any
    Column("sha256", String(64)),
    Column("filename", Text),
    Column("content_type", String(100)),
    Column("author_user", String(40), nullable=False),
    Column("author_post", String(60), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

movements = Table(
    "movements",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("file_id", String(36), ForeignKey("files.files.id"), nullable=False, index=True),
    Column("action", String(20), nullable=False),
    Column("from_post", String(60)),
    Column("to_post", String(60)),
    Column("by_user", String(40), nullable=False),
    Column("remarks", Text, nullable=False, server_default=""),
    Column("due_date", Date),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now(), index=True),
    # A send up past the sender's direct supervisor: the posts in between, nearest the sender
    # first (eoffice.movement.skipped_levels). They were informed and may read the file.
    Column("skipped", ARRAY(String(60)), nullable=False, server_default="{}"),
    # A send: the file's levels to a decision after it (files.levels_to_decision); NULL otherwise.
    Column("levels_to_decision", Integer),
    # A send: the file's levels to a decision before it, which a pull back of the send restores;
    # NULL otherwise, and on sends recorded before migration files_levels_undo_0009.
    Column("levels_before", Integer),
    # A post's sends, for its Sent list (casefile.sent: each file's latest send by the post, read
    # from this index alone), not from every movement of the state.
    Index("movements_sent_by_post", "from_post", "file_id", "id", postgresql_where=text("action = 'sent'")),
)

links = Table(
    "links",
    metadata,
    Column("file_id", String(36), ForeignKey("files.files.id"), primary_key=True),
    Column("other_id", String(36), ForeignKey("files.files.id"), primary_key=True),
    # link: considered together, `other_id` moves with `file_id` (files.linked_to); reference: cited
    Column("kind", String(10), nullable=False),
    Column("by_user", String(40), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Letters issued from the file's drafts, as signing and notify report them: a file is not closed
# while one is issued but not dispatched (rule 6). Either event may arrive first.
letters = Table(
    "letters",
    metadata,
    Column("letter_id", String(36), primary_key=True),
    Column("file_id", String(36), nullable=False, index=True),
    Column("letter_number", Text, nullable=False),
    Column("draft_id", Integer),  # from eoffice.letter.issued.v1
    Column("issued_at", DateTime(timezone=True)),
    Column("dispatched_at", DateTime(timezone=True)),  # from eoffice.letter.dispatched.v1
)
