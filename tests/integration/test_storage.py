"""MinIO as the documents store: four nodes, parity 2, content-addressed, records locked."""
from __future__ import annotations

import hashlib
import io
import os
import tracemalloc
from datetime import UTC, datetime, timedelta

import pytest
from minio.error import S3Error

from eoffice.errors import ObjectCorrupted
from eoffice.storage import DocumentStore
from tests.support.system import drives_holding, part, wait_until

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def store(migrated):
    return DocumentStore(migrated)


def scan(size: int = 300_000) -> bytes:
    return os.urandom(size)


def test_same_bytes_are_stored_once_under_their_sha256(store):
    data = scan()
    first = store.put(io.BytesIO(data), content_type="application/pdf")
    second = store.put(io.BytesIO(data), content_type="application/pdf")
    assert first.sha256 == second.sha256 == hashlib.sha256(data).hexdigest()
    assert store.read(first.sha256) == data


def test_written_with_one_node_down_reads_back_intact(store, stopped_nodes, settings):
    port = settings.minio_endpoints[0].rsplit(":", 1)[1]  # the client's first choice, to force failover
    stopped_nodes(port)
    data = scan()
    stored = store.put(io.BytesIO(data))
    assert store.read(stored.sha256) == data
    assert port not in drives_holding(settings, stored.bucket, stored.name)
    # And through a fresh client after the node is back; MinIO heals what the node missed, so
    # the object can again lose any two nodes.
    part("start", f"minio-{port}")
    assert DocumentStore(settings).read(stored.sha256) == data
    wait_until(lambda: len(drives_holding(settings, stored.bucket, stored.name)) == 4, 60,
               "the object healed onto the node that was down")


def test_readable_with_two_nodes_down(store, stopped_nodes, settings):
    data = scan()
    stored = store.put(io.BytesIO(data))
    # Parity 2 keeps an object that is on all four drives; one written while a node was still
    # rejoining is there once healed (the test above).
    wait_until(lambda: len(drives_holding(settings, stored.bucket, stored.name)) == 4, 60,
               "the object on all four drives")
    ports = [endpoint.rsplit(":", 1)[1] for endpoint in settings.minio_endpoints]
    stopped_nodes(ports[1], ports[2])
    assert DocumentStore(settings).read(stored.sha256) == data


def test_locked_record_cannot_be_deleted_or_overwritten(store):
    original = b"%PDF-1.7 signed order no. 42" + os.urandom(1000)
    record = store.put(io.BytesIO(original), retain_until=datetime.now(UTC) + timedelta(days=1))
    assert record.bucket == store.records and record.version_id

    raw = store._clients[0]
    with pytest.raises(S3Error) as refused:
        raw.remove_object(store.records, record.sha256, version_id=record.version_id)
    assert "WORM protected" in refused.value.message, refused.value

    # Writing other bytes under the same name makes a new version; the locked one stays,
    # and a read of the name alone notices the bytes no longer match it.
    raw.put_object(store.records, record.sha256, io.BytesIO(b"forged"), 6)
    assert store.read(record.sha256, version_id=record.version_id) == original
    with pytest.raises(ObjectCorrupted):
        store.read(record.sha256, locked=True)


def test_large_upload_is_streamed_not_held_in_memory(store):
    size, chunk = 48 * 1024 * 1024, os.urandom(1024 * 1024)

    class Scanner(io.RawIOBase):
        """A 48 MiB scan produced piece by piece, as a network upload arrives."""
        def __init__(self):
            self.sent, self.digest = 0, hashlib.sha256()

        def readable(self):
            return True

        def readinto(self, buffer):
            n = min(len(buffer), len(chunk), size - self.sent)
            buffer[:n] = chunk[:n]
            self.digest.update(chunk[:n])
            self.sent += n
            return n

    source = Scanner()
    tracemalloc.start()
    stored = store.put(io.BufferedReader(source, buffer_size=1024 * 1024))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert stored.size == size and stored.sha256 == source.digest.hexdigest()
    assert peak < 16 * 1024 * 1024, f"upload held {peak / 2**20:.0f} MiB in memory"
    with store.open(stored.sha256) as reader:
        digest = hashlib.sha256()
        while block := reader.read(1024 * 1024):
            digest.update(block)
    assert digest.hexdigest() == stored.sha256
