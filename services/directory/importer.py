"""Importing an organisation from CSV: offices, holidays, posts, users, postings.

`check` refuses files that cannot be imported at all (an unknown name, a header without a
required column) before anything is done; `read_rows` checks every row on its own (required
fields, formats, known values) and returns what is valid and a rejection (file, row, reason) for
the rest; `apply` upserts the valid rows in the caller's transaction, rejecting rows whose
references do not resolve, and counts what it created, changed and left unchanged. Importing the
same files twice changes nothing. One import runs at a time (`lock`)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from eoffice.errors import InvalidInput
from services.directory.events import OrganisationImported
from services.directory.models import LEVELS, ROLES, holidays, offices, postings, posts, users

FILES = ("offices", "holidays", "posts", "users", "postings")
COLUMNS = {
    "offices": ("code", "parent_code", "level", "name_en", "name_hi", "weekly_off"),
    "holidays": ("office_code", "date", "name_en", "name_hi"),
    "posts": ("code", "office_code", "designation_en", "designation_hi", "supervisor_code", "roles"),
    "users": ("employee_id", "name_en", "name_hi", "email", "mobile"),
    "postings": ("employee_id", "post_code", "start_date", "end_date", "charge"),
}
REQUIRED = {
    "offices": ("code", "level", "name_en", "name_hi"),
    "holidays": ("office_code", "date", "name_en"),
    "posts": ("code", "office_code", "designation_en", "designation_hi"),
    "users": ("employee_id", "name_en", "name_hi", "email", "mobile"),
    "postings": ("employee_id", "post_code", "start_date", "charge"),
}
DAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.IGNORECASE)
MOBILE = re.compile(r"^[6-9][0-9]{9}$")
CODE = re.compile(r"^[A-Za-z0-9()._-]{1,60}$")
# The PostgreSQL advisory lock an import holds for its whole transaction ("dir-imp" in ASCII).
IMPORT_LOCK = 0x6469722D696D70
# Told, while `apply` works, how far it is: (file, rows of it done, rows of it in all).
Progress = Callable[[str, int, int], None]


@dataclass
class Report:
    created: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FILES, 0))
    changed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FILES, 0))
    unchanged: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FILES, 0))
    rejected: list[dict] = field(default_factory=list)

    def reject(self, file: str, row: int, reason: str) -> None:
        self.rejected.append({"file": file, "row": row, "reason": reason})

    def as_dict(self) -> dict:
        return {
            "created": self.created,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
        }

    def as_event(self) -> OrganisationImported:
        """Returns the event that says this import happened (for the outbox, in its commit)."""
        return OrganisationImported(created=self.created, changed=self.changed, rejected=len(self.rejected))


def _date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} {value!r} is not a date like 2026-04-14") from None


def _check(file: str, row: dict) -> dict:
    """Returns the row cleaned and typed; raises ValueError saying what is wrong with it."""
    if any("\x00" in value for value in row.values()):
        raise ValueError("contains a NUL character")
    missing = [name for name in REQUIRED[file] if not row.get(name)]
    if missing:
        raise ValueError("missing " + ", ".join(missing))
    if file == "offices":
        if not CODE.match(row["code"]):
            raise ValueError(f"code {row['code']!r} has characters other than letters, digits and ()._-")
        if row["level"] not in LEVELS:
            raise ValueError(f"level {row['level']!r} is not one of {', '.join(LEVELS)}")
        off = [d for d in (row.get("weekly_off") or "SUN").upper().split(";") if d]
        if any(d not in DAYS for d in off):
            raise ValueError(f"weekly_off {row['weekly_off']!r} must be days like SAT;SUN")
        row["weekly_off"] = ";".join(off)
        row["parent_code"] = row.get("parent_code") or None
    elif file == "holidays":
        row["day"] = _date(row.pop("date"), "date")
        row["name_hi"] = row.get("name_hi") or ""
    elif file == "posts":
        if not CODE.match(row["code"]):
            raise ValueError(f"code {row['code']!r} has characters other than letters, digits and ()._-")
        roles = [r for r in (row.get("roles") or "").split(";") if r]
        unknown = [r for r in roles if r not in ROLES]
        if unknown:
            raise ValueError(f"unknown role {', '.join(unknown)}; roles are {', '.join(ROLES)}")
        row["roles"] = sorted(set(roles))
        row["supervisor_code"] = row.get("supervisor_code") or None
    elif file == "users":
        if not EMAIL.match(row["email"]):
            raise ValueError(f"email {row['email']!r} is not an e-mail address")
        row["email"] = row["email"].lower()
        if not MOBILE.match(row["mobile"]):
            raise ValueError(f"mobile {row['mobile']!r} must be 10 digits starting with 6-9")
    elif file == "postings":
        row["start_date"] = _date(row["start_date"], "start_date")
        row["end_date"] = _date(row["end_date"], "end_date") if row.get("end_date") else None
        if row["end_date"] and row["end_date"] < row["start_date"]:
            raise ValueError("end_date is before start_date")
        if row["charge"] not in ("regular", "additional"):
            raise ValueError(f"charge {row['charge']!r} must be regular or additional")
    return row


def _reader(text: str) -> csv.DictReader:
    return csv.DictReader(io.StringIO(text.lstrip("\ufeff")))


def _absent_columns(file: str, reader: csv.DictReader) -> list[str]:
    header = [h.strip() for h in (reader.fieldnames or [])]
    return [c for c in REQUIRED[file] if c not in header]


def read_rows(file: str, text: str, report: Report) -> tuple[list[tuple[int, dict]], int]:
    """Returns (row number, cleaned row) for each valid row of one CSV file, and how many data
    rows the file has; rejects the rest. Row numbers count the header as row 1."""
    reader = _reader(text)
    absent = _absent_columns(file, reader)
    if absent:
        report.reject(file, 1, f"header lacks column(s) {', '.join(absent)}; expected {','.join(COLUMNS[file])}")
        return [], 0
    valid, number = [], 1
    for number, raw in enumerate(reader, start=2):
        row = {k.strip(): (v or "").strip() for k, v in raw.items() if k and k.strip() in COLUMNS[file]}
        try:
            valid.append((number, _check(file, row)))
        except ValueError as exc:
            report.reject(file, number, str(exc))
    return valid, number - 1


def check(files: dict[str, str]) -> dict[str, int]:
    """Returns how many data rows each given file has, in import order. Raises InvalidInput
    naming every file that cannot be imported at all (an unknown name, a header without a
    required column: field `files.<name>`, with `file` and the missing `column`), or when no
    file is given. Reads only the text given; changes nothing. Bad rows are not its
    business: `apply` reports them one by one."""
    errors: list[dict] = []
    if not files:
        errors.append({"field": "files", "message": f"give at least one of {', '.join(FILES)}", "type": "no_file"})
    for name in sorted(set(files) - set(FILES)):
        errors.append(
            {
                "field": f"files.{name}",
                "file": name,
                "message": f"unknown file; expected some of {', '.join(FILES)}",
                "type": "unknown_file",
            }
        )
    totals = {}
    for file in (f for f in FILES if f in files):
        reader = _reader(files[file])
        for column in _absent_columns(file, reader):
            errors.append(
                {
                    "field": f"files.{file}",
                    "file": file,
                    "column": column,
                    "type": "missing_column",
                    "message": f"the header (row 1) lacks column {column}; expected {','.join(COLUMNS[file])}",
                }
            )
        totals[file] = sum(1 for _ in reader)
    if errors:
        raise InvalidInput("; ".join(f"{e['field']}: {e['message']}" for e in errors), errors=errors)
    return totals


def lock(session: Session) -> None:
    """Waits until no other import runs (a job, the RPC, `load`), then holds the import lock
    until the session's transaction ends."""
    session.execute(select(func.pg_advisory_xact_lock(IMPORT_LOCK)))


