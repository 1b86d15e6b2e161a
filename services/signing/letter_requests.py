"""Letters signed with the officer's own key (their USB token through the signer program, or
Aadhaar eSign): prepared requests and the dispatch numbers they hold.

The office token signs a letter inside one transaction, so a failure gives its number back. The
officer's key answers minutes later, or never: the number is reserved at prepare and committed
with the request, as a clerk writes the next number in the paper dispatch register before the
officer signs. A request that is cancelled, or expires unsigned (`signing_request_ttl`), keeps
its row with state `cancelled` and the reason, so the register shows that number as cancelled,
never as a silent gap (`entries`). A draft withdrawn cancels at once every request of it still
pending (`cancel_of_draft`, on files' eoffice.draft.withdrawn.v1), the same way. One pending
request per draft version: a second prepare of the same version is refused until the first is
signed, cancelled or expired."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.orm import Session

from eoffice.errors import Conflict
from services.signing import request_rows
from services.signing.models import letter_requests, letters

PENDING, ISSUED, CANCELLED = "pending", "issued", "cancelled"


def expire(session: Session, *, now: datetime | None = None) -> int:
    """Records every pending request past its expiry as cancelled (reason: expired); returns
    how many. Safe to run any time, by anyone."""
    now = now or datetime.now(UTC)
    return _close(
        session,
        letter_requests.c.expires_at < now,
        reason="expired: not signed before " + now.isoformat(timespec="seconds"),
        now=now,
    )


def cancel_of_draft(session: Session, *, file_id: str, draft_id: int, reason: str) -> int:
    """Records every pending request of a draft (any version) as cancelled with `reason`, as
    `expire` does an expired one (the draft was withdrawn: nothing prepared for it can be
    issued); returns how many. Requests already issued or cancelled are left as they are, so
    doing it again changes nothing."""
    return _close(session, letter_requests.c.file_id == file_id, letter_requests.c.draft_id == draft_id, reason=reason)


def cancel_of_holders(session: Session, *, post_id: str, user_ids: list[str], reason: str) -> int:
    """Records every pending request prepared by `user_ids` acting as `post_id` as cancelled with
    `reason`, as `cancel_of_draft` does (the post was handed over: they hold its files no more, so
    nothing they prepared for it can be signed, and it would keep the new holder from preparing
    the same version until it expired); returns how many."""
    return _close(session, letter_requests.c.post_id == post_id, letter_requests.c.user_id.in_(user_ids), reason=reason)


def _close(session: Session, *which: ColumnElement[bool], reason: str, now: datetime | None = None) -> int:
    """Marks the pending requests matching `which` cancelled with `reason`, their numbers so
    recorded in the dispatch register (`entries`); returns how many. The one way a request is
    cancelled: given up, expired or its draft withdrawn."""
    done = session.execute(
        update(letter_requests)
        .where(letter_requests.c.state == PENDING, *which)
        .values(state=CANCELLED, reason=reason, closed_at=now or datetime.now(UTC))
    )
    return done.rowcount or 0


def refuse_pending(session: Session, *, draft_id: int, version: int) -> None:
    """Raises Conflict if a signature of this draft version is already prepared and waiting."""
    row = (
        session.execute(
            select(letter_requests.c.id, letter_requests.c.letter_number).where(
                letter_requests.c.draft_id == draft_id,
                letter_requests.c.version == version,
                letter_requests.c.state == PENDING,
            )
        )
        .mappings()
        .first()
    )
    if row:
        raise Conflict(
            f"a signature of version {version} of draft {draft_id} is prepared already (request {row['id']}, "
            f"number {row['letter_number']}): sign it, or cancel it first"
        )


def add(session: Session, *, row: dict) -> dict:
    return request_rows.add(session, letter_requests, row=row, state=PENDING)


def find(session: Session, request_id: str) -> dict | None:
    return request_rows.find(session, letter_requests, request_id)


def own(session: Session, *, user_id: str, request_id: str, lock: bool = False) -> dict:
    """The user's letter request; NotFound for anybody else's."""
    return request_rows.own(session, letter_requests, user_id=user_id, request_id=request_id, lock=lock)


def refuse_closed(row: dict) -> None:
    """Conflict unless the request still waits for its signature (and has not expired)."""
    if row["state"] == CANCELLED:
        raise Conflict(
            f"this signature request was cancelled ({row['reason']}); number {row['letter_number']} "
            "is recorded as cancelled in the dispatch register: prepare the signature again"
        )
    if row["state"] == PENDING and row["expires_at"] < datetime.now(UTC):
        raise Conflict("this signature request has expired: prepare the signature again")


def cancel(session: Session, *, row: dict, reason: str) -> dict:
    """Records a pending request's number as cancelled with `reason`; Conflict once issued."""
    if row["state"] == ISSUED:
        raise Conflict(f"letter {row['letter_number']} was issued already: it cannot be cancelled here")
    _close(session, letter_requests.c.id == row["id"], reason=f"cancelled: {reason}")
    return find(session, row["id"])


def mark_issued(session: Session, *, request_id: str, letter_id: str) -> None:
    session.execute(
        update(letter_requests)
        .where(letter_requests.c.id == request_id)
        .values(state=ISSUED, letter_id=letter_id, closed_at=datetime.now(UTC))
    )


def entries(session: Session, *, office_code: str, year: int) -> list[dict]:
    """The office's dispatch register for a year, by serial: every issued letter, every number
    reserved for a signature still awaited, and every number cancelled (with its reason)."""
    issued = session.execute(
        select(letters).where(and_(letters.c.office_code == office_code, letters.c.year == year))
    ).mappings()
    out = {
        r["serial"]: {
            "serial": r["serial"],
            "letter_number": r["letter_number"],
            "state": ISSUED,
            "letter_id": r["id"],
            "file_id": r["file_id"],
            "title": r["title"],
            "signer_name": r["signer_name"],
            "key_path": r["key_path"],
            "reason": None,
            "at": r["issued_at"],
        }
        for r in issued
    }
    held = session.execute(
        select(letter_requests).where(
            letter_requests.c.office_code == office_code,
            letter_requests.c.year == year,
            letter_requests.c.state != ISSUED,
        )
    ).mappings()
    for r in held:
        out.setdefault(
            r["serial"],
            {
                "serial": r["serial"],
                "letter_number": r["letter_number"],
                "state": "reserved" if r["state"] == PENDING else CANCELLED,
                "letter_id": None,
                "file_id": r["file_id"],
                "title": r["letter"]["title"],
                "signer_name": r["letter"]["signer_name"],
                "key_path": r["key_path"],
                "reason": r["reason"],
                "at": r["closed_at"] or r["created_at"],
            },
        )
    return [out[k] for k in sorted(out)]
