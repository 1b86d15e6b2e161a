"""Files over HTTP: open a file, write its notesheet, add correspondence and drafts, move it,
track it, and the reports a supervisor reads. Only the holding post acts on a file; green
notes have no route that changes them."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Header, Path, Query, Request, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from eoffice.actor import Actor
from eoffice.contracts.files import (
    UPLOADS,
    CategoryLimit,
    CreateFile,
    DocumentBody,
    DraftBody,
    EditNote,
    Flag,
    Link,
    Note,
    Remarks,
    ReviseBody,
    Scheme,
    SendFile,
    SubjectHead,
    Version,
    Withdrawal,
)
from eoffice.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from services.gateway.auth import actor
from services.gateway.directory import IdempotencyKey
from services.gateway.models import ANSWER
from services.gateway.pages import Page, PageRequest, page, page_request
from services.gateway.paths import id_path
from services.gateway.uploads import LIMITED, checked_by, download, named, store_then_record

router = APIRouter(tags=["files"], dependencies=[Depends(actor)])
FileId = id_path("file")
OfficeCode = Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_()-]+$")
def item_id():
    return Path(ge=1, le=2_000_000_000)  # a fresh one per parameter: FastAPI binds it to the name
IfMatch = Header(None, alias="If-Match", pattern=r"^\"?[0-9]{1,9}\"?$",
                 description="the file version you saw; refused with 409 if it changed since")


class FileSummary(BaseModel):
    id: str
    computer_number: int
    file_number: str
    office_code: str
    subject_head: str
    subject: str
    category: str
    priority: str
    record_category: str
    physical: bool
    creator_post: str
    holder_post: str
    held_since: datetime
    opened: bool
    received: bool
    status: str = Field(description="open, parked or closed")
    due_date: date | None = None
    volume: int
    parent_id: str | None = None
    part_number: int | None = None
    notes_count: int
    version: int


class GreenNote(BaseModel):
    seq: int
    body: str
    author_user: str
    author_post: str
    refs: dict[str, list[int]]
    confirmed_at: datetime
    prev_hash: str | None = None
    hash: str


class YellowNote(BaseModel):
    id: int
    body: str
    author_user: str
    author_post: str
    refs: dict[str, list[int]]
    version: int
    state: str


class NoteWritten(BaseModel):
    colour: str = Field(description="green (official, never changes) or yellow (a draft)")
    seq: int | None = None
    hash: str | None = None
    id: int | None = None
    version: int | None = None
    body: str | None = None
    repeated: bool = False


class Item(BaseModel):
    id: int
    kind: str
    receipt_id: str | None = None
    title: str
    first_page: int
    last_page: int
    volume: int
    puc: bool
    fr_number: int | None = None
    filename: str | None = Field(None, description="an uploaded document's or issued letter's name, to download "
                                 "(correspondence/{id}/document); none for a paper document or a receipt")
    content_type: str | None = None


class DraftOut(BaseModel):
    id: int
    title: str
    status: str
    current_version: int
    body: str | None = None
    approved_by: str | None = None
    approved_post: str | None = None
    withdrawn_by: str | None = None
    withdrawn_post: str | None = None
    withdrawn_at: datetime | None = None
    withdrawn_remarks: str | None = None
    repeated: bool = False


class DraftVersion(BaseModel):
    version: int
    body: str
    author_user: str
    author_post: str
    at: datetime


SKIPPED = ("sent up past from_post's direct supervisor: the posts in between (nearest from_post first), told of "
           "it afterwards and allowed to read the file; else empty")


LEVELS = ("the levels of the supervisor chain the file has gone up through in its current round (since it was "
          "opened, a draft of it approved or it was reopened), skipped levels counted; at most 4 is the rule")


class MovementLine(BaseModel):
    action: str
    from_post: str | None = None
    to_post: str | None = None
    by_user: str
    remarks: str = ""
    due_date: date | None = None
    at: datetime | None = None
    skipped: list[str] = Field(default_factory=list, description=SKIPPED)
    levels_to_decision: int | None = Field(None, description=f"a send: {LEVELS}, after it; else null")


class StepWarning(BaseModel):
    """Something the step did that a rule says should not be done, done all the same (the rule is
    a 'should': nothing is refused for it)."""

    type: str = Field(description="over_four_levels: the send took the file past its fourth level to a decision")
    message: str
    levels_to_decision: int | None = None


class LinkOut(BaseModel):
    kind: str = Field(description="link: considered together, it moves with this file; reference: cited only")
    id: str
    file_number: str
    subject: str
    holder_post: str | None = None


class MainFile(BaseModel):
    id: str
    file_number: str
    subject: str


class FileDetail(FileSummary):
    levels_to_decision: int = Field(description=LEVELS)
    notes: list[GreenNote]
    my_yellow_notes: list[YellowNote]
    correspondence: list[Item]
    drafts: list[DraftOut]
    movements: list[MovementLine]
    links: list[LinkOut]
    linked_to: MainFile | None = Field(None, description="the main file this file is linked to: it moves with "
                                       "that file, and is not sent, pulled back or closed on its own")


class MovedWith(BaseModel):
    file_id: str
    file_number: str
    action: str
    to_post: str | None = None
    due_date: date | None = None
    levels_to_decision: int | None = None


class Step(BaseModel):
    file_id: str
    action: str | None = None
    file_number: str | None = None
    from_post: str | None = None
    to_post: str | None = None
    remarks: str = ""
    due_date: date | None = None
    skipped: list[str] = Field(default_factory=list, description=SKIPPED)
    levels_to_decision: int | None = Field(None, description=f"a send: {LEVELS}, after it")
    warnings: list[StepWarning] = Field(default_factory=list, description="what was done though a rule says it "
                                        "should not be (the send went through); empty as a rule")
    repeated: bool = Field(False, description="a retried request: it had been done already")
    moved_with: list[MovedWith] = Field(default_factory=list, description="a send or pull back: the files linked "
                                        "to this one, moved with it (each its own movement and event)")


class NoteSignatureState(BaseModel):
    seq: int
    signature_sha256: str
    signed_by_user: str
    signed_at: datetime
    record_intact: bool = Field(description="the locked record of the signature matches what the chain holds")


class Verification(BaseModel):
    file_id: str
    file_number: str
    intact: bool
    notes: int
    problems: list[str]
    signatures: list[NoteSignatureState] = Field(
        default_factory=list, description="each signed note; its full check: GET .../notes/{seq}/signature")


class Stay(BaseModel):
    post: str
    office_code: str
    since: datetime
    until: datetime | None
    how: str
    working_days: int
    hours: float


class Tracking(BaseModel):
    file_id: str
    file_number: str
    status: str
    holder_post: str
    limit_working_days: int
    overdue: bool
    stays: list[Stay]
    movements: list[MovementLine]


def _call(request: Request, method: str, *args):
    return request.app.state.rpc.call("files", method, *args)


def _who(who: Actor) -> dict:
    return who.model_dump(mode="json")


def _version(if_match: str | None) -> int | None:
    return int(if_match.strip('"')) if if_match else None


# --- office settings -----------------------------------------------------------------------

class SchemeOut(Scheme):
    model_config = ANSWER


class SubjectHeadOut(SubjectHead):
    model_config = ANSWER


@router.put("/offices/{code}/file-scheme", response_model=SchemeOut, summary="How the office numbers its files (admin)")
def set_scheme(request: Request, body: Scheme, *, who: Actor = Depends(actor), code: str = OfficeCode):
    return _call(request, "set_scheme", _who(who), code, body.model_dump())


@router.post("/offices/{code}/subject-heads", response_model=SubjectHeadOut, status_code=201,
             summary="Add or rename a subject head of the office (admin)")
def add_subject_head(request: Request, body: SubjectHead, *, who: Actor = Depends(actor), code: str = OfficeCode):
    return _call(request, "add_subject_head", _who(who), code, body.model_dump())


@router.get("/offices/{code}/subject-heads", response_model=list[SubjectHeadOut], summary="The office's subject heads")
def subject_heads(request: Request, who: Actor = Depends(actor), code: str = OfficeCode):
    return _call(request, "subject_heads", _who(who), code)


class LimitOut(CategoryLimit):
    model_config = ANSWER
    category: str


@router.put("/file-categories/{category}/limit", response_model=LimitOut,
            summary="Working days a file of this category may stay with one holder (system admin)")
def set_limit(request: Request, body: CategoryLimit, *, who: Actor = Depends(actor),
              category: str = Path(min_length=1, max_length=100)):
    return _call(request, "set_category_limit", _who(who), category, body.model_dump())


# --- files ---------------------------------------------------------------------------------

@router.post("/files", response_model=FileSummary, status_code=201,
             summary="Open a file; with receipt_id, the receipt goes in as its first paper (PUC)")
def create(request: Request, body: CreateFile, *, who: Actor = Depends(actor), idempotency_key: str = IdempotencyKey):
    if body.receipt_id:
        return open_with_receipt(request.app.state.rpc.call, who=_who(who), body=body, key=idempotency_key)
    return _call(request, "create", _who(who), body.model_dump(), idempotency_key)


# What dak answers when the receipt may not go in a file (a receipt the caller may not see, one
# another post holds, one closed, in a file, or physical and not received); Unavailable is not
# one: whether the call was done is not known, and a retry with the key finishes it.
REFUSED = (NotFound, Forbidden, Conflict, InvalidInput)


def open_with_receipt(call: Callable[..., Any], *, who: dict, body: CreateFile, key: str) -> dict:
    """Opens a file with a receipt as its first paper (PUC): nothing half done, and a refused
    receipt costs nothing. `call(service, method, *args)` is an RPC.

    1. Dak says whether the caller may put the receipt in a file now (`receipt_to_file`, which
       changes nothing). If not, its refusal (naming `receipt_id`) is the answer: no file is
       opened, no number taken, the key stays unused. Unless the key opened a file already
       (`opened_with`): then this is a retry, finished below as the first request would have
       been (the receipt may be in that file by now).
    2. Files opens the file (`create`; a retry gets the same file).
    3. Dak puts the receipt in it (`put_in_file`; a retry gets the same answer).
    4. Should dak refuse the receipt now (it changed since step 1), files withdraws the file
       (`withdraw`: deleted, its number given back, the key free again) and the refusal is the
       answer. If that fails too, the answer says the file stays; a retry with the key, once
       files answers, withdraws it (step 1, then 4 again)."""
    try:
        call("dak", "receipt_to_file", who, body.receipt_id)
    except REFUSED as refused:
        if call("files", "opened_with", who, key) is None:
            raise _about_receipt(refused) from None
    created = call("files", "create", who, body.model_dump(), key)
    try:
        call("dak", "put_in_file", who, body.receipt_id, {"file_id": created["id"], "remarks": ""}, key + ":receipt")
    except REFUSED as refused:
        try:
            call("files", "withdraw", who, key, f"receipt {body.receipt_id} not put in it: {refused.detail}")
        except DomainError as exc:
            raise _about_receipt(refused, f"; file {created['file_number']} was opened for it and stays "
                                          f"({exc.detail})") from None
        raise _about_receipt(refused) from None
    return created


def _about_receipt(refused: DomainError, more: str = "") -> DomainError:
    """Dak's refusal of the receipt, naming `receipt_id` as the field (unless it names one)."""
    return type(refused)(refused.detail + more, {"field": "receipt_id", **refused.fields})


