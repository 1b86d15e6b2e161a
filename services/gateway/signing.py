"""Certificates and signed notes over HTTP: register your DSC (proving you hold its key: the
signer program signs a registration request), sign a green note with your own
USB token (two phases: the server prepares, `python -m eoffice.signer` signs on the token with
the PIN asked on your PC, the server embeds the value), read and verify a note's signature,
verify any detached CMS signature. The signing service does the work
(services/signing/note_service.py); docs/signing.md tells the whole story."""
from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, Field

from eoffice.actor import Actor
from eoffice.contracts.signing import (
    EsignResponse,
    PrepareLetterSignature,
    RegisterCertificate,
    SignatureValue,
    SignNote,
    VerifySignature,
)
from eoffice.errors import Conflict
from services.gateway import auth
from services.gateway.auth import actor
from services.gateway.directory import IdempotencyKey
from services.gateway.letters import LetterOut
from services.gateway.paths import id_path

router = APIRouter(tags=["signing"], dependencies=[Depends(actor)])
FileId = id_path("file")
RequestId = id_path("signature request")
Seq = Path(ge=1, le=2_000_000_000, description="the green note's number")


class Certificate(BaseModel):
    sha256: str
    holder: str | None
    pseudonym: str | None
    serial_number_attribute: str | None
    organisation: str | None = None
    state: str | None = None
    subject: str
    issuer: str
    serial: str
    not_before: datetime
    not_after: datetime
    key_usage: list[str]


class RegisteredCertificate(Certificate):
    user_id: str
    registered_at: datetime
    proven: bool = Field(description="you proved you hold its key (false: registered before that proof existed)")
    pem: str


class SignatureRequest(BaseModel):
    id: str
    kind: str = Field("note", description="note, letter (an approved draft to issue), or certificate (registering "
                                          "your DSC: its key signs a challenge to prove you hold it)")
    file_id: str | None = Field(description="the file (a note's or a letter's request)")
    file_number: str | None
    seq: int | None = Field(description="the green note (a note's request)")
    draft_id: int | None = Field(None, description="the draft (a letter's request)")
    version: int | None = None
    letter_number: str | None = Field(None, description="the dispatch number reserved for the letter")
    state: str | None = Field(None, description="a letter's request: pending, issued or cancelled; a certificate's: "
                                                 "pending or registered")
    challenge: str | None = Field(None, description="a certificate's: the statement its key signs (JSON naming you, "
                                                     "the certificate's SHA-256 and the request's expiry)")
    document_digest: str | None = Field(None, description="a letter's: hex SHA-256 of the PDF's byte ranges")
    key_path: str
    certificate_sha256: str | None
    certificate: str | None = Field(description="PEM of the certificate to sign with (token path)")
    content_sha256: str
    to_be_signed: str | None = Field(description="token path: base64 DER of the CMS signed attributes to sign")
    digest_algorithm: str
    esign_request: str | None = Field(description="eSign path: the <Esign> request to post to the ESP")
    esp_url: str | None
    expires_at: datetime
    signature_id: str | None


class NoteSignature(BaseModel):
    id: str
    file_id: str
    seq: int
    signer_user: str
    signer_post: str
    key_path: str
    certificate_sha256: str
    content_sha256: str
    cms_sha256: str
    timestamped_at: datetime | None


class Verification(BaseModel):
    valid: bool
    intact: bool
    signature_valid: bool
    trusted: bool
    revoked: bool
    revoked_since: datetime | None
    revoked_at_signing_time: bool
    timestamped_at: datetime | None
    timestamp_valid: bool
    signer: Certificate
    chain: list[str]
    content_sha256: str
    problems: list[str]


class SignedNote(NoteSignature):
    content: str
    cms: str
    verification: Verification


def _call(request: Request, method: str, *args):
    return request.app.state.rpc.call("signing", method, *args)


def _who(who: Actor) -> dict:
    return who.model_dump(mode="json")


@router.post("/signing/certificates", response_model=RegisteredCertificate | SignatureRequest, status_code=201,
             responses={202: {"model": SignatureRequest,
                              "description": "Prove you hold its key: sign this request with the signer program"}},
             summary="Register your DSC certificate (validated: trust root, revocation, dates, key usage); "
                     "201 when it is yours already, else 202 with a request its key must sign to register it")
def register_certificate(request: Request, response: Response, body: RegisterCertificate, *,
                         who: Actor = Depends(actor), idempotency_key: str = IdempotencyKey):
    answer = _call(request, "register_certificate", _who(who), body.model_dump(), idempotency_key)
    if answer.get("kind") == "certificate":
        response.status_code = 202
    return answer


@router.get("/signing/certificates", response_model=list[RegisteredCertificate],
            summary="Your registered certificates")
def my_certificates(request: Request, who: Actor = Depends(actor)):
    return _call(request, "my_certificates", _who(who))


@router.delete("/signing/certificates/{sha256}", response_model=RegisteredCertificate,
               summary="Unregister one of your certificates (a token lost, replaced or surrendered): it signs "
                       "nothing more for you; what it signed stays valid")
