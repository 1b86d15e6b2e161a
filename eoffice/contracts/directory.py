"""The directory's contract: the events it emits and the requests it accepts."""

from __future__ import annotations

from datetime import date

from pydantic import Field, ValidationInfo, field_validator

from eoffice.events import EventPayload
from eoffice.validation import RequestModel

SERVICE = "directory"  # the emitter: CloudEvents source "eoffice/directory", exchange "directory.events"


# Events


class OrganisationImported(EventPayload):
    """An organisation was imported from CSV files (offices, holidays, posts, users, postings):
    how many rows of each file were created and changed, and how many were rejected."""

    event_type = "eoffice.directory.organisation-imported.v1"
    created: dict[str, int] = Field(description="rows created, by file name")
    changed: dict[str, int] = Field(description="rows changed, by file name")
    rejected: int = Field(description="rows refused (the importer's report says why)")


class PostHandedOver(EventPayload):
    """The post has a new regular holder from `start_date`; its pending work is theirs now.
    The subject is the post's code."""

    event_type = "eoffice.directory.post-handed-over.v1"
    post_code: str
    employee_id: str = Field(description="the new holder")
    start_date: str = Field(description="ISO date; the previous postings ended the day before")
    previous_holders: list[str] = Field(description="employee ids whose postings to the post ended")


class DelegationCreated(EventPayload):
    """Post `from_post`'s work goes to post `to_post` from `start_date` to `end_date` (both
    days included). The subject is `from_post`."""

    event_type = "eoffice.directory.delegation-created.v1"
    from_post: str
    to_post: str
    start_date: str = Field(description="ISO date")
    end_date: str = Field(description="ISO date")


# Requests


class ImportRequest(RequestModel):
    files: dict[str, str] = Field(description="CSV text by file name: offices, holidays, posts, users, postings")
    initial_password: str | None = Field(None, min_length=8, description="set for users created by this import")


class HandOver(RequestModel):
    post_code: str
    employee_id: str
    start_date: date


class Delegate(RequestModel):
    from_post: str
    to_post: str
    start_date: date
    end_date: date
    reason: str = ""

    # Field validators, not one over the model, so that a refusal names the field (`to_post`,
    # `end_date`) rather than the whole request.
    @field_validator("to_post")
    @classmethod
    def _not_itself(cls, to_post: str, info: ValidationInfo) -> str:
        if to_post == info.data.get("from_post"):
            raise ValueError("a post cannot be delegated to itself")
        return to_post

    @field_validator("end_date")
    @classmethod
    def _ordered(cls, end_date: date, info: ValidationInfo) -> date:
        start_date = info.data.get("start_date")
        if start_date is not None and end_date < start_date:
            raise ValueError("end_date is before start_date")
        return end_date