@router.get("/files", response_model=Page[FileSummary], summary="Files with the post you act as")
def inbox(request: Request, *, who: Actor = Depends(actor), at: PageRequest = Depends(page_request),
          overdue: bool | None = Query(None), parked: bool | None = Query(None)):
    return page(_call(request, "inbox", _who(who), {**at.model_dump(), "overdue": overdue, "parked": parked}))


@router.get("/files/sent", response_model=Page[FileSummary],
            summary="Open or parked files the post you act as sent, now with others (pull back from here)")
def sent(request: Request, *, who: Actor = Depends(actor), at: PageRequest = Depends(page_request)):
    return page(_call(request, "sent", _who(who), at.model_dump()))


@router.get("/files/{file_id:id36}", response_model=FileDetail,
            summary="A file: notesheet, correspondence, drafts, movements; its holder opening it marks it opened")
def open_file(request: Request, who: Actor = Depends(actor), file_id: str = FileId):
    return _call(request, "open_file", _who(who), file_id)


@router.post("/files/{file_id:id36}/parts", response_model=FileSummary, status_code=201,
             summary="Open a part file, so the case proceeds while the main file is elsewhere")
def create_part(request: Request, body: Remarks, *, who: Actor = Depends(actor), file_id: str = FileId,
                idempotency_key: str = IdempotencyKey):
    return _call(request, "create_part", _who(who), file_id, body.model_dump(), idempotency_key)


