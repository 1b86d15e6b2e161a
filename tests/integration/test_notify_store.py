"""Notify's repository on the real PostgreSQL: a notification and the e-mails and SMS planned
for it are stored by one statement, once per event; a post's unread ones are counted up to a
cap, from an index of the unread ones alone."""

from __future__ import annotations

import functools
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select

from eoffice.contracts.notifications import UNREAD_COUNTED
from services.notify import repository
from services.notify.inbox import Notice
from services.notify.people_tables import messages, notifications
from tests.support.plans import plan_of, rolled_back

pytestmark = pytest.mark.live


@pytest.fixture
def session(migrated):
    with rolled_back(migrated.database_url) as made:  # nothing of these probes stays
        yield made


def planned(person: str, *channels: str) -> list[dict]:
    at = datetime(2026, 11, 30, 4, 30, tzinfo=UTC)
    address = {"email": f"{person.lower()}@up.gov.in", "sms": "+919999900000"}
    return [
        {
            "employee_id": person,
            "channel": channel,
            "address": address[channel],
            "language": "hi",
            "status": "pending",
            "not_before": at,
        }
        for channel in channels
    ]


def stored(session, notification_id: int) -> list[tuple]:
    rows = session.execute(
        select(messages.c.employee_id, messages.c.channel, messages.c.address, messages.c.not_before)
        .where(messages.c.notification_id == notification_id)
        .order_by(messages.c.channel)
    )
    return [tuple(row) for row in rows]


def test_a_notification_is_stored_with_its_messages_once_per_event(session):
    notice = Notice("SO(EST)-GAD", "received", "file", str(uuid.uuid4()), "N-1/2026", {"from_post": "DH1(EST)-GAD"})
    event = str(uuid.uuid4())
    first = repository.add_notification(session, notice=notice, event_id=event, planned=planned("E100", "email", "sms"))
    assert first is not None and first["post_code"] == "SO(EST)-GAD" and first["detail"] == notice.detail
    at = datetime(2026, 11, 30, 4, 30, tzinfo=UTC)
    assert stored(session, first["id"]) == [
        ("E100", "email", "e100@up.gov.in", at),
        ("E100", "sms", "+919999900000", at),
    ]

    # The same event again (a redelivery): neither the notification nor a message is added.
    assert repository.add_notification(session, notice=notice, event_id=event, planned=planned("E200", "email")) is None
    assert len(stored(session, first["id"])) == 2
    assert repository.add_messages(session, notification_id=first["id"], planned=planned("E100", "email")) == 0
    assert repository.add_messages(session, notification_id=first["id"], planned=planned("E300", "email")) == 1


def test_a_notification_nobody_is_to_be_written_to_about_is_stored_alone(session):
    notice = Notice("SO(EST)-GAD", "received", "file", str(uuid.uuid4()), "N-2/2026", {})
    made = repository.add_notification(session, notice=notice, event_id=str(uuid.uuid4()), planned=[])
    assert made is not None and stored(session, made["id"]) == []
    assert repository.add_messages(session, notification_id=made["id"], planned=[]) == 0


def test_the_unread_count_stops_at_its_cap_and_reads_only_the_unread(session):
    """A post whose holders never read their notifications in the app: the count is capped and
    says there are more, counts only the post's unread ones of the reader's kinds, and is read
    from the index of the unread ones, not from the table or the post's every notification."""
    post, other = f"T-{uuid.uuid4().hex[:12]}", f"T-{uuid.uuid4().hex[:12]}"

    def add(post_code: str, kind: str, how_many: int, read: bool = False) -> list[int]:
        rows = [
            {"post_code": post_code, "kind": kind, "item_type": "file", "item_id": str(uuid.uuid4()),
             "event_id": str(uuid.uuid4()), "read_at": datetime(2026, 11, 30, tzinfo=UTC) if read else None}
            for _ in range(how_many)
        ]
        return list(session.execute(insert(notifications).returning(notifications.c.id), rows).scalars())

    unread = add(post, "arrived", UNREAD_COUNTED + 3)
    add(post, "arrived", 40, read=True)
    add(post, "overdue", 5)  # a kind the reader did not choose
    add(other, "arrived", 7)  # another post's
    count = functools.partial(repository.unread_count, session, kinds=["arrived", "returned"])

    assert count(posts=[post]) == (UNREAD_COUNTED, True)
    assert count(posts=[other]) == (7, False)
    assert count(posts=[post, other]) == (UNREAD_COUNTED, True)
    assert repository.mark_read(session, posts=[post], ids=unread[:4], by_user="E100") == 4
    assert count(posts=[post]) == (UNREAD_COUNTED - 1, False)
    assert repository.unread_count(session, posts=[post], kinds=["overdue"]) == (5, False)

    plan = plan_of(session, lambda: count(posts=[post]))  # what the plan is on a large table
    assert "notifications_unread" in plan and "Limit" in plan, plan
