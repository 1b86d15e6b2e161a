"""The items waiting to be indexed (table `search.pending`): plain functions on a session."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from services.search.models import pending


def note(session: Session, kind: str, ids: list[str]) -> datetime:
    """Records that the items changed (again, if already waiting: `since` moves on); returns
    the database's time after that (`clock`), for `done`."""
    if ids:
        statement = insert(pending).values([{"kind": kind, "item_id": i} for i in dict.fromkeys(ids)])
        session.execute(statement.on_conflict_do_update(index_elements=["kind", "item_id"], set_={"since": func.now()}))
    return clock(session)


def clock(session: Session) -> datetime:
    """The database's time now (not its transaction's start): whatever was noted before this
    and is asked of its owner after it is indexed as it is then."""
    return session.execute(select(func.clock_timestamp())).scalar_one()


def oldest(session: Session, limit: int) -> dict[str, list[str]]:
    """Up to `limit` waiting items, by kind: those tried least often first (one that keeps
    failing does not hold up the rest), then the longest waiting."""
    found: dict[str, list[str]] = {}
    for row in session.execute(
        select(pending.c.kind, pending.c.item_id).order_by(pending.c.attempts, pending.c.since).limit(limit)
    ):
        found.setdefault(row.kind, []).append(row.item_id)
    return found


def done(session: Session, kind: str, ids: list[str], *, asked_at: datetime) -> None:
    """Forgets the items indexed from records asked for at `asked_at`; one that changed again
    since then keeps waiting."""
    if ids:
        session.execute(
            delete(pending).where(
                tuple_(pending.c.kind, pending.c.item_id).in_([(kind, i) for i in ids]), pending.c.since <= asked_at
            )
        )


def failed(session: Session, kind: str, ids: list[str], *, error: str) -> None:
    if ids:
        session.execute(
            update(pending)
            .where(pending.c.kind == kind, pending.c.item_id.in_(ids))
            .values(attempts=pending.c.attempts + 1, last_error=error[:2000])
        )


def count(session: Session) -> int:
    return session.execute(select(func.count()).select_from(pending)).scalar_one()