@router.get("/files/{file_id:id36}/track", response_model=Tracking,
            summary="Where the file is, its path, and how long each holder kept it (working days)")
def track(request: Request, who: Actor = Depends(actor), file_id: str = FileId):
    return _call(request, "track", _who(who), file_id)


# --- notesheet -----------------------------------------------------------------------------

@router.post("/files/{file_id:id36}/notes", response_model=NoteWritten, status_code=201,
             summary="Write a note: green (official, final) or yellow (a draft only you see)")
def write_note(request: Request, body: Note, *, who: Actor = Depends(actor), file_id: str = FileId,
               idempotency_key: str = IdempotencyKey):
    return _call(request, "write_note", _who(who), file_id, body.model_dump(), idempotency_key)


@router.get("/files/{file_id:id36}/notes/{seq}", response_model=GreenNote,
            summary="One green note. Green notes cannot be changed or deleted: there is no route for it")
def green_note(request: Request, *, who: Actor = Depends(actor), file_id: str = FileId, seq: int = item_id()):
    return _call(request, "green_note", _who(who), file_id, seq)


@router.patch("/files/{file_id:id36}/yellow-notes/{note_id}", response_model=NoteWritten,
              summary="Edit your yellow note (give the version you edited)")
def edit_note(request: Request, body: EditNote, *, who: Actor = Depends(actor), file_id: str = FileId,
              note_id: int = item_id(), idempotency_key: str = IdempotencyKey):
    return _call(request, "edit_note", _who(who), file_id, note_id, body.model_dump(), idempotency_key)


