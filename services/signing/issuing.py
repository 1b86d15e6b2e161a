"""Issuing a letter: the flow from an approved draft version to a signed, locked, registered
letter. The steps, in one database transaction (the caller's unit of work):

1. refuse a second signature of the same draft version (the register knows);
2. take the next number of the office's dispatch register (locked until the commit: a failed
   issue gives it back);
3. render the letter (letters.render: PDF/A-3a, Hindi shaped; the document uploaded with the
   approved version embedded as its enclosure, `enclosure_of`) and sign it (pades.sign: B-T,
   or B-LTA for record categories A and B) with a signer whose certificate was validated
   against the trust roots just before (trust.Trust.validate: revoked, expired, wrong usage,
   untrusted are refused; a success stands for `RecentValidations.ttl` seconds);
4. store the signed PDF in the object-locked records bucket until the record's retention date;
5. write it to the register and raise eoffice.letter.issued.v1 (files adds it to the file's
   correspondence, notify dispatches it, naming the enclosure the PDF carries: `carried`).

Rendering and signing are CPU work (and a wait on the TSA): they run through `offload`
(eventlet's thread pool in the service), so the service keeps answering meanwhile."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers

from eoffice import clock
from eoffice.contracts.signing import IssueLetter, LetterIssued
from eoffice.db import Changes
from eoffice.storage import DocumentStore
from services.signing import keys, letters, pades, register
from services.signing.trust import RecentValidations, Trust

T = TypeVar("T")
Offload = Callable[[Callable[[], Any]], Any]  # runs work() away from the event loop (eventlet.tpool.execute)


@dataclass(frozen=True)
class Signatory:
    """Who signs, as printed on the letter, and the key that signs: a pyHanko signer whose
    certificate the caller has validated (`Trust.validate`)."""

    user_id: str
    post_id: str
    name: str
    designation: str
    key_path: str
    signer: signers.Signer


def letterhead_of(office: dict) -> letters.Letterhead:
    return letters.Letterhead(
        name_hi=office.get("name_hi") or office["name_en"],
        name_en=office["name_en"],
        address=office.get("address") or "",
    )


def enclosure_of(draft: dict, store: DocumentStore) -> letters.Enclosure | None:
    """The document uploaded with the approved version (the `document` of files' `draft_for_issue`
    answer), read from the store and checked against its SHA-256 (ObjectCorrupted if it is not
    what was uploaded); None for a version without one."""
    document = draft.get("document")
    if not document:
        return None
    uploaded_at = document.get("uploaded_at")
    if isinstance(uploaded_at, str):
        uploaded_at = datetime.fromisoformat(uploaded_at)
    return letters.Enclosure(
        name=document["filename"],
        content_type=document["content_type"],
        data=store.read(document["object_name"], sha256=document["sha256"]),
        uploaded_at=uploaded_at.astimezone(UTC) if uploaded_at else None,
    )


def letter_of(
    draft: dict,
    *,
    office: dict,
    number: str,
    issued_on,
    signer_name: str,
    signer_designation: str,
    addressees,
    enclosure: letters.Enclosure | None = None,
) -> letters.Letter:
    """What is printed on the letter of an approved draft (files' `draft_for_issue` answer), and
    the enclosure it carries (`enclosure_of`)."""
    return letters.Letter(
        letterhead=letterhead_of(office),
        letter_number=number,
        issued_on=issued_on,
        title=draft["title"],
        body=draft["body"],
        signer_name=signer_name,
        signer_designation=signer_designation,
        file_number=draft["file_number"],
        addressees=tuple(", ".join(filter(None, (a.name, a.address))) for a in addressees),
        enclosure=enclosure,
    )


def issue(
    changes: Changes,
    *,
    draft: dict,
    request: IssueLetter,
    office: dict,
    signatory: Signatory,
    trust: Trust,
    tsa_url: str,
    store: DocumentStore,
    offload: Offload = lambda work: work(),
    recent: RecentValidations | None = None,
) -> dict:
    """Issues `draft` (files' `draft_for_issue` answer) as a letter of `office`, with the
    version's document as its enclosure; returns the register's row. Raises Conflict for a
    second signature of the version, CertificateRefused if the signer's certificate fails
    validation; nothing is kept then (the number is given back with the rollback). Emits
    eoffice.letter.issued.v1."""
    session = changes.session
    cert = signatory.signer.signing_cert
    if cert is None:
        raise ValueError("the signer has no certificate")
    register.refuse_second_signature(session, draft_id=draft["draft_id"], version=draft["version"])
    enclosure = enclosure_of(draft, store)  # read before the register's number is taken (and locked)
    level = pades.level_for(draft["record_category"])
    recent = recent or RecentValidations(ttl=0)
    # B-LTA: one validation context for the check and the signature, so that the OCSP and CRL
    # answers fetched to validate the signer are the ones embedded (not fetched twice).
    with recent.lent_context(trust) if level == "B-LTA" else nullcontext() as context:
        recent.validate(trust, cert, context=context)  # CertificateRefused
        signed, entry = _number_and_sign(
            changes,
            draft=draft,
            request=request,
            office=office,
            signatory=signatory,
            level=level,
            context=context,
            tsa_url=tsa_url,
            offload=offload,
            enclosure=enclosure,
        )
    return keep(changes, entry=entry, signed=signed, store=store)


def _number_and_sign(
    changes: Changes,
    *,
    draft: dict,
    request: IssueLetter,
    office: dict,
    signatory: Signatory,
    level: pades.Level,
    context,
    tsa_url: str,
    offload: Offload,
    enclosure: letters.Enclosure | None,
) -> tuple[bytes, dict]:
    """Takes the register's next number and signs the letter under it; returns the signed PDF
    and the register entry (not yet kept)."""
    session, cert = changes.session, signatory.signer.signing_cert
    issued_on = clock.today()
    serial = register.next_serial(session, office_code=draft["office_code"], year=issued_on.year)
    number = register.letter_number(serial=serial, year=issued_on.year, office_code=draft["office_code"])
    letter = letter_of(
        draft,
        office=office,
        number=number,
        issued_on=issued_on,
        signer_name=signatory.name,
        signer_designation=signatory.designation,
        addressees=request.addressees,
        enclosure=enclosure,
    )
    signed = offload(
        lambda: _render_and_sign(letter, signer=signatory.signer, level=level, context=context, tsa_url=tsa_url)
    )
    entry = {
        "letter_number": number,
        "office_code": draft["office_code"],
        "year": issued_on.year,
        "serial": serial,
        "file_id": draft["file_id"],
        "file_number": draft["file_number"],
        "draft_id": draft["draft_id"],
        "version": draft["version"],
        "title": draft["title"],
        "record_category": draft["record_category"],
        "signer_user": signatory.user_id,
        "signer_post": signatory.post_id,
        "signer_name": signatory.name,
        "signer_designation": signatory.designation,
        "key_path": signatory.key_path,
        "certificate_sha256": _sha256(cert.dump()),
        "level": level,
        "addressees": [a.model_dump(mode="json") for a in request.addressees],
    }
    return signed, entry


def keep(changes: Changes, *, entry: dict, signed: bytes, store: DocumentStore) -> dict:
    """Stores a signed letter in the object-locked records bucket until its retention date,
    writes `entry` (its number, draft, signer, level, addressees) with the stored object to the
    dispatch register, and raises eoffice.letter.issued.v1 (with the name of the enclosure the
    signed PDF carries, whichever key path made it); returns the register's row."""
    now = datetime.now(UTC)
    pages, enclosure = carried(signed)
    retain_until = register.retention_until(entry["record_category"], now)
    stored = store.put(io.BytesIO(signed), content_type="application/pdf", retain_until=retain_until)
    row = register.record(
        changes.session,
        letter={
            **entry,
            "object_name": stored.name,
            "sha256": stored.sha256,
            "size": stored.size,
            "pages": pages,
            "record_version": stored.version_id,
            "retain_until": retain_until,
            "issued_at": now,
        },
    )
    changes.raise_event(
        LetterIssued(
            letter_id=row["id"],
            letter_number=row["letter_number"],
            office_code=row["office_code"],
            file_id=row["file_id"],
            file_number=row["file_number"],
            draft_id=row["draft_id"],
            version=row["version"],
            title=row["title"],
            addressees=row["addressees"],
            object_name=stored.name,
            record_version=stored.version_id,
            sha256=stored.sha256,
            size=stored.size,
            pages=row["pages"],
            enclosure=enclosure,
            level=row["level"],
            signer_user=row["signer_user"],
            signer_post=row["signer_post"],
            signer_name=row["signer_name"],
            issued_at=now,
        ),
        subject=row["file_id"],
    )
    return row


def _render_and_sign(
    letter: letters.Letter, *, signer: signers.Signer, level: pades.Level, context, tsa_url: str
) -> bytes:
    pdf = letters.render(letter)
    return pades.sign(
        pdf,
        signer=signer,
        level=level,
        timestamper=keys.timestamper_at(tsa_url),
        validation_context=context,
        reason=f"Issued as letter {letter.letter_number}",
        location=letter.letterhead.name_en,
    )


def carried(pdf: bytes) -> tuple[int, str | None]:
    """A signed letter's page count and the name of the enclosure embedded in it (`pades.enclosure_names`:
    the approved version's document, see `enclosure_of`), None for a letter without one. Read from the
    PDF itself, so both key paths report what was signed (a letter prepared for the officer's key
    carries its enclosure from the prepare on)."""
    root = PdfFileReader(io.BytesIO(pdf), strict=False).root
    names = pades.enclosure_names(root)
    return int(root["/Pages"]["/Count"]), names[0] if names else None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
