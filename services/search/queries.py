"""Elasticsearch requests for a search, a page of it, and suggestions: plain functions from a
`SearchQuery` and who is asking to the request body, and from the answer to what the caller
sees. Nothing here talks to Elasticsearch.

Who may open an item is a filter inside every request (`access_filter`), so hits, counts,
facets, highlights and suggestions are all computed over what the caller may open, never
trimmed afterwards. The user's text is only ever given to `match`-type queries, which take it
as words: no query language reaches the engine."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from eoffice.contracts.search import SearchQuery, SuggestQuery
from eoffice.errors import InvalidInput

FACETS = {"kind": "kind", "office": "office", "status": "status", "category": "category"}
HIGHLIGHTED = ("title", "body", "sender")
# Characters of a text re-analysed per hit for its highlights, in an index without postings
# offsets (one made before mapping version 2, until it is rebuilt); a match beyond is not shown.
HIGHLIGHT_ANALYSED = 20_000
SOURCE = [
    "uid",
    "kind",
    "item_id",
    "file_id",
    "number",
    "title",
    "office",
    "status",
    "holder",
    "category",
    "grading",
    "date",
]

IST_OFFSET = "+05:30"  # eoffice.clock.IST, as Elasticsearch writes a time zone


@dataclass(frozen=True)
class Reach:
    """Whom the caller acts for: their posts (their own and those delegated to it) and the
    offices they oversee as a supervisor (their office and every office below; none if they
    are no supervisor)."""

    posts: tuple[str, ...]
    offices: tuple[str, ...] = ()


def access_filter(reach: Reach) -> dict:
    """The filter every request carries: items one of the caller's posts handled, or files
    (with their notes and documents) of an office the caller oversees. Matches nothing for a
    caller acting as no post."""
    should: list[dict] = []
    if reach.posts:
        should.append({"terms": {"posts": list(reach.posts)}})
    if reach.offices:
        should.append({"terms": {"reach_office": list(reach.offices)}})
    if not should:
        return {"bool": {"must_not": {"match_all": {}}}}
    return {"bool": {"should": should, "minimum_should_match": 1}}


def _text_query(text: str) -> dict:
    """Ranks, best first: the number itself; the words as written; their other forms (stems);
    and, well below, Latin letters matching Hindi (or the reverse) by sound."""

    def fields(suffix: str, boosts: dict[str, float]) -> list[str]:
        return [f"{name}{suffix}^{boost}" for name, boost in boosts.items()]

    weights = {"title": 3.0, "sender": 2.0, "body": 1.0}
    return {
        "bool": {
            "should": [
                {"match_phrase": {"number": {"query": text, "boost": 20}}},
                {"match_phrase": {"number.prefix": {"query": text, "boost": 10}}},
                {
                    "multi_match": {
                        "query": text,
                        "fields": fields(".exact", weights),
                        "type": "cross_fields",
                        "operator": "and",
                        "boost": 4,
                    }
                },
                {
                    "multi_match": {
                        "query": text,
                        "fields": fields("", weights),
                        "type": "cross_fields",
                        "operator": "and",
                        "boost": 2,
                    }
                },
                {
                    "multi_match": {
                        "query": text,
                        "fields": fields(".latin", weights),
                        "type": "cross_fields",
                        "operator": "and",
                        "boost": 0.2,
                    }
                },
            ],
            "minimum_should_match": 1,
        }
    }


def _filters(query: SearchQuery) -> list[dict]:
    filters: list[dict] = []
    for field, values in (
        ("kind", query.kind),
        ("office", query.office),
        ("status", query.status),
        ("holder", query.holder),
        ("category", query.category),
    ):
        if values:
            filters.append({"terms": {field: [v.lower() if field == "category" else v for v in values]}})
    if query.number:
        filters.append(
            {
                "bool": {
                    "should": [
                        {"term": {"number.keyword": query.number}},
                        {"match_phrase": {"number.prefix": query.number}},
                    ],
                    "minimum_should_match": 1,
                }
            }
        )
    if query.date_from or query.date_to:
        dates = {}
        if query.date_from:
            dates["gte"] = query.date_from.isoformat()
        if query.date_to:
            dates["lte"] = query.date_to.isoformat()
        # Days as the office counts them (IST, eoffice.clock): a file opened at 02:00 IST is of
        # that day, though its stored time is the day before in UTC.
        filters.append(
            {"range": {"date": {**dates, "format": "yyyy-MM-dd||strict_date_optional_time", "time_zone": IST_OFFSET}}}
        )
    return filters


def _sort(query: SearchQuery) -> list:
    tiebreak = [{"uid": "asc"}]
    if query.sort == "date" or not query.q.strip():
        return [{"date": {"order": "desc", "missing": "_last"}}, *tiebreak]
    return ["_score", {"date": {"order": "desc", "missing": "_last"}}, *tiebreak]


def encode_cursor(sort_values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(sort_values, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str, query: SearchQuery) -> list:
    """The sort values a cursor carries; InvalidInput (field `cursor`) if it is not one this
    search gave (tampered with, or from a search sorted otherwise)."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, UnicodeDecodeError):
        values = None
    expected = len(_sort(query))
    if (
        not isinstance(values, list)
        or len(values) != expected
        or not all(isinstance(v, (int, float, str)) or v is None for v in values)
    ):
        raise InvalidInput("cursor: not a cursor of this search; start again without it", field="cursor")
    return values


