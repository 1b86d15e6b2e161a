"""Step: the type, from the bytes (never from the name or the client's word).

Only PDF, JPEG, PNG and TIFF go on; anything else is refused saying what it looks like (a
Word document, an e-mail, a web page), so the clerk knows what to upload instead."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import PurePosixPath

from eoffice.intake.base import Document, Step, refuse

SUPPORTED = {"application/pdf", "image/jpeg", "image/png", "image/tiff"}
ACCEPTED = "PDF, JPEG, PNG or TIFF"
NAMES = {
    "application/pdf": "a PDF",
    "image/jpeg": "a JPEG image",
    "image/png": "a PNG image",
    "image/tiff": "a TIFF image",
}

# Signatures of supported types (content type) and of files people upload by mistake (what to call them).
SIGNATURES: list[tuple[int, bytes, str]] = [
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"II*\x00", "image/tiff"),
    (0, b"MM\x00*", "image/tiff"),
    (0, b"GIF8", "a GIF image"),
    (0, b"BM", "a BMP image"),
    (8, b"WEBP", "a WebP image"),
    (4, b"ftypheic", "a HEIC photo (as iPhones take them)"),
    (0, b"\x00\x00\x00\x0cjP  ", "a JPEG 2000 image"),
    (0, b"PK\x03\x04", "a ZIP archive or a Word/Excel/OpenOffice document"),
    (0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Word or Excel document"),
    (0, b"{\\rtf", "an RTF document"),
]


def sniff(data: bytes) -> str | None:
    """The content type of a supported file, else a description of what it looks like, else None."""
    if b"%PDF-" in data[:1024]:  # readers allow junk before the header
        return "application/pdf"
    for offset, magic, kind in SIGNATURES:
        if data[offset : offset + len(magic)] == magic:
            return kind
    head = data[:4096]
    if any(b < 9 or 13 < b < 32 for b in head):
        return None
    if re.match(rb"\s*<(!doctype html|html)", head, re.IGNORECASE):
        return "a web page (HTML)"
    if re.search(rb"^from:", head, re.IGNORECASE | re.MULTILINE) and re.search(rb"^subject:", head, re.I | re.M):
        return "an e-mail"
    return "a text file"


class TypeFromBytes(Step):
    """Sets `content_type`; refuses what is not a PDF, JPEG, PNG or TIFF."""

    def check(self, document: Document) -> Document:
        kind = sniff(document.data)
        if kind not in SUPPORTED:
            raise _unrecognised(document, kind)
        return replace(document, content_type=kind)


def _unrecognised(document: Document, looks_like: str | None):
    suffix = PurePosixPath(document.filename).suffix.lower()
    if looks_like is None and suffix in {".pdf", ".jpg", ".jpeg", ".png", ".tif", ".tiff"}:
        return refuse(
            document,
            f"is not a readable {suffix[1:].upper()} file; it may be damaged or incomplete: scan or save it again",
        )
    if looks_like is None:
        return refuse(document, f"is not a {ACCEPTED} file (its type is not recognised)")
    hint = "; upload it as an e-mail to take out its attachments" if looks_like == "an e-mail" else ""
    return refuse(document, f"is {looks_like}, not a {ACCEPTED} file{hint}")
