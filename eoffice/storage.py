"""Documents in the MinIO cluster, named by their SHA-256 and checked on every read.

- `put(stream)` spools the upload to a temporary file while hashing it (never the whole file in
  memory), then uploads it under its hash. The same content stored twice is one object.
- `put(stream, retain_until=...)` stores a record in the object-locked bucket in compliance
  mode: nobody, not even the root user, deletes or overwrites that version before the date.
- `open(sha256)` streams the object back and raises `ObjectCorrupted` at the end if the bytes
  do not hash to their name.
- Any one node may be down: each call moves on to the next endpoint that answers.
"""

from __future__ import annotations

import hashlib
import io
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import BinaryIO, Literal, TypeVar, cast

import urllib3
from minio import Minio
from minio.commonconfig import COMPLIANCE
from minio.error import S3Error, ServerError
from minio.retention import Retention

from eoffice.errors import NotFound, ObjectCorrupted, Unavailable
from eoffice.settings import Settings, get_settings

T = TypeVar("T")
CHUNK = 1024 * 1024
SPOOL_IN_MEMORY = 4 * 1024 * 1024  # larger uploads spill to disk while being hashed
QUORUM_WAIT = 15.0
PART_SIZE = 5 * 1024 * 1024  # the S3 minimum: memory per upload stays near two parts
TRANSIENT = {
    "XMinioServerNotInitialized",
    "ServiceUnavailable",
    "SlowDown",
    "SlowDownWrite",
    "SlowDownRead",
    "XMinioReadQuorum",
    "XMinioWriteQuorum",
}


@dataclass(frozen=True)
class StoredObject:
    sha256: str
    size: int
    bucket: str
    version_id: str | None = None  # set in the records bucket: the locked version to read back
    name: str = ""  # the object's name: its SHA-256 unless the caller chose one

    def __post_init__(self):
        if not self.name:
            object.__setattr__(self, "name", self.sha256)


class VerifiedReader(io.RawIOBase):
    """A read-only stream over an object that checks its SHA-256 when it reaches the end."""

    def __init__(self, response, expected_sha256: str | None):
        self._response, self._expected = response, expected_sha256
        self._hash = hashlib.sha256()
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._response.read(len(buffer))
        if not data:
            self._finish()
            return 0
        self._hash.update(data)
        buffer[: len(data)] = data
        return len(data)

    def _finish(self):
        if not self._done:
            self._done = True
            if self._expected is not None and self._hash.hexdigest() != self._expected:
                raise ObjectCorrupted(f"object {self._expected} read back with hash {self._hash.hexdigest()}")

    def close(self):
        try:
            self._response.close()
            self._response.release_conn()
        finally:
            super().close()


