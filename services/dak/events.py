"""Events the dak service emits, one per step in a receipt's life (all through the outbox)."""
from __future__ import annotations

from datetime import date

from eoffice.events import EventPayload


class ReceiptDiarised(EventPayload):
    event_type = "eoffice.receipt.diarised.v1"
    receipt_id: str
    diary_number: str
    office_code: str
    holder_post: str
    physical: bool
    scans: int = 0
    copy_of: str | None = None  # set when the receipt is a copy made by marking to several posts


class ReceiptStep(EventPayload):
    """Something a post did with a receipt: who, from which post, to which post."""
    event_type = "eoffice.receipt.step.v1"
    receipt_id: str
    diary_number: str
    by_user: str
    from_post: str | None = None
    to_post: str | None = None
    remarks: str = ""


class ReceiptSent(ReceiptStep):
    event_type = "eoffice.receipt.sent.v1"
    action: str = "sent"  # "forwarded" when the sender had it from another post
    priority: str = "normal"
    due_date: date | None = None
    copies: list[str] = []  # receipt ids of the copies made for further posts


class ReceiptPulledBack(ReceiptStep):
    event_type = "eoffice.receipt.pulled-back.v1"


class ReceiptOpened(ReceiptStep):
    event_type = "eoffice.receipt.opened.v1"


class ReceiptReceived(ReceiptStep):
    event_type = "eoffice.receipt.received.v1"


class ReceiptPutInFile(ReceiptStep):
    """The files service adds the receipt to the file's correspondence from this."""
    event_type = "eoffice.receipt.put-in-file.v1"
    file_id: str
    file_number: str = ""
    subject: str = ""
    pages: int = 1  # pages the receipt adds to the file (a paper receipt counts as one)


class ReceiptClosed(ReceiptStep):
    event_type = "eoffice.receipt.closed.v1"


class ReceiptReopened(ReceiptStep):
    event_type = "eoffice.receipt.reopened.v1"


class ReceiptCorrected(ReceiptStep):
    event_type = "eoffice.receipt.corrected.v1"
    fields: list[str]


class ScanRead(EventPayload):
    """The text of a receipt's document was read (by OCR or from its text layer) and stored
    beside it as `text_object`; search indexes it."""
    event_type = "eoffice.receipt.scan-read.v1"
    receipt_ids: list[str]  # the receipt and its copies share the document
    object_name: str
    text_object: str
    method: str
    pages: int
    chars: int


class ScanUnreadable(EventPayload):
    event_type = "eoffice.receipt.scan-unreadable.v1"
    receipt_ids: list[str]
    object_name: str
    attempts: int
    error: str
