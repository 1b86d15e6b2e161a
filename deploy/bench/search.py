"""Search benchmark: a synthetic corpus bulk-indexed through the search service's own document
builder, then searches with permission filters, then the index lag after a burst of events.

    deploy/eoffice bench search [--items 1000000] [--queries 300] [--burst 100] [--keep | --reuse]

1. Indexing: `--items` synthetic items (half receipts, a fifth files, the rest green notes;
   three in five Hindi, the rest English, subjects and bodies drawn from office vocabulary),
   each made into documents by `services.search.documents` as the event path does and
   bulk-written to indices of their own (prefix `bench`, named by the mapping version and the
   number of items, deleted at the end unless --keep). With --reuse, a corpus of that size and
   mapping version kept by an earlier run is searched again without indexing (1M items take
   20 minutes to index); one that is missing or unfinished is built and kept.
2. Searches: two-word queries with a date filter, as users of three reaches (a section post;
   an officer acting for three posts; a supervisor over 40 offices), through the same query
   builder the search service uses (`services.search.queries`), timed at the engine:
   p50/p95/p99 per reach. Goal: p95 under 50 ms. Each query is also timed with facets (what
   the web client's first page asks), with the total counted only up to 10,000, and without
   highlights (the query and filters alone), so the cost of each part shows.
3. Lag: `--burst` receipts diarised at once through the running gateway, then the time until
   the last is found by the running search service (skipped if that service is older).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import client, percentile, sign_in

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from elasticsearch.helpers import parallel_bulk  # noqa: E402

from eoffice.contracts.search import SearchQuery  # noqa: E402
from eoffice.elastic import make_client  # noqa: E402
from services.directory.demo import rows as demo  # noqa: E402
from services.search import documents, indexer, indices, queries  # noqa: E402

PREFIX = "bench"
HINDI = (
    "भूमि नामांतरण आवेदन पेंशन शिकायत प्रशिक्षण कार्यक्रम नस्ती निस्तारण मुआवजा अधिग्रहण सेवानिवृत्त "
    "कर्मचारी वेतन भुगतान स्थानांतरण अवकाश स्वीकृति जांच आख्या अतिक्रमण ग्राम पंचायत तहसील राजस्व "
    "अभिलेख खतौनी वरासत बिजली पानी सड़क निर्माण छात्रवृत्ति राशन कार्ड आवास योजना न्यायालय आदेश "
    "अनुपालन बजट आवंटन निविदा समिति बैठक कार्यवृत्त सूचना अधिकार अपील"
).split()
ENGLISH = (
    "land mutation application pension complaint training programme file disposal compensation "
    "acquisition retired employee salary payment transfer leave sanction inquiry report encroachment "
    "village panchayat tehsil revenue record inheritance electricity water road construction "
    "scholarship ration card housing scheme court order compliance budget allotment tender committee "
    "meeting minutes information right appeal"
).split()
OFFICES = [f"OFF-{n:03d}" for n in range(200)]
POSTS = [f"POST-{n:04d}" for n in range(2000)]  # ten posts per office


def words(rng: random.Random, hindi: bool, count: int) -> str:
    return " ".join(rng.choice(HINDI if hindi else ENGLISH) for _ in range(count))


def synthetic(n: int) -> list[dict]:
    """The documents of synthetic item `n` (deterministic), built as the event path builds them."""
    rng = random.Random(n)
    hindi = rng.random() < 0.6
    office = rng.randrange(len(OFFICES))
    posts = sorted({POSTS[office * 10 + rng.randrange(10)] for _ in range(rng.randint(1, 4))})
    day = f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    item_id = str(uuid.UUID(int=n))
    kind = rng.random()
    if kind < 0.5:
        return documents.receipt_documents(
            {
                "id": item_id,
                "diary_number": f"{n}/2025/{OFFICES[office]}",
                "office_code": OFFICES[office],
                "subject": words(rng, hindi, 6),
                "sender_name": words(rng, hindi, 2),
                "received_date": day,
                "status": "open",
                "holder_post": posts[-1],
                "security_grading": "secret" if rng.random() < 0.02 else "normal",
                "category": "petition",
                "language": "hi" if hindi else "en",
                "texts": [words(rng, hindi, 60)],
                "posts": posts,
            }
        )
    record = {
        "id": item_id,
        "file_number": f"N-{rng.randint(10000, 11999)}/{n % 97}/2025-{OFFICES[office]}",
        "office_code": OFFICES[office],
        "subject": words(rng, hindi, 8),
        "category": "general",
        "status": "open",
        "holder_post": posts[-1],
        "created_at": day,
        "posts": posts,
        "drafts": [],
        "documents": [],
        "notes": [],
    }
    if kind >= 0.7:  # a green note, with its file's access (the file itself is another item)
        return documents.file_documents(
            {
                **record,
                "notes": [{"seq": 1, "body": words(rng, hindi, 40), "author_post": posts[0], "confirmed_at": day}],
            }
        )[1:]
    return documents.file_documents(record)


def corpus_names(count: int) -> dict[str, str]:
    """The indices of a corpus of `count` items with the current mapping version."""
    return {kind: indices.index_name(PREFIX, kind, f"n{count}") for kind in indices.KINDS}


def built_corpus(client_, count: int) -> str | None:
    """When the corpus of `count` items with this mapping was built, if it was built whole."""
    names = corpus_names(count)
    if not all(client_.indices.exists(index=name) for name in names.values()):
        return None
    metas = [
        m["mappings"].get("_meta") or {} for m in client_.indices.get_mapping(index=",".join(names.values())).values()
    ]
    built = {meta.get("bench_built") for meta in metas if meta.get("bench_items") == count}
    return built.pop() if len(metas) == len(names) and len(built) == 1 else None


def use_corpus(client_, count: int) -> None:
    """Points the bench aliases (what the queries read) at the corpus of `count` items."""
    indices.swap(client_, PREFIX, corpus_names(count))


def index_corpus(client_, count: int, *, reuse: bool) -> float | None:
    """Builds the corpus of `count` items (seconds it took), or with `reuse` finds it built
    (None)."""
    if reuse and built_corpus(client_, count):
        use_corpus(client_, count)
        return None
    names = corpus_names(count)
    existing = client_.indices.get(index=f"{PREFIX}-search-*")
    drop = [name for name in existing if name in names.values() or not reuse]  # --reuse keeps other corpora
    if drop:
        client_.indices.delete(index=",".join(drop))
    for name in names.values():
        indices.create_index(client_, name)
        client_.indices.put_settings(index=name, settings={"refresh_interval": "-1"})
    use_corpus(client_, count)
    version = indexer.now_version()

    def actions():
        for n in range(count):
            for doc in synthetic(n):
                yield {
                    "_index": names[documents.index_of(doc)],
                    "_id": doc["uid"],
                    "_source": doc,
                    "version": version,
                    "version_type": "external_gte",
                }
            if n and n % 100_000 == 0:
                print(f"  {n} items, {n / (time.perf_counter() - start):.0f}/s", flush=True)

    start = time.perf_counter()
    for ok, info in parallel_bulk(client_.options(request_timeout=120), actions(), thread_count=2, chunk_size=2000):
        if not ok:
            raise SystemExit(f"indexing failed: {info}")
    elapsed = time.perf_counter() - start
    for name in names.values():
        client_.indices.put_settings(index=name, settings={"refresh_interval": indices.SETTINGS["refresh_interval"]})
    client_.indices.refresh(index=indices.read_alias(PREFIX))
    client_.options(request_timeout=600).indices.forcemerge(index=indices.read_alias(PREFIX), max_num_segments=5)
    meta = {
        "mapping_version": indices.MAPPING_VERSION,
        "bench_items": count,
        "bench_built": time.strftime("%Y-%m-%d %H:%M"),
    }
    client_.indices.put_mapping(index=",".join(names.values()), meta=meta)
    return elapsed


VARIANTS = {  # what a query asks besides its page of hits
    "hits + highlights": {},
    "+ facets": {"facets": True},
    "total counted up to 10,000": {"track_total_hits": 10_000},
    "query + filters only": {"highlight": False},
}


def search_latencies(client_, count: int) -> dict[str, dict[str, list[float]]]:
    rng = random.Random(7)
    reaches = {
        "section post": queries.Reach(posts=(POSTS[10],)),
        "officer with 2 delegations": queries.Reach(posts=(POSTS[20], POSTS[31], POSTS[42])),
        "supervisor over 40 offices": queries.Reach(posts=(POSTS[0],), offices=tuple(OFFICES[:40])),
    }
    result = {}
    for name, reach in reaches.items():
        latencies: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
        for _ in range(count):
            hindi = rng.random() < 0.6
            text = words(rng, hindi, 2)
            for variant, options in VARIANTS.items():
                query = SearchQuery(
                    q=text, date_from="2025-03-01", date_to="2025-12-31", facets=options.get("facets", False)
                )
                body = queries.search_body(query, reach)
                if options.get("highlight") is False:
                    body.pop("highlight", None)
                if "track_total_hits" in options:
                    body["track_total_hits"] = options["track_total_hits"]
                start = time.perf_counter()
                client_.search(index=indices.read_alias(PREFIX), **body)
                latencies[variant].append(time.perf_counter() - start)
        result[name] = latencies
    return result


def burst_lag(burst: int) -> str:
    if burst <= 0:
        return "skipped (--burst 0)"
    clerk_post = next(p["code"] for p in demo("posts") if "dak_clerk" in p["roles"] and p["office_code"] == "LKO-DAK")
    with client() as api:
        headers = sign_in(api, clerk_post)
        probe = api.get("/api/v1/search", headers=headers, params={"q": "x"})
        if probe.status_code != 200:
            return f"skipped: the running search service answered {probe.status_code} (restart it with this code)"
        marker = f"burst{uuid.uuid4().hex[:6]}"

        def diarise(i: int) -> None:
            answer = api.post(
                "/api/v1/receipts",
                headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
                json={
                    "subject": f"{marker} {i}",
                    "sender_name": "bench",
                    "mode": "post",
                    "received_date": time.strftime("%Y-%m-%d"),
                },
            )
            answer.raise_for_status()

        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(diarise, range(burst)))
        sent = time.perf_counter()
        while api.get("/api/v1/search", headers=headers, params={"q": marker}).json()["total"] < burst:
            if time.perf_counter() - sent > 120:
                return f"{burst} receipts diarised in {sent - start:.1f}s; not all found within 120 s"
            time.sleep(0.1)
        return (
            f"{burst} receipts diarised in {sent - start:.1f}s (8 clients); the last found "
            f"{time.perf_counter() - sent:.2f}s after the last was diarised"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--burst", type=int, default=100)
    keeping = parser.add_mutually_exclusive_group()
    keeping.add_argument("--keep", action="store_true", help="keep the bench indices afterwards")
    keeping.add_argument(
        "--reuse",
        action="store_true",
        help="search the corpus of --items kept by an earlier --reuse run (same mapping version) instead of "
        "indexing it again; build and keep it if there is none",
    )
    args = parser.parse_args()
    es = make_client()
    es = es.options(request_timeout=120)
    print(f"{args.items} synthetic items in '{PREFIX}' (indexed unless --reuse finds them) ...", flush=True)
    elapsed = index_corpus(es, args.items, reuse=args.reuse)
    docs = es.count(index=indices.read_alias(PREFIX))["count"]
    names = ",".join(corpus_names(args.items).values())
    size = sum(int(i["store.size"]) for i in es.cat.indices(index=names, format="json", bytes="b"))
    how = (
        f"{elapsed:.0f} s | {args.items / elapsed:.0f} items/s"
        if elapsed is not None
        else f"reused (built {built_corpus(es, args.items)}) | -"
    )
    print(
        f"\n| indexing (mapping version {indices.MAPPING_VERSION}) | items | documents | time | rate | index size |"
        f"\n|---|---|---|---|---|---|\n"
        f"| bulk, through the document builder | {args.items} | {docs} | {how} | {size / 2**30:.2f} GiB |"
    )
    print(f"\nload average (1, 5, 15 min) before the searches: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("\n| two-word query + date filter, as | asking | queries | p50 | p95 | p99 |\n|---|---|---|---|---|---|")
    for name, by_variant in search_latencies(es, args.queries).items():
        for variant, latencies in by_variant.items():
            print(
                f"| {name} | {variant} | {len(latencies)} | {percentile(latencies, 50) * 1000:.1f} ms | "
                f"{percentile(latencies, 95) * 1000:.1f} ms | {percentile(latencies, 99) * 1000:.1f} ms |"
            )
    print(f"\nload average after the searches: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"\nlag after a burst: {burst_lag(args.burst)}")
    if not (args.keep or args.reuse):
        es.indices.delete(index=",".join(es.indices.get(index=f"{PREFIX}-search-*")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
