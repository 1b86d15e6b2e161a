"""Events the dak service emits, one per step in a receipt's life (all through the outbox).
Each is defined once, in the shared contract eoffice.contracts.dak (what other services and
external portals read; catalogue: docs/events.md); dak's own code names them from here."""

from eoffice.contracts.dak import (  # noqa: F401
    ReceiptClosed,
    ReceiptCorrected,
    ReceiptDiarised,
    ReceiptOpened,
    ReceiptPulledBack,
    ReceiptPutInFile,
    ReceiptReceived,
    ReceiptReopened,
    ReceiptSent,
    ReceiptStep,
    ScanRead,
    ScanUnreadable,
)
