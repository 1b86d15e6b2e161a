"""What the dak service's entry points accept."""
from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from eoffice.validation import Text


class Diarise(BaseModel):
    subject: Text = Field(min_length=1, max_length=2000)
    sender_name: Text = Field(min_length=1, max_length=500)
    sender_address: Text = Field("", max_length=2000)
    letter_number: Text = Field("", max_length=200)
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
    to_post: Text = Field(min_length=1, max_length=60)
    remarks: Text = Field("", max_length=2000)
