"""Reading and writing notify's tables for notifying people. Keyword-only, boring, no nameko;
each function works in the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import BigInteger, ColumnElement, FromClause, Table, bindparam, column, func, select, true, update
from sqlalchemy.dialects.postgresql import ARRAY, Insert, insert
from sqlalchemy.orm import Session

from eoffice.contracts.notifications import UNREAD_COUNTED, Preferences
from eoffice.db import fixed_text
from eoffice.paging import keyset_page
from services.notify import templates
from services.notify.inbox import Notice, Whereabouts
from services.notify.people_tables import digests, messages, notifications, preferences, reminders, whereabouts

_WHEREABOUTS = select(whereabouts).where(whereabouts.c.item_id == bindparam("item_id"))  # built once
_WHEREABOUTS_LOCKED = _WHEREABOUTS.with_for_update()


def whereabouts_of(session: Session, *, item_id: str, lock: bool = False) -> Whereabouts | None:
    row = session.execute(_WHEREABOUTS_LOCKED if lock else _WHEREABOUTS, {"item_id": item_id}).mappings().first()
    if row is None:
        return None
    return Whereabouts(
        item_id=row["item_id"],
        item_type=row["item_type"],
        number=row["number"],
        holder_post=row["holder_post"],
        due_date=row["due_date"],
        status=row["status"],
        posts_seen=list(row["posts_seen"]),
        as_of=row["updated_at"],
    )


def _inserting(table: Table, *names: str, **more):
    """An INSERT of these columns, each a parameter of its name (and of `more` as given). The
    statements run on every event are built once here: building one anew each time cost more of
    notify's time than PostgreSQL took to run it."""
    return insert(table).values({name: bindparam(name, type_=table.c[name].type) for name in names} | more)


_WHERE_COLUMNS = ("item_type", "number", "holder_post", "due_date", "status", "posts_seen")
_SAVE_WHEREABOUTS = _inserting(
    whereabouts,
    "item_id",
    *_WHERE_COLUMNS,
    # When the last event that moved it happened (now if that is not known).
    updated_at=func.coalesce(bindparam("updated_at", type_=whereabouts.c.updated_at.type), func.now()),
)
# ON CONFLICT: as text compiled once (`eoffice.db.fixed_text`; SQLAlchemy 2.0 would compile each anew).
_SAVE_WHEREABOUTS = fixed_text(
    _SAVE_WHEREABOUTS.on_conflict_do_update(
        index_elements=[whereabouts.c.item_id],
        set_={name: _SAVE_WHEREABOUTS.excluded[name] for name in (*_WHERE_COLUMNS, "updated_at")},
    )
)
_MESSAGE_COLUMNS = ("employee_id", "channel", "address", "language", "status", "not_before")


def _messages_of(notification_id: ColumnElement, source: FromClause | None = None) -> Insert:
    """INSERT of the planned messages of a notification (`notification_id`: a parameter, or a
    column of `source`), given as one array per column (`_as_arrays`): one statement for any
    number of messages, and none inserted when `source` has no row."""
    planned = (
        func.unnest(*(bindparam(f"planned_{name}", type_=ARRAY(messages.c[name].type)) for name in _MESSAGE_COLUMNS))
        .table_valued(*(column(name, messages.c[name].type) for name in _MESSAGE_COLUMNS))
        .render_derived("planned_row")
    )
    rows = select(notification_id, *planned.c)
    if source is not None:
        rows = rows.select_from(source.join(planned, true()))
    return (
        insert(messages)
        .from_select(["notification_id", *_MESSAGE_COLUMNS], rows)
        .on_conflict_do_nothing(constraint="messages_once")
    )


def _as_arrays(planned: list[dict]) -> dict[str, list]:
    return {f"planned_{name}": [message[name] for message in planned] for name in _MESSAGE_COLUMNS}


# A notification and its messages in one statement: the messages' INSERT takes the id of the
# notification the same statement made (and inserts nothing if this event made it already).
_made = (
    _inserting(notifications, "post_code", "kind", "item_type", "item_id", "number", "detail", "event_id")
    .on_conflict_do_nothing(constraint="notifications_once")
    .returning(*notifications.c)
    .cte("made")
)
_ADD_NOTIFICATION = fixed_text(select(_made).add_cte(_messages_of(_made.c.id, _made).cte("planned")))
_ADD_MESSAGES = fixed_text(_messages_of(bindparam("notification_id", type_=BigInteger)).returning(messages.c.id))


def save_whereabouts(session: Session, *, where: Whereabouts) -> None:
    session.execute(
        _SAVE_WHEREABOUTS,
        {
            "item_id": where.item_id,
            **{name: getattr(where, name) for name in _WHERE_COLUMNS},
            "updated_at": where.as_of,
        },
    )


