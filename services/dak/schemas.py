"""What the dak service's entry points accept."""
from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field, model_validator


class Diarise(BaseModel):
    subject: str = Field(min_length=1, max_length=2000)
    sender_name: str = Field(min_length=1, max_length=500)
    sender_address: str = Field("", max_length=2000)
    letter_number: str = Field("", max_length=200)
    letter_date: date | None = None
    received_date: date
    mode: Literal["post", "hand", "email", "portal", "fax"]
    language: Literal["hi", "en", "other"] = "hi"
    security_grading: Literal["normal", "confidential", "secret", "top_secret"] = "normal"
    physical: bool = True

    @model_validator(mode="after")
    def _dates(self):
        if self.letter_date and self.letter_date > self.received_date:
            raise ValueError("letter_date is after received_date")
        return self


class Send(BaseModel):
    to_post: str = Field(min_length=1, max_length=60)
    remarks: str = Field("", max_length=2000)
