"""The files service's contract: the events it emits about e-files (other state portals
subscribe to these), the requests it accepts (the gateway builds them from HTTP), and where the
gateway stores documents uploaded to files."""

from __future__ import annotations

import re
from datetime import date
from itertools import pairwise
from string import Formatter
from typing import Literal

from pydantic import BaseModel, Field, StrictInt, field_validator

from eoffice.contracts.common import Page, PostCode, Priority, Upload
from eoffice.events import EventPayload
from eoffice.validation import FileName, Filled, PrintedText, RequestModel, Text

SERVICE = "files"  # the emitter: CloudEvents source "eoffice/files", exchange "files.events"
UPLOADS = "files/"  # where the gateway stores documents uploaded to files, one folder per upload


# Events


class FileCreated(EventPayload):
    """A file was opened in an office, numbered by the office's scheme, held by the post that
    created it. The subject is the file's id."""

    event_type = "eoffice.file.created.v1"
    file_id: str
    file_number: str
    office_code: str
    subject: str
    creator_post: str
    by_user: str
    parent_id: str | None = Field(None, description="set for a part file: the file it is a part of")


class FileStep(EventPayload):
    """Base of the events for something a post did with a file: who, from which post, to
    which post. Never emitted itself; the subject of each is the file's id."""

    file_id: str
    file_number: str
    by_user: str
    by_post: str | None = None
    from_post: str | None = None
    to_post: str | None = None
    remarks: str = ""
    due_date: date | None = None


class FileSent(FileStep):
    """A file was sent from `from_post` to `to_post`, who should deal with it by `due_date`.
    Sent up past `from_post`'s direct supervisor, the posts in between were skipped: `skipped`
    names them (they are informed, and may read the file). `levels_to_decision` counts the levels
    the file has gone up through towards its decision (DOMAIN.md: at most four). A file linked to
    the one sent moves with it and has an event of its own, `remarks` "moved with file N"."""

    event_type = "eoffice.file.sent.v1"
    skipped: list[str] = Field(
        default_factory=list,
        description="the levels skipped: the posts of from_post's supervisor chain below to_post, nearest "
        "from_post first; empty unless to_post is above from_post's direct supervisor",
    )
    levels_to_decision: int | None = Field(
        None,
        description="added within v1: the levels of the supervisor chain the file has gone up through in its "
        "current round (since it was opened, a draft of it approved or it was reopened), skipped levels counted; "
        "more than 4 breaks the rule of at most four levels to a decision. Absent from events sent before it "
        "was added",
    )


class FileOpened(FileStep):
    """The post holding a file opened it for the first time since it arrived; it can no
    longer be pulled back."""

    event_type = "eoffice.file.opened.v1"


class FileReceived(FileStep):
    """The holding post confirmed that a physical file reached it (it counts as opened too)."""

    event_type = "eoffice.file.received.v1"


class FilePulledBack(FileStep):
    """The post that sent a file took it back before the recipient opened it."""

    event_type = "eoffice.file.pulled-back.v1"


class FileParked(FileStep):
    """The holding post parked a file (put it aside, e.g. awaiting a reply)."""

    event_type = "eoffice.file.parked.v1"


class FileUnparked(FileStep):
    """The holding post took a parked file up again."""

    event_type = "eoffice.file.unparked.v1"


class FileClosed(FileStep):
    """The holding post closed a file."""

    event_type = "eoffice.file.closed.v1"


class FileReopenRequested(FileStep):
    """A post asked for a closed file to be reopened; a supervisor of the asker approves."""

    event_type = "eoffice.file.reopen-requested.v1"


class FileReopened(FileStep):
    """A supervisor of the asking post approved the request: the file is open again, held by
    the post that asked (`to_post`)."""

    event_type = "eoffice.file.reopened.v1"


class FileWithdrawn(FileStep):
    """A file opened moments before was withdrawn before anything was done in it: the receipt it
    was opened for could not be put in it after all (`remarks` says why). The file no longer
    exists; its number is given back unless a later one was taken meanwhile."""

    event_type = "eoffice.file.withdrawn.v1"


class NoteAdded(EventPayload):
    """A green note joined the notesheet (its hash is the chain head now); green notes never
    change. The subject is the file's id."""

    event_type = "eoffice.file.note-added.v1"
    file_id: str
    file_number: str
    seq: int = Field(description="the note's number on the notesheet")
    hash: str = Field(description="SHA-256 of the note chained to the one before it")
    by_user: str
    by_post: str


class CorrespondenceAdded(EventPayload):
    """Pages joined a file's correspondence (its right side): a receipt dak put in the file
    (`kind` "receipt", `receipt_id` set; the first is the paper under consideration) or a document
    a post added (`kind` "document"). Raised when files records them, after dak's
    `eoffice.receipt.put-in-file.v1` for a receipt. The subject is the file's id."""

    event_type = "eoffice.file.correspondence-added.v1"
    file_id: str
    file_number: str
    item_id: int = Field(description="the item's id among the file's correspondence")
    kind: Literal["receipt", "document"]
    receipt_id: str | None = Field(None, description="the receipt put in the file (kind receipt)")
    title: str
    pages: int
    by_user: str


