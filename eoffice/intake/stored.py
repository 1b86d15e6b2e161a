"""Running the intake on uploads the gateway put in the store, and removing them when they are
not kept: what dak and files (and, next, signing) do with the references they are handed."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from eoffice.contracts.common import Upload
from eoffice.errors import DomainError, InvalidInput, Unavailable
from eoffice.intake.base import DEFAULT_MAX_PAGES, Document, Offload, Step, in_caller, in_threads, read, run, within
from eoffice.settings import get_settings
from eoffice.storage import DocumentStore, shared_store

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class StoredIntake:
    """The intake over a store, with the limits that apply (`max_bytes`, `max_pages`), where
    heavy steps run (`offload`), and the seconds all of one request's checks may take from its
    making (`timeout`; None: no limit). One per request."""

    store: DocumentStore
    max_bytes: int
    max_pages: int = DEFAULT_MAX_PAGES
    offload: Offload = in_caller
    timeout: float | None = None
    started: float = field(default_factory=time.monotonic)

    def _run(self, document: Document, steps: Sequence[Step]) -> Document:
        if self.timeout is None:
            return run(document, steps, offload=self.offload)
        with within(self.started + self.timeout - time.monotonic(), self.timeout, document):
            return run(document, steps, offload=self.offload)

    def take_in(self, upload: Upload, steps: Sequence[Step]) -> Document:
        """Reads a stored upload (no more than `max_bytes` of it; read whole, it is checked
        against its SHA-256) and runs `steps` on it; returns what they found. Raises their
        refusal (InvalidInput naming the file), ObjectCorrupted, or NotFound if it is gone."""
        with self.store.open(upload.object_name, sha256=upload.sha256) as stream:
            document = read(
                stream, upload.filename, max_bytes=self.max_bytes, max_pages=self.max_pages, size=upload.size
            )
        return self._run(document, steps)

    def check(self, filename: str, data: bytes, steps: Sequence[Step]) -> Document:
        """Runs `steps` on bytes at hand (an e-mail's attachment), as `take_in` does."""
        document = read(io.BytesIO(data), filename, max_bytes=self.max_bytes, max_pages=self.max_pages)
        return self._run(document, steps)


def for_service() -> StoredIntake:
    """The intake of one request as a nameko service runs it: over the process's store, within
    EOFFICE_MAX_SCAN_BYTES, heavy steps in eventlet's thread pool (see `base.in_threads`), all
    its checks within EOFFICE_INTAKE_TIMEOUT."""
    settings = get_settings()
    return StoredIntake(shared_store(), settings.max_scan_bytes, offload=in_threads(), timeout=settings.intake_timeout)


def unless_kept(store: DocumentStore, names: list[str], *, record: Callable[[], T], kept: Callable[[T], set[str]]) -> T:
    """Calls `record()` and returns its answer; removes the objects `names` (read after the
    call: `record` may add what it stores) if it refuses (a domain error, a bad value) or if
    its answer does not hold them (`kept`: a retried request that had been done already keeps
    the documents of the first time). Unavailable leaves them: the request may still have been
    recorded, and the hourly sweep takes what nothing holds."""
    try:
        answer = record()
    except Unavailable:
        raise
    except (DomainError, ValueError):
        remove(store, names)
        raise
    held = kept(answer)
    remove(store, [name for name in names if name not in held])
    return answer


def remove(store: DocumentStore, names: Sequence[str]) -> None:
    """Removes the objects; one that cannot be removed now is left to the sweep."""
    for name in names:
        try:
            store.remove(name)
        except Exception:
            log.warning("could not remove unused upload %s", name, exc_info=True)


def own(uploads: Sequence[Upload], prefix: str, field: str) -> None:
    """Refuses (InvalidInput naming `field`) an upload outside the service's own uploads
    (`prefix`): the intake removes what it refuses, and must never touch another's object."""
    for upload in uploads:
        if not upload.object_name.startswith(prefix) or ".." in upload.object_name:
            raise InvalidInput(f"{upload.filename} is not an upload of this service", field=field)
