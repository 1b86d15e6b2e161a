"""Importing an organisation from CSV: offices, holidays, posts, users, postings.

`read_rows` checks every row on its own (required fields, formats, known values) and returns
what is valid and a rejection (file, row, reason) for the rest; `apply` upserts the valid rows
in the caller's transaction, rejecting rows whose references do not resolve, and counts what it
created, changed and left unchanged. Importing the same files twice changes nothing."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

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


def read_rows(file: str, text: str, report: Report) -> list[tuple[int, dict]]:
    """Returns (row number, cleaned row) for each valid row of one CSV file; rejects the rest."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    absent = [c for c in REQUIRED[file] if c not in header]
    if absent:
        report.reject(file, 1, f"header lacks column(s) {', '.join(absent)}; expected {','.join(COLUMNS[file])}")
        return []
    valid = []
    for number, raw in enumerate(reader, start=2):
        row = {k.strip(): (v or "").strip() for k, v in raw.items() if k and k.strip() in COLUMNS[file]}
        try:
            valid.append((number, _check(file, row)))
        except ValueError as exc:
            report.reject(file, number, str(exc))
    return valid


def _upsert(session: Session, table, key: tuple[str, ...], *, row: dict, report: Report, file: str) -> None:
    current = session.execute(select(table).where(*(table.c[k] == row[k] for k in key))).mappings().first()
    if current is None:
        session.execute(insert(table).values(**row))
        report.created[file] += 1
    elif any(current[k] != v for k, v in row.items()):
        session.execute(table.update().where(*(table.c[k] == row[k] for k in key)).values(**row))
        report.changed[file] += 1
    else:
        report.unchanged[file] += 1


def _exists(session: Session, column, value) -> bool:
    return session.execute(select(column).where(column == value)).first() is not None


def apply(session: Session, files: dict[str, str], *, initial_password_hash: str | None) -> Report:
    """Imports the given CSV texts (any subset of FILES) in the caller's transaction."""
    unknown = set(files) - set(FILES)
    report = Report()
    for name in sorted(unknown):
        report.reject(name, 0, f"unknown file; expected some of {', '.join(FILES)}")
    for file in FILES:
        if file not in files:
            continue
        for number, row in read_rows(file, files[file], report):
            reason = _unresolved(session, file, row)
            if reason:
                report.reject(file, number, reason)
                continue
            if file == "offices":
                parent_path = session.execute(
                    select(offices.c.path).where(offices.c.code == row["parent_code"])
                ).scalar()
                row["path"] = f"{parent_path}/{row['code']}" if parent_path else row["code"]
                _upsert(session, offices, ("code",), row=row, report=report, file=file)
            elif file == "holidays":
                _upsert(session, holidays, ("office_code", "day"), row=row, report=report, file=file)
            elif file == "posts":
                _upsert(session, posts, ("code",), row=row, report=report, file=file)
            elif file == "users":
                owner = session.execute(select(users.c.employee_id).where(users.c.email == row["email"])).scalar()
                if owner and owner != row["employee_id"]:
                    report.reject(file, number, f"email {row['email']} already belongs to {owner}")
                    continue
                was_new = not _exists(session, users.c.employee_id, row["employee_id"])
                _upsert(session, users, ("employee_id",), row=row, report=report, file=file)
                if was_new and initial_password_hash:
                    session.execute(
                        users.update()
                        .where(users.c.employee_id == row["employee_id"])
                        .values(password_hash=initial_password_hash)
                    )
            elif file == "postings":
                _upsert(
                    session, postings, ("employee_id", "post_code", "start_date"), row=row, report=report, file=file
                )
    return report


def _unresolved(session: Session, file: str, row: dict) -> str | None:
    """Returns why a row's references do not resolve, or None."""
    if file == "offices":
        if row["parent_code"] and not _exists(session, offices.c.code, row["parent_code"]):
            return f"parent_code {row['parent_code']} is not a known office (parents come first)"
        if row["parent_code"] is None and row["level"] != "state":
            return "only a state has no parent_code"
    elif file in ("holidays", "posts") and not _exists(session, offices.c.code, row["office_code"]):
        return f"office_code {row['office_code']} is not a known office"
    if file == "posts" and row["supervisor_code"] and not _exists(session, posts.c.code, row["supervisor_code"]):
        return f"supervisor_code {row['supervisor_code']} is not a known post (supervisors come first)"
    if file == "postings":
        if not _exists(session, users.c.employee_id, row["employee_id"]):
            return f"employee_id {row['employee_id']} is not a known user"
        if not _exists(session, posts.c.code, row["post_code"]):
            return f"post_code {row['post_code']} is not a known post"
    return None
