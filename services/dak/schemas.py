"""What the dak service's entry points accept (the gateway reuses these models)."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import (AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StringConstraints, ValidationInfo,
                      field_validator, model_validator)

from eoffice import clock
from eoffice.validation import FileName, Text
from services.directory.schemas import Page

Mode = Literal["post", "hand", "email", "portal", "fax"]
Language = Literal["hi", "en", "other"]
Grading = Literal["normal", "confidential", "secret", "top_secret"]
Priority = Literal["normal", "urgent", "immediate"]
Mobile = Annotated[str, StringConstraints(pattern=r"^(|(\+91)?[6-9][0-9]{9})$")]  # an Indian mobile, or none
PostCode = Annotated[Text, StringConstraints(min_length=1, max_length=60)]

# Rule 9: these never change once the receipt has moved (diarised_at never changes at all).
FROZEN_AFTER_MOVE = ("received_date", "letter_date", "mode")

# A letter received, or dated, longer ago than this is a mistyped year, not a late entry: old
# registers being typed in are the one real case, and ten years of them is already plenty.
OLDEST_LETTER_YEARS = 10


def letter_day_problem(day: date) -> str | None:
    """What is wrong with a received date or a letter date, or None: no letter arrives, or is
    written, after the office day (`eoffice.clock.today`, IST), nor more than
    OLDEST_LETTER_YEARS before it."""
    today = clock.today()
    if day > today:
        return f"is after today ({today.isoformat()}, Indian time): a letter cannot come from the future"
    try:
        oldest = today.replace(year=today.year - OLDEST_LETTER_YEARS)
    except ValueError:  # 29 February
        oldest = today.replace(year=today.year - OLDEST_LETTER_YEARS, day=28)
    if day < oldest:
        return f"is before {oldest.isoformat()}: at most {OLDEST_LETTER_YEARS} years back"
    return None


def _letter_day(day: date) -> date:
    problem = letter_day_problem(day)
    if problem:
        raise ValueError(problem)
    return day


LetterDay = Annotated[date, AfterValidator(_letter_day)]


class Letter(BaseModel):
    """A receipt's metadata, as the diarising clerk enters it."""
    subject: Text = Field(min_length=1, max_length=2000)
    sender_name: Text = Field(min_length=1, max_length=500)
    sender_address: Text = Field("", max_length=2000)
    sender_organisation: Text = Field("", max_length=500)
    sender_email: EmailStr | Literal[""] = ""
    sender_mobile: Mobile = Field("", description="10 digits starting 6-9, optionally +91")
    letter_number: Text = Field("", max_length=200)
    received_date: LetterDay = Field(description=f"not after today (IST), at most {OLDEST_LETTER_YEARS} years back")
    letter_date: LetterDay | None = Field(None, description="not after received_date")
    mode: Mode
    category: Text = Field("", max_length=100, description="e.g. petition, complaint, RTI, court case")
    language: Language = "hi"
    security_grading: Grading = "normal"
    vip: bool = False
    remarks: Text = Field("", max_length=2000)

    @field_validator("letter_date")
    @classmethod
    def _written_before_received(cls, day: date | None, info: ValidationInfo) -> date | None:
        received = info.data.get("received_date")  # declared first, so checked first
        if day and received and day > received:
            raise ValueError("is after received_date")
        return day


class Diarise(Letter):
    physical: bool = Field(True, description="a paper letter; electronic receipts are diarised with their scans")


class ScanRef(BaseModel):
    """A document already checked and stored by the gateway, to be recorded with the receipt."""
    filename: FileName
    content_type: Literal["application/pdf", "image/jpeg", "image/png", "image/tiff", "message/rfc822"]
    size: int = Field(gt=0)
    pages: int = Field(ge=0)
    object_name: str = Field(min_length=1, max_length=300)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    text_layer: bool = False


class Send(BaseModel):
    """Send (or mark) a receipt: the receipt goes to `to_post`; each of `copy_to` gets a copy
    with a diary number of its own."""
    to_post: PostCode
    copy_to: list[PostCode] = Field(default_factory=list, max_length=20)
    remarks: Text = Field("", max_length=2000)
    priority: Priority = "normal"
    due_date: date | None = Field(None, description="default: 7 working days by the recipient office's calendar")

    @model_validator(mode="after")
    def _distinct(self):
        if len({self.to_post, *self.copy_to}) != 1 + len(self.copy_to):
            raise ValueError("to_post and copy_to name the same post more than once")
        return self


class PutInFile(BaseModel):
    file_id: Text = Field(min_length=36, max_length=36, description="the id of a file your post holds")
    remarks: Text = Field("", max_length=2000)


class Remarks(BaseModel):
    remarks: Text = Field(min_length=1, max_length=2000)


class Correct(BaseModel):
    """Fields to correct; only those given change. Frozen fields may change only before the
    receipt first moves."""
    model_config = ConfigDict(extra="forbid")
    subject: Text | None = Field(None, min_length=1, max_length=2000)
    sender_name: Text | None = Field(None, min_length=1, max_length=500)
    sender_address: Text | None = Field(None, max_length=2000)
    sender_organisation: Text | None = Field(None, max_length=500)
    sender_email: EmailStr | Literal[""] | None = None
    sender_mobile: Mobile | None = None
    letter_number: Text | None = Field(None, max_length=200)
    letter_date: LetterDay | None = None
    received_date: LetterDay | None = None
    mode: Mode | None = None
    category: Text | None = Field(None, max_length=100)
    language: Language | None = None
    security_grading: Grading | None = None
    vip: bool | None = None
    remarks: Text | None = Field(None, max_length=2000)
    reason: Text = Field(min_length=1, max_length=2000, description="why the correction is made")


class InboxQuery(Page):
    unread: bool | None = None
    kind: Literal["physical", "electronic"] | None = None
    overdue: bool | None = None