def add_notification(session: Session, *, notice: Notice, event_id: str, planned: list[dict]) -> dict | None:
    """Stores one notification and the e-mails and SMS `planned` for it (`inbox.plan_messages`);
    returns it, or None if this event already made it (then nothing is stored)."""
    row = (
        session.execute(
            _ADD_NOTIFICATION,
            {
                "post_code": notice.post_code,
                "kind": notice.kind,
                "item_type": notice.item_type,
                "item_id": notice.item_id,
                "number": notice.number,
                "detail": notice.detail,
                "event_id": event_id,
                **_as_arrays(planned),
            },
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def add_messages(session: Session, *, notification_id: int, planned: list[dict]) -> int:
    """Stores the e-mails and SMS planned for a notification (once each); returns how many."""
    if not planned:
        return 0
    return len(session.execute(_ADD_MESSAGES, {"notification_id": notification_id, **_as_arrays(planned)}).all())


_PREFERENCES = select(preferences.c.employee_id, preferences.c.settings).where(
    preferences.c.employee_id.in_(bindparam("ids", expanding=True))
)  # built once


def preferences_of(session: Session, *, employee_ids: list[str]) -> dict[str, Preferences]:
    if not employee_ids:
        return {}
    rows = session.execute(_PREFERENCES, {"ids": employee_ids})
    return {row.employee_id: Preferences.model_validate(row.settings) for row in rows}


def set_preferences(session: Session, *, employee_id: str, prefs: Preferences) -> None:
    values = {"settings": prefs.model_dump(mode="json"), "updated_at": func.now()}
    session.execute(
        insert(preferences)
        .values(employee_id=employee_id, **values)
        .on_conflict_do_update(index_elements=[preferences.c.employee_id], set_=values)
    )


def as_shown(row: dict, language: str) -> dict:
    """A notification as a reader sees it, with its text in their language."""
    return {
        **{
            k: row[k]
            for k in (
                "id",
                "post_code",
                "kind",
                "item_type",
                "item_id",
                "number",
                "detail",
                "created_at",
                "read_at",
                "read_by",
            )
        },
        "text": templates.line(
            row["kind"],
            language,
            item_type=row["item_type"],
            number=row["number"],
            post=row["post_code"],
            detail=row["detail"],
        ),
    }


def notifications_for(
    session: Session,
    *,
    posts: list[str],
    kinds: Sequence[str],
    unread: bool | None = None,
    after: str | None = None,
    since: int | None = None,
    limit: int = 50,
) -> dict:
    """Returns a page ({items, next}) of the posts' notifications of the given kinds, newest
    first after the position `after`; with `since`, those with a greater id, oldest first (for
    catching up a stream). Raises InvalidInput naming `cursor` for an `after` no id can be."""
    query = select(notifications).where(notifications.c.post_code.in_(posts), notifications.c.kind.in_(kinds))
    if unread is not None:
        query = query.where(notifications.c.read_at.is_(None) if unread else notifications.c.read_at.is_not(None))
    if since is not None:
        return keyset_page(session, query, notifications.c.id, after=str(since), limit=limit)
    return keyset_page(session, query, notifications.c.id, after=after, limit=limit, descending=True)


def mark_read(session: Session, *, posts: list[str], ids: list[int] | None, by_user: str) -> int:
    """Marks the posts' unread notifications read (those named, or all); returns how many."""
    query = (
        update(notifications)
        .where(notifications.c.post_code.in_(posts), notifications.c.read_at.is_(None))
        .values(read_at=func.now(), read_by=by_user)
    )
    if ids is not None:
        query = query.where(notifications.c.id.in_(ids))
    return session.execute(query).rowcount  # type: ignore[attr-defined]


_UNREAD_SOME = (
    select(notifications.c.id)
    .where(
        notifications.c.post_code.in_(bindparam("posts", expanding=True)),
        notifications.c.kind.in_(bindparam("kinds", expanding=True)),
        notifications.c.read_at.is_(None),
    )
    .limit(UNREAD_COUNTED + 1)
    .subquery()
)
UNREAD_COUNT = select(func.count()).select_from(_UNREAD_SOME)  # built once


def unread_count(session: Session, *, posts: list[str], kinds: Sequence[str]) -> tuple[int, bool]:
    """How many of the posts' notifications of the kinds are unread, counted up to
    `UNREAD_COUNTED`, and whether there are more than that. Every opening of the list counts
    them, and unread ones are never forgotten: counted in full, a post whose holders do not read
    their notifications in the app made each opening slower (a scan of the table). This reads at
    most `UNREAD_COUNTED + 1` entries of the index of the unread ones (`notifications_unread`)."""
    counted = session.execute(UNREAD_COUNT, {"posts": posts, "kinds": list(kinds)}).scalar_one()
    return min(counted, UNREAD_COUNTED), counted > UNREAD_COUNTED


def _messages_with_notification():
    """A query of messages, each with what its notification says."""
    n = notifications.c
    return select(messages, n.post_code, n.kind, n.item_type, n.item_id, n.number, n.detail).join(
        notifications, n.id == messages.c.notification_id
    )


def claim_due_messages(session: Session, *, now: datetime, limit: int = 20) -> list[dict]:
    """Locks up to `limit` messages due to go now (others skip them) with their notification."""
    rows = session.execute(
        _messages_with_notification()
        .where(messages.c.status == "pending", messages.c.not_before <= now)
        .order_by(messages.c.not_before)
        .limit(limit)
        .with_for_update(of=messages, skip_locked=True)
    ).mappings()
    return [dict(row) for row in rows]


def messages_sent(session: Session, *, message_ids: list[int]) -> None:
    if not message_ids:
        return
    session.execute(
        update(messages)
        .where(messages.c.id.in_(message_ids))
        .values(status="sent", sent_at=func.now(), attempts=messages.c.attempts + 1, last_error=None)
    )


def message_failed(session: Session, *, message_id: int, error: str, retry_at: datetime | None) -> None:
    """Records a failed attempt: tried again from `retry_at`, or given up (None)."""
    values: dict = {"attempts": messages.c.attempts + 1, "last_error": error[:2000]}
    values |= {"not_before": retry_at} if retry_at else {"status": "failed"}
    session.execute(update(messages).where(messages.c.id == message_id).values(**values))


def move_waiting_messages(session: Session, *, post_code: str, from_people: list[str]) -> list[dict]:
    """The e-mails and SMS still waiting (due later, or for a digest) about the post's
    notifications, for people who no longer hold it: marks them `moved` and returns the
    notifications they were about."""
    moved = (
        session.execute(
            update(messages)
            .where(
                messages.c.status.in_(("pending", "digest")),
                messages.c.employee_id.in_(from_people),
                messages.c.notification_id.in_(
                    select(notifications.c.id).where(notifications.c.post_code == post_code)
                ),
            )
            .values(status="moved")
            .returning(messages.c.notification_id)
        )
        .scalars()
        .all()
    )
    if not moved:
        return []
    return [
        dict(row) for row in session.execute(select(notifications).where(notifications.c.id.in_(set(moved)))).mappings()
    ]


def digest_waiting(session: Session, *, now: datetime) -> dict[str, list[dict]]:
    """Returns, per person, the messages waiting for their digest, oldest first."""
    rows = session.execute(
        _messages_with_notification()
        .where(messages.c.status == "digest", messages.c.not_before <= now)
        .order_by(messages.c.id)
    ).mappings()
    found: dict[str, list[dict]] = {}
    for row in rows:
        found.setdefault(row["employee_id"], []).append(dict(row))
    return found


def claim_digest(session: Session, *, employee_id: str, day: date, message_ids: list[int]) -> bool:
    """Records the person's digest of `day` and marks its messages sent; False if that day's
    digest was sent already (nothing changes then)."""
    claimed = session.execute(
        insert(digests)
        .values(employee_id=employee_id, day=day, items=len(message_ids))
        .on_conflict_do_nothing()
        .returning(digests.c.day)
    ).first()
    if claimed is None:
        return False
    session.execute(
        update(messages)
        .where(messages.c.id.in_(message_ids), messages.c.status == "digest")
        .values(status="sent", sent_at=func.now(), attempts=messages.c.attempts + 1)
    )
    return True


def items_due_by(session: Session, *, day: date) -> list[dict]:
    """Open receipts and files with a holder whose due date is `day` or earlier."""
    return [
        dict(row)
        for row in session.execute(
            select(
                whereabouts.c.item_id,
                whereabouts.c.item_type,
                whereabouts.c.number,
                whereabouts.c.holder_post,
                whereabouts.c.due_date,
            ).where(
                whereabouts.c.status == "open", whereabouts.c.holder_post.is_not(None), whereabouts.c.due_date <= day
            )
        ).mappings()
    ]


def reminders_sent(session: Session, *, item_ids: list[str]) -> dict[tuple, date]:
    rows = session.execute(select(reminders).where(reminders.c.item_id.in_(item_ids)))
    return {(r.item_id, r.post_code, r.due_date, r.stage): r.day for r in rows}


def record_reminder(session: Session, *, item_id: str, post_code: str, due_date: date, stage: str, day: date) -> bool:
    """Records a reminder stage as sent; False if it had been (then send nothing)."""
    return (
        session.execute(
            insert(reminders)
            .values(item_id=item_id, post_code=post_code, due_date=due_date, stage=stage, day=day)
            .on_conflict_do_nothing()
            .returning(reminders.c.day)
        ).first()
        is not None
    )


def waiting_or_unread(session: Session, *, post_code: str) -> list[dict]:
    """The post's unread notifications (for the live stream of whoever takes the post over)."""
    return [
        dict(row)
        for row in session.execute(
            select(notifications)
            .where(notifications.c.post_code == post_code, notifications.c.read_at.is_(None))
            .order_by(notifications.c.id)
        ).mappings()
    ]
