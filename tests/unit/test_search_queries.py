"""The search service's plain functions, without Elasticsearch: who may open what is a filter
in every request, the user's text never becomes query syntax, cursors are checked, and the
document builder carries access on every document of an item."""

from __future__ import annotations

import json

import pytest

from eoffice.contracts.search import SearchQuery, SuggestQuery
from eoffice.errors import InvalidInput
from services.search import documents, indices, queries
from services.search.service import items_named, items_to_note


def test_every_request_carries_the_access_filter():
    reach = queries.Reach(posts=("SO-LKO",), offices=("LKO-REV",))
    for body in (
        queries.search_body(SearchQuery(q="पेंशन"), reach),
        queries.search_body(SearchQuery(), reach),
        queries.suggest_body(SuggestQuery(q="11016/6"), reach),
    ):
        access = body["query"]["bool"]["filter"][0]
        assert access == {
            "bool": {
                "should": [{"terms": {"posts": ["SO-LKO"]}}, {"terms": {"reach_office": ["LKO-REV"]}}],
                "minimum_should_match": 1,
            }
        }


def test_a_caller_acting_as_no_post_matches_nothing():
    body = queries.search_body(SearchQuery(q="x"), queries.Reach(posts=()))
    assert body["query"]["bool"]["filter"][0] == {"bool": {"must_not": {"match_all": {}}}}


def test_the_text_reaches_the_engine_only_as_words():
    text = 'title:(a OR b) AND * {"query": {"match_all": {}}}'
    body = queries.search_body(SearchQuery(q=text), queries.Reach(posts=("P",)))
    found: list[str] = []

    def walk(node, parent=""):
        if isinstance(node, dict):
            if node.get("query") == text:
                found.append(parent)
            for key, value in node.items():
                walk(value, key)
        elif isinstance(node, list):
            for value in node:
                walk(value, parent)

    walk(body["query"])
    # Only match-type queries take it (as words); no query parser ever sees it.
    assert found and all(kind in ("multi_match", "number", "number.prefix") for kind in found), found
    assert not {"query_string", "simple_query_string", "regexp", "wildcard"} & set(json.dumps(body).split('"'))


def test_highlights_mark_what_a_plain_match_finds_from_offsets_in_the_postings():
    """Highlighting asks a plain match of the words on each highlighted field and its Latin key
    (not the ranking query again), and reads where they are from offsets the mapping keeps for
    exactly those fields: without them every hit's text would be analysed again."""
    body = queries.search_body(SearchQuery(q="pension yojana"), queries.Reach(posts=("P",)))
    highlight = body["highlight"]
    asked = {
        field: match["query"]
        for clause in highlight["highlight_query"]["bool"]["should"]
        for field, match in clause["match"].items()
    }
    assert set(asked.values()) == {"pension yojana"}
    for name, options in highlight["fields"].items():
        assert set(options["matched_fields"]) <= set(asked) and name in options["matched_fields"]
        for field in options["matched_fields"]:
            mapping = indices.MAPPING["properties"][name]
            analysed = mapping if field == name else mapping["fields"][field.split(".", 1)[1]]
            assert analysed.get("index_options") == "offsets", field


@pytest.mark.parametrize("cursor", ["", "bm90IGEgY3Vyc29y", "W10=", "WzEsMiwzLDRd", "eyJhIjoxfQ==", "%%%"])
def test_a_cursor_this_search_did_not_give_is_refused(cursor):
    query = SearchQuery(q="x", cursor=cursor or "e30=")
    with pytest.raises(InvalidInput):
        queries.search_body(query, queries.Reach(posts=("P",)))


def test_a_cursor_round_trips():
    cursor = queries.encode_cursor([1.5, "2026-11-20", "receipt:1"])
    body = queries.search_body(SearchQuery(q="x", cursor=cursor), queries.Reach(posts=("P",)))
    assert body["search_after"] == [1.5, "2026-11-20", "receipt:1"]


@pytest.mark.parametrize(
    "bad",
    [
        {"q": "a" * 501},
        {"limit": 51},
        {"kind": ["letter"]},
        {"colour": "red"},
        {"date_from": "2026-11-20", "date_to": "2026-11-01"},
        {"q": "a\x00b"},
    ],
)
def test_bad_queries_are_refused(bad):
    with pytest.raises(ValueError):
        SearchQuery.model_validate(bad)


RECEIPT = {
    "id": "r1",
    "diary_number": "7/2026/LKO-DAK",
    "office_code": "LKO-DAK",
    "subject": "पेंशन",
    "sender_name": "रामलाल",
    "received_date": "2026-11-20",
    "status": "open",
    "holder_post": "SO-LKO",
    "security_grading": "secret",
    "posts": ["DAK-1", "SO-LKO"],
    "texts": ["पहला", "दूसरा"],
}
FILE = {
    "id": "f1",
    "file_number": "N-11016/6/2026",
    "office_code": "LKO-REV",
    "subject": "भूमि",
    "status": "open",
    "holder_post": "SO-REV",
    "created_at": "2026-11-01",
    "posts": ["SO-REV"],
    "notes": [{"seq": 1, "body": "नस्ती", "author_post": "SO-REV", "confirmed_at": "2026-11-02"}],
    "drafts": [{"id": 3, "title": "पत्र", "status": "draft", "body": "मसौदा", "at": "2026-11-03"}],
    "documents": [{"id": 4, "title": "नक्शा", "at": "2026-11-04"}],
}


