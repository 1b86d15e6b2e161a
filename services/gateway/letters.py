"""Issued letters over HTTP: sign and issue an approved draft, list a file's letters, verify an
issued letter (as stored) or any signed PDF someone received. The signing service does the
work (services/signing/letter_service.py); the signed PDF itself is downloaded as the file's
correspondence item (`GET /files/{id}/correspondence/{item}/document`)."""
from __future__ import annotations

import base64
from datetime import datetime

from fastapi import APIRouter, Depends, File, Path, Query, Request, UploadFile
from pydantic import BaseModel

from eoffice.actor import Actor
from eoffice.contracts.signing import Addressee, CancelLetterSignature, IssueLetter
from eoffice.errors import InvalidInput
from services.gateway.auth import actor
from services.gateway.directory import IdempotencyKey
from services.gateway.models import ANSWER
from services.gateway.paths import id_path
from services.gateway.uploads import LIMITED

router = APIRouter(tags=["letters"], dependencies=[Depends(actor)])
FileId = id_path("file")
LetterId = id_path("letter")
# A letter is its enclosure (a draft's document: at most EOFFICE_MAX_SCAN_BYTES, as any upload's
# document) and its own pages, fonts and signatures (50-80 KB; a long letter a few hundred KB).
LETTER_ALLOWANCE = 4 * 1024 * 1024


def max_pdf_bytes(request: Request) -> int:
    """The largest PDF `POST /letters/verify` takes: any letter this system issues fits."""
    return request.app.state.settings.max_scan_bytes + LETTER_ALLOWANCE


class AddresseeOut(Addressee):
    model_config = ANSWER


class LetterOut(BaseModel):
    id: str
    letter_number: str
    office_code: str
    file_id: str
    file_number: str
    draft_id: int
    version: int
    title: str
    record_category: str
    signer_user: str
    signer_post: str
    signer_name: str
    signer_designation: str
    key_path: str
    certificate_sha256: str
    level: str
    addressees: list[AddresseeOut]
    object_name: str
    sha256: str
    size: int
    pages: int
    record_version: str | None
    retain_until: datetime
    issued_at: datetime


def _call(request: Request, method: str, *args):
    return request.app.state.rpc.call("signing", method, *args)


def _who(who: Actor) -> dict:
    return who.model_dump(mode="json")


@router.post("/files/{file_id:id36}/drafts/{draft_id}/issue", response_model=LetterOut, status_code=201,
             summary="Sign the approved version of a draft (PAdES) and issue it as a numbered letter")
def issue(request: Request, body: IssueLetter, *, who: Actor = Depends(actor), file_id: str = FileId,
          draft_id: int = Path(ge=1, le=2_000_000_000), idempotency_key: str = IdempotencyKey):
    return _call(request, "issue_letter", _who(who), file_id, draft_id, body.model_dump(mode="json"),
                 idempotency_key)


class RegisterEntry(BaseModel):
    serial: int
    letter_number: str
    state: str  # issued, reserved (a signature awaited), cancelled
    letter_id: str | None
    file_id: str
    title: str
    signer_name: str
    key_path: str
    reason: str | None
    at: datetime


class CancelledRequest(BaseModel):
    id: str
    letter_number: str
    state: str
    reason: str | None


@router.post("/signing/requests/{request_id:id36}/cancel", response_model=CancelledRequest,
             summary="Give up a prepared letter signature: its number is recorded as cancelled in the register")
def cancel_letter_signature(request: Request, body: CancelLetterSignature, *, who: Actor = Depends(actor),
                            request_id: str = id_path("signature request"), idempotency_key: str = IdempotencyKey):
    return _call(request, "cancel_letter_signature", _who(who), request_id, body.model_dump(), idempotency_key)


@router.get("/offices/{office_code}/dispatch-register", response_model=list[RegisterEntry],
            summary="An office's dispatch register for a year: issued, reserved and cancelled numbers, no gaps")
def dispatch_register(request: Request, *, who: Actor = Depends(actor), office_code: str = Path(max_length=40),
                      year: int = Query(ge=2000, le=2200)):
    return _call(request, "dispatch_register", _who(who), office_code, year)


@router.get("/files/{file_id:id36}/letters", response_model=list[LetterOut],
            summary="The letters issued from a file's drafts (its dispatch register entries)")
def of_file(request: Request, *, who: Actor = Depends(actor), file_id: str = FileId):
    return _call(request, "letters_of_file", _who(who), file_id)


@router.get("/letters/{letter_id:id36}/verify",
            summary="Verify an issued letter as stored: signer, time, chain, revocation, PAdES level, changes")
def verify_letter(request: Request, *, who: Actor = Depends(actor), letter_id: str = LetterId,
                  online: bool = Query(True, description="false: use only what the PDF carries, fetch nothing")):
    return _call(request, "verify_letter", _who(who), letter_id, online)


@router.post("/letters/verify", summary="Verify a signed PDF you received", **LIMITED)
def verify_pdf(request: Request, *, document: UploadFile = File(description="the signed PDF"),
               online: bool = Query(True, description="false: use only what the PDF carries, fetch nothing")):
    limit = max_pdf_bytes(request)
    data = document.file.read(limit + 1)
    if len(data) > limit:
        raise InvalidInput(f"a PDF to verify may have at most {limit} bytes", field="document")
    return _call(request, "verify_pdf", base64.b64encode(data).decode(), online)
