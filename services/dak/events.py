"""Events the dak service emits."""
from eoffice.events import EventPayload


class ReceiptDiarised(EventPayload):
    event_type = "eoffice.receipt.diarised.v1"
    receipt_id: str
    diary_number: str
    office_code: str
    holder_post: str
    physical: bool


class ReceiptSent(EventPayload):
    event_type = "eoffice.receipt.sent.v1"
    receipt_id: str
    diary_number: str
    from_post: str
    to_post: str


class ReceiptPulledBack(EventPayload):
    event_type = "eoffice.receipt.pulled-back.v1"
    receipt_id: str
    diary_number: str
    from_post: str
    to_post: str
