"""Step: the size limit, before anything of the file is looked at.

`max_bytes` per file is the caller's setting (EOFFICE_MAX_SCAN_BYTES); an empty file is
refused too, as the clerk can only scan or save it again."""

from __future__ import annotations

from eoffice.intake.base import Document, Step, refuse, size_text


class SizeLimit(Step):
    def check(self, document: Document) -> Document:
        if document.size == 0:
            raise refuse(document, "is empty (0 bytes); scan or save it again")
        if document.size > document.max_bytes:
            raise refuse(
                document, f"is {size_text(document.size)}; the limit is {size_text(document.max_bytes)} per file"
            )
        return document
