"""Dak's contract: the events it emits about receipts, the requests it accepts (the gateway
builds them from HTTP), and the names the gateway and dak share: where uploads are stored, the
OCR worker's queue, who may diarise."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    EmailStr,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from eoffice import clock
from eoffice.actor import Actor
from eoffice.contracts.common import Page, PostCode, Priority
from eoffice.errors import Forbidden
from eoffice.events import EventPayload
from eoffice.validation import FileName, Filled, RequestModel, Text

SERVICE = "dak"  # the emitter: CloudEvents source "eoffice/dak", exchange "dak.events"
UPLOADS = "scans/"  # where the gateway stores a receipt's documents, one folder per upload
TEXT_SUFFIX = ".txt"  # the text read from a document is stored beside it under this suffix
DIARIST_ROLE = "dak_clerk"


def require_diarist(actor: Actor) -> None:
    """Raises Forbidden unless the actor is a dak clerk: only they diarise. The gateway asks
    this too, before it reads an upload, so that a refused caller costs no decoding."""
    if not actor.has_role(DIARIST_ROLE):
        raise Forbidden("only a dak clerk diarises")


# Events


class ReceiptDiarised(EventPayload):
    """A receipt was diarised: it has its diary number and is held by `holder_post`. Also
    emitted for each copy made when a receipt is marked to several posts (`copy_of` set). The
    subject is the receipt's id."""

    event_type = "eoffice.receipt.diarised.v1"
    receipt_id: str
    diary_number: str
    office_code: str
    holder_post: str
    physical: bool = Field(description="a paper letter; false: an electronic receipt with its documents")
    scans: int = Field(0, description="documents stored with the receipt")
    copy_of: str | None = Field(None, description="set when the receipt is a copy made by marking to several posts")
    security_grading: Grading | None = Field(
        None, description="the letter's grading (a copy has its original's); portals never get non-normal receipts"
    )


class ReceiptStep(EventPayload):
    """Base of the events for something a post did with a receipt: who, from which post, to
    which post. Never emitted itself."""

    receipt_id: str
    diary_number: str
    by_user: str
    from_post: str | None = None
    to_post: str | None = None
    remarks: str = ""


class ReceiptSent(ReceiptStep):
    """A receipt was sent (marked) from `from_post` to `to_post`; each post in `copies` got a
    copy of its own (each announced by eoffice.receipt.diarised.v1)."""

    event_type = "eoffice.receipt.sent.v1"
    action: str = Field("sent", description='"forwarded" when the sender had it from another post')
    priority: str = "normal"
    due_date: date | None = None
    copies: list[str] = Field([], description="receipt ids of the copies made for further posts")


class ReceiptPulledBack(ReceiptStep):
    """The post that sent a receipt took it back before the recipient opened it."""

    event_type = "eoffice.receipt.pulled-back.v1"


class ReceiptOpened(ReceiptStep):
    """The holding post opened a receipt for the first time; it can no longer be pulled back."""

    event_type = "eoffice.receipt.opened.v1"


class ReceiptReceived(ReceiptStep):
    """The holding post confirmed that a paper receipt reached it."""

    event_type = "eoffice.receipt.received.v1"


class ReceiptPutInFile(ReceiptStep):
    """A receipt was put in a file; it moves with the file from now on. The files service
    adds it to the file's correspondence from this event."""

    event_type = "eoffice.receipt.put-in-file.v1"
    file_id: str
    file_number: str = ""
    subject: str = ""
    pages: int = Field(1, description="pages the receipt adds to the file (a paper receipt counts as one)")


class ReceiptClosed(ReceiptStep):
    """The holding post closed a receipt (dealt with, no file needed)."""

    event_type = "eoffice.receipt.closed.v1"


class ReceiptReopened(ReceiptStep):
    """The holding post reopened a closed receipt."""

    event_type = "eoffice.receipt.reopened.v1"


class ReceiptCorrected(ReceiptStep):
    """The holding post corrected a receipt's metadata; `remarks` is the reason given and
    `fields` names what changed (old and new values stay in dak's correction log)."""

    event_type = "eoffice.receipt.corrected.v1"
    fields: list[str]


class ScanRead(EventPayload):
    """The text of a receipt's document was read (by OCR or from its text layer) and stored
    beside it as `text_object`; search indexes it."""

    event_type = "eoffice.receipt.scan-read.v1"
    receipt_ids: list[str] = Field(description="the receipt and its copies share the document")
    object_name: str
    text_object: str
    method: str
    pages: int
    chars: int


class ScanUnreadable(EventPayload):
    """A receipt's document could not be read after every retry, or had no text in it to read
    (a blank or illegible scan, reported at its first reading); the receipt itself is
    unaffected, and its scan is marked failed with `error`."""

    event_type = "eoffice.receipt.scan-unreadable.v1"
    receipt_ids: list[str]
    object_name: str
    attempts: int
    error: str


# The OCR worker (a nameko service of its own) reads each new receipt's documents from this
# durable queue (nameko's naming for its handler); the gateway's readiness watches it.
OCR_SERVICE = "dak_ocr"
OCR_QUEUE = f"evt-{SERVICE}-{ReceiptDiarised.event_type}--{OCR_SERVICE}.read_scans"


# Requests

Mode = Literal["post", "hand", "email", "portal", "fax"]
Language = Literal["hi", "en", "other"]
Grading = Literal["normal", "confidential", "secret", "top_secret"]
Mobile = Annotated[str, StringConstraints(pattern=r"^(|(\+91)?[6-9][0-9]{9})$")]  # an Indian mobile, or none

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


class Letter(RequestModel):
    """A receipt's metadata, as the diarising clerk enters it."""

    subject: Filled = Field(min_length=1, max_length=2000)
    sender_name: Filled = Field(min_length=1, max_length=500)
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


class Send(RequestModel):
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


class PutInFile(RequestModel):
    file_id: Text = Field(min_length=36, max_length=36, description="the id of a file your post holds")
    remarks: Text = Field("", max_length=2000)


class Remarks(RequestModel):
    remarks: Filled = Field(min_length=1, max_length=2000)


class Correct(RequestModel):
    """Fields to correct; only those given change. Frozen fields may change only before the
    receipt first moves."""

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
    reason: Filled = Field(min_length=1, max_length=2000, description="why the correction is made")


class InboxQuery(Page):
    unread: bool | None = None
    kind: Literal["physical", "electronic"] | None = None
    overdue: bool | None = None
