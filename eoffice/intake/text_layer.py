"""Step: whether a PDF already carries its text, so the OCR worker can take it instead of
reading the pages again. A PDF has a text layer when pdftotext finds at least TEXT_MIN_CHARS
non-space characters on every page (it reads the hidden text of scanner-OCR'd PDFs too); it
gets TEXT_TIMEOUT seconds. Not heavy: the work is pdftotext's, in its own process, and waiting
for it is green under eventlet."""

from __future__ import annotations

import subprocess
from dataclasses import replace

from eoffice.intake.base import Document, Step, damaged, refuse

TEXT_MIN_CHARS = 20
TEXT_TIMEOUT = 30.0
PDFTOTEXT = ["pdftotext", "-layout", "-enc", "UTF-8"]


class TextLayer(Step):
    """Sets `text_layer` of a PDF; refuses one pdftotext cannot read, or not in time."""

    def applies(self, document: Document) -> bool:
        return document.content_type == "application/pdf"

    def check(self, document: Document) -> Document:
        try:
            done = subprocess.run(
                [*PDFTOTEXT, "-", "-"], input=document.data, capture_output=True, timeout=TEXT_TIMEOUT
            )
        except subprocess.TimeoutExpired:
            raise refuse(document, f"takes over {TEXT_TIMEOUT:.0f} s to read; it cannot be accepted") from None
        if done.returncode != 0:
            raise damaged(document, "PDF")
        return replace(document, text_layer=page_text_layer(pdftotext_pages(done.stdout)))


def page_text_layer(pages: list[str]) -> bool:
    """Whether every page has real text: a few stray characters (a page number, a stamp's
    caption) do not make a scan readable."""
    return bool(pages) and all(len("".join(page.split())) >= TEXT_MIN_CHARS for page in pages)


def pdftotext_pages(output: bytes) -> list[str]:
    """Splits pdftotext's output into pages: it ends every page with a form feed."""
    return output.decode("utf-8", "replace").split("\f")[:-1]
