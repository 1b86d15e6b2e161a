"""The search indices: their analysis (the eoffice-analysis plugin's filters, built at install
from services/search/plugin), their one mapping, and the aliases a rebuild swaps.

Four kinds of item, one index each, all with the same mapping: `receipt`, `file`, `note` (a
green note), `document` (a draft's text, an attachment's title). Each index sits behind two
aliases: `{prefix}-search-{kind}` (the one indexing writes to) and `{prefix}-search` (all four,
which every query reads). A rebuild fills new indices, found meanwhile under
`{prefix}-search-{kind}-next` so that live indexing writes to them too, then swaps both aliases
in one request (`swap`): queries never see a missing or half-filled index.

The mapping has a version (`MAPPING_VERSION`, in each index's name and `_meta`): a change to
the mapping, the settings, the analysis or what a document holds bumps it, and indices made
with an older one (`outdated`) keep working until a rebuild replaces them with new ones
(`deploy/eoffice up` runs `rebuild --if-outdated`, so an upgrade needs no step of its own)."""

from __future__ import annotations

import time

from elasticsearch import Elasticsearch, NotFoundError

KINDS = ("receipt", "file", "note", "document")
# 1: the first mapping. 2: postings offsets on the highlighted text and its Latin keys.
# 3: a receipt put in a file carries the file's readers (documents.receipt_documents).
MAPPING_VERSION = 3

# Words as written, found in other forms: lower case, Devanagari digits as ASCII, Indic and
# Hindi normalisation (nukta, chandrabindu, zero-width joiners), Hindi and English stemming.
_NORMALISE = ["lowercase", "eoffice_decimal_digit", "eoffice_indic_normalization", "eoffice_hindi_normalization"]
ANALYSIS = {
    "filter": {"eoffice_prefixes": {"type": "eoffice_edge_ngram", "min_gram": 1, "max_gram": 20}},
    "analyzer": {
        "eoffice_text": {
            "type": "custom",
            "tokenizer": "standard",
            "filter": [*_NORMALISE, "eoffice_hindi_stem", "eoffice_english_stem"],
        },
        "eoffice_exact": {"type": "custom", "tokenizer": "standard", "filter": _NORMALISE},
        # Latin letters find Hindi: every word, Devanagari or Latin, as its consonant key.
        "eoffice_latin": {
            "type": "custom",
            "tokenizer": "standard",
            "filter": [
                "lowercase",
                "eoffice_decimal_digit",
                "eoffice_ascii_folding",
                "eoffice_hindi_normalization",
                "eoffice_latin_key",
            ],
        },
        "eoffice_prefix": {"type": "custom", "tokenizer": "standard", "filter": [*_NORMALISE, "eoffice_prefixes"]},
    },
    "normalizer": {"eoffice_keyword": {"type": "custom", "filter": ["lowercase"]}},
}


def _text(*, prefix: bool = False) -> dict:
    # Highlights mark what the field or its Latin key matched (`queries.search_body`), from the
    # offsets kept in their postings: a hit's text is not analysed again, which for a scan of
    # many pages cost more than the search itself (docs/benchmarks.md). `.exact` marks nothing
    # the field does not (the same words, unstemmed), so it keeps no offsets.
    fields = {
        "exact": {"type": "text", "analyzer": "eoffice_exact"},
        "latin": {"type": "text", "analyzer": "eoffice_latin", "index_options": "offsets"},
    }
    if prefix:
        fields["prefix"] = {"type": "text", "analyzer": "eoffice_prefix", "search_analyzer": "eoffice_exact"}
    return {"type": "text", "analyzer": "eoffice_text", "index_options": "offsets", "fields": fields}


KEYWORD = {"type": "keyword"}
# Facet fields: their ordinals are built at each refresh, not by the first search after it.
FACET = {"type": "keyword", "eager_global_ordinals": True}
MAPPING = {
    "dynamic": "strict",
    "_meta": {"mapping_version": MAPPING_VERSION},
    "properties": {
        "uid": KEYWORD,  # "{kind}:{id}", the document's _id too (sorting by _id is not allowed)
        "kind": FACET,
        "item_id": KEYWORD,  # what a hit opens: the receipt or the file
        "file_id": KEYWORD,  # notes and documents: their file
        "number": {
            "type": "text",
            "analyzer": "eoffice_exact",
            "fields": {
                "keyword": {"type": "keyword", "normalizer": "eoffice_keyword"},
                "prefix": {"type": "text", "analyzer": "eoffice_prefix", "search_analyzer": "eoffice_exact"},
            },
        },
        "title": _text(prefix=True),
        "body": _text(),
        "sender": _text(),
        "office": FACET,
        "status": FACET,
        "holder": KEYWORD,
        "category": {**FACET, "normalizer": "eoffice_keyword"},
        "grading": KEYWORD,
        "language": KEYWORD,
        "date": {"type": "date"},
        # Who may open it (eoffice.access): these posts (and those delegated to them) ...
        "posts": KEYWORD,
        # ... and the supervisors of this office or one above it; none for a receipt.
        "reach_office": KEYWORD,
        "digest": {"type": "keyword", "index": False},  # of the rest: the consistency check compares it
    },
}
SETTINGS = {
    "number_of_shards": 1,
    "number_of_replicas": 0,
    # One copy on one node; on a cluster of several (docs/scaling.md) a replica on another node,
    # so that losing a node loses no search and no index. A dynamic setting (DYNAMIC): indices
    # made without it take it at the next start, no rebuild (no new MAPPING_VERSION for it).
    "auto_expand_replicas": "0-1",
    # What changed is found about a second later (the last of a burst of 100 receipts 0.65-0.89 s
    # after it was diarised). Each refresh writes a segment of every index written since the
    # last: at 500 ms, Elasticsearch's CPU a movement under load was 2.1-3.0 ms, at 1 s 1.7-1.9
    # (docs/benchmarks.md, "routes matched once, refresh every second").
    "refresh_interval": "1s",
    "analysis": ANALYSIS,
    "max_result_window": 10000,
}


