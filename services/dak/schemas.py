"""What the dak service's entry points accept (the gateway reuses these models)."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, model_validator

from eoffice.validation import Text
from services.directory.schemas import Page

Mode = Literal["post", "hand", "email", "portal", "fax"]
Language = Literal["hi", "en", "other"]
Grading = Literal["normal", "confidential", "secret", "top_secret"]
Priority = Literal["normal", "urgent", "immediate"]
Mobile = Annotated[str, StringConstraints(pattern=r"^(|(\+91)?[6-9][0-9]{9})$")]  # an Indian mobile, or none
PostCode = Annotated[Text, StringConstraints(min_length=1, max_length=60)]

# Rule 9: these never change once the receipt has moved (diarised_at never changes at all).
FROZEN_AFTER_MOVE = ("received_date", "letter_date", "mode")


class Letter(BaseModel):
    """A receipt's metadata, as the diarising clerk enters it."""
    subject: Text = Field(min_length=1, max_length=2000)
    sender_name: Text = Field(min_length=1, max_length=500)
    sender_address: Text = Field("", max_length=2000)
    sender_organisation: Text = Field("", max_length=500)
    sender_email: EmailStr | Literal[""] = ""
    sender_mobile: Mobile = Field("", description="10 digits starting 6-9, optionally +91")
    letter_number: Text = Field("", max_length=200)
    letter_date: date | None = None
    received_date: date
    mode: Mode
    category: Text = Field("", max_length=100, description="e.g. petition, complaint, RTI, court case")
    language: Language = "hi"
    security_grading: Grading = "normal"
    vip: bool = False
    remarks: Text = Field("", max_length=2000)

    @model_validator(mode="after")
    def _dates(self):
        if self.letter_date and self.letter_date > self.received_date:
            raise ValueError("letter_date is after received_date")
        return self


class Diarise(Letter):
    physical: bool = Field(True, description="a paper letter; electronic receipts are diarised with their scans")


class ScanRef(BaseModel):
    """A document already checked and stored by the gateway, to be recorded with the receipt."""
    filename: Text = Field(min_length=1, max_length=255)
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
    letter_date: date | None = None
    received_date: date | None = None
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
