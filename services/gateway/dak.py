"""Receipts (dak) over HTTP: diarise paper letters, scans and e-mails; move, receive, pull back,
put in a file, close, reopen, correct; the inbox of the post you act as; and the public status
page a sender reaches with the tracking code on their acknowledgement."""
from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import PlainTextResponse, StreamingResponse
from pydantic import BaseModel, Field

from eoffice.actor import Actor
from eoffice.contracts.dak import TEXT_SUFFIX, Correct, Diarise, PutInFile, Remarks, Send, require_diarist
from eoffice.errors import Conflict
from services.gateway import limits, problems
from services.gateway.auth import actor
from services.gateway.directory import IdempotencyKey
from services.gateway.models import ANSWER
from services.gateway.pages import Page, PageRequest, page, page_request
from services.gateway.paths import id_path
from services.gateway.uploads import (
    LIMITED,
    checked_by,
    diarise_with_documents,
    download,
    electronic,
    json_object,
    letter_from,
    named,
)

router = APIRouter(tags=["dak"], dependencies=[Depends(actor)])
public = APIRouter(tags=["public"])
ReceiptId = id_path("receipt")
LETTER_FIELD = ("the receipt's metadata as a JSON object, the same fields as POST /receipts "
                "(received_date, mode, subject, sender_name ...)")


class Receipt(Diarise):
    model_config = ANSWER
    # As recorded: the bounds on a date hold on the day it is entered, not for ever after.
    received_date: date
    letter_date: date | None = None
    id: str
    diary_number: str
    office_code: str
    holder_post: str
    diarised_by: str
    diarised_at: datetime
    status: str = Field(description="open, in_file or closed")
    opened: bool
    received: bool
    priority: str
    due_date: date | None = None
    file_id: str | None = None
    copy_of: str | None = None


class Scan(BaseModel):
    position: int
    filename: str
    content_type: str
    size: int
    pages: int
    text_layer: bool
    ocr_status: str = Field(description="pending, done or failed")
    ocr_method: str | None = Field(None, description="ocr, text_layer or email")
    ocr_attempts: int
    ocr_error: str | None = None
    ocr_started_at: datetime | None = Field(
        None, description="while pending: when the reading of it began; null while it waits in the queue"
    )
    pages_read: int = Field(0, description="pages read so far (of `pages`), counted as each batch of pages is done")
    text_chars: int | None = None


class DiarisedReceipt(Receipt):
    tracking_code: str
    scans: list[Scan] = []


class MovementLine(BaseModel):
    action: str
    from_post: str | None = None
    to_post: str
    by_user: str
    remarks: str = ""
    priority: str | None = None
    due_date: date | None = None
    at: datetime | None = None


class Correction(BaseModel):
    field: str
    old_value: str | None
    new_value: str | None
    by_user: str
    by_post: str
    at: datetime | None = None


class ReceiptDetail(DiarisedReceipt):
    movements: list[MovementLine]
    corrections: list[Correction]


class Copy(BaseModel):
    receipt_id: str
    diary_number: str
    to_post: str


class Step(BaseModel):
    receipt_id: str
    action: str | None = None
    diary_number: str | None = None
    from_post: str | None = None
    to_post: str | None = None
    remarks: str = ""
    priority: str | None = None
    due_date: date | None = None
    file_id: str | None = None
    copies: list[Copy] = []
    repeated: bool = Field(False, description="a retried request: it had been done already")


class Corrected(Receipt):
    corrections: list[Correction]


class Acknowledgement(BaseModel):
    diary_number: str
    tracking_code: str
    received_date: date
    diarised_at: datetime
    subject: str
    sender_name: str
    sender_email: str
    office_code: str
    track_at: str = Field(description="the public status page for this receipt")


class PublicStatus(BaseModel):
    tracking_code: str
    status: str = Field(description="received, under_process or disposed")


def _call(request: Request, method: str, *args):
    return request.app.state.rpc.call("dak", method, *args)


def _who(who: Actor) -> dict:
    return who.model_dump(mode="json")


@router.post("/receipts", response_model=DiarisedReceipt, status_code=201,
             summary="Diarise a paper letter (dak clerk); electronic receipts come with their scans")
def diarise(request: Request, body: Diarise, *, who: Actor = Depends(actor), idempotency_key: str = IdempotencyKey):
    return _call(request, "diarise", _who(who), body.model_dump(mode="json"), idempotency_key)


