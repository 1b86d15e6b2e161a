"""What files takes in with a correspondence document or a draft: the upload the gateway
stored, checked by the shared intake (`eoffice.intake`) before it is recorded; refused, or
not kept, it is removed."""

from __future__ import annotations

from collections.abc import Callable

from eoffice.contracts.common import Upload
from eoffice.contracts.files import UPLOADS, StoredDocument
from eoffice.intake import SCAN_STEPS
from eoffice.intake.stored import StoredIntake, own, unless_kept


def recorded_with(
    intake: StoredIntake,
    upload: Upload | None,
    *,
    record: Callable[[StoredDocument | None], dict],
    field: str = "document",
) -> dict:
    """Checks the upload, if any (SCAN_STEPS), then returns `record(document)`. Raises the
    refusal (InvalidInput naming the file); the upload is then removed, as it is when `record`
    refuses or its answer does not hold it."""
    if upload is None:
        return record(None)
    own([upload], UPLOADS, field)

    def checked() -> dict:
        found = intake.take_in(upload, SCAN_STEPS)
        return record(
            StoredDocument(
                object_name=upload.object_name,
                sha256=upload.sha256,
                filename=upload.filename,
                content_type=found.content_type,
                pages=found.pages,
            )
        )

    return unless_kept(
        intake.store, [upload.object_name], record=checked, kept=lambda answer: {answer.get("object_name")}
    )
