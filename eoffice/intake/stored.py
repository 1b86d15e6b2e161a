"""Running the intake on uploads the gateway put in the store, and removing them when they are
not kept: what dak and files (and, next, signing) do with the references they are handed."""
from __future__ import annotations

import io
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from eoffice.contracts.common import Upload
from eoffice.errors import DomainError, InvalidInput, Unavailable
from eoffice.intake.base import DEFAULT_MAX_PAGES, Document, Offload, Step, in_caller, in_threads, read, run
from eoffice.settings import get_settings
from eoffice.storage import DocumentStore, shared_store

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class StoredIntake:
    """The intake over a store, with the limits that apply (`max_bytes`, `max_pages`) and where
    heavy steps run (`offload`)."""
    store: DocumentStore
    max_bytes: int
    max_pages: int = DEFAULT_MAX_PAGES
    offload: Offload = in_caller

    def take_in(self, upload: Upload, steps: Sequence[Step]) -> Document:
        """Reads a stored upload (no more than `max_bytes` of it; read whole, it is checked
        against its SHA-256) and runs `steps` on it; returns what they found. Raises their
        refusal (InvalidInput naming the file), ObjectCorrupted, or NotFound if it is gone."""
        with self.store.open(upload.object_name, sha256=upload.sha256) as stream:
            document = read(stream, upload.filename, max_bytes=self.max_bytes, max_pages=self.max_pages,
                            size=upload.size)
        return run(document, steps, offload=self.offload)

    def check(self, filename: str, data: bytes, steps: Sequence[Step]) -> Document:
        """Runs `steps` on bytes at hand (an e-mail's attachment), as `take_in` does."""
        document = read(io.BytesIO(data), filename, max_bytes=self.max_bytes, max_pages=self.max_pages)
        return run(document, steps, offload=self.offload)


def for_service() -> StoredIntake:
    """The intake as a nameko service runs it: over the process's store, within
    EOFFICE_MAX_SCAN_BYTES, heavy steps in eventlet's thread pool (see `base.in_threads`)."""
    return StoredIntake(shared_store(), get_settings().max_scan_bytes, offload=in_threads())


def unless_kept(store: DocumentStore, names: list[str], record: Callable[[], T],
                kept: Callable[[T], set[str]]) -> T:
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