class DraftStep(EventPayload):
    """Base of the events for something a post did with a draft for approval, at one of its
    versions. Never emitted itself; the subject of each is the file's id."""

    file_id: str
    file_number: str
    draft_id: int
    version: int
    title: str
    by_user: str
    by_post: str


class DraftSaved(DraftStep):
    """A draft for approval was started (version 1) or revised (a new version): `version` is its
    current text, which search indexes. Earlier versions are kept. The subject is the file's id."""

    event_type = "eoffice.draft.saved.v1"


class DraftApproved(DraftStep):
    """A draft for approval was approved: signing and issue take it from here. The subject is
    the file's id."""

    event_type = "eoffice.draft.approved.v1"


class DraftWithdrawn(DraftStep):
    """A draft for approval was withdrawn before it was issued (it stays in the file, with its
    versions); `remarks` says why. Signing will not issue it: a letter signature prepared for it and
    still pending is cancelled at once, its number recorded as cancelled in the dispatch register.
    The subject is the file's id."""

    event_type = "eoffice.draft.withdrawn.v1"
    remarks: str


# Requests


class Refs(RequestModel):
    """What a note points at: pages of the correspondence, earlier notes (by number)."""

    pages: list[StrictInt] = Field(default_factory=list, max_length=100)
    notes: list[StrictInt] = Field(default_factory=list, max_length=100)


class CreateFile(RequestModel):
    subject_head: Filled = Field(min_length=1, max_length=20, description="a subject head of your office")
    subject: Filled = Field(min_length=1, max_length=2000)
    category: Text = Field("general", min_length=1, max_length=100)
    priority: Priority = "normal"
    record_category: Literal["A", "B", "C"] = Field("C", description="A, B: kept permanently; C: 10 years")
    physical: bool = False
    receipt_id: str | None = Field(
        None, min_length=36, max_length=36, description="a receipt you hold, to put in the new file as its PUC"
    )


class Note(RequestModel):
    body: Filled = Field(min_length=1, max_length=20000)
    refs: Refs = Field(default_factory=Refs)
    green: bool = Field(False, description="true: the official (green) note at once; false: a yellow draft")


class EditNote(RequestModel):
    body: Filled = Field(min_length=1, max_length=20000)
    refs: Refs = Field(default_factory=Refs)
    version: StrictInt = Field(ge=1, description="the version you edited; a stale one is refused")


class Version(RequestModel):
    version: StrictInt = Field(ge=1)


class StoredDocument(BaseModel):
    """An uploaded document as the file records it, once the files service checked it
    (`eoffice.intake`): its content type and pages are what the checks found."""

    object_name: str = Field(min_length=1, max_length=300)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    filename: FileName
    content_type: Literal["application/pdf", "image/jpeg", "image/png", "image/tiff"]
    pages: StrictInt = Field(ge=1)


class DocumentBody(RequestModel):
    """A document added to the correspondence, as the JSON route takes it: a paper document. An
    uploaded one comes through the upload route, which stores it first (`Document`)."""

    title: Filled = Field(min_length=1, max_length=500)
    pages: StrictInt = Field(1, ge=1, le=2000, description="for a paper document; an upload counts its own")


class Document(DocumentBody):
    """What files takes: `DocumentBody`, and the upload the gateway's upload route stored, if any
    (checked by files). A caller never names an upload itself: it could name anybody's."""

    document: Upload | None = None


class Flag(RequestModel):
    puc: bool


class DraftBody(RequestModel):
    """A draft started, as the JSON route takes it (its text only; with a document: the upload route)."""

    title: Filled = Field(min_length=1, max_length=500)
    body: Filled = Field(min_length=1, max_length=100000)


class Draft(DraftBody):
    """What files takes: `DraftBody`, and the upload the gateway's upload route stored, if any."""

    document: Upload | None = None


class ReviseBody(RequestModel):
    """A draft revised, as the JSON route takes it (its text only; with a document: the upload route)."""

    body: Filled = Field(min_length=1, max_length=100000)
    version: StrictInt = Field(ge=1, description="the version you revised; a stale one is refused")


class Revise(ReviseBody):
    """What files takes: `ReviseBody`, and the upload the gateway's upload route stored, if any."""

    document: Upload | None = None


class SendFile(RequestModel):
    to_post: PostCode
    remarks: Text = Field("", max_length=2000)
    due_date: date | None = Field(None, description="default: the category's limit in working days")


class Remarks(RequestModel):
    remarks: Text = Field("", max_length=2000)