def try_lock(session: Session) -> bool:
    """Takes the import lock for the session's transaction if no import holds it; returns
    whether it did."""
    return bool(session.execute(select(func.pg_try_advisory_xact_lock(IMPORT_LOCK))).scalar_one())


# The rows of one import are checked and written against an in-memory view of the tables,
# read in batches (`_Known.load`) for the keys the files name and kept up to date with what the
# import writes; new rows are inserted many to a statement. A 200,000-person state then takes
# minutes, not the hour that five queries a row took. What it decides is what the row-by-row
# import decided: the same order, the same checks, the same report.
BATCH = 1000
KEYS = {
    "offices": (offices, ("code",)),
    "holidays": (holidays, ("office_code", "day")),
    "posts": (posts, ("code",)),
    "users": (users, ("employee_id",)),
    "postings": (postings, ("employee_id", "post_code", "start_date")),
}


class _Known:
    """One table's rows by key, as the import sees them: read from the database for the keys
    asked (`load`), then changed by the import's own writes (`put`)."""

    def __init__(self, session: Session, table, key: tuple[str, ...]):
        self.session, self.table, self.key = session, table, key
        self.rows: dict[tuple, dict | None] = {}

    def load(self, keys) -> None:
        wanted = [k for k in dict.fromkeys(keys) if k not in self.rows]
        self.rows.update(dict.fromkeys(wanted))
        # By the key's first column (the primary key's index leads with it): a holiday by its
        # office, a posting by its employee. A tuple IN list would be an OR of every key,
        # tried on every row.
        firsts = list(dict.fromkeys(k[0] for k in wanted))
        for start in range(0, len(firsts), BATCH):
            where = self.table.c[self.key[0]].in_(firsts[start : start + BATCH])
            for row in self.session.execute(select(self.table).where(where)).mappings():
                self.rows[tuple(row[k] for k in self.key)] = dict(row)

    def get(self, key: tuple) -> dict | None:
        if key not in self.rows:
            self.load([key])
        return self.rows[key]

    def put(self, key: tuple, row: dict) -> None:
        self.rows[key] = {**(self.rows.get(key) or {}), **row}