def test_a_receipt_is_one_document_openable_by_its_posts_only():
    [doc] = documents.receipt_documents(RECEIPT)
    assert doc["uid"] == "receipt:r1" and doc["posts"] == ["DAK-1", "SO-LKO"] and doc["reach_office"] is None
    assert doc["body"] == "पहला\n\nदूसरा" and doc["grading"] == "secret"


def test_a_receipt_in_a_file_is_openable_by_the_files_readers_too():
    asked: list[list[str]] = []

    def readers_of(file_ids: list[str]) -> list[dict]:
        asked.append(file_ids)
        return [{"id": "f2", "office_code": "LKO-TEH", "posts": ["SO-TEH", "TEH-1"]}]  # f3: files does not know it

    in_f1, in_f2, in_f3 = ({**RECEIPT, "id": f"r{i}", "file_id": f"f{i}"} for i in (1, 2, 3))
    records = documents.with_file_readers([RECEIPT, in_f1, in_f2, in_f3], readers_of, known=[FILE])
    assert asked == [["f2", "f3"]]  # one call, for the files not at hand
    plain, from_known, from_asked, unknown = (documents.receipt_documents(r)[0] for r in records)
    assert plain == documents.receipt_documents(RECEIPT)[0]
    assert (from_known["posts"], from_known["reach_office"]) == (["DAK-1", "SO-LKO", "SO-REV"], "LKO-REV")
    assert (from_asked["posts"], from_asked["reach_office"]) == (["DAK-1", "SO-LKO", "SO-TEH", "TEH-1"], "LKO-TEH")
    assert (unknown["posts"], unknown["reach_office"]) == (["DAK-1", "SO-LKO"], None)  # no more than its own
    # the file's readers are part of what the consistency check compares
    moved = documents.with_file_readers([in_f1], readers_of, known=[{**FILE, "posts": ["SO-REV", "SO-X"]}])
    assert documents.receipt_documents(moved[0])[0]["digest"] != from_known["digest"]
    assert documents.with_file_readers([RECEIPT], readers_of) == [RECEIPT] and len(asked) == 1  # nothing to ask


def test_a_file_lends_its_access_to_its_notes_and_documents():
    docs = documents.file_documents(FILE)
    assert [d["uid"] for d in docs] == ["file:f1", "note:f1:1", "draft:f1:3", "attachment:f1:4"]
    assert [d["kind"] for d in docs] == ["file", "note", "document", "document"]
    assert all(d["posts"] == ["SO-REV"] and d["reach_office"] == "LKO-REV" and d["item_id"] == "f1" for d in docs)
    assert documents.file_documents(FILE)[0]["digest"] == docs[0]["digest"]  # the same record, the same digest
    assert documents.file_documents({**FILE, "holder_post": "X"})[0]["digest"] != docs[0]["digest"]


def test_each_document_names_the_item_it_is_built_from():
    uids = [d["uid"] for d in documents.file_documents(FILE)]
    assert {documents.owner_of(uid) for uid in uids} == {("file", "f1")}
    assert documents.owner_of("receipt:r1") == ("receipt", "r1")
    assert documents.owner_of("letter:f2:L-9") == ("file", "f2")


def test_events_name_the_items_to_index():
    def named(data: dict, event_type: str = "eoffice.x.v1") -> tuple[str, list[str]]:
        return items_named(type("E", (), {"type": event_type, "data": data})())

    assert named({"receipt_id": "r1", "copies": ["r2"]}) == ("receipt", ["r1", "r2"])
    assert named({"receipt_ids": ["r1", "r3"]}) == ("receipt", ["r1", "r3"])
    assert named({"file_id": "f1", "file_number": "N"}) == ("file", ["f1"])
    assert named({"post_code": "X"}) == ("", [])
    # a receipt recorded in a file: about the file, though it names the receipt
    added = {"file_id": "f1", "receipt_id": "r1", "kind": "receipt"}
    assert named(added, "eoffice.file.correspondence-added.v1") == ("file", ["f1"])


def test_only_a_file_event_that_may_add_readers_writes_the_receipts_in_the_file_again():
    """A receipt in a file carries the file's readers: a send (a new post reads the file) has them
    written again ("filed"); a note, a draft or opening the file changes no reader, so it does not
    read the receipts' text again."""
    def noted(event_type: str, data: dict) -> list[tuple[str, list[str]]]:
        return items_to_note(type("E", (), {"type": event_type, "data": data})())

    file = {"file_id": "f1", "file_number": "N"}
    assert noted("eoffice.file.sent.v1", file) == [("file", ["f1"]), ("filed", ["f1"])]
    assert noted("eoffice.file.pulled-back.v1", file) == [("file", ["f1"]), ("filed", ["f1"])]
    for quiet in ("eoffice.file.note-added.v1", "eoffice.file.opened.v1", "eoffice.draft.saved.v1"):
        assert noted(quiet, file) == [("file", ["f1"])]
    assert noted("eoffice.receipt.put-in-file.v1", {"receipt_id": "r1", "file_id": "f1"}) == [("receipt", ["r1"])]
    # files recording a receipt put in the file: its receipts written again (a send files saw
    # before it recorded the receipt asked dak for none); a document added: the file only
    added = "eoffice.file.correspondence-added.v1"
    assert noted(added, {**file, "kind": "receipt", "receipt_id": "r1"}) == [("file", ["f1"]), ("filed", ["f1"])]
    assert noted(added, {**file, "kind": "document"}) == [("file", ["f1"])]
    assert noted("eoffice.directory.post-handed-over.v1", {"post_code": "X"}) == []