@router.post("/receipts/electronic", response_model=DiarisedReceipt, status_code=201,
             summary="Diarise a scanned letter: PDF, JPEG, PNG or TIFF files (dak clerk)", **LIMITED)
def diarise_scans(request: Request, *, letter: str = Form(description=LETTER_FIELD),
                  scans: list[UploadFile] = File(description="the scanned pages, in order; each up to the size limit"),
                  who: Actor = Depends(actor), idempotency_key: str = IdempotencyKey):
    require_diarist(who)  # before any upload is stored: a caller who may not diarise costs nothing
    metadata = letter_from(letter)
    files = [named(upload.file, upload.filename or f"scan-{n}", "scans") for n, upload in enumerate(scans, 1)]
    # dak checks the stored files (eoffice.intake) before it takes a diary number.
    return diarise_with_documents(request.app.state.store, files, lambda uploads: checked_by(
        request, "dak", "diarise", _who(who), metadata.model_dump(mode="json"), idempotency_key, uploads))


@router.post("/receipts/email", response_model=DiarisedReceipt, status_code=201,
             summary="Diarise an e-mail (.eml) with its attachments (dak clerk)", **LIMITED)
def diarise_email(request: Request, *, email: UploadFile = File(description="the message as received, RFC 822"),
                  letter: str | None = Form(None, description="fields to set instead of those read from the "
                                                              "e-mail (JSON object)"),
                  who: Actor = Depends(actor), idempotency_key: str = IdempotencyKey):
    require_diarist(who)  # before the e-mail is stored
    given = electronic(json_object(letter))
    files = [named(email.file, email.filename or "message.eml", "email")]
    # dak reads the stored e-mail (sender, subject, date, text), fills the receipt's fields from
    # it under those given, and checks and stores each attachment.
    return diarise_with_documents(request.app.state.store, files, lambda uploads: checked_by(
        request, "dak", "diarise_email", _who(who), given, idempotency_key, uploads[0]))


@router.get("/receipts/{receipt_id:id36}", response_model=ReceiptDetail,
            summary="A receipt with its movements, documents and corrections; its holder opening it marks it opened")
def open_receipt(request: Request, who: Actor = Depends(actor), receipt_id: str = ReceiptId):
    return _call(request, "open_receipt", _who(who), receipt_id)


def _scan(request: Request, who: Actor, *, receipt_id: str, position: int) -> dict:
    return _call(request, "scan", _who(who), receipt_id, position)


@router.get("/receipts/{receipt_id:id36}/scans/{position}", response_class=StreamingResponse,
            responses={200: {"content": {"application/octet-stream": {}}, "description": "the document as received"}},
            summary="Download a receipt's document, as received (checked against its SHA-256)")
def scan_file(request: Request, *, who: Actor = Depends(actor), receipt_id: str = ReceiptId,
              position: int = Path(ge=1, le=1000)):
    return download(request.app.state.store, _scan(request, who, receipt_id=receipt_id, position=position))


@router.get("/receipts/{receipt_id:id36}/scans/{position}/text", response_class=PlainTextResponse,
            responses={409: {"description": "the text has not been read yet, or could not be"}},
            summary="The text read from a document (OCR in Hindi and English, or its own text layer)")
def scan_text(request: Request, *, who: Actor = Depends(actor), receipt_id: str = ReceiptId,
              position: int = Path(ge=1, le=1000)):
    scan = _scan(request, who, receipt_id=receipt_id, position=position)
    if scan["ocr_status"] != "done":
        raise Conflict(f"the text of document {position} is {scan['ocr_status']}"
                       + (f": {scan['ocr_error']}" if scan["ocr_error"] else ""))
    text = request.app.state.store.read(scan["object_name"] + TEXT_SUFFIX, sha256=scan["text_sha256"])
    return PlainTextResponse(text.decode())


@router.get("/receipts/{receipt_id:id36}/acknowledgement", response_model=Acknowledgement,
            summary="The acknowledgement for the sender: diary number and public tracking code")
def acknowledgement(request: Request, who: Actor = Depends(actor), receipt_id: str = ReceiptId):
    ack = _call(request, "acknowledgement", _who(who), receipt_id)
    return {**ack, "track_at": f"/api/v1/public/receipts/{ack['tracking_code']}"}