def search_body(query: SearchQuery, reach: Reach) -> dict:
    """The request body for one page of `query` as the caller (`reach`) may see it."""
    text = query.q.strip()
    body: dict = {
        "query": {
            "bool": {
                "must": [_text_query(text)] if text else [{"match_all": {}}],
                "filter": [access_filter(reach), *_filters(query)],
            }
        },
        "sort": _sort(query),
        "size": query.limit,
        "track_total_hits": True,
        "_source": SOURCE,
    }
    if query.facets and not query.cursor:  # asked for (they cost most of a search); first page only
        body["aggs"] = {name: {"terms": {"field": field, "size": 20}} for name, field in FACETS.items()}
    if text:
        body["highlight"] = {
            "encoder": "html",  # the text is the letter's: escaped, only our <mark> is markup
            "pre_tags": ["<mark>"],
            "post_tags": ["</mark>"],
            # What to mark, asked simply: the words in any form, and their Latin keys. It marks
            # what the search's own query would (its `.exact` clause matches nothing the field
            # does not), at a third of the cost per hit: that query's phrases, cross-field terms
            # and boosts are all worked out again for every hit (docs/benchmarks.md).
            "highlight_query": {
                "bool": {
                    "should": [
                        {"match": {f"{name}{analysis}": {"query": text}}}
                        for name in HIGHLIGHTED
                        for analysis in ("", ".latin")
                    ]
                }
            },
            "max_analyzed_offset": HIGHLIGHT_ANALYSED,
            # One pass per field over what it or its Latin key matched, from the offsets in their
            # postings (`indices`): a Latin-letter match marks the Devanagari words, as written.
            # A title whole (no fragmenting); of a body or sender the best passage only (all a
            # client shows), which spares scoring the others.
            "fields": {
                name: {
                    "number_of_fragments": 0 if name == "title" else 1,
                    "fragment_size": 160,
                    "matched_fields": [name, f"{name}.latin"],
                }
                for name in HIGHLIGHTED
            },
        }
    if query.cursor:
        body["search_after"] = decode_cursor(query.cursor, query)
    return body


def _highlights(hit: dict) -> dict[str, list[str]]:
    """Fragments per field, cut from the text as written."""
    return dict(hit.get("highlight") or {})


def page_of(answer: dict, query: SearchQuery) -> dict:
    """What the caller sees of an Elasticsearch answer: hits with highlights, the total, facet
    counts and the cursor of the next page (None on the last)."""
    hits = answer["hits"]["hits"]
    items = [{**hit["_source"], "score": hit.get("_score"), "highlights": _highlights(hit)} for hit in hits]
    next_cursor = encode_cursor(hits[-1]["sort"]) if len(hits) == query.limit and hits else None
    return {
        "total": answer["hits"]["total"]["value"],
        "items": items,
        "facets": {
            name: [{"value": b["key"], "count": b["doc_count"]} for b in agg["buckets"]]
            for name, agg in answer.get("aggregations", {}).items()
        },
        "next_cursor": next_cursor,
    }


def suggest_body(query: SuggestQuery, reach: Reach) -> dict:
    """Items whose number or title starts with what was typed (each word a prefix), that the
    caller may open; numbers first."""
    return {
        "query": {
            "bool": {
                "should": [
                    {"match_phrase": {"number.prefix": {"query": query.q, "boost": 3}}},
                    {"match": {"title.prefix": {"query": query.q, "operator": "and"}}},
                ],
                "minimum_should_match": 1,
                "filter": [access_filter(reach), {"terms": {"kind": ["receipt", "file"]}}],
            }
        },
        "size": query.limit,
        "_source": ["kind", "item_id", "number", "title"],
        "sort": ["_score", {"uid": "asc"}],
    }


def suggestions_of(answer: dict) -> list[dict]:
    return [hit["_source"] for hit in answer["hits"]["hits"]]
