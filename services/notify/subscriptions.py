"""Portal subscriptions: who is told about which events, what each may see, and the
bookkeeping of deliveries (an outbox per subscription, the attempts log, dead letters).

Plain functions over a SQLAlchemy session; the HTTP and AMQP sending is in `webhooks.py` and
`portal_amqp.py`, the workers that drive them in `portals.py`, the entrypoints in
`portal_entrypoints.py`. Only the system admin manages subscriptions."""

from __future__ import annotations

import json
import random
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import and_, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from eoffice.actor import Actor
from eoffice.contracts.subscriptions import SubscriptionFailing, SubscriptionRequest
from eoffice.errors import Conflict, Forbidden, InvalidInput, NotFound
from eoffice.events import Envelope
from eoffice.paging import keyset_page
from services.notify.subscription_tables import attempts, deliveries, subject_facts, subscriptions

ADMIN_ROLE = "system_admin"
# Payload fields that carry what officers wrote: sent only to subscriptions granted note text.
TEXT_FIELDS = ("remarks", "text", "note_text")
# Receipts of these gradings never leave; nor does one whose grading notify does not know.
DELIVERABLE_GRADINGS = ("normal",)
_IDS = uuid.UUID("6f0c7a55-1d2e-4c8e-9a51-2b3c4d5e6f70")  # namespace: subscription id from caller + key


def require_admin(actor: Actor) -> None:
    """Raises Forbidden unless the actor is the system admin."""
    if not actor.has_role(ADMIN_ROLE):
        raise Forbidden("only the system admin manages portal subscriptions")


# What a subscriber may see


def type_wanted(patterns: list[str], event_type: str) -> bool:
    """True if `event_type` is named by one of the patterns ("*", "eoffice.file.*", a full type)."""
    return any(p == "*" or p == event_type or (p.endswith(".*") and event_type.startswith(p[:-1])) for p in patterns)


def require_known_types(patterns: list[str], known: list[str]) -> None:
    """Raises InvalidInput naming `event_types` for a pattern that names none of the `known`
    types, those portals are sent (a typo, a type that does not exist, or one of directory's or
    notify's own): such a subscription would never hear anything."""
    for n, pattern in enumerate(patterns):
        if not any(type_wanted([pattern], t) for t in known):
            raise InvalidInput(
                f"event_types: {pattern} names no event portals are sent (those of dak, files and signing: "
                "docs/events.md)",
                field="event_types",
                errors=[
                    {
                        "field": f"event_types.{n}",
                        "message": "names no event portals are sent (those of dak, files and signing)",
                        "type": "unknown_event_type",
                    }
                ],
            )


def learn(session: Session | Connection, envelope: Envelope) -> None:
    """Records what the event says about its receipt or file (office, grading), which later
    events of the same item do not repeat."""
    data, kind = envelope.data, envelope.type
    if kind == "eoffice.receipt.diarised.v1":
        grading = data.get("security_grading")
        if grading is None and data.get("copy_of"):
            grading = _facts(session, [data["copy_of"]]).get(data["copy_of"], {}).get("grading")
        _remember(session, data["receipt_id"], office_code=data.get("office_code"), grading=grading)
    elif kind == "eoffice.receipt.corrected.v1" and "security_grading" in data.get("fields", []):
        # The new grading is not in the event: withhold the receipt from now on (fail closed).
        _remember(session, data["receipt_id"], grading=None, keep_office=True)
    elif kind == "eoffice.file.created.v1":
        _remember(session, data["file_id"], office_code=data.get("office_code"), grading="normal")


def _remember(
    session: Session | Connection,
    subject: str,
    *,
    office_code: str | None = None,
    grading: str | None,
    keep_office: bool = False,
) -> None:
    values: dict[str, Any] = {"grading": grading} if keep_office else {"office_code": office_code, "grading": grading}
    session.execute(
        pg_insert(subject_facts)
        .values(subject=subject, **values)
        .on_conflict_do_update(index_elements=["subject"], set_=values)
    )


def _facts(session: Session | Connection, subjects: list[str]) -> dict[str, dict]:
    rows = session.execute(select(subject_facts).where(subject_facts.c.subject.in_(subjects))).mappings()
    return {row["subject"]: dict(row) for row in rows}


# Events of a file that tell of a receipt in words of its own (a receipt joining the file's
# correspondence: its diary number and subject as the item's title), by the receipt's id in
# `receipt_id`: they travel only as the receipt's own events do.
TELLS_OF_RECEIPT = ("eoffice.file.correspondence-added.v1",)