class DocumentStore:
    """Content-addressed storage over every MinIO endpoint in the settings."""

    def __init__(self, settings: Settings | None = None, *, bucket_prefix: str = ""):
        self.settings = settings or get_settings()
        self.documents = bucket_prefix + self.settings.documents_bucket
        self.records = bucket_prefix + self.settings.records_bucket
        # Short timeouts and no client-side retries: a dead node should cost one quick failure
        # before the next endpoint is tried, not a minute of backoff.
        http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=2, read=60), retries=False, maxsize=10)
        self._clients = [
            Minio(
                endpoint,
                access_key=self.settings.minio_access_key,
                secret_key=self.settings.minio_secret_key,
                secure=self.settings.minio_secure,
                http_client=http,
            )
            for endpoint in self.settings.minio_endpoints
        ]
        self._preferred = 0

    def _call(self, fn: Callable[[Minio], T]) -> T:
        """Runs `fn` against the first endpoint that answers, starting with the last good one.

        A node that has just died can make the others report lost quorum for a moment
        (SlowDownWrite) until they mark it offline, so such answers are retried for up to
        `QUORUM_WAIT` seconds before giving up with `Unavailable`."""
        errors: list[str] = []
        deadline = time.monotonic() + QUORUM_WAIT
        while True:
            for offset in range(len(self._clients)):
                index = (self._preferred + offset) % len(self._clients)
                endpoint = self.settings.minio_endpoints[index]
                try:
                    result = fn(self._clients[index])
                except (urllib3.exceptions.HTTPError, OSError, ServerError) as exc:
                    errors.append(f"{endpoint}: {type(exc).__name__}")
                    continue
                except S3Error as exc:
                    if exc.code in TRANSIENT:
                        errors.append(f"{endpoint}: {exc.code}")
                        continue
                    raise
                self._preferred = index
                return result
            if time.monotonic() >= deadline:
                raise Unavailable("no MinIO endpoint could serve the request: " + "; ".join(errors[-8:]))
            time.sleep(0.5)

    def ensure_buckets(self) -> None:
        """Creates the documents bucket and the object-locked records bucket if missing."""
        self._ensure_bucket(self.documents, locked=False)
        self._ensure_bucket(self.records, locked=True)

    def _ensure_bucket(self, bucket: str, *, locked: bool) -> None:
        if not self._call(lambda c: c.bucket_exists(bucket)):
            try:
                self._call(lambda c: c.make_bucket(bucket, object_lock=locked))
            except S3Error as exc:
                if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise

    def put(
        self,
        stream: BinaryIO,
        *,
        content_type: str = "application/octet-stream",
        retain_until: datetime | None = None,
        name: str | None = None,
    ) -> StoredObject:
        """Stores the stream's bytes under their SHA-256; returns what was stored.

        With `retain_until` the object goes to the records bucket, locked in compliance mode
        until that date. Safe to retry: the same bytes make the same object.

        With `name` the object is stored under that name instead (one owner per object, so it
        can be removed safely when its owner is not created); reads still check the hash."""
        bucket = self.records if retain_until else self.documents
        digest, size = hashlib.sha256(), 0
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
                spool.write(chunk)
                size += len(chunk)
            sha256 = digest.hexdigest()
            key = name or sha256
            existing = False if name else self._existing_version(bucket, sha256)
            if existing is not False:  # the same bytes are stored already
                return StoredObject(sha256=sha256, size=size, bucket=bucket, version_id=existing, name=key)
            retention = Retention(COMPLIANCE, retain_until) if retain_until else None

            def upload(client: Minio):
                spool.seek(0)
                return client.put_object(
                    bucket,
                    key,
                    # a SpooledTemporaryFile is a binary file; typeshed does not say it is a BinaryIO
                    cast(BinaryIO, spool),
                    size,
                    content_type=content_type,
                    metadata={"x-amz-meta-sha256": sha256},
                    retention=retention,
                    part_size=PART_SIZE,
                    num_parallel_uploads=1,
                )

            version_id = self._call(upload).version_id
        return StoredObject(sha256=sha256, size=size, bucket=bucket, version_id=version_id, name=key)

    def _existing_version(self, bucket: str, sha256: str) -> str | Literal[False] | None:
        """Returns the version id of the object already stored under `sha256` (None where the
        bucket keeps no versions), or False if there is none."""
        try:
            return self._call(lambda c: c.stat_object(bucket, sha256)).version_id
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject"):
                return False
            raise

    def open(
        self,
        name: str,
        *,
        sha256: str | None = None,
        version_id: str | None = None,
        locked: bool = False,
        check: bool = True,
    ) -> VerifiedReader:
        """Returns a stream of the object's bytes; reading to the end raises `ObjectCorrupted`
        if they do not match `sha256` (by default the name itself). Raises `NotFound` if there
        is no such object.

        For a record pass the `version_id` that `put` returned: a later write under the same
        name makes a new version and never replaces the locked one."""
        bucket = self.records if locked or version_id else self.documents
        try:
            response = self._call(lambda c: c.get_object(bucket, name, version_id=version_id))
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject"):
                raise NotFound(f"no document {name}") from exc
            raise
        return VerifiedReader(response, (sha256 or name) if check else None)

    def read(
        self,
        name: str,
        *,
        sha256: str | None = None,
        version_id: str | None = None,
        locked: bool = False,
        check: bool = True,
    ) -> bytes:
        """Returns the object's bytes after checking them (small objects only). With
        `check=False` the caller compares the content itself."""
        with self.open(name, sha256=sha256, version_id=version_id, locked=locked, check=check) as reader:
            return reader.read()

    def names(self, prefix: str, *, locked: bool = False, before: datetime | None = None) -> list[str]:
        """Returns the names of the objects under `prefix`; with `before`, only those last
        written earlier (for sweeping uploads whose owner was never created)."""
        bucket = self.records if locked else self.documents
        return self._call(
            lambda c: [
                o.object_name
                for o in c.list_objects(bucket, prefix=prefix, recursive=True)
                if before is None or (o.last_modified and o.last_modified < before)
            ]
        )

    def latest_version(self, name: str, *, locked: bool = True) -> str | None:
        """Returns the version id of the newest version stored under `name`, None if none."""
        bucket = self.records if locked else self.documents
        try:
            return self._call(lambda c: c.stat_object(bucket, name)).version_id
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject"):
                return None
            raise

    def remove(self, name: str) -> None:
        """Removes a documents-bucket object (records are never removed); no error if absent."""
        self._call(lambda c: c.remove_object(self.documents, name))

    def ping(self) -> None:
        """Raises `Unavailable` unless some endpoint answers."""
        self._call(lambda c: c.bucket_exists(self.documents))


SWEEP_AFTER = timedelta(hours=24)  # an upload nothing holds after this long is removed


def sweep(
    store: DocumentStore,
    prefix: str,
    *,
    cutoff: datetime,
    unheld: Callable[[list[str]], set[str]],
    owner_of: Callable[[str], str] = lambda name: name,
) -> list[str]:
    """Removes documents-bucket objects under `prefix` written before `cutoff` whose owner no
    record holds: uploads left when the gateway stopped between storing one and the service
    recording it. `unheld(names)` answers which owners no record holds; `owner_of` maps an
    object to the upload it belongs to (e.g. a text stored beside a scan). Returns the names
    removed."""
    names = store.names(prefix, before=cutoff)
    orphaned = unheld(sorted({owner_of(name) for name in names})) if names else set()
    removed = [name for name in names if owner_of(name) in orphaned]
    for name in removed:
        store.remove(name)
    return removed


@lru_cache(maxsize=1)
def shared_store() -> DocumentStore:
    """One store per process, over the settings' endpoints: its clients keep their connection
    pools, and it remembers which node answered last."""
    return DocumentStore()
