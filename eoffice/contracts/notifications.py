"""The notify service's contract about notifying people: a person's preferences, what a
notification looks like and how its live stream is fed (with the gateway), and the event it
emits when an issued letter has been dispatched.

(Portal subscriptions have their own contract.)"""

from __future__ import annotations

from datetime import datetime, time
from typing import Literal, get_args

from pydantic import BaseModel, Field, model_validator

from eoffice.contracts.common import Page
from eoffice.events import EventPayload
from eoffice.validation import RequestModel

SERVICE = "notify"
Kind = Literal["arrived", "returned", "pulled_back", "due", "overdue", "escalated", "signed", "issued", "skipped"]
KINDS: tuple[str, ...] = get_args(Kind)
Channel = Literal["in_app", "email", "sms"]

# notify publishes each new notification here (a fanout exchange; not an event: it is not kept
# when nobody listens). The gateway's streams listen and catch up from the database by id.
LIVE_EXCHANGE = "notify.live"


def _all_kinds() -> list[Kind]:
    return list(get_args(Kind))


class Preferences(RequestModel):
    """What reaches a person and how. Quiet hours are Indian time; an e-mail or SMS due inside
    them waits until they end (in-app notifications are silent and always kept)."""

    language: Literal["hi", "en"] = Field("hi", description="Hindi or English, for e-mail and SMS")
    kinds: list[Kind] = Field(default_factory=lambda: list(_all_kinds()), description="the kinds that reach you")
    channels: list[Channel] = Field(
        default_factory=lambda: list[Channel](["in_app", "email"]),
        description="in_app, email, sms (SMS only if you ask for it)",
    )
    digest: bool = Field(False, description="one e-mail a day listing everything, instead of one each")
    quiet_from: time | None = Field(None, description="start of quiet hours, e.g. 20:00")
    quiet_to: time | None = Field(None, description="end of quiet hours, e.g. 08:00")

    @model_validator(mode="after")
    def _quiet_both(self):
        if (self.quiet_from is None) != (self.quiet_to is None):
            raise ValueError("give both quiet_from and quiet_to, or neither")
        if self.quiet_from is not None and self.quiet_from == self.quiet_to:
            raise ValueError("quiet_from and quiet_to are the same time")
        return self


class Notification(BaseModel):
    id: int = Field(description="increasing; the live stream's event id")
    post_code: str = Field(description="the post it was sent to; whoever holds it, or acts for it, sees it")
    kind: Kind
    item_type: Literal["receipt", "file"]
    item_id: str
    number: str
    text: str = Field(description="what happened, in the language asked for (`lang`), else the reader's")
    detail: dict
    created_at: datetime
    read_at: datetime | None = None
    read_by: str | None = None


UNREAD_COUNTED = 1000  # a list of notifications counts its unread ones up to this many, and says if there are more


class NotificationsQuery(Page):
    """A page of the list, newest first (`after`: the position a cursor stands for), or with
    `since` the ones newer than that id, oldest first (a live stream catching up)."""

    unread: bool | None = None
    since: int | None = Field(None, ge=0, description="only notifications with a greater id, oldest first")
    language: Literal["hi", "en"] | None = Field(None, description="the texts in this language; none: the reader's")


# --- dispatch of issued letters -------------------------------------------------------------


class DispatchedTo(BaseModel):
    name: str
    email: str | None = Field(None, description="None: the letter goes to this addressee by post or by hand")
    status: Literal["sent", "failed", "by_hand"]
    error: str | None = None


class LetterDispatched(EventPayload):
    """An issued letter (eoffice.letter.issued.v1) was dispatched: e-mailed, with its signed PDF,
    to each addressee that has an e-mail address (`sent`, or `failed` after every retry); the
    others are listed `by_hand`. Emitted once per letter, when every e-mail was dealt with. The
    subject is the file's id."""

    event_type = "eoffice.letter.dispatched.v1"
    letter_id: str
    letter_number: str
    file_id: str
    file_number: str
    addressees: list[DispatchedTo]
    dispatched_at: datetime
