"""The event envelope (CloudEvents 1.0 attributes) and the base for versioned payloads.

A service lists the events it emits in its own `events.py`, one `EventPayload` subclass each,
with `event_type` like "eoffice.file.moved.v1". The same envelope goes to external portals."""

from __future__ import annotations

import builtins
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field


class EventPayload(BaseModel):
    """Base for an event's `data`. Subclasses set `event_type` (versioned) and their fields."""

    model_config = ConfigDict(frozen=True)
    event_type: ClassVar[str]


class Envelope(BaseModel):
    """One event as it travels: CloudEvents attributes plus the payload as JSON."""

    specversion: str = "1.0"
    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    source: str  # the emitting service, e.g. "eoffice/files"
    type: str
    subject: str | None = None  # what it is about, e.g. a file id
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    datacontenttype: str = "application/json"
    data: dict[str, Any]

    @property
    def service(self) -> str:
        """Returns the emitting service's name (the nameko service that owns the exchange)."""
        return self.source.rsplit("/", 1)[-1]

    # builtins.type: inside this class `type` is the CloudEvents field above.
    def payload(self, model: builtins.type[EventPayload]) -> EventPayload:
        """Returns `data` parsed as `model`; raises pydantic.ValidationError if it does not fit."""
        return model.model_validate(self.data)


def envelope_for(service: str, payload: EventPayload, subject: str | None = None) -> Envelope:
    """Returns a new envelope for `payload` emitted by `service`."""
    return Envelope(
        source=source_of(service), type=payload.event_type, subject=subject, data=payload.model_dump(mode="json")
    )


def source_of(service: str) -> str:
    """Returns the CloudEvents `source` of a service's events."""
    return f"eoffice/{service}"
