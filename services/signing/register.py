"""The dispatch register: every letter an office issues, numbered gap-free per office and year.

A letter number is taken like a dak diary number (services/dak/receipts.py): the counter row
of the office's year is incremented in the letter's own transaction and stays locked until it
ends, so a letter that fails to sign or store gives its number back and two letters of one
office are numbered one after the other. (The lock is held while the letter is rendered and
signed, a second or less: an office's dispatch is one queue anyway.)"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from eoffice.counters import take_next
from eoffice.errors import Conflict, NotFound
from services.signing.models import dispatch_counters, letters


def letter_number(*, serial: int, year: int, office_code: str) -> str:
    """The printed number: `D-<serial>/<year>/<office>`, e.g. D-12/2026/DM-LKO ("D" for
    dispatch, so it is never mistaken for a diary number of the same office)."""
    return f"D-{serial}/{year}/{office_code}"


def next_serial(session: Session, *, office_code: str, year: int) -> int:
    """Takes the next dispatch serial of an office's year (`eoffice.counters`): the counter row
    stays locked until the caller's transaction ends, and a rollback gives the number back."""
    return take_next(session, dispatch_counters, office_code=office_code, year=year)


def issued_for(session: Session, *, draft_id: int, version: int) -> dict | None:
    """The letter issued from this draft version, if there is one."""
    row = (
        session.execute(select(letters).where(letters.c.draft_id == draft_id, letters.c.version == version))
        .mappings()
        .first()
    )
    return dict(row) if row else None


def refuse_second_signature(session: Session, *, draft_id: int, version: int) -> None:
    """Raises Conflict if this draft version was signed and issued already (one letter per
    approved version; a new letter needs a new draft)."""
    done = issued_for(session, draft_id=draft_id, version=version)
    if done:
        raise Conflict(
            f"version {version} of draft {draft_id} was signed and issued already as {done['letter_number']}"
        )


def record(session: Session, *, letter: dict) -> dict:
    """Writes an issued letter to the register (its number taken by `next_serial` in this
    transaction); returns the row. The unique (draft, version) constraint stops a second
    signature that raced past `refuse_second_signature`."""
    row = {"id": str(uuid.uuid4()), **letter}
    session.execute(letters.insert().values(**row))
    return dict(session.execute(select(letters).where(letters.c.id == row["id"])).mappings().one())


def get(session: Session, letter_id: str) -> dict:
    row = session.execute(select(letters).where(letters.c.id == letter_id)).mappings().first()
    if row is None:
        raise NotFound(f"no letter {letter_id}")
    return dict(row)


def by_sha256(session: Session, sha256: str) -> dict | None:
    """The letter whose signed PDF has this SHA-256, if it is one of ours."""
    row = session.execute(select(letters).where(letters.c.sha256 == sha256)).mappings().first()
    return dict(row) if row else None


def of_file(session: Session, file_id: str) -> list[dict]:
    return [
        dict(r)
        for r in session.execute(
            select(letters).where(letters.c.file_id == file_id).order_by(letters.c.issued_at)
        ).mappings()
    ]


def retention_until(record_category: str, issued: date | datetime) -> datetime:
    """Until when the issued PDF stays locked: A and B are kept permanently (locked for 100
    years, the longest a compliance lock is worth stating), C for 10 years."""
    years = 10 if record_category == "C" else 100
    start = issued if isinstance(issued, datetime) else datetime.combine(issued, datetime.min.time())
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February
        return start.replace(year=start.year + years, day=28)