class _Writer:
    """The import's writes, in order: inserts gathered and sent many to a statement, each
    update after the inserts before it."""

    def __init__(self, session: Session):
        self.session = session
        self.pending: dict = {}  # table -> rows to insert, in order

    def insert(self, table, row: dict) -> None:
        rows = self.pending.setdefault(table, [])
        rows.append(row)
        if len(rows) >= BATCH:  # written as it goes, so that the progress shown is rows written
            self.flush()

    def update(self, table, where, row: dict) -> None:
        self.flush()
        self.session.execute(table.update().where(*where).values(**row))

    def flush(self) -> None:
        for table, rows in self.pending.items():
            self.session.execute(insert(table), rows)
        self.pending = {}


def _upsert(known: _Known, writer: _Writer, *, row: dict, report: Report, file: str, extra: dict | None = None) -> None:
    """Inserts the row (with `extra`, if new) or updates it where it differs; counts which."""
    key = tuple(row[k] for k in known.key)
    current = known.get(key)
    if current is None:
        writer.insert(known.table, {**row, **(extra or {})})
        report.created[file] += 1
    elif any(current.get(k) != v for k, v in row.items()):
        writer.update(known.table, [known.table.c[k] == row[k] for k in known.key], row)
        report.changed[file] += 1
    else:
        report.unchanged[file] += 1
        return
    known.put(key, row)


def _preload(known: dict[str, _Known], read: dict) -> None:
    """Reads at once the rows of every key the files name, in their rows and their references."""
    rows = {file: [row for _, row in valid] for file, (valid, _) in read.items()}
    known["offices"].load(
        [(r["code"],) for r in rows.get("offices", [])]
        + [(r["parent_code"],) for r in rows.get("offices", []) if r["parent_code"]]
        + [(r["office_code"],) for file in ("holidays", "posts") for r in rows.get(file, [])]
    )
    known["holidays"].load([(r["office_code"], r["day"]) for r in rows.get("holidays", [])])
    known["posts"].load(
        [(r["code"],) for r in rows.get("posts", [])]
        + [(r["supervisor_code"],) for r in rows.get("posts", []) if r["supervisor_code"]]
        + [(r["post_code"],) for r in rows.get("postings", [])]
    )
    known["users"].load([(r["employee_id"],) for file in ("users", "postings") for r in rows.get(file, [])])
    known["postings"].load([(r["employee_id"], r["post_code"], r["start_date"]) for r in rows.get("postings", [])])