def unregister_certificate(request: Request, *, who: Actor = Depends(actor),
                           sha256: str = Path(pattern="^[0-9a-f]{64}$", description="the certificate's SHA-256"),
                           idempotency_key: str = IdempotencyKey):
    return _call(request, "unregister_certificate", _who(who), sha256, idempotency_key)


@router.post("/files/{file_id:id36}/notes/{seq}/signature-requests", response_model=SignatureRequest,
             status_code=201, summary="Prepare the signature of your last green note for your token")
def prepare_note_signature(request: Request, body: SignNote, *, who: Actor = Depends(actor),
                           file_id: str = FileId, seq: int = Seq, idempotency_key: str = IdempotencyKey):
    return _call(request, "prepare_note_signature", _who(who), file_id, seq, body.model_dump(), idempotency_key)


@router.post("/files/{file_id:id36}/drafts/{draft_id}/signature-requests", response_model=SignatureRequest,
             status_code=201,
             summary="Prepare the signature of a draft's approved version with your own key (USB token via the "
                     "signer program, or Aadhaar eSign); its dispatch number is reserved")
def prepare_letter_signature(request: Request, body: PrepareLetterSignature, *, who: Actor = Depends(actor),
                             file_id: str = FileId, draft_id: int = Path(ge=1, le=2_000_000_000),
                             idempotency_key: str = IdempotencyKey):
    return _call(request, "prepare_letter_signature", _who(who), file_id, draft_id, body.model_dump(mode="json"),
                 idempotency_key)


@router.get("/signing/requests/{request_id:id36}", response_model=SignatureRequest,
            summary="A prepared signature of yours (what the signer program signs)")
@auth.signer_may_call
def signature_request(request: Request, who: Actor = Depends(actor), request_id: str = RequestId):
    return _call(request, "signature_request", _who(who), request_id)


class SignerToken(BaseModel):
    token: str = Field(description="for EOFFICE_ACCESS_TOKEN of the signer program; it reaches nothing else")
    token_type: str = "Bearer"
    expires_at: datetime
    scope: str = Field(description="signing-request:{id}: GET that request, POST its signature")


@router.post("/signing/requests/{request_id:id36}/signer-token", response_model=SignerToken, status_code=201,
             summary="A short-lived token for the signer program, good only for this pending request "
                     "(its GET and its signature), so that your sign-in token never leaves the browser")
def signer_token(request: Request, *, who: Actor = Depends(actor), found: tuple[Actor, str] = Depends(auth.current),
                 request_id: str = RequestId):
    prepared = SignatureRequest.model_validate(_call(request, "signature_request", _who(who), request_id))
    if prepared.signature_id or prepared.state not in (None, "pending"):
        raise Conflict(f"this signature request is {prepared.state or 'signed'} already")
    if prepared.key_path == "esign":
        raise Conflict("an Aadhaar eSign request is completed in the browser, not by the signer program")
    if prepared.expires_at <= datetime.now(UTC):
        raise Conflict("this signature request has expired; prepare the signature again")
    token, expires = auth.issue_signer_token(request, actor=found[0], session_id=found[1], request_id=request_id,
                                             request_expires=prepared.expires_at)
    return SignerToken(token=token, expires_at=expires, scope=auth.SIGNER_SCOPE + request_id)


@router.post("/signing/requests/{request_id:id36}/signature",
             response_model=NoteSignature | LetterOut | RegisteredCertificate, status_code=201,
             summary="Hand in the token's signature value; the server checks it, timestamps and records it (a "
                     "certificate registration request: registers the certificate)")
@auth.signer_may_call
def complete_signature(request: Request, body: SignatureValue, *, who: Actor = Depends(actor),
                       request_id: str = RequestId, idempotency_key: str = IdempotencyKey):
    return _call(request, "complete_signature", _who(who), request_id, body.model_dump(), idempotency_key)


@router.post("/signing/requests/{request_id:id36}/esign-response", response_model=NoteSignature | LetterOut,
             status_code=201,
             summary="Hand in the Aadhaar eSign ESP's answer; the server checks it, timestamps and records it")
def complete_esign(request: Request, body: EsignResponse, *, who: Actor = Depends(actor),
                   request_id: str = RequestId, idempotency_key: str = IdempotencyKey):
    return _call(request, "complete_esign", _who(who), request_id, body.model_dump(), idempotency_key)


@router.get("/files/{file_id:id36}/notes/{seq}/signature", response_model=SignedNote,
            summary="A note's signature: the exact bytes signed, the CMS, and its verification")
def note_signature(request: Request, *, who: Actor = Depends(actor), file_id: str = FileId, seq: int = Seq):
    return _call(request, "note_signature", _who(who), file_id, seq)


@router.post("/signing/verify", response_model=Verification,
             summary="Verify a detached CMS signature over the bytes it signs (both base64)")
def verify_signature(request: Request, body: VerifySignature, who: Actor = Depends(actor)):
    return _call(request, "verify_signature", _who(who), body.model_dump())
