"""The signing service's contract: the events it emits about signatures and issued letters, and
the requests it accepts (the gateway builds them from HTTP)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import EmailStr, Field, StrictInt

from eoffice.events import EventPayload
from eoffice.validation import Filled, RequestModel, Text

SERVICE = "signing"  # the emitter: CloudEvents source "eoffice/signing", exchange "signing.events"


# --- issued letters ------------------------------------------------------------------------


class Addressee(RequestModel):
    """One addressee of an issued letter: printed on it, and where notify dispatches it."""

    name: Filled = Field(min_length=1, max_length=300)
    address: Text = Field("", max_length=1000)
    email: EmailStr | None = Field(None, max_length=254, description="dispatched by e-mail when given")


class IssueLetter(RequestModel):
    """Sign the approved version of a draft and issue it as a letter."""

    version: StrictInt = Field(ge=1, description="the approved version you read; a stale one is refused")
    addressees: list[Addressee] = Field(default_factory=list, max_length=50)
    key: Literal["office_token"] = Field(
        "office_token", description="where the signing key is: the office's server-side token (its document signer)"
    )


class PrepareLetterSignature(RequestModel):
    """Sign the approved version of a draft with your own key: the server renders the letter,
    reserves its dispatch number and prepares the PDF signature; the signer program (your USB
    token) or the ESP (Aadhaar eSign) signs; the server then embeds, timestamps and issues."""

    version: StrictInt = Field(ge=1, description="the approved version you read; a stale one is refused")
    addressees: list[Addressee] = Field(default_factory=list, max_length=50)
    key: Literal["officer_token", "esign"] = Field(
        "officer_token", description="your own USB token (signer program), or Aadhaar eSign"
    )
    certificate_sha256: str | None = Field(
        None, pattern="^[0-9a-f]{64}$", description="one of your registered certificates (not for esign)"
    )


class CancelLetterSignature(RequestModel):
    """Give up a prepared letter signature: its reserved number is recorded as cancelled."""

    reason: str = Field(min_length=3, max_length=500)


class LetterIssued(EventPayload):
    """An approved draft was signed (PAdES) and issued as a letter with a number from its office's
    dispatch register; the signed PDF is a locked record. Notify dispatches it to the addressees;
    files adds it to the file's correspondence (the dispatch e-mail names the enclosure, if any).
    The subject is the file's id."""

    event_type = "eoffice.letter.issued.v1"
    letter_id: str
    letter_number: str = Field(description="from the office's dispatch register, e.g. D-12/2026/DM-LKO")
    office_code: str
    file_id: str
    file_number: str
    draft_id: int
    version: int
    title: str
    addressees: list[Addressee]
    object_name: str = Field(description="the signed PDF in the records bucket (object lock)")
    record_version: str | None = Field(None, description="the locked version of that object")
    sha256: str = Field(description="SHA-256 of the signed PDF")
    size: int
    pages: int
    enclosure: str | None = Field(
        None,
        description="the name (as uploaded) of the enclosure the signed PDF carries inside it, a PDF/A-3 "
        "associated file: the approved version's document; null for a letter without one (and in events "
        "raised before enclosures were named)",
    )
    level: Literal["B-T", "B-LTA"] = Field(description="PAdES baseline level of the signature")
    signer_user: str
    signer_post: str
    signer_name: str
    issued_at: datetime


# --- certificates and signed notes ---------------------------------------------------------


class RegisterCertificate(RequestModel):
    """An officer's DSC certificate: PEM text, or DER in base64."""

    certificate: str = Field(
        min_length=100, max_length=20000, description="PEM (-----BEGIN CERTIFICATE-----) or base64 of the DER"
    )


class SignNote(RequestModel):
    """Start signing a green note: the server prepares what the key signs."""

    certificate_sha256: str | None = Field(
        None, pattern="^[0-9a-f]{64}$", description="one of your registered certificates (not for esign)"
    )
    key: Literal["officer_token", "esign"] = Field(
        "officer_token",
        description="where the key is: your own USB token, through the signer program; or "
        "Aadhaar eSign (the ESP issues a one-time certificate)",
    )


class SignatureValue(RequestModel):
    """The signer program's answer: the signature over the prepared signed attributes."""

    signature: str = Field(min_length=16, max_length=4096, description="base64 of the raw signature value")


class EsignResponse(RequestModel):
    """What the ESP posted back for a prepared eSign request (its `<EsignResp>` XML)."""

    response: str = Field(min_length=20, max_length=200_000)


class VerifySignature(RequestModel):
    """A detached CMS signature and the exact bytes it signs, both base64."""

    content: str = Field(max_length=2_000_000)
    signature: str = Field(max_length=200_000)


class CertificateRegistered(EventPayload):
    """An officer registered a DSC certificate after it was validated against the trust roots
    (chain, revocation, validity, key usage). The subject is the user's id."""

    event_type = "eoffice.certificate.registered.v1"
    user_id: str
    certificate_sha256: str
    holder: str | None
    issuer: str
    not_after: datetime


class CertificateUnregistered(EventPayload):
    """An officer unregistered one of their DSC certificates (a token lost, replaced or
    surrendered): it signs nothing more for them, and what it signed stays valid and verifiable.
    The subject is the user's id."""

    event_type = "eoffice.certificate.unregistered.v1"
    user_id: str
    certificate_sha256: str


class NoteSigned(EventPayload):
    """A green note was signed: a detached CAdES signature with a signed timestamp over its
    canonical bytes, recorded on the note (the notesheet's chain covers it). The subject is
    the file's id."""

    event_type = "eoffice.note.signed.v1"
    signature_id: str
    file_id: str
    file_number: str
    seq: int
    signer_user: str
    signer_post: str
    certificate_sha256: str
    key_path: str
    timestamped_at: datetime | None
