"""A stored document streamed back by the gateway (`uploads.download`): in large pieces, checked
against its SHA-256 at the end, the store's stream closed after."""
from __future__ import annotations

import asyncio
import hashlib
import io
import random

import pytest

from eoffice.errors import ObjectCorrupted
from eoffice.storage import VerifiedReader
from services.gateway.uploads import DOWNLOAD_CHUNK, download


class Response(io.BytesIO):
    """What MinIO's client answers `get_object` with: read(n) and release_conn()."""

    released = False

    def release_conn(self) -> None:
        self.released = True


class Store:
    def __init__(self, data: bytes):
        self.response = Response(data)

    def open(self, name: str, *, sha256: str, version_id: str | None = None) -> VerifiedReader:
        return VerifiedReader(self.response, sha256)


def body(response) -> list[bytes]:
    async def pieces():
        return [piece async for piece in response.body_iterator]

    return asyncio.run(pieces())


def scan(size: int) -> bytes:
    """Bytes like a scan's: random, with a newline every few hundred bytes on average."""
    return random.Random(size).randbytes(size)


def test_a_large_document_is_sent_in_large_pieces_and_the_store_let_go():
    data = scan(5 * 1024 * 1024 + 1)
    store = Store(data)
    doc = {"object_name": "scans/x/1", "sha256": hashlib.sha256(data).hexdigest(), "filename": "long.pdf",
           "content_type": "application/pdf", "size": len(data)}
    response = download(store, doc)
    pieces = body(response)
    assert b"".join(pieces) == data
    assert len(pieces) == -(-len(data) // DOWNLOAD_CHUNK), len(pieces)  # not a piece per line of bytes
    assert store.response.closed and store.response.released
    assert response.headers["content-length"] == str(len(data))


def test_a_document_changed_in_the_store_fails_at_its_end():
    data = scan(600_000)
    store = Store(data[:-1] + bytes([data[-1] ^ 1]))
    response = download(store, {"object_name": "scans/x/1", "sha256": hashlib.sha256(data).hexdigest(),
                                "filename": "a.pdf", "content_type": "application/pdf", "size": len(data)})
    with pytest.raises(ObjectCorrupted):
        body(response)
    assert store.response.closed
