"""Dispatching issued letters: each addressee with an e-mail address gets the signed PDF by
e-mail; when every one is dealt with (sent, or failed after the retries) the letter counts as
dispatched and `eoffice.letter.dispatched.v1` says so (files and dak record it from there:
rule 6, no closing with an undispatched draft). Addressees without an e-mail are listed as
dispatched by hand (post or messenger), which the dispatch clerk does outside the system."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from eoffice.contracts.notifications import DispatchedTo, LetterDispatched
from eoffice.contracts.signing import LetterIssued
from services.notify.people_tables import dispatches, letters


def record_letter(session: Session, *, letter: LetterIssued) -> int:
    """Stores an issued letter and one dispatch per addressee; returns how many go by e-mail.
    Once per letter (a second call changes nothing and returns 0)."""
    added = session.execute(
        insert(letters)
        .values(letter_id=letter.letter_id, letter=letter.model_dump(mode="json"))
        .on_conflict_do_nothing()
        .returning(letters.c.letter_id)
    ).first()
    if added is None:
        return 0
    for position, addressee in enumerate(letter.addressees, 1):
        session.execute(
            insert(dispatches).values(
                letter_id=letter.letter_id,
                position=position,
                name=addressee.name,
                email=addressee.email or None,
                status="pending" if addressee.email else "by_hand",
            )
        )
    return sum(1 for a in letter.addressees if a.email)


def claim_due(session: Session, *, now: datetime, limit: int = 10) -> list[dict]:
    """Locks up to `limit` dispatches due now, with their letter (others skip them)."""
    rows = session.execute(
        select(dispatches, letters.c.letter)
        .join(letters, letters.c.letter_id == dispatches.c.letter_id)
        .where(dispatches.c.status == "pending", dispatches.c.not_before <= now)
        .order_by(dispatches.c.not_before)
        .limit(limit)
        .with_for_update(of=dispatches, skip_locked=True)
    ).mappings()
    return [dict(row) for row in rows]


def sent(session: Session, *, letter_id: str, position: int, message_id: str) -> None:
    session.execute(
        update(dispatches)
        .where(dispatches.c.letter_id == letter_id, dispatches.c.position == position)
        .values(status="sent", sent_at=func.now(), message_id=message_id, attempts=dispatches.c.attempts + 1)
    )


def failed(session: Session, *, letter_id: str, position: int, error: str, retry_at: datetime | None) -> None:
    """Records a failed attempt: tried again from `retry_at`, or given up (None)."""
    values: dict = {"attempts": dispatches.c.attempts + 1, "last_error": error[:2000]}
    values |= {"not_before": retry_at} if retry_at else {"status": "failed"}
    session.execute(
        update(dispatches)
        .where(dispatches.c.letter_id == letter_id, dispatches.c.position == position)
        .values(**values)
    )


def finish(session: Session, *, letter_id: str, now: datetime) -> LetterDispatched | None:
    """Marks the letter dispatched once no e-mail of it is pending, and returns the event that
    says so; None while some are pending, or if it was marked already."""
    rows = session.execute(
        select(dispatches).where(dispatches.c.letter_id == letter_id).order_by(dispatches.c.position)
    ).mappings()
    rows = list(rows)
    if any(row["status"] == "pending" for row in rows):
        return None
    marked = session.execute(
        update(letters)
        .where(letters.c.letter_id == letter_id, letters.c.dispatched_at.is_(None))
        .values(dispatched_at=now)
        .returning(letters.c.letter)
    ).first()
    if marked is None:
        return None
    letter = marked.letter
    return LetterDispatched(
        letter_id=letter_id,
        letter_number=letter["letter_number"],
        file_id=letter["file_id"],
        file_number=letter["file_number"],
        addressees=[
            DispatchedTo(
                name=row["name"],
                email=row["email"],
                status=row["status"],
                error=row["last_error"] if row["status"] == "failed" else None,
            )
            for row in rows
        ],
        dispatched_at=now,
    )


def of_file(session: Session, *, file_id: str) -> list[dict]:
    """The file's issued letters with each addressee's dispatch, oldest first."""
    found = []
    for letter in session.execute(
        select(letters).where(letters.c.letter["file_id"].astext == file_id).order_by(letters.c.received_at)
    ).mappings():
        rows = session.execute(
            select(
                dispatches.c.position,
                dispatches.c.name,
                dispatches.c.email,
                dispatches.c.status,
                dispatches.c.attempts,
                dispatches.c.last_error,
                dispatches.c.sent_at,
            )
            .where(dispatches.c.letter_id == letter["letter_id"])
            .order_by(dispatches.c.position)
        ).mappings()
        found.append(
            {
                "letter_id": letter["letter_id"],
                "letter_number": letter["letter"]["letter_number"],
                "dispatched_at": letter["dispatched_at"],
                "addressees": [dict(r) for r in rows],
            }
        )
    return found