def read_alias(prefix: str) -> str:
    """The alias every query reads: all four current indices."""
    return f"{prefix}-search"


def write_alias(prefix: str, kind: str) -> str:
    return f"{prefix}-search-{kind}"


def next_alias(prefix: str, kind: str) -> str:
    """Names the index a rebuild is filling, while it does."""
    return f"{prefix}-search-{kind}-next"


def index_name(prefix: str, kind: str, tag: str) -> str:
    """A new index of `kind` with this mapping version: `{prefix}-search-{kind}-v{N}-{tag}`."""
    return f"{prefix}-search-{kind}-v{MAPPING_VERSION}-{tag}"


# The settings an index takes while open: `ensure` gives them to indices made before they changed.
DYNAMIC = ("auto_expand_replicas", "refresh_interval")


def create_index(client: Elasticsearch, name: str) -> None:
    client.indices.create(index=name, settings=SETTINGS, mappings=MAPPING)


def outdated(client: Elasticsearch, prefix: str) -> list[str]:
    """The indices queries read that were made with an older mapping than MAPPING_VERSION (a
    rebuild replaces them)."""
    names = indices_behind(client, read_alias(prefix))
    if not names:
        return []
    mappings = client.indices.get_mapping(index=",".join(names))
    return sorted(
        name
        for name, found in mappings.items()
        if (found["mappings"].get("_meta") or {}).get("mapping_version", 1) < MAPPING_VERSION
    )


def ensure(client: Elasticsearch, prefix: str) -> None:
    """Creates any kind's index that is missing (a first start), behind both aliases, and gives
    the current indices today's DYNAMIC settings (an index made by an older release keeps its
    mapping until a rebuild, but not an older refresh interval); safe to call at every start and
    from several processes at once."""
    for kind in KINDS:
        if client.indices.exists_alias(name=write_alias(prefix, kind)):
            continue
        # One name for every process's first index (a rebuild names its own by time): processes
        # starting together then create one index between them, not one each behind the alias.
        name = index_name(prefix, kind, "first")
        try:
            create_index(client, name)
        except Exception as exc:  # another process created it meanwhile
            if "resource_already_exists" not in str(exc):
                raise
        client.indices.update_aliases(
            actions=[
                {"add": {"index": name, "alias": write_alias(prefix, kind)}},
                {"add": {"index": name, "alias": read_alias(prefix)}},
            ]
        )
    client.indices.put_settings(
        index=",".join(write_alias(prefix, kind) for kind in KINDS), settings={k: SETTINGS[k] for k in DYNAMIC}
    )


def indices_behind(client: Elasticsearch, alias: str) -> list[str]:
    """The indices an alias points at now (none if it does not exist)."""
    try:
        return sorted(client.indices.get_alias(name=alias))
    except NotFoundError:
        return []


TARGETS_TTL = 1.0  # seconds a process keeps where it writes; a rebuild waits longer before filling
_targets: dict[str, tuple[float, dict[str, list[str]]]] = {}


def write_targets(client: Elasticsearch, prefix: str, kind: str) -> list[str]:
    """Where an item of `kind` is written: the current index, and a rebuild's new one (as
    the aliases said at most TARGETS_TTL seconds ago; one request asks for every kind's)."""
    cached = _targets.get(prefix)
    if not cached or cached[0] <= time.monotonic():
        try:
            found = client.indices.get_alias(name=f"{prefix}-search-*").body
        except NotFoundError:
            found = {}
        behind: dict[str, list[str]] = {}
        for index, described in sorted(found.items()):
            for alias in described.get("aliases", {}):
                behind.setdefault(alias, []).append(index)
        cached = _targets[prefix] = (time.monotonic() + TARGETS_TTL, behind)
    return cached[1].get(write_alias(prefix, kind), []) + cached[1].get(next_alias(prefix, kind), [])


def swap(client: Elasticsearch, prefix: str, new: dict[str, str]) -> list[str]:
    """Points both aliases of each kind at its index in `new` in one atomic request and drops
    the `-next` aliases; returns the old indices (the caller deletes them)."""
    actions: list[dict] = []
    old: list[str] = []
    for kind, name in new.items():
        for previous in indices_behind(client, write_alias(prefix, kind)):
            if previous != name:
                old.append(previous)
                actions += [
                    {"remove": {"index": previous, "alias": write_alias(prefix, kind)}},
                    {"remove": {"index": previous, "alias": read_alias(prefix)}},
                ]
        actions += [
            {"add": {"index": name, "alias": write_alias(prefix, kind)}},
            {"add": {"index": name, "alias": read_alias(prefix)}},
            {"remove": {"index": name, "alias": next_alias(prefix, kind), "must_exist": False}},
        ]
    client.indices.update_aliases(actions=actions)
    return old