@router.post("/files/{file_id:id36}/yellow-notes/{note_id}/discard", response_model=NoteWritten,
             summary="Discard your yellow note")
def discard_note(request: Request, body: Version, *, who: Actor = Depends(actor), file_id: str = FileId,
                 note_id: int = item_id(), idempotency_key: str = IdempotencyKey):
    return _call(request, "discard_note", _who(who), file_id, note_id, body.model_dump(), idempotency_key)


@router.post("/files/{file_id:id36}/yellow-notes/{note_id}/confirm", response_model=NoteWritten,
             summary="Confirm your yellow note: it becomes green and never changes again")
def confirm_note(request: Request, body: Version, *, who: Actor = Depends(actor), file_id: str = FileId,
                 note_id: int = item_id(), idempotency_key: str = IdempotencyKey):
    return _call(request, "confirm_note", _who(who), file_id, note_id, body.model_dump(), idempotency_key)


@router.get("/files/{file_id:id36}/verify", response_model=Verification,
            summary="Check the notesheet's hash chain and every green note against its locked record")
def verify(request: Request, who: Actor = Depends(actor), file_id: str = FileId):
    return _call(request, "verify", _who(who), file_id)


# --- correspondence and drafts -------------------------------------------------------------

@router.post("/files/{file_id:id36}/documents", response_model=Item, status_code=201,
             summary="Add a document to the correspondence; pages are numbered on across the file")
def add_document(request: Request, body: DocumentBody, *, who: Actor = Depends(actor), file_id: str = FileId,
                 idempotency_key: str = IdempotencyKey):
    # A document's bytes come only through the upload route, which stored them: `document` here is
    # refused (422), as a reference given here could name anybody's upload.
    return _call(request, "add_document", _who(who), file_id, body.model_dump(), idempotency_key)


@router.post("/files/{file_id:id36}/correspondence/{item_id}/flag", response_model=Item,
             summary="Flag the paper under consideration (PUC), one at a time")
def flag(request: Request, body: Flag, *, who: Actor = Depends(actor), file_id: str = FileId, item_id: int = item_id(),
         idempotency_key: str = IdempotencyKey):
    return _call(request, "flag", _who(who), file_id, item_id, body.model_dump(), idempotency_key)


@router.post("/files/{file_id:id36}/drafts", response_model=DraftOut, status_code=201,
             summary="Start a draft for approval (a letter or order)")
def add_draft(request: Request, body: DraftBody, *, who: Actor = Depends(actor), file_id: str = FileId,
              idempotency_key: str = IdempotencyKey):
    return _call(request, "add_draft", _who(who), file_id, body.model_dump(), idempotency_key)


@router.post("/files/{file_id:id36}/drafts/{draft_id}/versions", response_model=DraftOut, status_code=201,
             summary="Revise a draft: a new version (earlier ones are kept)")
def revise_draft(request: Request, body: ReviseBody, *, who: Actor = Depends(actor), file_id: str = FileId,
                 draft_id: int = item_id(), idempotency_key: str = IdempotencyKey):
    return _call(request, "revise_draft", _who(who), file_id, draft_id, body.model_dump(), idempotency_key)


