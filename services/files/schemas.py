"""What the files service's entry points accept (the gateway reuses these models)."""
from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from eoffice.validation import FileName, Text
from services.dak.schemas import PostCode, Priority
from services.directory.schemas import Page


class Refs(BaseModel):
    """What a note points at: pages of the correspondence, earlier notes (by number)."""
    model_config = ConfigDict(extra="forbid")
    pages: list[StrictInt] = Field(default_factory=list, max_length=100)
    notes: list[StrictInt] = Field(default_factory=list, max_length=100)


class CreateFile(BaseModel):
    subject_head: Text = Field(min_length=1, max_length=20, description="a subject head of your office")
    subject: Text = Field(min_length=1, max_length=2000)
    category: Text = Field("general", min_length=1, max_length=100)
    priority: Priority = "normal"
    record_category: Literal["A", "B", "C"] = Field("C", description="A, B: kept permanently; C: 10 years")
    physical: StrictBool = False
    receipt_id: str | None = Field(None, min_length=36, max_length=36,
                                   description="a receipt you hold, to put in the new file as its PUC")


class Note(BaseModel):
    body: Text = Field(min_length=1, max_length=20000)
    refs: Refs = Field(default_factory=Refs)
    green: StrictBool = Field(False, description="true: the official (green) note at once; false: a yellow draft")


class EditNote(BaseModel):
    body: Text = Field(min_length=1, max_length=20000)
    refs: Refs = Field(default_factory=Refs)
    version: StrictInt = Field(ge=1, description="the version you edited; a stale one is refused")


class Version(BaseModel):
    version: StrictInt = Field(ge=1)


class StoredDocument(BaseModel):
    """A document the gateway checked and stored, to be recorded with the file."""
    object_name: str = Field(min_length=1, max_length=300)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    filename: FileName
    content_type: Literal["application/pdf", "image/jpeg", "image/png", "image/tiff"]
    pages: StrictInt = Field(ge=1)


class Document(BaseModel):
    title: Text = Field(min_length=1, max_length=500)
    pages: StrictInt = Field(1, ge=1, le=2000, description="for a paper document; an upload counts its own")
    document: StoredDocument | None = None


class Flag(BaseModel):
    puc: StrictBool


class Draft(BaseModel):
    title: Text = Field(min_length=1, max_length=500)
    body: Text = Field(min_length=1, max_length=100000)
    document: StoredDocument | None = None


class Revise(BaseModel):
    body: Text = Field(min_length=1, max_length=100000)
    version: StrictInt = Field(ge=1, description="the version you revised; a stale one is refused")
    document: StoredDocument | None = None


class SendFile(BaseModel):
    to_post: PostCode
    remarks: Text = Field("", max_length=2000)
    due_date: date | None = Field(None, description="default: the category's limit in working days")


class Remarks(BaseModel):
    remarks: Text = Field("", max_length=2000)


class Link(BaseModel):
    other_file_id: str = Field(min_length=36, max_length=36)
    kind: Literal["link", "reference"] = "link"


class SubjectHead(BaseModel):
    code: Text = Field(min_length=1, max_length=20, pattern=r"^[0-9A-Za-z./()-]+$")
    title: Text = Field(min_length=1, max_length=500)


class Scheme(BaseModel):
    prefix: Text = Field("N", min_length=1, max_length=10, pattern=r"^[0-9A-Za-z]+$")
    pattern: Text = Field("{prefix}-{head}/{serial}/{year}-{office}", min_length=1, max_length=200)
    office_suffix: Text | None = Field(None, max_length=60)


class CategoryLimit(BaseModel):
    working_days: StrictInt = Field(ge=1, le=365)


class FilesQuery(Page):
    overdue: bool | None = None  # from the query string
    parked: bool | None = None
