"""Tables of the signing service, all in its own PostgreSQL schema `signing`."""

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from eoffice.idempotency import idempotency_table
from eoffice.messaging import messaging_tables

metadata = MetaData(schema="signing")
outbox, inbox = messaging_tables(metadata)
idempotency_keys = idempotency_table(metadata)

# --- issued letters (services/signing/register.py) ---------------------------------------

# The dispatch register's serials: gap-free per office and year, taken like dak's diary numbers
# (the row stays locked until the letter's transaction ends; a failed issue gives it back).
dispatch_counters = Table(
    "dispatch_counters",
    metadata,
    Column("office_code", String(40), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("last_serial", Integer, nullable=False),
)

# The dispatch register: one row per issued letter, the signed PDF a locked record.
letters = Table(
    "letters",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("letter_number", String(120), nullable=False, unique=True),
    Column("office_code", String(40), nullable=False),
    Column("year", Integer, nullable=False),
    Column("serial", Integer, nullable=False),
    Column("file_id", String(36), nullable=False, index=True),
    Column("file_number", String(200), nullable=False),
    Column("draft_id", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("title", Text, nullable=False),
    Column("record_category", String(1), nullable=False),
    Column("signer_user", String(40), nullable=False),
    Column("signer_post", String(60), nullable=False),
    Column("signer_name", Text, nullable=False),
    Column("signer_designation", Text, nullable=False),
    Column("key_path", String(20), nullable=False),  # office_token, officer_token, esign
    Column("certificate_sha256", String(64), nullable=False),
    Column("level", String(6), nullable=False),  # B-T, B-LTA
    Column("addressees", JSONB, nullable=False),
    Column("object_name", Text, nullable=False),  # in the records bucket (object lock)
    Column("sha256", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("pages", Integer, nullable=False),
    Column("record_version", Text),
    Column("retain_until", DateTime(timezone=True), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("draft_id", "version", name="one_letter_per_draft_version"),
    UniqueConstraint("office_code", "year", "serial", name="dispatch_serial_once"),
)

# --- certificates and note signatures (services/signing/certificates.py, notes.py) ---------

# Officers' DSCs, each tied to the user who registered it (one user per certificate). `proven`:
# the user proved possession of the key (a registration request signed by it); rows registered
# before that proof existed are not, and go to whoever proves possession first.
certificates = Table(
    "certificates",
    metadata,
    Column("sha256", String(64), primary_key=True),  # of the DER
    Column("user_id", String(40), nullable=False, index=True),
    Column("der", LargeBinary, nullable=False),
    Column("holder", Text),
    Column("pseudonym", Text),
    Column("serial_number_attribute", Text),  # the subject's serialNumber: a hash, never a PAN
    Column("issuer", Text, nullable=False),
    Column("not_after", DateTime(timezone=True), nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("proven", Boolean, nullable=False, server_default=false()),
)

# Registering a certificate is two-phase too (services/signing/certificates.py): a challenge
# naming the user, the certificate and an expiry (`content`), and the signed attributes over it
# that the certificate's key must sign (the signer program signs them as it signs a note's).
certificate_requests = Table(
    "certificate_requests",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(40), nullable=False),
    Column("certificate_sha256", String(64), nullable=False),
    Column("der", LargeBinary, nullable=False),
    Column("content", LargeBinary, nullable=False),  # the challenge's canonical JSON
    Column("attributes", LargeBinary, nullable=False),  # DER of the CMS signed attributes over it
    Column("state", String(12), nullable=False),  # pending, registered
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("registered_at", DateTime(timezone=True)),
    # A request never proven is forgotten some days after it expired (eoffice.housekeeping).
    Index("certificate_requests_expires_at", "expires_at", postgresql_where=text("state = 'pending'")),
)

# Two-phase signatures waiting for the signer program (or the ESP): the exact bytes signed and
# the signed attributes the key must sign.
signature_requests = Table(
    "signature_requests",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(40), nullable=False),
    Column("post_id", String(60), nullable=False),
    Column("key_path", String(20), nullable=False),
    Column("certificate_sha256", String(64), nullable=False),
    Column("file_id", String(36), nullable=False),
    Column("note_seq", Integer, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("attributes", LargeBinary, nullable=False),  # DER of the CMS signed attributes
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("signature_id", String(36)),  # set once signed
    # A request never signed is forgotten some days after it expired (eoffice.housekeeping).
    Index("signature_requests_expires_at", "expires_at", postgresql_where=text("signature_id IS NULL")),
)

# Detached CAdES signatures over notes' canonical bytes, with those exact bytes.
note_signatures = Table(
    "note_signatures",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("file_id", String(36), nullable=False),
    Column("note_seq", Integer, nullable=False),
    Column("user_id", String(40), nullable=False),
    Column("post_id", String(60), nullable=False),
    Column("key_path", String(20), nullable=False),
    Column("certificate_sha256", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("content_sha256", String(64), nullable=False),
    Column("cms", LargeBinary, nullable=False),
    Column("cms_sha256", String(64), nullable=False),
    Column("timestamped_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("file_id", "note_seq", name="one_signature_per_note"),
)

# --- letters signed by the officer (two-phase: token or eSign; services/signing/letter_requests.py)

# A letter prepared for the officer's own key: its dispatch number is reserved at prepare (and
# committed: the signer may take minutes), the PDF waits with its signature hole. A request that
# expires or is cancelled keeps its row with state "cancelled" and the reason: the dispatch
# register shows the number as cancelled, never as a silent gap.
letter_requests = Table(
    "letter_requests",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(40), nullable=False),
    Column("post_id", String(60), nullable=False),
    Column("key_path", String(20), nullable=False),  # officer_token, esign
    Column("certificate_sha256", String(64), nullable=False),  # "" for esign until the ESP answers
    Column("file_id", String(36), nullable=False, index=True),
    Column("draft_id", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("office_code", String(40), nullable=False),
    Column("year", Integer, nullable=False),
    Column("serial", Integer, nullable=False),
    Column("letter_number", String(120), nullable=False),
    Column("letter", JSONB, nullable=False),  # what the register row will say (title, signer, addressees, level)
    Column("prepared_pdf", LargeBinary, nullable=False),  # the PDF with its /Contents hole
    Column("document_digest", LargeBinary, nullable=False),
    Column("reserved_start", Integer, nullable=False),
    Column("reserved_end", Integer, nullable=False),
    Column("attributes", LargeBinary, nullable=False),  # DER of signed attributes, or the <Esign> request
    Column("state", String(12), nullable=False),  # pending, issued, cancelled
    Column("reason", Text),  # why cancelled
    Column("letter_id", String(36)),  # once issued
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
    UniqueConstraint("office_code", "year", "serial", name="letter_request_serial_once"),
)