@router.get("/files/{file_id:id36}/drafts/{draft_id}/versions", response_model=list[DraftVersion],
            summary="Every version of a draft, oldest first")
def draft_versions(request: Request, *, who: Actor = Depends(actor), file_id: str = FileId, draft_id: int = item_id()):
    return _call(request, "draft_versions", _who(who), file_id, draft_id)


@router.post("/files/{file_id:id36}/drafts/{draft_id}/approve", response_model=DraftOut,
             summary="Approve the version you read (an officer); it then goes to signing and issue")
def approve_draft(request: Request, body: Version, *, who: Actor = Depends(actor), file_id: str = FileId,
                  draft_id: int = item_id(), idempotency_key: str = IdempotencyKey):
    return _call(request, "approve_draft", _who(who), file_id, draft_id, body.model_dump(), idempotency_key)


@router.post("/files/{file_id:id36}/drafts/{draft_id}/withdraw", response_model=DraftOut,
             summary="Withdraw a draft that will not be issued (the holder; an officer once it is approved), "
                     "saying why; it stays in the file and no longer keeps the file from closing")
def withdraw_draft(request: Request, body: Withdrawal, *, who: Actor = Depends(actor), file_id: str = FileId,
                   draft_id: int = item_id(), idempotency_key: str = IdempotencyKey):
    return _call(request, "withdraw_draft", _who(who), file_id, draft_id, body.model_dump(), idempotency_key)


# --- uploaded documents --------------------------------------------------------------------

DOCUMENT = File(description="PDF, JPEG, PNG or TIFF; checked by the files service before it is recorded")


def _with_upload(request: Request, upload: UploadFile, record):
    """Stores one uploaded document, then `record(upload)`: the files service checks it
    (eoffice.intake); nothing stays behind if it refuses."""
    file = named(upload.file, upload.filename or "document", "document")
    return store_then_record(request.app.state.store, [file], lambda uploads: record(uploads[0]),
                             prefix=UPLOADS, kept=lambda result: {result.get("object_name")})


@router.post("/files/{file_id:id36}/documents/upload", response_model=Item, status_code=201,
             summary="Upload a document to the correspondence; its pages are counted and numbered on", **LIMITED)
def upload_document(request: Request, *, title: str = Form(min_length=1, max_length=500),
                    document: UploadFile = DOCUMENT, who: Actor = Depends(actor), file_id: str = FileId,
                    idempotency_key: str = IdempotencyKey):
    return _with_upload(request, document, lambda stored: checked_by(
        request, "files", "add_document", _who(who), file_id, {"title": title, "document": stored}, idempotency_key))


@router.post("/files/{file_id:id36}/drafts/upload", response_model=DraftOut, status_code=201,
             summary="Start a draft for approval with its text and a document", **LIMITED)
def upload_draft(request: Request, *, title: str = Form(min_length=1, max_length=500),
                 body: str = Form(min_length=1, max_length=100000), document: UploadFile = DOCUMENT,
                 who: Actor = Depends(actor), file_id: str = FileId, idempotency_key: str = IdempotencyKey):
    return _with_upload(request, document, lambda stored: checked_by(
        request, "files", "add_draft", _who(who), file_id, {"title": title, "body": body, "document": stored},
        idempotency_key))


@router.post("/files/{file_id:id36}/drafts/{draft_id}/versions/upload", response_model=DraftOut, status_code=201,
             summary="Revise a draft with new text and a new document", **LIMITED)
def upload_revision(request: Request, *, body: str = Form(min_length=1, max_length=100000),
                    version: int = Form(ge=1, le=1_000_000), document: UploadFile = DOCUMENT,
                    who: Actor = Depends(actor), file_id: str = FileId, draft_id: int = item_id(),
                    idempotency_key: str = IdempotencyKey):
    return _with_upload(request, document, lambda stored: checked_by(
        request, "files", "revise_draft", _who(who), file_id, draft_id,
        {"body": body, "version": version, "document": stored}, idempotency_key))


DOWNLOAD = {200: {"content": {"application/octet-stream": {}}, "description": "the document as uploaded"}}


@router.get("/files/{file_id:id36}/correspondence/{item}/document", response_class=StreamingResponse,
            responses=DOWNLOAD, summary="Download an uploaded correspondence document")
def correspondence_document(request: Request, *, who: Actor = Depends(actor), file_id: str = FileId,
                            item: int = item_id()):
    return download(request.app.state.store, _call(request, "stored_document", _who(who), file_id, {"item_id": item}))


