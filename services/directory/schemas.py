"""What the directory's entry points accept, checked before anything is done."""
from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field, model_validator


class ImportRequest(BaseModel):
    files: dict[str, str] = Field(description="CSV text by file name: offices, holidays, posts, users, postings")
    initial_password: str | None = Field(None, min_length=8, description="set for users created by this import")


class HandOver(BaseModel):
    post_code: str
    employee_id: str
    start_date: date


class Delegate(BaseModel):
    from_post: str
    to_post: str
    start_date: date
    end_date: date
    reason: str = ""

    @model_validator(mode="after")
    def _ordered(self):
        if self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        if self.from_post == self.to_post:
            raise ValueError("a post cannot be delegated to itself")
        return self


class Page(BaseModel):
    after: str | None = None
    limit: int = Field(50, ge=1, le=200)


class DateRange(BaseModel):
    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self):
        if self.end < self.start:
            raise ValueError("end is before start")
        if (self.end - self.start).days > 3660:
            raise ValueError("at most ten years at a time")
        return self
