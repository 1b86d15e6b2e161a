"""Documents arriving with a receipt or for a file: checked here, stored in MinIO, then
recorded by the service that owns them.

The bytes reach the gateway, so the gateway checks them (`services.dak.scans`) before storing
anything, stores each under a name unique to this upload, and removes them again when the
service refuses: a refused upload leaves no object behind (and, for a receipt, uses no diary
number). If the gateway stops between storing and recording, the owning service's hourly
sweep (`eoffice.storage.sweep`) removes, a day later, what nothing holds."""
from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import StreamingResponse

from eoffice.actor import Actor
from eoffice.errors import DomainError, InvalidInput, Unavailable
from eoffice.storage import DocumentStore
from eoffice.validation import file_name, parse
from services.dak.scans import Inspected, inspect
from services.dak.schemas import Diarise, ScanRef
from services.dak.models import UPLOADS
from services.gateway import limits, problems
from services.gateway.auth import actor

log = logging.getLogger(__name__)


def limited(request: Request, who: Actor = Depends(actor)) -> None:
    """Counts an upload against the limits per client address and per signed-in user
    (EOFFICE_RATE_UPLOAD_*). FastAPI reads a form before any dependency runs, so a refused
    upload has been received (up to the request size limit) but is neither checked nor stored."""
    limits.hit(request, ("upload-client", limits.client_address(request)), ("upload-account", who.user_id))


# Every upload route takes these: `@router.post(path, ..., **LIMITED)`.
LIMITED = {"dependencies": [Depends(limited)], "responses": problems.RATE_LIMITED}


@dataclass
class Document:
    """A checked document and its bytes, ready to store."""
    inspected: Inspected
    stream: BinaryIO


def checked(stream: BinaryIO, filename: str, max_bytes: int, field: str) -> Document:
    """Checks an uploaded file: its name first, as it will be recorded (InvalidInput naming
    `field`, the form field it came in), then its bytes (`services.dak.scans.inspect`)."""
    return Document(inspect(stream, file_name(filename, field), max_bytes=max_bytes), stream)


def email_document(data: bytes, filename: str) -> Document:
    """The e-mail itself, kept as received; its body is its text."""
    return Document(Inspected(filename=filename, content_type="message/rfc822", size=len(data), pages=0,
                              text_layer=False), io.BytesIO(data))


def letter_from(form_value: str | None, defaults: dict) -> Diarise:
    """Parses the `letter` form field (JSON) over `defaults`; names the bad field if any."""
    try:
        given = json.loads(form_value) if form_value else {}
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"letter is not JSON: {exc}", field="letter") from None
    if not isinstance(given, dict):
        raise InvalidInput("letter must be a JSON object", field="letter")
    return parse(Diarise, {**defaults, **given, "physical": False})


def diarise_with_documents(store: DocumentStore, documents: list[Document], diarise: Callable[[list[dict]], dict]):
    """Stores a receipt's documents, then calls `diarise(scan_refs)`; see `store_then_record`."""
    return store_then_record(store, documents, diarise, prefix=UPLOADS,
                             kept=lambda result: {s["object_name"] for s in result.get("scans", [])})


def store_then_record(store: DocumentStore, documents: list[Document], record: Callable[[list[dict]], dict], *,
                      prefix: str, kept: Callable[[dict], set[str]]):
    """Stores the documents under `prefix`, then calls `record(refs)`; removes them again if
    the service refuses, or if its answer (`kept`) does not hold them (a retried request that
    had been done already keeps the documents of the first time)."""
    upload = f"{prefix}{uuid.uuid4()}/"
    refs: list[dict] = []
    names: list[str] = []  # each as soon as it is stored, so that whatever fails next removes it
    try:
        for position, doc in enumerate(documents, start=1):
            doc.stream.seek(0)
            stored = store.put(doc.stream, content_type=doc.inspected.content_type, name=f"{upload}{position}")
            names.append(stored.name)
            refs.append(ScanRef(filename=doc.inspected.filename, content_type=doc.inspected.content_type,
                                size=stored.size, pages=doc.inspected.pages, object_name=stored.name,
                                sha256=stored.sha256, text_layer=doc.inspected.text_layer).model_dump())
        result = record(refs)
    except Unavailable:
        raise  # dak may still record the receipt: leave the objects to the sweep
    except (DomainError, ValueError):
        _remove(store, names)
        raise
    if not kept(result) >= set(names):
        _remove(store, names)
    return result


def _remove(store: DocumentStore, names: list[str]) -> None:
    for name in names:
        try:
            store.remove(name)
        except Exception:  # the sweep will take it
            log.warning("could not remove unused upload %s", name, exc_info=True)


def download(store: DocumentStore, doc: dict) -> StreamingResponse:
    """Streams a stored document back as it was received, checked against its SHA-256."""
    reader = store.open(doc["object_name"], sha256=doc["sha256"])
    headers = {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(doc['filename'] or 'document', safe='')}"}
    if doc.get("size"):
        headers["Content-Length"] = str(doc["size"])
    return StreamingResponse(reader, media_type=doc["content_type"], headers=headers)


def as_stored(ref: dict) -> dict:
    """A stored upload as the files service records it."""
    return {k: ref[k] for k in ("object_name", "sha256", "filename", "content_type", "pages")}