class Withdrawal(Remarks):
    """Why a draft is withdrawn: required, it is kept with the draft."""

    remarks: Filled = Field(min_length=1, max_length=2000)


class Link(RequestModel):
    other_file_id: str = Field(min_length=36, max_length=36)
    kind: Literal["link", "reference"] = "link"


class SubjectHead(RequestModel):
    code: Filled = Field(min_length=1, max_length=20, pattern=r"^[0-9A-Za-z./()-]+$")
    title: Filled = Field(min_length=1, max_length=500)


PLACES = ("prefix", "head", "serial", "year", "office")  # what a file number's pattern may name
NUMBERED_BY = ("head", "serial", "year", "office")  # ... and must: a number names one file only
FILE_NUMBER_LENGTH = 200  # the longest file number stored
ZERO_PADDING = re.compile(r"^(0[1-9])?d?$")  # the only format {serial} and {year} take


class Scheme(RequestModel):
    prefix: Text = Field("N", min_length=1, max_length=10, pattern=r"^[0-9A-Za-z]+$")
    pattern: PrintedText = Field(
        "{prefix}-{head}/{serial}/{year}-{office}",
        min_length=1,
        max_length=200,
        description="names {head}, {serial}, {year} and {office} once each, and may name {prefix}, with fixed "
        "text holding a character other than a digit between any two",
    )
    office_suffix: PrintedText | None = Field(None, max_length=60)

    @field_validator("pattern")
    @classmethod
    def _names_one_file(cls, pattern: str) -> str:
        """Serials count per office, subject head and year: a pattern without one of those
        would give two files the same number (and refuse every file after the first)."""
        places = ", ".join(f"{{{place}}}" for place in PLACES)
        try:
            parts = Formatter().parse(pattern)
            fields = [(name, (spec or "") + (conv or "")) for _, name, spec, conv in parts if name is not None]
            named = {name for name, _ in fields}
            if unknown := sorted(named - set(PLACES)):
                raise ValueError(f"not {', '.join(repr(name) for name in unknown)}")
            if any("{" in formatted for _, formatted in fields):
                raise ValueError("no field inside a format")
            longest = pattern.format(prefix="P" * 10, head="H" * 20, serial=10**9 - 1, year=9999, office="O" * 60)
        except ValueError as exc:  # a stray brace, an unknown name, a format that does not apply
            raise ValueError(f"may name {places} only: {exc}") from None
        if len(longest) > FILE_NUMBER_LENGTH:
            raise ValueError(f"could make a number longer than {FILE_NUMBER_LENGTH} characters")
        if cut := sorted({name for name, formatted in fields if formatted and name in ("head", "office")}):
            raise ValueError(f"{', '.join(f'{{{name}}}' for name in cut)} takes no format: it could cut it short")
        if missing := [place for place in NUMBERED_BY if place not in named]:
            raise ValueError(
                f"must name {', '.join(f'{{{place}}}' for place in missing)}: two files would get one number otherwise"
            )
        return _reads_back(pattern)


def _reads_back(pattern: str) -> str:
    """Returns the pattern if every number it makes reads back as one subject head, serial and
    year, so that two files of an office never get one number; raises ValueError saying why not.

    A serial and a year print digits only; a subject head may hold any character of a head's
    code (digits, letters, `./()-`); {prefix} and {office} print the same for every file of the
    office. So: each place named once, and between two places fixed text with a character other
    than a digit. Read from either end, each run of digits then stops at that character, and
    what is left is the head. Without it, head Z1 serial 1 and head Z serial 11 both print Z11."""
    parts = [(text, name, spec, conv) for text, name, spec, conv in Formatter().parse(pattern) if name is not None]
    names = [name for _, name, _, _ in parts]
    if twice := sorted({name for name in names if names.count(name) > 1}):
        raise ValueError(f"names {', '.join(f'{{{name}}}' for name in twice)} more than once: name each place once")
    if formatted := [
        name
        for _, name, spec, conv in parts
        if name in ("serial", "year") and (conv or not ZERO_PADDING.match(spec or ""))
    ]:
        raise ValueError(
            f"{{{formatted[0]}}} takes no format but zero-padding (e.g. {{{formatted[0]}:04d}}): another could print "
            "letters, signs or spaces, and a number would not read back as one file"
        )
    for (_, before, _, _), (text, after, _, _) in pairwise(parts):
        if not text or text.isdigit():
            raise ValueError(
                f"{{{before}}} and {{{after}}} must be separated by fixed text with a character other than a digit "
                "(e.g. '/'), or two files could get one number: head Z1 serial 1 and head Z serial 11 both print Z11"
            )
    return pattern


class CategoryLimit(RequestModel):
    working_days: StrictInt = Field(ge=1, le=365)


class FilesQuery(Page):
    overdue: bool | None = None  # from the query string
    parked: bool | None = None
