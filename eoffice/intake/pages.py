"""Step: counting pages (PDF pages, TIFF frames; a JPEG or PNG is one page) against
`max_pages` (500 by default, the caller's). A PDF that needs a password to open is refused
here, as the first thing that opens it (`formats.pdf`); one that opens without a password,
restricted or not, is counted as any other."""

from __future__ import annotations

from dataclasses import replace

from pypdf.generic import DictionaryObject

from eoffice.intake.base import Document, Step, damaged, refuse
from eoffice.intake.formats import frames, image, pdf


class PageCount(Step):
    """Sets `pages`; refuses a file with more than `max_pages`, or a PDF with none."""

    heavy = True

    def check(self, document: Document) -> Document:
        if document.content_type == "application/pdf":
            pages = _pdf_pages(document)
        else:
            with image(document) as opened:
                pages = frames(opened)
        if pages > document.max_pages:
            raise refuse(document, f"has {pages} pages; the limit is {document.max_pages} per file")
        return replace(document, pages=pages)


def _pdf_pages(document: Document) -> int:
    with pdf(document) as reader:
        # A page tree declaring more pages than allowed is taken at its word: walking it is the attack.
        root = reader.trailer["/Root"]
        tree = root["/Pages"] if isinstance(root, DictionaryObject) else None
        if not isinstance(tree, DictionaryObject):
            raise damaged(document, "PDF")
        declared = tree.get("/Count", 0)
        pages = declared if isinstance(declared, int) and declared > document.max_pages else len(reader.pages)
        if pages == 0:
            raise refuse(document, "has no pages")
        return pages
