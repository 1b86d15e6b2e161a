"""Events the files service emits, one per step in a file's life (all through the outbox).
Each is defined once, in the shared contract eoffice.contracts.files (what other services and
external portals read; catalogue: docs/events.md); files' own code names them from here."""

from eoffice.contracts.files import (  # noqa: F401
    CorrespondenceAdded,
    DraftApproved,
    DraftSaved,
    DraftStep,
    DraftWithdrawn,
    FileClosed,
    FileCreated,
    FileOpened,
    FileParked,
    FilePulledBack,
    FileReceived,
    FileReopened,
    FileReopenRequested,
    FileSent,
    FileStep,
    FileUnparked,
    NoteAdded,
)
