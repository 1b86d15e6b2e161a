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

import functools
import time
from collections.abc import Iterable, Iterator
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
    """Elasticsearch refused documents for another reason than a newer version: `uids` names them."""

    def __init__(self, uids: list[str], first: dict):
        super().__init__(f"{len(uids)} documents refused, first: {first}")
        self.uids = uids


@functools.lru_cache(maxsize=8)
def _patient(client: Elasticsearch) -> Elasticsearch:
    """The client, waiting up to a minute for a bulk request. Set through options(), once per
    client: passed to the call itself the timeout is deprecated, and the client's warning walked
    the whole stack reading source lines on every request (2% of the search service's time
    under load); options() makes a new client each time it is called (1.5%)."""
    return client.options(request_timeout=60)


def _write(client: Elasticsearch, actions: list[dict]) -> int:
    if not actions:
        return 0
    _, failed = bulk(_patient(client), actions, raise_on_error=False, raise_on_exception=True, refresh=False)
    errors: list[dict] = failed if isinstance(failed, list) else []
    real = [e for e in (next(iter(e.values())) for e in errors) if e.get("status") not in (409, 404)]
    if real:
        raise IndexingFailed([e["_id"] for e in real], real[0])
    return len(actions) - len(errors)


def _targets(client: Elasticsearch, prefix: str, kind: str, *, only: dict[str, str] | None) -> list[str]:
    return [only[kind]] if only else indices.write_targets(client, prefix, kind)


def _puts(
    client: Elasticsearch, prefix: str, docs: Iterable[dict], *, version: int, only: dict[str, str] | None = None
) -> list[dict]:
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
    return actions


def _deletes(client: Elasticsearch, prefix: str, uids_by_kind: dict[str, list[str]], *, version: int) -> list[dict]:
    return [
        {"_op_type": "delete", "_index": name, "_id": uid, "version": version, "version_type": "external_gte"}
        for kind, uids in uids_by_kind.items()
        if uids
        for name in indices.write_targets(client, prefix, kind)
        for uid in uids
    ]


def put(
    client: Elasticsearch, prefix: str, docs: Iterable[dict], *, version: int, only: dict[str, str] | None = None
) -> int:
    """Writes `docs` (from `services.search.documents`) to their kind's indices (or only to the
    index of each kind in `only`, for a rebuild); returns how many were written."""
    return _write(client, _puts(client, prefix, docs, version=version, only=only))


def remove(client: Elasticsearch, prefix: str, uids_by_kind: dict[str, list[str]], *, version: int) -> int:
    """Deletes documents (by uid, per kind) from every index they may be in."""
    return _write(client, _deletes(client, prefix, uids_by_kind, version=version))


def sync(
    client: Elasticsearch,
    prefix: str,
    *,
    version: int,
    receipt_ids: Iterable[str] = (),
    receipts: Iterable[dict] = (),
    file_ids: Iterable[str] = (),
    files: Iterable[dict] = (),
) -> None:
    """Makes the index hold `receipts` (records) for the receipts `receipt_ids`, and `files` for
    the files `file_ids`, each with its notes and documents, in one bulk request: a receipt or
    file of the ids without a record no longer exists and leaves the index, and so does
    whatever the index held of these files that their records no longer list. Raises
    IndexingFailed naming the documents Elasticsearch refused (the others are written)."""
    receipts, files, file_ids = list(receipts), list(files), list(dict.fromkeys(file_ids))
    docs = [doc for record in receipts for doc in documents.receipt_documents(record)]
    docs += [doc for record in files for doc in documents.file_documents(record)]
    gone: dict[str, list[str]] = {}
    if receipt_ids:
        listed = {record["id"] for record in receipts}
        gone["receipt"] = [f"receipt:{i}" for i in dict.fromkeys(receipt_ids) if i not in listed]
    if file_ids:
        current = {doc["uid"] for doc in docs}
        for uid, kind in _held_of_files(client, prefix, file_ids):
            if uid not in current:
                gone.setdefault(kind, []).append(uid)
    _write(client, _puts(client, prefix, docs, version=version) + _deletes(client, prefix, gone, version=version))


HELD_PAGE = 5000


def _held_of_files(client: Elasticsearch, prefix: str, file_ids: list[str]) -> Iterator[tuple[str, str]]:
    """(uid, kind) of every document of these files in the current file, note and document
    indices (a receipt put in a file stays the receipt's). Filter context, ids and doc values
    only: no score, no _source read (a note's text may be long)."""
    after: list | None = None
    while True:
        page = client.search(
            index=",".join(indices.write_alias(prefix, kind) for kind in indices.KINDS if kind != "receipt"),
            size=HELD_PAGE,
            source=False,
            docvalue_fields=[{"field": "kind"}],
            sort=[{"uid": "asc"}],
            track_total_hits=False,
            query={"bool": {"filter": [{"terms": {"file_id": file_ids}}]}},
            search_after=after,
        )["hits"]["hits"]
        for hit in page:
            yield hit["_id"], hit["fields"]["kind"][0]
        if len(page) < HELD_PAGE:
            return
        after = page[-1]["sort"]


def sync_receipts(client: Elasticsearch, prefix: str, *, ids: list[str], records: list[dict], version: int) -> None:
    """Makes the index hold `records` for the receipts `ids`; a receipt of `ids` without a
    record no longer exists and leaves the index."""
    sync(client, prefix, version=version, receipt_ids=ids, receipts=records)


def sync_files(client: Elasticsearch, prefix: str, *, ids: list[str], records: list[dict], version: int) -> None:
    """Makes the index hold `records` for the files `ids` (each with its notes and documents);
    whatever the index held of these files and no longer exists leaves it."""
    sync(client, prefix, version=version, file_ids=ids, files=records)
