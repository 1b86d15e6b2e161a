"""What dak takes in with an electronic receipt: the uploads the gateway stored, checked by the
shared intake (`eoffice.intake`) before a diary number is taken, and an e-mail read into the
receipt's fields, its attachments checked and stored beside it. Whatever is refused leaves
no object behind."""

from __future__ import annotations

import io
import posixpath
from collections.abc import Callable

from pydantic import EmailStr, TypeAdapter, ValidationError

from eoffice.clock import today
from eoffice.contracts.common import Upload
from eoffice.contracts.dak import UPLOADS, Diarise, ScanRef, letter_day_problem
from eoffice.intake import EMAIL_STEPS, SCAN_STEPS, Document, EmailSummary
from eoffice.intake.stored import StoredIntake, own, unless_kept
from eoffice.validation import file_name, parse


def held(receipt: dict) -> set[str]:
    """The objects a diarised receipt holds."""
    return {scan["object_name"] for scan in receipt.get("scans", [])}


def diarised_with_scans(intake: StoredIntake, uploads: list[Upload], diarise: Callable[[list[ScanRef]], dict]) -> dict:
    """Checks each upload (SCAN_STEPS), then returns `diarise(documents)`. Raises the first
    refusal (InvalidInput naming the file); the uploads are then removed, as they are when
    `diarise` refuses or its answer does not hold them."""
    own(uploads, UPLOADS, "scans")

    def checked() -> dict:
        return diarise([scan_ref(upload, intake.take_in(upload, SCAN_STEPS)) for upload in uploads])

    return unless_kept(intake.store, [upload.object_name for upload in uploads], record=checked, kept=held)


def diarised_from_email(
    intake: StoredIntake,
    upload: Upload,
    *,
    given: dict,
    diarise: Callable[[Diarise, list[ScanRef]], dict],
) -> dict:
    """Reads the stored e-mail (EMAIL_STEPS); the letter is what it says (`email_fields`) under
    the fields `given`; each attachment is checked (SCAN_STEPS, refused naming the field
    "email" for a bad name), stored beside the e-mail, and becomes a document after it.
    Returns `diarise(letter, documents)`; nothing stored stays behind if anything refuses."""
    own([upload], UPLOADS, "email")
    names = [upload.object_name]  # and each attachment as soon as it is stored

    def read_and_diarise() -> dict:
        mail = intake.take_in(upload, EMAIL_STEPS)
        letter = parse(Diarise, {**email_fields(mail.summary), **given, "physical": False})
        attached = [intake.check(file_name(name, "email"), data, SCAN_STEPS) for name, data in mail.attachments]
        documents = [
            ScanRef(
                filename=upload.filename,
                content_type="message/rfc822",
                size=upload.size,
                pages=0,
                object_name=upload.object_name,
                sha256=upload.sha256,
            )
        ]
        folder = posixpath.dirname(upload.object_name)
        for position, (document, (_, data)) in enumerate(zip(attached, mail.attachments, strict=True), start=2):
            stored = intake.store.put(io.BytesIO(data), name=f"{folder}/{position}")
            names.append(stored.name)
            documents.append(
                scan_ref(
                    Upload(filename=document.filename, object_name=stored.name, sha256=stored.sha256, size=stored.size),
                    document,
                )
            )
        return diarise(letter, documents)

    return unless_kept(intake.store, names, record=read_and_diarise, kept=held)


def scan_ref(upload: Upload, document: Document) -> ScanRef:
    """A checked upload as the receipt records it."""
    return ScanRef(
        filename=upload.filename,
        content_type=document.content_type,
        size=upload.size,
        pages=document.pages,
        object_name=upload.object_name,
        sha256=upload.sha256,
        text_layer=document.text_layer,
    )


def email_fields(summary: EmailSummary) -> dict:
    """A receipt's fields as an e-mail gives them: subject, sender, letter date (dropped if no
    letter could bear it), mode e-mail, received today."""
    sender = summary.from_address
    try:
        TypeAdapter(EmailStr).validate_python(sender)
    except ValidationError:
        sender = ""
    letter_date = summary.date.date() if summary.date else None
    return {
        "subject": (summary.subject or "(no subject)")[:2000],
        "mode": "email",
        "sender_name": (summary.from_name or summary.from_address or "(unknown sender)")[:500],
        "sender_email": sender,
        "received_date": today().isoformat(),
        "letter_date": letter_date.isoformat() if letter_date and not letter_day_problem(letter_date) else None,
    }