def items_of(envelope: Envelope) -> list[str]:
    """The receipts and files the event is about: its subject, and any receipt_ids it lists."""
    items = [envelope.subject] if envelope.subject else []
    return items + [r for r in envelope.data.get("receipt_ids", []) if r not in items]


def receipts_told_of(envelope: Envelope) -> list[str]:
    """The receipts whose grading decides whether the event may travel: every item of a
    receipt's event, and the receipt a file's event tells of (TELLS_OF_RECEIPT)."""
    if envelope.type.startswith("eoffice.receipt."):
        return items_of(envelope)
    if envelope.type in TELLS_OF_RECEIPT and envelope.data.get("receipt_id"):
        return [envelope.data["receipt_id"]]
    return []


def may_see(subscription: Mapping, envelope: Envelope, facts: dict[str, dict]) -> bool:
    """True if the subscription asked for this event and may see it: nothing of a receipt that
    is not known to be of normal grading; with an office filter, only items known to be of
    those offices."""
    if not type_wanted(subscription["event_types"], envelope.type):
        return False
    items = items_of(envelope)
    if not all(facts.get(r, {}).get("grading") in DELIVERABLE_GRADINGS for r in receipts_told_of(envelope)):
        return False
    if subscription["offices"]:
        return bool(items) and all(facts.get(i, {}).get("office_code") in subscription["offices"] for i in items)
    return True


def body_for(subscription: Mapping, envelope: Envelope) -> str:
    """Returns the envelope as JSON for this subscriber: text fields emptied unless granted
    (`note_text`, the only field of the subscription it reads)."""
    document = envelope.model_dump(mode="json")
    if not subscription["note_text"]:
        document["data"] = {
            k: ("" if k in TEXT_FIELDS and isinstance(v, str) else v) for k, v in document["data"].items()
        }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


# The PostgreSQL channel on which the transaction that adds deliveries says for which
# subscriptions (comma-separated; "*" for many): every notify process listens and wakes its
# workers for them (portals.py), whichever process recorded the event.
DELIVERIES_ADDED = "eoffice_portal_deliveries"
_WAKE_ALL_BEYOND = 150  # subscriptions: a NOTIFY payload holds at most 8,000 bytes

# One row per subscription from two array parameters: one statement whatever their number, as
# cheap to build for 20 subscribers as for one (a list of rows is rendered row by row each time).
# The same statement sends the NOTIFY, delivered when the transaction commits.
_ADD_DELIVERIES = text(f"""
    WITH added AS (
        INSERT INTO notify.deliveries (subscription_id, event_id, event_type, subject, event_time, body)
        SELECT s.id, :event_id, :event_type, :subject, :event_time, s.body
        FROM unnest(CAST(:subs AS text[]), CAST(:bodies AS text[])) AS s(id, body)
        ON CONFLICT DO NOTHING
        RETURNING subscription_id)
    SELECT pg_notify('{DELIVERIES_ADDED}',
                     CASE WHEN count(*) > {_WAKE_ALL_BEYOND} THEN '*' ELSE string_agg(subscription_id, ',') END)
    FROM added HAVING count(*) > 0""")


# Built once (`eoffice.db`, "built once"): asked on every event.
_ACTIVE = select(
    subscriptions.c.id, subscriptions.c.event_types, subscriptions.c.offices, subscriptions.c.note_text
).where(subscriptions.c.active)


def collect(session: Session | Connection, envelope: Envelope) -> list[str]:
    """Adds the event to the outbox of every active subscription that may see it (once per
    event: a redelivered event adds nothing); returns those subscriptions' ids. Each statement
    stands alone (`UnitOfWork.autocommit` will do): what it learns and what it adds are kept
    once however often a redelivered event runs it again."""
    learn(session, envelope)
    subs = [s for s in session.execute(_ACTIVE).mappings() if type_wanted(s["event_types"], envelope.type)]
    # What is known of the items is needed only to filter by office or to vet a receipt.
    receipts = receipts_told_of(envelope)
    needs_facts = bool(receipts) or any(s["offices"] for s in subs)
    facts = _facts(session, list(dict.fromkeys(items_of(envelope) + receipts))) if subs and needs_facts else {}
    chosen = [s for s in subs if may_see(s, envelope, facts)]
    if chosen:
        # The body depends only on the text grant: made at most twice, not once per subscriber.
        bodies = {grant: body_for({"note_text": grant}, envelope) for grant in {s["note_text"] for s in chosen}}
        session.execute(
            _ADD_DELIVERIES,
            {
                "subs": [sub["id"] for sub in chosen],
                "bodies": [bodies[sub["note_text"]] for sub in chosen],
                "event_id": envelope.id,
                "event_type": envelope.type,
                "subject": envelope.subject or envelope.id,
                "event_time": envelope.time,
            },
        )
    return [s["id"] for s in chosen]


