"""Value types more than one service's contract uses."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator

from eoffice.validation import FileName, RequestModel, Text

# A post's code as the directory gives it (its marking abbreviation, e.g. "SO(EST)-GAD").
PostCode = Annotated[Text, StringConstraints(min_length=1, max_length=60)]
# How soon a receipt or a file wants attention.
Priority = Literal["normal", "urgent", "immediate"]


class Page(BaseModel):
    """Which page of a list: the rows after `after` (the last key of the previous page)."""

    after: str | None = None
    limit: int = Field(50, ge=1, le=200)


class DateRange(BaseModel):
    """Both days included; at most ten years."""

    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self):
        if self.end < self.start:
            raise ValueError("end is before start")
        if (self.end - self.start).days > 3660:
            raise ValueError("at most ten years at a time")
        return self


class Upload(RequestModel):
    """A file the gateway streamed to the store, unchecked, handed to the service that owns it:
    that service runs the intake on it (`eoffice.intake`) and removes it if it refuses."""

    filename: FileName  # as it will be recorded
    object_name: str = Field(min_length=1, max_length=300)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)