def _exists(known: _Known, *key) -> bool:
    return known.get(tuple(key)) is not None


def apply(
    session: Session, files: dict[str, str], *, initial_password_hash: str | None, progress: Progress | None = None
) -> Report:
    """Imports the given CSV texts (any subset of FILES) in the caller's transaction, after
    waiting for any other import to end (`lock`). Returns the report, its rejections in file
    and row order. Tells `progress`, if given, how far it is as it goes, file by file."""
    lock(session)
    unknown = set(files) - set(FILES)
    report = Report()
    for name in sorted(unknown):
        report.reject(name, 0, f"unknown file; expected some of {', '.join(FILES)}")
    read = {file: read_rows(file, files[file], report) for file in FILES if file in files}
    known = {file: _Known(session, table, key) for file, (table, key) in KEYS.items()}
    _preload(known, read)
    # Who has each e-mail address the users file names (an address is one user's).
    emails = [r["email"] for _, r in read.get("users", ([], 0))[0]]
    owner_of: dict[str, str | None] = dict.fromkeys(emails)
    for start in range(0, len(emails), BATCH):
        found = session.execute(
            select(users.c.email, users.c.employee_id).where(users.c.email.in_(emails[start : start + BATCH]))
        )
        owner_of.update({email: employee for email, employee in found})
    writer = _Writer(session)
    for file, (valid, total) in read.items():
        if progress:
            progress(file, 0, total)
        for number, row in valid:
            if progress:
                progress(file, number - 2, total)  # the rows before this one are done
            reason = _unresolved(known, file, row)
            if reason:
                report.reject(file, number, reason)
                continue
            if file == "offices":
                parent = known["offices"].get((row["parent_code"],)) if row["parent_code"] else None
                row["path"] = f"{parent['path']}/{row['code']}" if parent else row["code"]
                _upsert(known["offices"], writer, row=row, report=report, file=file)
            elif file == "users":
                owner = owner_of.get(row["email"])
                if owner and owner != row["employee_id"]:
                    report.reject(file, number, f"email {row['email']} already belongs to {owner}")
                    continue
                before = known["users"].get((row["employee_id"],))
                extra = {"password_hash": initial_password_hash} if initial_password_hash else None
                _upsert(known["users"], writer, row=row, report=report, file=file, extra=extra)
                if before and before["email"] != row["email"]:
                    owner_of[before["email"]] = None
                owner_of[row["email"]] = row["employee_id"]
            else:
                _upsert(known[file], writer, row=row, report=report, file=file)
        writer.flush()
        if progress:
            progress(file, total, total)
    order = {name: index for index, name in enumerate(FILES)}
    report.rejected.sort(key=lambda r: (order.get(r["file"], -1), r["row"]))
    return report


def _unresolved(known: dict[str, _Known], file: str, row: dict) -> str | None:
    """Returns why a row's references do not resolve, or None."""
    if file == "offices":
        if row["parent_code"] and not _exists(known["offices"], row["parent_code"]):
            return f"parent_code {row['parent_code']} is not a known office (parents come first)"
        if row["parent_code"] is None and row["level"] != "state":
            return "only a state has no parent_code"
    elif file in ("holidays", "posts") and not _exists(known["offices"], row["office_code"]):
        return f"office_code {row['office_code']} is not a known office"
    if file == "posts" and row["supervisor_code"] and not _exists(known["posts"], row["supervisor_code"]):
        return f"supervisor_code {row['supervisor_code']} is not a known post (supervisors come first)"
    if file == "postings":
        if not _exists(known["users"], row["employee_id"]):
            return f"employee_id {row['employee_id']} is not a known user"
        if not _exists(known["posts"], row["post_code"]):
            return f"post_code {row['post_code']} is not a known post"
    return None
