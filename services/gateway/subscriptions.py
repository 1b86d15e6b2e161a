"""Portal subscriptions over HTTP (system admin only): register another state portal for event
types (by webhook or AMQP), see each one's delivery log and dead letters, replay them, rotate
the signing secret, stop it. The notify service decides and delivers (docs/subscribers.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field

from eoffice.actor import Actor
from eoffice.contracts.subscriptions import Replay, Rotate, SubscriptionRequest
from eoffice.errors import Forbidden
from services.gateway.auth import actor
from services.gateway.directory import IdempotencyKey
from services.gateway.pages import Page, PageRequest, page, page_request_or_before

router = APIRouter(prefix="/subscriptions", tags=["subscriptions"], dependencies=[Depends(actor)])
IdPath = Path(pattern=r"^[0-9a-f-]{36}$", description="the subscription's id")


class BrokerAccess(BaseModel):
    host: str | None = None
    port: int | None = None
    vhost: str | None = None
    user: str | None
    queue: str | None


class Subscription(BaseModel):
    id: str
    name: str
    delivery: str
    url: str | None
    event_types: list[str]
    offices: list[str]
    note_text: bool
    contact_email: str | None
    active: bool
    admin_user: str
    failing: bool = Field(description="flagged: deliveries kept failing (the admin was alerted)")
    failures_in_a_row: int
    failing_since: datetime | None
    last_error: str | None
    created_at: datetime
    previous_secret_valid_until: datetime | None = Field(description="while set and future, both secrets sign")
    amqp: BrokerAccess | None = None


class SubscriptionWithSecret(Subscription):
    secret: str = Field(
        description="webhook: the signing secret (whsec_...); AMQP: the broker password. Shown only now: keep it"
    )


class Attempt(BaseModel):
    id: int
    at: datetime
    event_id: str
    event_type: str
    subject: str
    status: int | None = Field(description="the subscriber's HTTP status; none when it did not answer")
    ok: bool
    error: str | None
    seconds: float
    state: str = Field(description="the delivery's state now: pending, delivered or dead")


class DeliveryLog(Page[Attempt]):
    deliveries: dict[str, int] = Field(description="this subscription's deliveries by state")


class DeadLetter(BaseModel):
    event_id: str
    event_type: str
    subject: str
    event_time: datetime
    attempts: int
    last_error: str | None
    created_at: datetime


class Replayed(BaseModel):
    replayed: int


def _call(request: Request, method: str, who: Actor, *args: Any):
    # Refused here too, so that a caller who is not the admin learns nothing from validation.
    if not who.has_role("system_admin"):
        raise Forbidden("only the system admin manages portal subscriptions")
    return request.app.state.rpc.call("notify", method, who.model_dump(mode="json"), *args)


@router.post(
    "",
    response_model=SubscriptionWithSecret,
    status_code=201,
    summary="Register a portal for event types, by webhook or AMQP (system admin)",
)
def create(
    request: Request, body: SubscriptionRequest, *, who: Actor = Depends(actor), idempotency_key: str = IdempotencyKey
):
    return _call(request, "create_subscription", who, body.model_dump(mode="json"), idempotency_key)


@router.get("", response_model=list[Subscription], summary="Every portal subscription (system admin)")
def list_all(request: Request, who: Actor = Depends(actor)):
    return _call(request, "list_subscriptions", who)


@router.get("/{subscription_id}", response_model=Subscription, summary="A portal subscription")
def get(request: Request, who: Actor = Depends(actor), subscription_id: str = IdPath):
    return _call(request, "get_subscription", who, subscription_id)


@router.post(
    "/{subscription_id}/rotate-secret",
    response_model=SubscriptionWithSecret,
    summary="A new signing secret; the old one keeps signing beside it for the overlap",
)
def rotate(
    request: Request,
    body: Rotate,
    *,
    who: Actor = Depends(actor),
    subscription_id: str = IdPath,
    idempotency_key: str = IdempotencyKey,
):
    return _call(request, "rotate_subscription_secret", who, subscription_id, body.model_dump(), idempotency_key)


@router.delete("/{subscription_id}", response_model=Subscription, summary="Stop a subscription")
def deactivate(request: Request, who: Actor = Depends(actor), subscription_id: str = IdPath):
    return _call(request, "deactivate_subscription", who, subscription_id)


@router.get(
    "/{subscription_id}/deliveries",
    response_model=DeliveryLog,
    summary="The delivery log: the latest attempts, newest first",
    description="Pages like every list (`cursor`, `next_cursor`). `before` (an attempt id) is the deprecated "
    "way it paged before cursors, still taken for one release: use `cursor`.",
)
def deliveries(
    request: Request,
    *,
    who: Actor = Depends(actor),
    subscription_id: str = IdPath,
    at: PageRequest = Depends(page_request_or_before),
):
    return page(_call(request, "subscription_deliveries", who, subscription_id, at.model_dump()))


@router.get(
    "/{subscription_id}/dead-letters",
    response_model=list[DeadLetter],
    summary="Deliveries that failed for the whole retry period",
)
def dead_letters(request: Request, who: Actor = Depends(actor), subscription_id: str = IdPath):
    return _call(request, "subscription_dead_letters", who, subscription_id)


@router.post(
    "/{subscription_id}/dead-letters/replay",
    response_model=Replayed,
    summary="Send dead letters again (these event ids, or all)",
)
def replay(request: Request, body: Replay, *, who: Actor = Depends(actor), subscription_id: str = IdPath):
    return _call(request, "replay_dead_letters", who, subscription_id, body.model_dump())
