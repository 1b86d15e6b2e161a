"""Idempotency keys of the RPCs that change data, once for every service.

nameko RPC is at-least-once and clients retry, so every changing call carries a key its caller
chose (`Idempotency-Key` at the gateway). A key belongs to its caller: it is scoped to the
user, the post they act as and the operation, so two people who happen to send the same key
never see each other's answers, and neither's work is skipped for the other's (the rule of
Stripe's API and of the IETF `Idempotency-Key` draft).

`once(...)` runs in the caller's transaction, beside the work:

- the first call in a scope claims the key, does the work, and stores a fingerprint of the
  request and the answer;
- the same request again in that scope gets the stored answer, and nothing is done again;
- another request under the same key in that scope is refused: `InvalidInput` naming
  `Idempotency-Key` (422), and nothing changes;
- a call that fails rolls its claim back with everything else: the key may be used again;
- of two calls at once with one key, the second waits on the first one's claim (a primary key)
  and then answers as above.

Each service keeps its keys in its own `idempotency_keys` table (`idempotency_table`)."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

from kombu.utils import json as wire
from pydantic import BaseModel
from sqlalchemy import Column, DateTime, Executable, MetaData, String, Table, Update, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from eoffice.actor import Actor
from eoffice.db import Changes, RecordEvent, UnitOfWork, fixed_text
from eoffice.errors import InvalidInput

KEY_FIELD = "Idempotency-Key"
# Where the gateway put an upload is not part of what was asked: a retried upload lands under
# a new name with the same content (and the same SHA-256, which is part of the request).
NOT_PART_OF_THE_REQUEST = frozenset({"object_name"})

T = TypeVar("T")


def idempotency_table(metadata: MetaData) -> Table:
    """Declares the service's `idempotency_keys` table on its metadata; returns it."""
    return Table(
        "idempotency_keys",
        metadata,
        Column("scope", String(64), primary_key=True),  # sha256 of user, post, operation and key
        Column("operation", String(100), nullable=False),
        Column("fingerprint", String(64), nullable=False),  # sha256 of the request, see `fingerprint`
        Column("answer", JSONB),  # the first call's answer, as the RPC reply carried it
        # Indexed for eoffice.housekeeping, which forgets keys by this time.
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now(), index=True),
    )


def scope_of(actor: Actor, operation: str, key: str) -> str:
    """Returns the digest naming one caller's use of one key for one operation."""
    return hashlib.sha256(json.dumps([actor.user_id, actor.post_id, operation, key]).encode()).hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return _plain(value.model_dump(mode="json", exclude_unset=True))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items() if k not in NOT_PART_OF_THE_REQUEST}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"cannot fingerprint a {type(value).__name__}")


def fingerprint(request: Any) -> str:
    """Returns the SHA-256 of the request's canonical JSON (keys sorted, no spaces): equal for
    the same request however its fields were ordered. A pydantic model counts as the fields
    it was given: for a correction, a field sent as null and one left out ask different things."""
    canonical = json.dumps(_plain(request), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@functools.cache
def _claim(table: Table) -> Executable:
    """Claims a scope, or returns nothing when it was claimed before (built once, `fixed_text`)."""
    return fixed_text(
        pg_insert(table)
        .values(scope=bindparam("scope"), operation=bindparam("operation"), fingerprint=bindparam("fingerprint"))
        .on_conflict_do_nothing()
        .returning(table.c.scope)
    )


@functools.cache
def _keep_answer(table: Table) -> Update:
    """Stores the answer of a claimed scope (built once: `eoffice.db`, "built once")."""
    return update(table).where(table.c.scope == bindparam("claimed")).values(answer=bindparam("answer"))


def once(
    session: Session, table: Table, *, actor: Actor, operation: str, key: str, request: Any, work: Callable[[], T]
) -> T:
    """Runs `work()` once per (actor's user and post, `operation`, `key`) in `session`'s
    transaction and returns its answer; on a retry of the same `request`, returns the answer
    of the first call without running `work`. Raises InvalidInput (field `Idempotency-Key`)
    when the key was used in this scope for a different request. `request` is everything
    that says what is asked (ids and body), not the actor or the key."""
    scope, asked = scope_of(actor, operation, key), fingerprint(request)
    claimed = session.execute(_claim(table), {"scope": scope, "operation": operation, "fingerprint": asked}).first()
    if claimed is None:  # done before, and committed (a concurrent first call has finished by now)
        first = session.execute(select(table.c.fingerprint, table.c.answer).where(table.c.scope == scope)).one()
        if first.fingerprint != asked:
            raise InvalidInput(
                f"this {KEY_FIELD} was used before for a different request; "
                f"send a new {KEY_FIELD} with each new request",
                field=KEY_FIELD,
            )
        return replayed(first.answer)
    answer = work()
    session.execute(_keep_answer(table), {"claimed": scope, "answer": as_stored(answer)})
    return answer


def command(
    uow: UnitOfWork,
    *,
    record: RecordEvent,
    table: Table,
    actor: Actor,
    operation: str,
    key: str,
    request: Any,
    step: Callable[[Changes], T],
) -> T:
    """The one path of a call that changes data: runs `step(changes)` in a unit of work
    (`UnitOfWork.changes`), once per caller and `key` for `operation` (`once`), and writes the
    events the step raised to the outbox (`record`) in the same commit. A retry of the same
    `request` returns the first answer and raises no event; the key with another request is
    refused (422); a step that raises leaves nothing behind, its claim on the key included."""
    with uow.changes(record) as changes:
        return once(
            changes.session,
            table,
            actor=actor,
            operation=operation,
            key=key,
            request=request,
            work=lambda: step(changes),
        )


# An answer is stored as nameko's JSON serializer writes the RPC reply (dates and times tagged
# with their type), so a replay decodes to the very values the first reply carried.


def as_stored(answer: Any) -> Any:
    """Returns the answer as a JSON value for the `answer` column."""
    return json.loads(wire.dumps(answer))


def replayed(stored: Any) -> Any:
    """Returns a stored answer as the first call returned it."""
    return wire.loads(json.dumps(stored))