@router.post("/receipts/{receipt_id:id36}/send", response_model=Step,
             summary="Send or mark a receipt you hold to a post, with copies to further posts")
def send(request: Request, body: Send, *, who: Actor = Depends(actor), receipt_id: str = ReceiptId,
         idempotency_key: str = IdempotencyKey):
    return _call(request, "send", _who(who), receipt_id, body.model_dump(mode="json"), idempotency_key)


@router.post("/receipts/{receipt_id:id36}/receive", response_model=Step,
             summary="Confirm a physical receipt has reached you; it must be received before anything else")
def receive(request: Request, *, who: Actor = Depends(actor), receipt_id: str = ReceiptId,
            idempotency_key: str = IdempotencyKey):
    return _call(request, "receive", _who(who), receipt_id, idempotency_key)


@router.post("/receipts/{receipt_id:id36}/pull-back", response_model=Step,
             summary="Take back a receipt you sent, until the recipient opens it")
def pull_back(request: Request, *, who: Actor = Depends(actor), receipt_id: str = ReceiptId,
              idempotency_key: str = IdempotencyKey):
    return _call(request, "pull_back", _who(who), receipt_id, idempotency_key)


@router.post("/receipts/{receipt_id:id36}/put-in-file", response_model=Step,
             summary="Put a receipt you hold in a file; it then moves with the file")
def put_in_file(request: Request, body: PutInFile, *, who: Actor = Depends(actor), receipt_id: str = ReceiptId,
                idempotency_key: str = IdempotencyKey):
    return _call(request, "put_in_file", _who(who), receipt_id, body.model_dump(), idempotency_key)


@router.post("/receipts/{receipt_id:id36}/close", response_model=Step, summary="Close a receipt you hold, with remarks")
def close(request: Request, body: Remarks, *, who: Actor = Depends(actor), receipt_id: str = ReceiptId,
          idempotency_key: str = IdempotencyKey):
    return _call(request, "close", _who(who), receipt_id, body.model_dump(), idempotency_key)


@router.post("/receipts/{receipt_id:id36}/reopen", response_model=Step,
             summary="Reopen a closed receipt your post holds")
def reopen(request: Request, body: Remarks, *, who: Actor = Depends(actor), receipt_id: str = ReceiptId,
           idempotency_key: str = IdempotencyKey):
    return _call(request, "reopen", _who(who), receipt_id, body.model_dump(), idempotency_key)


@router.patch("/receipts/{receipt_id:id36}", response_model=Corrected,
              summary="Correct a receipt's metadata (holder only); received date, letter date and mode "
                      "are frozen once it has moved")
def correct(request: Request, body: Correct, *, who: Actor = Depends(actor), receipt_id: str = ReceiptId,
            idempotency_key: str = IdempotencyKey):
    return _call(request, "correct", _who(who), receipt_id, body.model_dump(mode="json", exclude_unset=True),
                 idempotency_key)


@router.get("/inbox", response_model=Page[Receipt], summary="Open receipts pending with the post you act as")
def inbox(request: Request, *, who: Actor = Depends(actor), at: PageRequest = Depends(page_request),
          unread: bool | None = Query(None, description="only those not yet opened (true) or opened (false)"),
          kind: str | None = Query(None, pattern="^(physical|electronic)$"),
          overdue: bool | None = Query(None, description="only those past their due date (true) or not (false)")):
    query = {**at.model_dump(), "unread": unread, "kind": kind, "overdue": overdue}
    return page(_call(request, "inbox", _who(who), query))


@router.get("/receipts/sent", response_model=Page[Receipt],
            summary="Open receipts the post you act as sent, now with others (pull back from here)")
def sent(request: Request, *, who: Actor = Depends(actor), at: PageRequest = Depends(page_request)):
    return page(_call(request, "sent", _who(who), at.model_dump()))


@public.get("/public/receipts/{tracking_code}", response_model=PublicStatus,
            dependencies=[Depends(limits.tracking)], responses=problems.RATE_LIMITED,
            summary="The status of a letter you sent, by the tracking code on its acknowledgement (no sign-in)")
def track(request: Request, tracking_code: str = Path(min_length=12, max_length=20,
                                                      pattern=r"^[0-9A-Za-z]{4}-?[0-9A-Za-z]{4}-?[0-9A-Za-z]{4}$")):
    return _call(request, "track", tracking_code)
