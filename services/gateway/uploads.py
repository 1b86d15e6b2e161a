"""Documents arriving with a receipt or for a file: streamed to MinIO here, then checked and
recorded by the service that owns them.

The gateway does no domain work on the bytes: it checks the file's name as it will be
recorded, streams each file to the store under a name unique to this upload, and hands the
service references (`eoffice.contracts.common.Upload`). The service runs the intake on them
(`eoffice.intake`: type, limits, pages, bombs, text layer, e-mail) and refuses with the same
answers the checks always gave; the service and the gateway then both remove what was stored,
so a refused upload leaves no object behind (and, for a receipt, uses no diary number). If the
gateway stops between storing and recording, the owning service's hourly sweep
(`eoffice.storage.sweep`) removes, a day later, what nothing holds."""
from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import BinaryIO
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import StreamingResponse

from eoffice.actor import Actor
from eoffice.contracts.common import Upload
from eoffice.contracts.dak import UPLOADS, Diarise
from eoffice.errors import InvalidInput
from eoffice.intake.stored import remove, unless_kept
from eoffice.storage import DocumentStore
from eoffice.validation import file_name, parse
from services.gateway import limits, problems
from services.gateway.auth import actor


def limited(request: Request, who: Actor = Depends(actor)) -> None:
    """Counts an upload against the limits per client address and per signed-in user
    (EOFFICE_RATE_UPLOAD_*). FastAPI reads a form before any dependency runs, so a refused
    upload has been received (up to the request size limit) but is neither checked nor stored."""
    limits.hit(request, ("upload-client", limits.client_address(request)), ("upload-account", who.user_id))


# Every upload route takes these: `@router.post(path, ..., **LIMITED)`.
LIMITED = {"dependencies": [Depends(limited)], "responses": problems.RATE_LIMITED}


def checked_by(request: Request, service: str, method: str, *args):
    """Calls the service that checks and records an upload, waiting for its checks
    (EOFFICE_INTAKE_TIMEOUT) on top of the usual RPC timeout."""
    return request.app.state.upload_rpc.call(service, method, *args)


def named(stream: BinaryIO, filename: str, field: str) -> tuple[str, BinaryIO]:
    """An uploaded file with its name as it will be recorded (InvalidInput naming `field`, the
    form field it came in); its bytes are the owning service's to check."""
    return file_name(filename, field), stream


def json_object(form_value: str | None, field: str = "letter") -> dict:
    """A form field holding a JSON object (or nothing: {}); names the field if it is not one."""
    try:
        given = json.loads(form_value) if form_value else {}
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{field} is not JSON: {exc}", field=field) from None
    if not isinstance(given, dict):
        raise InvalidInput(f"{field} must be a JSON object", field=field)
    return given


def electronic(given: dict) -> dict:
    """The fields given for a receipt diarised with its documents (scans or an e-mail), which is
    electronic: `physical` may be left out or false; anything else is refused, naming it."""
    if given.get("physical", False) is not False:
        raise InvalidInput(
            "physical: a receipt diarised with its scans or e-mail is electronic (physical false or left out); "
            "a paper letter is diarised with POST /receipts",
            field="physical",
        )
    return given


def letter_from(form_value: str | None) -> Diarise:
    """Parses the `letter` form field (JSON) of an electronic receipt; names the bad field if any."""
    return parse(Diarise, {**electronic(json_object(form_value)), "physical": False})


def diarise_with_documents(store: DocumentStore, files: list[tuple[str, BinaryIO]],
                           diarise: Callable[[list[dict]], dict]):
    """Stores a receipt's files, then calls `diarise(uploads)`; see `store_then_record`."""
    return store_then_record(store, files, diarise, prefix=UPLOADS,
                             kept=lambda result: {s["object_name"] for s in result.get("scans", [])})


def store_then_record(store: DocumentStore, files: list[tuple[str, BinaryIO]], record: Callable[[list[dict]], dict],
                      *, prefix: str, kept: Callable[[dict], set[str]]):
    """Streams the files (name, stream) to the store under `prefix`, then calls `record(uploads)`
    with an `Upload` for each; removes them again if the service refuses, or if its answer
    (`kept`) does not hold them (a retried request that had been done already keeps the
    documents of the first time)."""
    upload = f"{prefix}{uuid.uuid4()}/"
    refs: list[dict] = []
    names: list[str] = []  # each as soon as it is stored, so that whatever fails next removes it
    try:
        for position, (filename, stream) in enumerate(files, start=1):
            stream.seek(0)
            stored = store.put(stream, name=f"{upload}{position}")
            names.append(stored.name)
            refs.append(Upload(filename=filename, object_name=stored.name, sha256=stored.sha256,
                               size=stored.size).model_dump())
    except Exception:
        remove(store, names)
        raise
    return unless_kept(store, names, record=lambda: record(refs), kept=kept)


def download(store: DocumentStore, doc: dict) -> StreamingResponse:
    """Streams a stored document back as it was received, checked against its SHA-256."""
    # An issued letter is a locked record: read by the version the file recorded.
    reader = store.open(doc["object_name"], sha256=doc["sha256"], version_id=doc.get("version_id"))
    headers = {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(doc['filename'] or 'document', safe='')}"}
    if doc.get("size"):
        headers["Content-Length"] = str(doc["size"])
    return StreamingResponse(chunks(reader), media_type=doc["content_type"], headers=headers)


DOWNLOAD_CHUNK = 256 * 1024


def chunks(reader: BinaryIO, size: int = DOWNLOAD_CHUNK) -> Iterator[bytes]:
    """The stream's bytes in pieces of `size`, closing it at the end (or when the client goes).
    A stream handed to the response as it is would be iterated by lines: for a scan, a few
    hundred bytes at a time, each a hop to a worker thread (a 5 MB scan took 15 s)."""
    with reader:
        while piece := reader.read(size):
            yield piece
