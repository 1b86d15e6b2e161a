"""The document intake: one list of steps every uploaded document goes through, in the service
that owns it (dak for receipts, files for correspondence and drafts; signing next). The
contract of a step is written in `base`; each step is a module:

| step | module | finds | refuses |
|---|---|---|---|
| SizeLimit | `limits` | | empty, over `max_bytes` |
| TypeFromBytes | `kind` | `content_type` | not a PDF, JPEG, PNG or TIFF |
| PageCount | `pages` | `pages` | over `max_pages`, no pages, a PDF that needs a password to open |
| BombCheck | `bombs` | | oversized pages or images, overloading content, undecodable images |
| TextLayer | `text_layer` | `text_layer` (PDF) | PDFs pdftotext cannot read in time |
| ReadEmail | `mail` | `summary`, `attachments` | not an e-mail, an empty e-mail |

`SCAN_STEPS` checks a scanned letter or document; `EMAIL_STEPS` reads an e-mail, whose
attachments then go through `SCAN_STEPS` each. `stored.take_in` runs them on an upload in the
store; `inspect` and `attachments` on a stream (tests, scripts)."""

from __future__ import annotations

from typing import BinaryIO

from eoffice.intake.base import (
    DEFAULT_MAX_PAGES,
    Document,
    EmailSummary,
    Offload,
    Step,
    in_caller,
    in_threads,
    read,
    run,
    within,
)
from eoffice.intake.bombs import BombCheck
from eoffice.intake.kind import TypeFromBytes
from eoffice.intake.limits import SizeLimit
from eoffice.intake.mail import ReadEmail
from eoffice.intake.pages import PageCount
from eoffice.intake.text_layer import TextLayer

SCAN_STEPS: tuple[Step, ...] = (SizeLimit(), TypeFromBytes(), PageCount(), BombCheck(), TextLayer())
EMAIL_STEPS: tuple[Step, ...] = (SizeLimit(), ReadEmail())

__all__ = [
    "SCAN_STEPS",
    "EMAIL_STEPS",
    "Document",
    "EmailSummary",
    "Offload",
    "Step",
    "attachments",
    "in_caller",
    "in_threads",
    "inspect",
    "read",
    "run",
    "within",
]


def inspect(stream: BinaryIO, filename: str, *, max_bytes: int, max_pages: int = DEFAULT_MAX_PAGES) -> Document:
    """Checks a scan (SCAN_STEPS); returns what was found (content type, size, pages, text
    layer). Raises InvalidInput (field=filename) saying what is wrong
    with it. The stream is left at position 0."""
    try:
        document = read(stream, filename, max_bytes=max_bytes, max_pages=max_pages)
    finally:
        stream.seek(0)
    return run(document, SCAN_STEPS)


def attachments(stream: BinaryIO, filename: str, *, max_bytes: int) -> tuple[EmailSummary, list[tuple[str, bytes]]]:
    """Reads a saved e-mail (EMAIL_STEPS): who sent it, about what, its text, and its attached
    files as (filename, bytes). Raises InvalidInput (field=filename) for a file that is not an
    e-mail, or an e-mail with neither text nor attachments. The stream is left at position 0."""
    try:
        document = read(stream, filename, max_bytes=max_bytes)
    finally:
        stream.seek(0)
    document = run(document, EMAIL_STEPS)
    assert document.summary is not None, "ReadEmail sets the summary or refuses the file"
    return document.summary, list(document.attachments)