# Managing subscriptions


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes, base64."""
    import base64

    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def create(session: Session, actor: Actor, request: SubscriptionRequest, *, key: str) -> tuple[dict, bool]:
    """Registers the subscription once per caller and `key`; returns (its view with the secret,
    whether it was new). The same key with another request raises InvalidInput."""
    require_admin(actor)
    sub_id = str(uuid.uuid5(_IDS, f"{actor.user_id}:{key}"))
    asked = request.model_dump(mode="json")
    existing = session.execute(select(subscriptions).where(subscriptions.c.id == sub_id)).mappings().first()
    if existing:
        if _request_of(existing) != asked:
            raise InvalidInput("Idempotency-Key: already used for another subscription", field="Idempotency-Key")
        return view(existing, with_secret=True), False
    session.execute(
        subscriptions.insert().values(
            id=sub_id,
            **asked,
            admin_user=actor.user_id,
            secret=new_secret() if request.delivery == "webhook" else secrets.token_urlsafe(24),
        )
    )
    return view(get_row(session, sub_id), with_secret=True), True


def _request_of(row) -> dict:
    return {
        "name": row["name"],
        "delivery": row["delivery"],
        "url": row["url"],
        "event_types": row["event_types"],
        "offices": row["offices"],
        "note_text": row["note_text"],
        "contact_email": row["contact_email"],
    }


def set_broker_access(session: Session, sub_id: str, *, user: str, queue: str) -> None:
    session.execute(update(subscriptions).where(subscriptions.c.id == sub_id).values(amqp_user=user, amqp_queue=queue))


def get_row(session: Session, sub_id: str):
    """Returns the subscription's row; raises NotFound."""
    row = session.execute(select(subscriptions).where(subscriptions.c.id == sub_id)).mappings().first()
    if row is None:
        raise NotFound(f"no subscription {sub_id}")
    return row


def active_row(session: Session, sub_id: str):
    """Returns the row of a subscription still running; raises NotFound, or Conflict for one
    stopped (`DELETE`): nothing is sent to it any more, so it gets no new secret and no replay."""
    row = get_row(session, sub_id)
    if not row["active"]:
        raise Conflict(f"subscription {sub_id} is stopped: nothing is sent to it; register a new one")
    return row


def view(row, *, with_secret: bool = False) -> dict:
    """What the admin sees of a subscription; the secret only when it was just made or rotated."""
    shown = {
        **_request_of(row),
        "id": row["id"],
        "active": row["active"],
        "admin_user": row["admin_user"],
        "failing": row["flagged_at"] is not None,
        "failures_in_a_row": row["failures"],
        "failing_since": row["failing_since"],
        "last_error": row["last_error"],
        "created_at": row["created_at"],
        "previous_secret_valid_until": row["previous_until"],
    }
    if row["delivery"] == "amqp":
        shown["amqp"] = {"user": row["amqp_user"], "queue": row["amqp_queue"]}
    if with_secret:
        shown["secret"] = row["secret"]
    return shown


def list_all(session: Session, actor: Actor) -> list[dict]:
    require_admin(actor)
    rows = session.execute(select(subscriptions).order_by(subscriptions.c.created_at)).mappings()
    return [view(r) for r in rows]


def get(session: Session, actor: Actor, sub_id: str) -> dict:
    require_admin(actor)
    return view(get_row(session, sub_id))


def rotate(session: Session, actor: Actor, sub_id: str, *, overlap: timedelta) -> dict:
    """Gives a webhook subscription a new secret; the current one keeps signing too (both
    signatures sent) until `overlap` has passed. Returns the view with the new secret."""
    require_admin(actor)
    row = active_row(session, sub_id)
    if row["delivery"] != "webhook":
        raise Conflict(
            f"subscription {sub_id} is delivered by RabbitMQ: only a webhook subscription has a signing secret"
        )
    session.execute(
        update(subscriptions)
        .where(subscriptions.c.id == sub_id)
        .values(previous_secret=row["secret"], previous_until=datetime.now(UTC) + overlap, secret=new_secret())
    )
    return view(get_row(session, sub_id), with_secret=True)


def deactivate(session: Session, actor: Actor, sub_id: str) -> dict:
    """Stops the subscription: nothing more is added or sent. Returns its view."""
    require_admin(actor)
    get_row(session, sub_id)
    session.execute(update(subscriptions).where(subscriptions.c.id == sub_id).values(active=False))
    return view(get_row(session, sub_id))


