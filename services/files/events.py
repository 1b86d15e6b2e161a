"""Events the files service emits, one per step in a file's life (all through the outbox).
Other state portals subscribe to these."""
from __future__ import annotations

from datetime import date

from eoffice.events import EventPayload


class FileCreated(EventPayload):
    event_type = "eoffice.file.created.v1"
    file_id: str
    file_number: str
    office_code: str
    subject: str
    creator_post: str
    by_user: str
    parent_id: str | None = None  # set for a part file


class FileStep(EventPayload):
    """A post did something with a file: who, from which post, to which post."""
    event_type = "eoffice.file.step.v1"
    file_id: str
    file_number: str
    by_user: str
    by_post: str | None = None
    from_post: str | None = None
    to_post: str | None = None
    remarks: str = ""
    due_date: date | None = None


class FileSent(FileStep):
    event_type = "eoffice.file.sent.v1"


class FileOpened(FileStep):
    event_type = "eoffice.file.opened.v1"


class FileReceived(FileStep):
    event_type = "eoffice.file.received.v1"


class FilePulledBack(FileStep):
    event_type = "eoffice.file.pulled-back.v1"


class FileParked(FileStep):
    event_type = "eoffice.file.parked.v1"


class FileUnparked(FileStep):
    event_type = "eoffice.file.unparked.v1"


class FileClosed(FileStep):
    event_type = "eoffice.file.closed.v1"


class FileReopenRequested(FileStep):
    event_type = "eoffice.file.reopen-requested.v1"


class FileReopened(FileStep):
    event_type = "eoffice.file.reopened.v1"


class NoteAdded(EventPayload):
    """A green note joined the notesheet (its hash is the chain head now)."""
    event_type = "eoffice.file.note-added.v1"
    file_id: str
    file_number: str
    seq: int
    hash: str
    by_user: str
    by_post: str


class DraftApproved(EventPayload):
    """A draft for approval was approved: signing and issue take it from here."""
    event_type = "eoffice.draft.approved.v1"
    file_id: str
    file_number: str
    draft_id: int
    version: int
    title: str
    by_user: str
    by_post: str
