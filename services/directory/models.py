"""Tables of the directory service, all in its own PostgreSQL schema `directory`."""

from sqlalchemy import (
    Boolean,
    CheckConstraint,
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
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from eoffice.idempotency import idempotency_table
from eoffice.messaging import messaging_tables

metadata = MetaData(schema="directory")
outbox, inbox = messaging_tables(metadata)
idempotency_keys = idempotency_table(metadata)

LEVELS = ("state", "department", "hod", "district", "office", "section")
ROLES = ("system_admin", "office_admin", "dak_clerk", "section_staff", "officer", "supervisor")

offices = Table(
    "offices",
    metadata,
    Column("code", String(40), primary_key=True),
    Column("parent_code", String(40), ForeignKey("directory.offices.code")),
    # Codes from the root down, "/"-joined: "is A under B" is a prefix test.
    Column("path", Text, nullable=False, unique=True),
    Column("level", String(20), nullable=False),
    Column("name_en", Text, nullable=False),
    Column("name_hi", Text, nullable=False),
    Column("weekly_off", String(40), nullable=False, server_default="SUN"),
)

holidays = Table(
    "holidays",
    metadata,
    Column("office_code", String(40), ForeignKey("directory.offices.code"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("name_en", Text, nullable=False),
    Column("name_hi", Text, nullable=False, server_default=""),
)

posts = Table(
    "posts",
    metadata,
    Column("code", String(60), primary_key=True),  # the marking abbreviation, e.g. SO(EST)-GAD
    Column("office_code", String(40), ForeignKey("directory.offices.code"), nullable=False, index=True),
    Column("designation_en", Text, nullable=False),
    Column("designation_hi", Text, nullable=False),
    Column("supervisor_code", String(60), ForeignKey("directory.posts.code")),
    Column("roles", ARRAY(String(20)), nullable=False, server_default="{}"),
)

users = Table(
    "users",
    metadata,
    Column("employee_id", String(40), primary_key=True),
    Column("name_en", Text, nullable=False),
    Column("name_hi", Text, nullable=False),
    Column("email", String(200), nullable=False, unique=True),
    Column("mobile", String(15), nullable=False),
    Column("password_hash", Text),
    Column("active", Boolean, nullable=False, server_default="true"),
)

postings = Table(
    "postings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("employee_id", String(40), ForeignKey("directory.users.employee_id"), nullable=False, index=True),
    Column("post_code", String(60), ForeignKey("directory.posts.code"), nullable=False, index=True),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date),
    Column("charge", String(12), nullable=False),
    CheckConstraint("charge in ('regular', 'additional')", name="posting_charge"),
    CheckConstraint("end_date is null or end_date >= start_date", name="posting_dates"),
    UniqueConstraint("employee_id", "post_code", "start_date", name="posting_once"),
)

delegations = Table(
    "delegations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("from_post", String(60), ForeignKey("directory.posts.code"), nullable=False),
    Column("to_post", String(60), ForeignKey("directory.posts.code"), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

sign_in_log = Table(
    "sign_in_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(200), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now(), index=True),  # housekeeping
    Column("outcome", String(20), nullable=False),  # ok, bad_password, locked, unknown
    Column("client", String(64), nullable=False, server_default=""),  # the address the gateway saw
)

# Wrong passwords per e-mail *and client address*: a lockout shuts out only the address that
# guessed, so nobody can lock another person out by typing their e-mail five times. Unknown
# e-mails are counted and locked alike, so a lockout does not reveal which accounts exist.
sign_in_failures = Table(
    "sign_in_failures",
    metadata,
    Column("email", String(200), primary_key=True),
    Column("client", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("locked_until", DateTime(timezone=True)),
)

# Organisation imports run as jobs (services/directory/import_jobs.py): what was asked, how far
# it is, and at the end the import's report or why it failed. The CSV text and the password
# hash are kept only until the job ends.
import_jobs = Table(
    "import_jobs",
    metadata,
    Column("id", String(36), primary_key=True),  # a UUID: the job's address in the API
    Column("state", String(10), nullable=False, server_default="queued"),
    Column("requested_by", String(40), nullable=False),  # employee id
    Column("requested_as", String(60)),  # the post they acted as
    Column("files", JSONB),  # CSV text by file name
    Column("password_hash", Text),  # for users the import creates
    # [{"file", "rows_total", "rows_done"}] in import order
    Column("stages", JSONB, nullable=False, server_default="[]"),
    Column("report", JSONB),  # as importer.Report.as_dict, once done
    Column("error", Text),  # why it failed
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    CheckConstraint("state in ('queued', 'running', 'done', 'failed')", name="import_job_state"),
    Index("import_jobs_open", "created_at", postgresql_where=text("state in ('queued', 'running')")),
)