def signing_secrets(row, now: datetime) -> list[str]:
    """The secrets a delivery is signed with now: the current, and the previous during its overlap."""
    found = [row["secret"]]
    if row["previous_secret"] and row["previous_until"] and row["previous_until"] > now:
        found.append(row["previous_secret"])
    return found


def delivery_log(session: Session, actor: Actor, sub_id: str, *, after: str | None = None, limit: int = 50) -> dict:
    """Returns a page ({items, next}) of the subscription's delivery attempts, newest first
    after the position `after` (an attempt id), and counts of its deliveries by state. Raises
    InvalidInput naming `cursor` for an `after` no attempt can have."""
    require_admin(actor)
    get_row(session, sub_id)
    query = (
        select(
            attempts.c.id,
            attempts.c.at,
            attempts.c.status,
            attempts.c.ok,
            attempts.c.error,
            attempts.c.seconds,
            deliveries.c.event_id,
            deliveries.c.event_type,
            deliveries.c.subject,
            deliveries.c.attempts.label("delivery_attempts"),
            deliveries.c.state,
        )
        .join(deliveries, deliveries.c.id == attempts.c.delivery_id)
        .where(attempts.c.subscription_id == sub_id)
    )
    counts = {
        state: count
        for state, count in session.execute(
            select(deliveries.c.state, func.count())
            .where(deliveries.c.subscription_id == sub_id)
            .group_by(deliveries.c.state)
        )
    }
    return {
        **keyset_page(session, query, attempts.c.id, after=after, limit=limit, descending=True),
        "deliveries": {state: counts.get(state, 0) for state in ("pending", "delivered", "dead")},
    }


def dead_letters(session: Session, actor: Actor, sub_id: str, *, limit: int = 1000) -> list[dict]:
    """Returns the deliveries that failed for longer than the retry period, oldest first."""
    require_admin(actor)
    get_row(session, sub_id)
    rows = session.execute(
        select(
            deliveries.c.event_id,
            deliveries.c.event_type,
            deliveries.c.subject,
            deliveries.c.event_time,
            deliveries.c.attempts,
            deliveries.c.last_error,
            deliveries.c.created_at,
        )
        .where(deliveries.c.subscription_id == sub_id, deliveries.c.state == "dead")
        .order_by(deliveries.c.event_time, deliveries.c.id)
        .limit(limit)
    ).mappings()
    return [dict(r) for r in rows]


def replay(session: Session, actor: Actor, sub_id: str, *, event_ids: list[str]) -> int:
    """Puts dead deliveries (these, or all when empty) back in the outbox to be sent now, with
    a fresh retry period; returns how many. Refused (Conflict) for a stopped subscription."""
    require_admin(actor)
    active_row(session, sub_id)
    where = and_(deliveries.c.subscription_id == sub_id, deliveries.c.state == "dead")
    if event_ids:
        where = and_(where, deliveries.c.event_id.in_(event_ids))
    result = session.execute(
        update(deliveries)
        .where(where)
        .values(state="pending", next_attempt_at=func.now(), created_at=func.now(), attempts=0)
    )
    return cast(Any, result).rowcount


# The delivery worker's bookkeeping


