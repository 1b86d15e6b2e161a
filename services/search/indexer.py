"""Writing items to the indices: the current state of some receipts or files, as their owning
service gave it, replaces what the index held about them.

Every write carries an external version: the time (ns) the record was asked for, before the
owner was asked. A later question sees a state at least as new, so when two writes of one item
race (two events handled at once, in one search process or two, or live indexing beside a
rebuild), Elasticsearch keeps the newer and refuses the older (a version conflict, which is
therefore no error). Writing the same state twice changes nothing: every handler built on this
is idempotent. The times must come from one clock: live indexing takes the database's
(`version_at`), so search processes on machines whose clocks differ still agree; a rebuild takes
its machine's (`now_version`), which must keep time with the database's (NTP)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from elasticsearch import Elasticsearch
from elasticsearch.helpers import bulk

from services.search import documents, indices


def now_version() -> int:
    """A version for records about to be asked for: call it before asking."""
    return time.time_ns()


def version_at(moment: datetime) -> int:
    """The version of records asked for after `moment` (an aware time, e.g. the database's
    clock read before asking), on the scale of `now_version` (ns since the epoch)."""
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) * 1000


class IndexingFailed(RuntimeError):
    """Elasticsearch refused documents for another reason than a newer version."""


def _write(client: Elasticsearch, actions: list[dict]) -> int:
    if not actions:
        return 0
    _, failed = bulk(client, actions, raise_on_error=False, raise_on_exception=True, refresh=False, request_timeout=60)
    errors: list[dict] = failed if isinstance(failed, list) else []
    real = [e for e in errors if next(iter(e.values())).get("status") not in (409, 404)]
    if real:
        raise IndexingFailed(f"{len(real)} documents refused, first: {real[0]}")
    return len(actions) - len(errors)


def _targets(client: Elasticsearch, prefix: str, kind: str, *, only: dict[str, str] | None) -> list[str]:
    return [only[kind]] if only else indices.write_targets(client, prefix, kind)


def put(
    client: Elasticsearch, prefix: str, docs: Iterable[dict], *, version: int, only: dict[str, str] | None = None
) -> int:
    """Writes `docs` (from `services.search.documents`) to their kind's indices (or only to the
    index of each kind in `only`, for a rebuild); returns how many were written."""
    actions, targets = [], {}
    for doc in docs:
        kind = documents.index_of(doc)
        if kind not in targets:
            targets[kind] = _targets(client, prefix, kind, only=only)
        actions += [
            {
                "_op_type": "index",
                "_index": name,
                "_id": doc["uid"],
                "_source": doc,
                "version": version,
                "version_type": "external_gte",
            }
            for name in targets[kind]
        ]
    return _write(client, actions)


def remove(client: Elasticsearch, prefix: str, uids_by_kind: dict[str, list[str]], *, version: int) -> int:
    """Deletes documents (by uid, per kind) from every index they may be in."""
    actions = [
        {"_op_type": "delete", "_index": name, "_id": uid, "version": version, "version_type": "external_gte"}
        for kind, uids in uids_by_kind.items()
        for name in indices.write_targets(client, prefix, kind)
        for uid in uids
    ]
    return _write(client, actions)


def sync_receipts(client: Elasticsearch, prefix: str, *, ids: list[str], records: list[dict], version: int) -> None:
    """Makes the index hold `records` for the receipts `ids`; a receipt of `ids` without a
    record no longer exists and leaves the index."""
    put(client, prefix, (doc for record in records for doc in documents.receipt_documents(record)), version=version)
    gone = set(ids) - {record["id"] for record in records}
    if gone:
        remove(client, prefix, {"receipt": [f"receipt:{i}" for i in gone]}, version=version)


def sync_files(client: Elasticsearch, prefix: str, *, ids: list[str], records: list[dict], version: int) -> None:
    """Makes the index hold `records` for the files `ids` (each with its notes and documents);
    whatever the index held of these files and no longer exists leaves it."""
    docs = [doc for record in records for doc in documents.file_documents(record)]
    put(client, prefix, docs, version=version)
    current = {doc["uid"] for doc in docs}
    held = client.search(
        index=indices.read_alias(prefix),
        size=10000,
        source_includes=["uid", "kind"],
        query={"terms": {"file_id": list(ids)}},
    )["hits"]["hits"]
    stale: dict[str, list[str]] = {}
    for hit in held:
        if hit["_source"]["uid"] not in current and hit["_source"]["kind"] != "receipt":
            stale.setdefault(hit["_source"]["kind"], []).append(hit["_source"]["uid"])
    if stale:
        remove(client, prefix, stale, version=version)
