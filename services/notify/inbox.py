"""What people are told, as plain functions: which notifications an event of dak or files makes
(and where the receipt or file is afterwards), and who gets which e-mail or SMS for one.

A notification goes to a post, not a person: whoever holds the post or acts for it by
delegation when they look sees it, so a hand-over moves the unread ones with the post. E-mail
and SMS go to the people who hold it at that moment (`plan_messages`)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from eoffice.clock import IST
from eoffice.contracts.notifications import Preferences


@dataclass(frozen=True)
class Notice:
    """One notification to make: `kind` about a receipt or file, to `post_code`."""

    post_code: str
    kind: str
    item_type: str
    item_id: str
    number: str
    detail: dict = field(default_factory=dict)


@dataclass
class Whereabouts:
    """Where a receipt or file is, as notify learned it from events."""

    item_id: str
    item_type: str
    number: str = ""
    holder_post: str | None = None
    due_date: date | None = None
    status: str = "open"  # open, parked, done
    posts_seen: list[str] = field(default_factory=list)
    as_of: datetime | None = None  # when the last event that moved it happened


# (event type) -> (item type, what the event does to it)
MOVES = {
    "eoffice.receipt.sent.v1": ("receipt", "sent"),
    "eoffice.receipt.pulled-back.v1": ("receipt", "pulled_back"),
    "eoffice.receipt.put-in-file.v1": ("receipt", "done"),
    "eoffice.receipt.closed.v1": ("receipt", "done"),
    "eoffice.receipt.reopened.v1": ("receipt", "reopened"),
    "eoffice.receipt.diarised.v1": ("receipt", "diarised"),
    "eoffice.file.created.v1": ("file", "created"),
    "eoffice.file.sent.v1": ("file", "sent"),
    "eoffice.file.pulled-back.v1": ("file", "pulled_back"),
    "eoffice.file.parked.v1": ("file", "parked"),
    "eoffice.file.unparked.v1": ("file", "reopened"),
    "eoffice.file.closed.v1": ("file", "done"),
    "eoffice.file.reopened.v1": ("file", "reopened"),
}


def item_id_of(event_type: str, data: dict) -> str:
    return data["receipt_id"] if MOVES[event_type][0] == "receipt" else data["file_id"]


def apply_event(
    event_type: str,
    data: dict,
    *,
    known: Whereabouts | None,
    parent: Whereabouts | None = None,
    at: datetime | None = None,
) -> tuple[Whereabouts, list[Notice]]:
    """Returns where the item is after the event, and the notifications the event makes.

    `known` is where notify last saw the item (None: never); `parent` is, for a receipt copy
    (diarised with `copy_of`), where its original is: the copy shares its due date. `at` is
    when the event happened: events come in any order (each type has its own queue, and a
    retried one comes late), so an event older than what `known` reflects still makes its
    notifications but does not move the item back."""
    item_type, move = MOVES[event_type]
    item_id = item_id_of(event_type, data)
    number = data.get("diary_number") or data.get("file_number") or (known.number if known else "")
    stale = known is not None and None not in (at, known.as_of) and at < known.as_of  # type: ignore[operator]
    if known is not None:
        known = replace(known, posts_seen=list(known.posts_seen))
    where = replace(known) if known else Whereabouts(item_id=item_id, item_type=item_type, number=number)
    where.number = number or where.number
    notices: list[Notice] = []

    def notify(post: str | None, kind: str, **detail) -> None:
        if post:
            notices.append(
                Notice(
                    post,
                    kind,
                    item_type,
                    item_id,
                    where.number,
                    {k: v for k, v in detail.items() if v not in (None, "")},
                )
            )

    def holder_becomes(post: str | None) -> None:
        if post:
            where.holder_post = post
            if post not in where.posts_seen:
                where.posts_seen.append(post)

    if move in ("diarised", "created"):
        holder_becomes(data.get("holder_post") or data.get("creator_post"))
        if data.get("copy_of"):  # a copy marked to this post: it arrives like a sent receipt
            where.due_date = parent.due_date if parent else None
            notify(
                where.holder_post,
                "arrived",
                from_post=parent.holder_post if parent else None,
                due_date=where.due_date.isoformat() if where.due_date else None,
            )
    elif move == "sent":
        to_post = data.get("to_post")
        came_back = to_post in where.posts_seen
        where.due_date = date.fromisoformat(data["due_date"]) if data.get("due_date") else None
        where.status = "open"
        holder_becomes(to_post)
        notify(
            to_post,
            "returned" if came_back else "arrived",
            from_post=data.get("from_post"),
            remarks=data.get("remarks"),
            due_date=data.get("due_date"),
            priority=data.get("priority"),
        )
        for post in data.get("skipped") or ():  # a level skipped is informed afterwards; it holds nothing
            notify(post, "skipped", from_post=data.get("from_post"), to_post=to_post, remarks=data.get("remarks"))
    elif move == "pulled_back":
        notify(data.get("from_post"), "pulled_back", to_post=data.get("to_post"))
        holder_becomes(data.get("to_post"))
    elif move == "parked":
        where.status = "parked"
    elif move == "reopened":
        where.status = "open"
        holder_becomes(data.get("to_post") or data.get("by_post"))
    elif move == "done":
        where.status = "done"
    if stale and known is not None:
        known.posts_seen += [post for post in where.posts_seen if post not in known.posts_seen]
        return known, notices
    where.as_of = at or where.as_of
    return where, notices


def quiet_until(now: datetime, prefs: Preferences) -> datetime:
    """Returns when an e-mail or SMS planned at `now` may go: `now`, or the end of the
    person's quiet hours (Indian time) if `now` falls inside them."""
    if prefs.quiet_from is None or prefs.quiet_to is None:
        return now
    local = now.astimezone(IST)
    start, end, clock = prefs.quiet_from, prefs.quiet_to, local.time()
    inside = (start <= clock < end) if start < end else (clock >= start or clock < end)
    if not inside:
        return now
    ends = datetime.combine(local.date(), end, tzinfo=IST)
    if ends <= local:
        ends += timedelta(days=1)
    return ends


def plan_messages(
    *,
    notice: Notice,
    holders: list[dict],
    contacts: dict[str, dict],
    preferences: dict[str, Preferences],
    now: datetime,
) -> list[dict]:
    """Returns the e-mails and SMS to send for one notification: one per person who holds the
    post (or acts for it) and per channel they chose, for the kinds they chose; `digest` for
    e-mail when they take a daily digest, else `pending` from the end of their quiet hours.
    Someone reached twice (holding the post and acting for it) gets one of each."""
    planned: dict[tuple[str, str], dict] = {}
    for holder in holders:
        person = holder["employee_id"]
        prefs, contact = preferences.get(person) or Preferences(), contacts.get(person)
        if contact is None or notice.kind not in prefs.kinds:
            continue
        for channel, address in (("email", contact.get("email")), ("sms", contact.get("mobile"))):
            if channel not in prefs.channels or not address or (person, channel) in planned:
                continue
            digest = channel == "email" and prefs.digest
            planned[(person, channel)] = {
                "employee_id": person,
                "channel": channel,
                "address": address,
                "language": prefs.language,
                "status": "digest" if digest else "pending",
                "not_before": now if digest else quiet_until(now, prefs),
            }
    return list(planned.values())


def name_of(contact: dict, language: str) -> str:
    return (contact.get("name_hi") if language == "hi" else None) or contact.get("name_en") or ""


def office_hour_passed(now: datetime, hour: int) -> bool:
    """True once the Indian-time clock has reached `hour` today."""
    return now.astimezone(IST).time() >= time(hour)