@dataclass(frozen=True)
class RetryPolicy:
    base: float  # seconds before the first retry; doubled each time
    cap: float  # the longest wait between two attempts
    retry_for: float  # after this long failing, a delivery goes to the dead letters
    failing_after: int  # attempts failed in a row that flag the subscription

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1, 2, ...): exponential, capped, +-20%."""
        return min(self.base * 2 ** min(attempt - 1, 40), self.cap) * random.uniform(0.8, 1.2)


# A pending delivery `d` with no pending delivery of the same subject before it.
_HEAD_OF_SUBJECT = """NOT EXISTS (SELECT 1 FROM notify.deliveries e WHERE e.subscription_id = d.subscription_id
                          AND e.subject = d.subject AND e.state = 'pending'
                          AND (e.event_time, e.id) < (d.event_time, d.id))"""


def due(session: Session, sub_id: str, limit: int) -> list[dict]:
    """Returns deliveries to attempt now: for each subject, only its oldest pending one (order
    kept per file), if its time has come; oldest first. `more` says a later one of the same
    subject is pending (it comes next)."""
    rows = session.execute(
        text(f"""
        SELECT d.id, d.event_id, d.subject, d.body, d.attempts, d.created_at,
          EXISTS (SELECT 1 FROM notify.deliveries e WHERE e.subscription_id = d.subscription_id
                  AND e.subject = d.subject AND e.state = 'pending'
                  AND (e.event_time, e.id) > (d.event_time, d.id)) AS more
        FROM notify.deliveries d
        WHERE d.subscription_id = :sub AND d.state = 'pending' AND d.next_attempt_at <= now()
          AND {_HEAD_OF_SUBJECT}
        ORDER BY d.event_time, d.id LIMIT :limit"""),
        {"sub": sub_id, "limit": limit},
    ).mappings()
    return [dict(r) for r in rows]


def next_due_in(session: Session, sub_id: str) -> float | None:
    """Seconds until the subscription's next deliverable one (the oldest pending of its subject)
    is due (0 if one is), None if nothing is pending."""
    value = session.execute(
        text(f"""
        SELECT extract(epoch FROM min(d.next_attempt_at) - now()) FROM notify.deliveries d
        WHERE d.subscription_id = :sub AND d.state = 'pending' AND {_HEAD_OF_SUBJECT}"""),
        {"sub": sub_id},
    ).scalar()
    return None if value is None else max(0.0, float(value))


_LOG_ATTEMPTS = text("""
    INSERT INTO notify.delivery_attempts (delivery_id, subscription_id, status, ok, error, seconds)
    SELECT a.id, :sub, a.status, a.ok, a.error, a.seconds
    FROM unnest(CAST(:ids AS bigint[]), CAST(:statuses AS integer[]), CAST(:oks AS boolean[]),
                CAST(:errors AS text[]), CAST(:seconds AS double precision[])) AS a(id, status, ok, error, seconds)""")
_DELIVERED = text("""
    UPDATE notify.deliveries SET state = 'delivered', attempts = attempts + 1, delivered_at = :now, last_error = NULL
    WHERE id = ANY(CAST(:ids AS bigint[]))""")


def record(
    session: Session,
    results: list[tuple[dict, Any]],
    *,
    sub_id: str,
    policy: RetryPolicy,
    outbox_add,
    failures: int | None = None,
) -> None:
    """Writes a batch of attempts, each (delivery, outcome with ok/status/error/seconds): the
    log lines, each delivery's new state (delivered; pending with its next time; dead after
    `policy.retry_for`), and the subscription's run of failures. The first time the run reaches
    `policy.failing_after` the subscription is flagged and `eoffice.subscription.failing.v1`
    is added with `outbox_add(session, payload, subject)`. `failures`: the run as read, row
    locked, in this transaction (0: a batch without failures has nothing to clear)."""
    if not results:
        return
    now = datetime.now(UTC)
    # Each column as one array parameter: a statement that costs the same for 1 row or 32
    # (a list of rows makes SQLAlchemy render a VALUES group per row, at every batch).
    session.execute(
        _LOG_ATTEMPTS,
        {
            "sub": sub_id,
            "ids": [d["id"] for d, _ in results],
            "statuses": [o.status for _, o in results],
            "oks": [o.ok for _, o in results],
            "errors": [o.error for _, o in results],
            "seconds": [o.seconds for _, o in results],
        },
    )
    delivered = [d["id"] for d, o in results if o.ok]
    if delivered:
        session.execute(_DELIVERED, {"ids": delivered, "now": now})
    failed = [(d, o) for d, o in results if not o.ok]
    if not failed:
        if failures == 0:
            return
        session.execute(
            update(subscriptions)
            .where(subscriptions.c.id == sub_id, subscriptions.c.failures > 0)
            .values(failures=0, failing_since=None, flagged_at=None, last_error=None)
        )
        return
    for delivery, outcome in failed:
        tries = delivery["attempts"] + 1
        expired = (now - delivery["created_at"]).total_seconds() >= policy.retry_for
        session.execute(
            update(deliveries)
            .where(deliveries.c.id == delivery["id"])
            .values(
                state="dead" if expired else "pending",
                attempts=tries,
                last_error=outcome.error,
                next_attempt_at=now + timedelta(seconds=policy.delay(tries)),
            )
        )
    error = failed[-1][1].error
    row = (
        session.execute(
            update(subscriptions)
            .where(subscriptions.c.id == sub_id)
            .values(
                failures=subscriptions.c.failures + len(failed),
                last_error=error,
                failing_since=func.coalesce(subscriptions.c.failing_since, now),
            )
            .returning(subscriptions)
        )
        .mappings()
        .one()
    )
    if row["failures"] >= policy.failing_after and row["flagged_at"] is None:
        session.execute(update(subscriptions).where(subscriptions.c.id == sub_id).values(flagged_at=now))
        outbox_add(
            session,
            SubscriptionFailing(
                subscription_id=sub_id,
                name=row["name"],
                admin_user=row["admin_user"],
                contact_email=row["contact_email"],
                failures=row["failures"],
                since=row["failing_since"].isoformat(),
                last_error=error or "",
            ),
            sub_id,
        )