@router.get("/files/{file_id:id36}/drafts/{draft_id}/versions/{version}/document", response_class=StreamingResponse,
            responses=DOWNLOAD, summary="Download the document of a draft version")
def draft_document(request: Request, *, who: Actor = Depends(actor), file_id: str = FileId, draft_id: int = item_id(),
                   version: int = item_id()):
    return download(request.app.state.store, _call(request, "stored_document", _who(who), file_id,
                                                   {"draft_id": draft_id, "version": version}))


# --- movement ------------------------------------------------------------------------------

@router.post("/files/{file_id:id36}/send", response_model=Step, summary="Send the file you hold to a post")
def send(request: Request, body: SendFile, *, who: Actor = Depends(actor), file_id: str = FileId,
         idempotency_key: str = IdempotencyKey, if_match: str | None = IfMatch):
    return _call(request, "send", _who(who), file_id, body.model_dump(mode="json"), idempotency_key,
                 _version(if_match))


def _simple(method: str, summary: str, with_body: bool = True, **rpc_kwargs: Any):
    """Routes that take the file, optional remarks and an idempotency key."""
    if with_body:
        def route(request: Request, body: Remarks, *, who: Actor = Depends(actor), file_id: str = FileId,
                  idempotency_key: str = IdempotencyKey):
            return _call(request, rpc_kwargs.get("rpc", method), _who(who), file_id, body.model_dump(),
                         idempotency_key, *rpc_kwargs.get("extra", ()))
    else:
        def route(request: Request, *, who: Actor = Depends(actor), file_id: str = FileId,
                  idempotency_key: str = IdempotencyKey):
            return _call(request, rpc_kwargs.get("rpc", method), _who(who), file_id, idempotency_key)
    route.__name__ = method.replace("-", "_")
    router.post(f"/files/{{file_id:id36}}/{method}", response_model=Step, summary=summary, name=route.__name__)(route)


_simple("receive", "Confirm a physical file reached you; nothing else before", with_body=False)
_simple("pull-back", "Take back a file you sent, until the recipient opens it", with_body=False, rpc="pull_back")
_simple("park", "Put the file aside (it stays with you)", rpc="park", extra=(True,))
_simple("unpark", "Take a parked file up again", rpc="park", extra=(False,))
_simple("close", "Close the file (its creator, while holding it; 422 while a letter of it is undispatched)")
_simple("reopen-request", "Ask to reopen a closed file; a supervisor approves", rpc="request_reopen")
_simple("reopen-approve", "Approve reopening (a supervisor of the post that asked)", rpc="approve_reopen")


class Linked(BaseModel):
    file_id: str
    other_file_id: str | None = None
    other_file_number: str | None = None
    kind: str | None = None
    repeated: bool = False


@router.post("/files/{file_id:id36}/links", response_model=Linked, status_code=201,
             summary="Link (considered together) or refer another file")
def link(request: Request, body: Link, *, who: Actor = Depends(actor), file_id: str = FileId,
         idempotency_key: str = IdempotencyKey):
    return _call(request, "link", _who(who), file_id, body.model_dump(), idempotency_key)


class Unlinked(BaseModel):
    file_id: str
    other_file_id: str | None = None
    other_file_number: str | None = None
    kind: str | None = None
    by_user: str | None = Field(None, description="who unlinked it (the file's movements record it too)")
    remarks: str = ""
    repeated: bool = False


@router.delete("/files/{file_id:id36}/links/{other_file_id:id36}", response_model=Unlinked,
               summary="Unlink a file (or a reference) from the file you hold: a linked file then moves on its own")
def unlink(request: Request, *, who: Actor = Depends(actor), file_id: str = FileId,
           other_file_id: str = id_path("other file"), idempotency_key: str = IdempotencyKey):
    return _call(request, "unlink", _who(who), file_id, other_file_id, idempotency_key)


@router.get("/reports/files/{name}", response_model=dict[str, Any],
            summary="Pendency, overdue, levels, over four levels, monthly, ranking (supervisors, system admin)")
def report(request: Request, *, who: Actor = Depends(actor),
           name: str = Path(pattern="^(pendency|overdue|levels|over_four_levels|monthly|ranking)$"),
           office_code: str | None = Query(None, max_length=40), year: int | None = Query(None, ge=2000, le=2100)):
    params = {k: v for k, v in {"office_code": office_code, "year": year}.items() if v is not None}
    return _call(request, "report", _who(who), name, params)
