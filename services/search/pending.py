"""The items waiting to be indexed (table `search.pending`): plain functions on a session.

Handlers `note` items; a round of indexing `claim`s a batch of them (leased, so that search
processes share the work), then marks them `done` or `failed`.

An item that failed is tried again after a backoff (`failed`). One whose owner does not list
it (an issued letter files has not added) is given up after a bounded wait (`failed` with
`give_up_after`): it is then neither tried nor counted as pending, but kept as `abandoned` for
the consistency check to report, until an event names it again or the check forgets it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, String, bindparam, case, delete, func, literal_column, select, tuple_, update
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from eoffice.db import fixed_text
from services.search.models import pending


def note(session: Session | Connection, kind: str, ids: list[str]) -> None:
    """Records that the items changed (again, if already waiting: `since` moves on, and the
    item is due at once)."""
    if ids:
        session.execute(_NOTE, {"kind": kind, "ids": list(dict.fromkeys(ids))})


# The statements run on every event and round are built once (`eoffice.db`, "built once").
_noted = insert(pending).from_select(
    ["kind", "item_id"],
    select(bindparam("kind", type_=String), func.unnest(bindparam("ids", type_=ARRAY(String)))),
)
_NOTE = fixed_text(
    _noted.on_conflict_do_update(
        index_elements=["kind", "item_id"],
        set_={"since": func.now(), "next_try": func.now(), "unlisted_since": None, "abandoned_at": None},
    )
)


def claim(session: Session | Connection, limit: int, *, lease: float) -> tuple[dict[str, list[str]], datetime | None]:
    """Takes up to `limit` waiting items due for a try (not given up, their backoff over), by
    kind: those tried least often first (one that keeps failing does not hold up the rest), then
    the longest waiting. They are not due again for `lease` seconds, so that another search
    process does not take them meanwhile (rows another is taking are skipped); `done` or
    `failed` settle them before that, and an item noted again is due at once.

    Also returns the database's time as it took them (not its transaction's start; None if it
    took none): whatever was noted before it is seen by records asked for after it (`done`)."""
    found: dict[str, list[str]] = {}
    taken_at: datetime | None = None
    for row in session.execute(_CLAIM, {"limit": limit, "lease": lease}):
        found.setdefault(row.kind, []).append(row.item_id)
        taken_at = row.taken_at if taken_at is None else max(taken_at, row.taken_at)
    return found, taken_at


def done(session: Session, kind: str, ids: list[str], *, asked_at: datetime) -> None:
    """Forgets the items indexed from records asked for at `asked_at`; one that changed again
    since then keeps waiting."""
    if ids:
        session.execute(_DONE, {"kind": kind, "ids": ids, "asked_at": asked_at})


_DONE = delete(pending).where(
    pending.c.kind == bindparam("kind"),
    pending.c.item_id.in_(bindparam("ids", expanding=True)),
    pending.c.since <= bindparam("asked_at"),
)


RETRY_FIRST = 2.0  # seconds before the first retry, doubled at each failure (2, 4, 8, 16) ...
RETRY_MAX = 30.0  # ... up to this: an item that waited through an outage is indexed soon after it


def _seconds(value) -> ColumnElement:
    """`value` seconds, as an SQL interval (`value`: a number or an SQL expression)."""
    return value * literal_column("interval '1 second'")


def failed(session: Session, kind: str, ids: list[str], *, error: str, give_up_after: float | None = None) -> list[str]:
    """Notes a failed try of the waiting items: each is tried again after a backoff
    (RETRY_FIRST, doubled at each failure, at most RETRY_MAX seconds). `give_up_after`
    (seconds) says the owner answered without them: an item it has answered without for longer
    than that, with no other failure between, is given up instead. Without it (the engine or
    the owner away) that clock stops: nothing is given up for an outage, however long. Returns
    the ids given up now."""
    if not ids:
        return []
    now = func.clock_timestamp()
    values: dict = {
        "attempts": pending.c.attempts + 1,
        "last_error": error[:2000],
        "next_try": now + _seconds(func.least(RETRY_FIRST * func.power(2, pending.c.attempts), RETRY_MAX)),
        "unlisted_since": None,
    }
    if give_up_after is not None:
        unlisted_since = func.coalesce(pending.c.unlisted_since, now)
        values["unlisted_since"] = unlisted_since
        values["abandoned_at"] = case((unlisted_since < now - _seconds(give_up_after), now), else_=None)
    rows = session.execute(
        update(pending)
        .where(pending.c.kind == kind, pending.c.item_id.in_(ids), pending.c.abandoned_at.is_(None))
        .values(**values)
        .returning(pending.c.item_id, pending.c.abandoned_at)
    )
    return [row.item_id for row in rows if row.abandoned_at is not None]


def count(session: Session) -> int:
    """How many items wait to be indexed (those given up not counted)."""
    return session.execute(
        select(func.count()).select_from(pending).where(pending.c.abandoned_at.is_(None))
    ).scalar_one()


def abandoned(session: Session) -> list[dict]:
    """The items given up, oldest first: kind, item_id, uid (their document's, as
    `services.search.documents` names it), since, attempts, last_error, abandoned_at."""
    rows = session.execute(
        select(pending).where(pending.c.abandoned_at.is_not(None)).order_by(pending.c.since, pending.c.item_id)
    ).mappings()
    return [{**row, "uid": f"{row['kind']}:{row['item_id']}"} for row in rows]


def forget(session: Session, uids: list[str]) -> int:
    """Drops the given-up items named (by uid); returns how many there were."""
    keys = [tuple(uid.split(":", 1)) for uid in uids]
    if not keys:
        return 0
    result = session.execute(
        delete(pending).where(tuple_(pending.c.kind, pending.c.item_id).in_(keys), pending.c.abandoned_at.is_not(None))
    )
    return result.rowcount


_due = (
    select(pending.c.kind, pending.c.item_id)
    .where(pending.c.abandoned_at.is_(None), pending.c.next_try <= func.clock_timestamp())
    .order_by(pending.c.attempts, pending.c.since)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
    .cte("due")
)
_CLAIM = (
    update(pending)
    .where(tuple_(pending.c.kind, pending.c.item_id).in_(select(_due.c.kind, _due.c.item_id)))
    .values(next_try=func.clock_timestamp() + _seconds(bindparam("lease")))
    .returning(pending.c.kind, pending.c.item_id, func.clock_timestamp().label("taken_at"))
)  # built once (`eoffice.db`, "built once")
