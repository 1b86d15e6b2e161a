"""Portal subscriptions' contract: what the system admin asks for when registering another
state portal (webhook or AMQP), and the event notify emits when a subscription keeps failing.
The gateway builds the requests from HTTP; notify checks them again (the URL's addresses)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, ValidationInfo, field_validator

from eoffice.events import EventPayload
from eoffice.validation import Filled, RequestModel, Text

SERVICE = "notify"  # the emitter of the event below: CloudEvents source "eoffice/notify"

# An event type a portal may subscribe to: a full type ("eoffice.file.sent.v1") or a prefix
# ending in ".*" ("eoffice.file.*"); "*" alone is every type.
EventTypePattern = Annotated[
    str, StringConstraints(pattern=r"^(\*|eoffice(\.[a-z0-9-]+)*\.(\*|v[0-9]+))$", max_length=200)
]
OfficeCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9()._-]{1,60}$")]
MAX_URL = 2000


class SubscriptionRequest(RequestModel):
    """A portal to tell about events: by webhook (an HTTPS URL) or over AMQP (a queue of its
    own on our RabbitMQ). `offices` empty: events of every office; an office also covers the
    offices below it (notify lists them all in the subscription it makes)."""

    name: Filled = Field(min_length=1, max_length=200, description="the portal, in the admin's words")
    delivery: Literal["webhook", "amqp"]
    url: Text | None = Field(
        None, max_length=MAX_URL, validate_default=True, description="webhook only: https://host[:port]/path"
    )
    event_types: list[EventTypePattern] = Field(
        min_length=1, max_length=100, description='full types, prefixes like "eoffice.file.*", or "*"'
    )
    offices: list[OfficeCode] = Field([], max_length=500, description="only events about these offices' items")
    note_text: bool = Field(False, description="granted: remarks and note text travel in the payloads")
    contact_email: Text | None = Field(
        None,
        max_length=200,
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        description="who at the portal hears when deliveries keep failing",
    )

    @field_validator("url")
    @classmethod
    def _url_for_webhooks(cls, value: str | None, info: ValidationInfo) -> str | None:
        delivery = info.data.get("delivery")
        if delivery == "webhook" and not value:
            raise ValueError("a webhook subscription needs a url")
        if delivery == "amqp" and value:
            raise ValueError("an AMQP subscription takes no url (it gets a queue)")
        if value is not None and not value.lower().startswith(("https://", "http://")):
            raise ValueError("a webhook URL starts with https://")
        return value


class Rotate(RequestModel):
    """A new signing secret; the old one stays valid (both signatures are sent) for `overlap_hours`."""

    overlap_hours: float = Field(24, ge=0, le=24 * 30, strict=True)  # a number: `false` is not 0


class Replay(RequestModel):
    """Dead letters to deliver again: these event ids, or every one when empty."""

    event_ids: list[Annotated[str, StringConstraints(pattern=r"^[0-9a-f-]{36}$")]] = Field(
        [], max_length=10000, description="the events' ids (UUIDs), as the dead letters list them"
    )


class SubscriptionFailing(EventPayload):
    """A portal subscription kept failing (`failures` attempts in a row, the first at `since`);
    it is flagged, deliveries keep being retried until they reach the dead-letter list. The
    subject is the subscription's id; `admin_user` registered it."""

    event_type = "eoffice.subscription.failing.v1"
    subscription_id: str
    name: str
    admin_user: str
    contact_email: str | None = None
    failures: int
    since: str
    last_error: str
