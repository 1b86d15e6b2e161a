"""Rebuilding the search indices from the owning services, and checking them against those.

    python -m services.search.rebuild            rebuild every index (resumes one that stopped)
    python -m services.search.rebuild --restart  start a rebuild over, dropping an unfinished one
    python -m services.search.rebuild --if-outdated  rebuild only if an index has an older mapping version
    python -m services.search.rebuild --check    report what the indices lack, hold extra or hold stale,
                                                 and what search gave up waiting for (exit 1 if any)
    python -m services.search.rebuild --repair   the same, then put it right

Run with the services' environment (EOFFICE_AMQP_URI, EOFFICE_ELASTICSEARCH_URL,
EOFFICE_INDEX_PREFIX); dak and files must be running (and search, for --check and --repair).
A rebuild fills new indices beside the current ones (live indexing writes to both meanwhile,
`services.search.indices`), remembers how far it got in Elasticsearch after every page (so a
stopped rebuild resumes where it was), then swaps the aliases in one step: searches never see
a missing or half-filled index."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError

from eoffice.elastic import make_client
from eoffice.rpc import RpcPool
from eoffice.settings import get_settings
from services.search import documents, indexer, indices

PAGE = 200
Call = Callable[..., list[dict]]  # call("dak", "search_records", ids, after, limit)
Say = Callable[[str], None]
OWNERS = {"receipt": ("dak", documents.receipt_documents), "file": ("files", documents.file_documents)}


def _state_index(prefix: str) -> str:
    return f"{prefix}-search-rebuild"


def _load_state(client: Elasticsearch, prefix: str) -> dict | None:
    try:
        return client.get(index=_state_index(prefix), id="state")["_source"]
    except NotFoundError:
        return None


def _save_state(client: Elasticsearch, prefix: str, state: dict) -> None:
    client.index(index=_state_index(prefix), id="state", document=state, refresh=True)


def records(call: Call, owner: str, *, after: str = "") -> Iterator[tuple[int, list[dict]]]:
    """Pages of the owner's records after id `after`, each with the version to write it at (the
    receipts in files with their files' readers, asked of files for each page)."""
    while True:
        version = indexer.now_version()
        page = call(owner, "search_records", None, after, PAGE)
        if not page:
            return
        if owner == "dak":
            page = documents.with_file_readers(page, lambda file_ids: call("files", "search_readers", file_ids))
        yield version, page
        after = page[-1]["id"]


def rebuild(client: Elasticsearch, prefix: str, call: Call, *, restart: bool = False, say: Say = print) -> dict:
    """Rebuilds every index from the owners; returns how many documents each kind got.
    Resumes an unfinished rebuild unless `restart`."""
    found = _load_state(client, prefix)
    if found and restart:
        for name in found["indices"].values():
            client.indices.delete(index=name, ignore_unavailable=True)
        found = None
    if found:
        state: dict[str, Any] = found
        say(f"resuming the rebuild started {state['started_at']}")
    else:
        tag = time.strftime("%Y%m%d%H%M%S")
        state = {
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "after": {"receipt": "", "file": ""},
            "done": {"receipt": False, "file": False},
            "counts": dict.fromkeys(indices.KINDS, 0),
            "indices": {kind: indices.index_name(prefix, kind, tag) for kind in indices.KINDS},
        }
        for kind, name in state["indices"].items():
            indices.create_index(client, name)
            client.indices.put_alias(index=name, name=indices.next_alias(prefix, kind))
        _save_state(client, prefix, state)
        # Live indexing learns of the new indices within TARGETS_TTL: from then on, nothing
        # written there while the rebuild copies is lost, and the newer version wins.
        time.sleep(indices.TARGETS_TTL + 0.5)
    started = time.monotonic()
    for owner_kind, (owner, build) in OWNERS.items():
        if state["done"][owner_kind]:
            continue
        for version, page in records(call, owner, after=state["after"][owner_kind]):
            docs = [doc for record in page for doc in build(record)]
            indexer.put(client, prefix, docs, version=version, only=state["indices"])
            for doc in docs:
                state["counts"][doc["kind"]] += 1
            state["after"][owner_kind] = page[-1]["id"]
            _save_state(client, prefix, state)
            total = sum(state["counts"].values())
            say(
                f"  {owner_kind}s up to {page[-1]['id'][:8]}: {total} documents "
                f"({total / max(time.monotonic() - started, 0.001):.0f}/s)"
            )
        state["done"][owner_kind] = True
        _save_state(client, prefix, state)
    client.indices.refresh(index=",".join(state["indices"].values()))
    old = indices.swap(client, prefix, state["indices"])
    if old:
        client.indices.delete(index=",".join(old), ignore_unavailable=True)
    client.indices.delete(index=_state_index(prefix), ignore_unavailable=True)
    say(f"rebuilt: {state['counts']}; aliases now on the new indices, {len(old)} old ones deleted")
    return state["counts"]


def _indexed(client: Elasticsearch, prefix: str) -> dict[str, tuple[str, str]]:
    """uid -> (kind, digest) of every document the read alias holds."""
    held: dict[str, tuple[str, str]] = {}
    after = None
    while True:
        body: dict = {"size": 5000, "sort": [{"uid": "asc"}], "_source": ["kind", "digest"], "query": {"match_all": {}}}
        if after:
            body["search_after"] = after
        hits = client.search(index=indices.read_alias(prefix), **body)["hits"]["hits"]
        if not hits:
            return held
        for hit in hits:
            held[hit["_id"]] = (hit["_source"]["kind"], hit["_source"]["digest"])
        after = hits[-1]["sort"]


def check(client: Elasticsearch, prefix: str, call: Call, *, repair: bool = False, say: Say = print) -> dict:
    """Compares the indices with the owners' records: returns the uids `missing` (the owner has
    them, the index not), `stale` (the index holds an older state) and `extra` (the index holds
    what no owner has), and `abandoned`: items an event named that the search service gave up
    waiting for, because their owner never listed them (an issued letter files never added;
    asked of the search service). With `repair`, puts each right and forgets the abandoned
    items (after the repair the index holds what the owners list, no more, no less)."""
    client.indices.refresh(index=indices.read_alias(prefix))
    if old := indices.outdated(client, prefix):
        say(f"{', '.join(old)}: an older mapping than version {indices.MAPPING_VERSION}; a rebuild replaces them")
    held = _indexed(client, prefix)
    missing: list[str] = []
    stale: list[str] = []
    expected: set[str] = set()
    fixes: list[tuple[int, dict]] = []
    for owner, build in OWNERS.values():
        for version, page in records(call, owner):
            for doc in (doc for record in page for doc in build(record)):
                expected.add(doc["uid"])
                found = held.get(doc["uid"])
                if found is None or found[1] != doc["digest"]:
                    (missing if found is None else stale).append(doc["uid"])
                    fixes.append((version, doc))
    extra = sorted(set(held) - expected)
    # Given up, and still not listed by their owner (one listed by now is in `missing` if absent).
    given_up = [item for item in call("search", "abandoned") if item["uid"] not in expected]
    report = {
        "missing": missing,
        "stale": stale,
        "extra": extra,
        "abandoned": [item["uid"] for item in given_up],
        "indexed": len(held),
        "expected": len(expected),
    }
    say(
        f"indexed {len(held)}, expected {len(expected)}: {len(missing)} missing, {len(stale)} stale, {len(extra)} extra"
        f", {len(given_up)} abandoned"
    )
    for item in given_up:
        say(
            f"  abandoned {item['uid']}: an event named it on {item['since']}, its owner never listed it "
            f"({item['last_error']}); given up {item['abandoned_at']}"
        )
    if repair and (fixes or extra):
        for version, doc in fixes:
            indexer.put(client, prefix, [doc], version=version)
        by_kind: dict[str, list[str]] = {}
        for uid in extra:
            by_kind.setdefault(held[uid][0], []).append(uid)
        indexer.remove(client, prefix, by_kind, version=indexer.now_version())
        client.indices.refresh(index=indices.read_alias(prefix))
        say(f"repaired: {len(fixes)} written, {len(extra)} removed")
    if repair:
        forgotten = call("search", "forget_abandoned", [item["uid"] for item in call("search", "abandoned")])
        if forgotten:
            say(f"forgot {forgotten} abandoned item(s)")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.search.rebuild", description=__doc__.split("\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--restart", action="store_true", help="drop an unfinished rebuild and start over")
    mode.add_argument("--check", action="store_true", help="only report differences")
    mode.add_argument("--repair", action="store_true", help="report differences and put them right")
    mode.add_argument(
        "--if-outdated", action="store_true", help="rebuild only if an index was made with an older mapping version"
    )
    args = parser.parse_args(argv)
    settings = get_settings()
    client = make_client(settings)
    pool = RpcPool(settings.amqp_uri, size=1, timeout=60)
    try:
        indices.ensure(client, settings.index_prefix)
        if args.check or args.repair:
            report = check(client, settings.index_prefix, pool.call, repair=args.repair)
            differences = report["missing"] or report["stale"] or report["extra"] or report["abandoned"]
            return 0 if args.repair or not differences else 1
        if args.if_outdated and not _load_state(client, settings.index_prefix):
            old = indices.outdated(client, settings.index_prefix)
            if not old:
                print(f"the indices have mapping version {indices.MAPPING_VERSION}: nothing to rebuild")
                return 0
            print(f"{', '.join(old)}: an older mapping than version {indices.MAPPING_VERSION}, rebuilding")
        rebuild(client, settings.index_prefix, pool.call, restart=args.restart)
        return 0
    finally:
        pool.close()


if __name__ == "__main__":
    sys.exit(main())
