"""The search indices in Elasticsearch itself, with the eoffice-analysis plugin the install
builds (services/search/plugin): Hindi found in other forms and spellings, English by its stem,
Hindi by Latin letters (ranked below the words themselves), numbers by a part, highlights as
written, and access filtered inside the engine. Documents come from the same builder the
event path uses; no services are involved."""

from __future__ import annotations

import uuid
import warnings

import pytest

from eoffice.contracts.search import SearchQuery, SuggestQuery
from eoffice.elastic import make_client
from services.search import documents, indexer, indices, queries

pytestmark = pytest.mark.live

CLERK, OFFICER, PEER, OTHER = "DAK-LKO-1", "SO-LKO", "SO2-LKO", "SO-KNP"


def receipt(number: str, subject: str, text: str = "", *, posts=(CLERK, OFFICER), grading="normal", **extra):
    return {
        "id": str(uuid.uuid4()),
        "diary_number": number,
        "office_code": "LKO-DAK",
        "subject": subject,
        "sender_name": "रामलाल",
        "sender_organisation": "",
        "letter_number": "",
        "received_date": "2026-11-20",
        "letter_date": None,
        "mode": "post",
        "language": "hi",
        "security_grading": grading,
        "category": "petition",
        "status": "open",
        "holder_post": posts[-1],
        "file_id": None,
        "texts": [text] if text else [],
        "posts": list(posts),
        **extra,
    }


LETTERS = {
    "inflected": receipt("101/2026/LKO-DAK", "पुरानी नस्तियों का निस्तारण"),
    "nukta": receipt("102/2026/LKO-DAK", "ग्राम सीतापुर", "ज़मीन के नामांतरण हेतु आवेदन"),
    "english": receipt("103/2026/LKO-DAK", "Encroachments on public land near the pond"),
    "training": receipt("104/2026/LKO-DAK", "प्रशिक्षण कार्यक्रम की सूचना"),
    "hindi_pension": receipt("105/2026/LKO-DAK", "सेवानिवृत्त कर्मचारी की पेंशन संबंधी शिकायत"),
    "english_pension": receipt("106/2026/LKO-DAK", "Pension of a retired teacher"),
    "secret": receipt("107/2026/LKO-DAK", "गोपनीय: पेंशन घोटाले की जांच", grading="secret", posts=(CLERK,)),
}
FILE = {
    "id": str(uuid.uuid4()),
    "file_number": "N-11016/6/2026-REV",
    "office_code": "LKO-REV",
    "subject_head": "11016",
    "subject": "भूमि अधिग्रहण मुआवजा",
    "category": "land",
    "priority": "normal",
    "status": "open",
    "holder_post": OTHER,
    "creator_post": OTHER,
    "parent_id": None,
    "created_at": "2026-11-01T10:00:00+05:30",
    "closed_at": None,
    "posts": [OTHER],
    "notes": [
        {
            "seq": 1,
            "body": "नस्ती प्रस्तुत है, मुआवजा स्वीकृत करने हेतु",
            "author_post": OTHER,
            "confirmed_at": "2026-11-02T10:00:00+05:30",
        }
    ],
    "drafts": [],
    "documents": [],
}


@pytest.fixture(scope="module")
def engine(settings):
    client = make_client(settings)
    prefix = f"{settings.index_prefix}-analysis-{uuid.uuid4().hex[:6]}"
    indices.ensure(client, prefix)
    version = indexer.now_version()
    records = list(LETTERS.values())
    indexer.sync_receipts(client, prefix, ids=[r["id"] for r in records], records=records, version=version)
    indexer.sync_files(client, prefix, ids=[FILE["id"]], records=[FILE], version=version)
    client.indices.refresh(index=indices.read_alias(prefix))
    yield client, prefix
    client.indices.delete(index=",".join(client.indices.get(index=f"{prefix}-search-*")))


def search(engine, text: str = "", posts=(CLERK, OFFICER), offices=(), **filters) -> dict:
    client, prefix = engine
    query = SearchQuery(q=text, **filters)
    body = queries.search_body(query, queries.Reach(posts=tuple(posts), offices=tuple(offices)))
    return queries.page_of(client.search(index=indices.read_alias(prefix), **body).body, query)


def found(page: dict) -> list[str]:
    ids = {r["id"]: name for name, r in LETTERS.items()} | {FILE["id"]: "file"}
    return [ids[item["item_id"]] for item in page["items"]]


def test_the_plugin_is_installed_with_its_filters(engine):
    client, _ = engine
    tokens = client.indices.analyze(
        tokenizer="standard",
        text="नस्तियों Encroachments ज़मीन प्रशिक्षण",
        filter=["lowercase", "eoffice_hindi_normalization", "eoffice_hindi_stem", "eoffice_english_stem"],
    )["tokens"]
    assert [t["token"] for t in tokens][:3] == ["नसत", "encroach", "जमिन"]
    latin = client.indices.analyze(
        tokenizer="standard",
        text="प्रशिक्षण prashikshan पेंशन pension",
        filter=["lowercase", "eoffice_hindi_normalization", "eoffice_latin_key"],
    )["tokens"]
    keys = [t["token"] for t in latin]
    assert keys[0] == keys[1] and keys[2] == keys[3]


def test_hindi_is_found_in_another_form_and_spelling_and_highlighted_as_written(engine):
    page = search(engine, "नस्ती")
    assert found(page) == ["inflected"]
    assert page["items"][0]["highlights"]["title"] == ["पुरानी <mark>नस्तियों</mark> का निस्तारण"]
    page = search(engine, "जमीन")
    assert found(page) == ["nukta"]
    assert "<mark>ज़मीन</mark>" in page["items"][0]["highlights"]["body"][0]


def test_english_is_found_by_its_stem(engine):
    page = search(engine, "encroachment")
    assert found(page) == ["english"]
    assert page["items"][0]["highlights"]["title"][0].startswith("<mark>Encroachments</mark>")


def test_latin_letters_find_hindi_below_the_words_themselves(engine):
    assert found(search(engine, "prashikshan")) == ["training"]
    page = search(engine, "pension", posts=(OFFICER,))
    assert found(page) == ["english_pension", "hindi_pension"]  # the English word itself first
    assert page["items"][1]["highlights"]["title"] == ["सेवानिवृत्त कर्मचारी की <mark>पेंशन</mark> संबंधी शिकायत"]


def test_numbers_are_found_by_a_part(engine):
    assert found(search(engine, "105/2026")) == ["hindi_pension"]
    assert found(search(engine, posts=(OTHER,), number="11016/6")) == ["file", "file"]  # the file and its note
    client, prefix = engine
    body = queries.suggest_body(SuggestQuery(q="11016/6"), queries.Reach(posts=(OTHER,)))
    suggestions = queries.suggestions_of(client.search(index=indices.read_alias(prefix), **body).body)
    assert [s["number"] for s in suggestions] == ["N-11016/6/2026-REV"]


def test_a_secret_receipt_shows_nowhere_for_those_who_never_handled_it(engine):
    as_clerk = search(engine, "पेंशन", posts=(CLERK,))
    assert "secret" in found(as_clerk)
    for posts in ((OFFICER,), (PEER,), (OTHER,)):
        page = search(engine, "पेंशन", posts=posts)
        assert "secret" not in found(page)
        assert "गोपनीय" not in str(page)  # no highlight, no facet, no count of it
        everything = search(engine, "", posts=posts)
        assert "secret" not in found(everything)
        assert everything["total"] == len(everything["items"])
    assert search(engine, "पेंशन", posts=(PEER,))["total"] == 0
    # A supervisor of the file's office reaches the file and its notes, not the receipts.
    supervisor = search(engine, "नस्ती", posts=(PEER,), offices=("LKO-REV",))
    assert found(supervisor) == ["file"] and supervisor["items"][0]["kind"] == "note"
    assert search(engine, "नस्ती", posts=(), offices=())["total"] == 0


def test_filters_facets_and_cursor_paging(engine):
    assert search(engine, "", posts=(OFFICER,), limit=3, sort="date")["facets"] == {}  # only when asked
    first = search(engine, "", posts=(OFFICER,), limit=3, sort="date", facets=True)
    assert first["total"] == 6 and len(first["items"]) == 3 and first["next_cursor"]
    assert {"value": "receipt", "count": 6} in first["facets"]["kind"]
    second = search(engine, "", posts=(OFFICER,), limit=3, sort="date", cursor=first["next_cursor"])
    third = search(engine, "", posts=(OFFICER,), limit=3, sort="date", cursor=second["next_cursor"])
    seen = [i["uid"] for i in first["items"] + second["items"] + third["items"]]
    assert len(seen) == len(set(seen)) == 6 and third["next_cursor"] is None
    assert found(search(engine, "", kind=["file", "note"], posts=(OTHER,))) == ["file", "file"]
    assert search(engine, "", date_from="2026-11-21")["total"] == 0


@pytest.mark.parametrize(
    "text",
    [
        "title:(a OR b) AND *",
        '{"query": {"match_all": {}}}',
        '\\"[',
        "*:*",
        "a" * 500,
        "पेंशन OR 1=1; DROP",
        "/.*/",
        "~~~ ^^^ &&& ||",
    ],
)
def test_query_syntax_in_the_text_is_just_text(engine, text):
    page = search(engine, text, posts=(OFFICER,))
    assert "secret" not in found(page)


def test_a_date_range_counts_days_as_the_office_does(engine):
    """A file opened at 02:00 IST on the 29th (the 28th in UTC) is of the 29th for a date filter."""
    client, prefix = engine
    post = "EARLY-LKO"
    early = {
        **FILE,
        "id": str(uuid.uuid4()),
        "file_number": "N-1/1/2026-EARLY",
        "office_code": "LKO-EARLY",
        "holder_post": post,
        "creator_post": post,
        "posts": [post],
        "notes": [],
        "created_at": "2026-11-29T02:00:00+05:30",
    }
    indexer.sync_files(client, prefix, ids=[early["id"]], records=[early], version=indexer.now_version())
    client.indices.refresh(index=indices.read_alias(prefix))

    def on(**dates) -> list[str]:
        return [item["item_id"] for item in search(engine, posts=(post,), **dates)["items"]]

    assert on(date_from="2026-11-29", date_to="2026-11-29") == [early["id"]]
    assert on(date_to="2026-11-28") == []
    assert on(date_from="2026-11-30") == []


def _held(engine, post: str) -> set[str]:
    client, prefix = engine
    client.indices.refresh(index=indices.read_alias(prefix))
    body = queries.search_body(SearchQuery(q="", limit=50), queries.Reach(posts=(post,)))
    return {hit["_id"] for hit in client.search(index=indices.read_alias(prefix), **body)["hits"]["hits"]}


def _file_of(post: str, notes: int) -> dict:
    return {
        **FILE,
        "id": str(uuid.uuid4()),
        "office_code": "LKO-ROUND",
        "holder_post": post,
        "creator_post": post,
        "posts": [post],
        "notes": [
            {"seq": n, "body": f"टिप्पणी {n}", "author_post": post, "confirmed_at": "2026-11-02T10:00:00+05:30"}
            for n in range(1, notes + 1)
        ],
    }


def test_one_round_writes_many_items_and_drops_what_their_owners_no_longer_list(engine):
    """A round of the search service's indexing (indexer.sync): receipts and files in one bulk
    request; a file's document its record no longer lists, every document of a file without a
    record, and a receipt without a record leave the index."""
    client, prefix = engine
    post = "ROUND-LKO"
    kept, shrinking, vanishing = _file_of(post, 1), _file_of(post, 2), _file_of(post, 1)
    letter = receipt("108/2026/LKO-DAK", "गोल", posts=(post,))
    everything = [kept, shrinking, vanishing]
    indexer.sync(
        client,
        prefix,
        version=indexer.now_version(),
        receipt_ids=[letter["id"]],
        receipts=[letter],
        file_ids=[f["id"] for f in everything],
        files=everything,
    )
    assert _held(engine, post) == {
        f"receipt:{letter['id']}",
        *(f"file:{f['id']}" for f in everything),
        *(f"note:{f['id']}:{n['seq']}" for f in everything for n in f["notes"]),
    }
    shrunk = {**shrinking, "notes": shrinking["notes"][:1]}
    indexer.sync(
        client,
        prefix,
        version=indexer.now_version(),
        receipt_ids=[letter["id"]],
        receipts=[],
        file_ids=[f["id"] for f in everything],
        files=[kept, shrunk],
    )
    assert _held(engine, post) == {
        f"file:{kept['id']}",
        f"note:{kept['id']}:1",
        f"file:{shrunk['id']}",
        f"note:{shrunk['id']}:1",
    }


def test_a_round_of_indexing_uses_the_client_as_it_asks_to_be_used(engine):
    """No call of a round of indexing is one the Elasticsearch client warns about. Its warnings
    cost more than a warning: to name the caller, each walked the whole stack and read the
    source of every frame, on every bulk request (2% of the search service's time under load,
    for a timeout passed to the call instead of through `options()`)."""
    client, prefix = engine
    post = "WARN-LKO"
    file = _file_of(post, 2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        indexer.sync(client, prefix, version=indexer.now_version(), file_ids=[file["id"]], files=[file])
        indexer.remove(client, prefix, {"note": [f"note:{file['id']}:2"]}, version=indexer.now_version())
    assert [str(w.message) for w in caught] == []
    assert _held(engine, post) == {f"file:{file['id']}", f"note:{file['id']}:1"}


def test_a_refused_document_holds_up_only_its_own_item(engine):
    """Elasticsearch refusing one item's document (here a date it cannot read) fails that item
    alone: the error names its documents, the rest of the round is written."""
    post = "REFUSED-LKO"
    good, bad = _file_of(post, 1), {**_file_of(post, 1), "created_at": "not a date"}
    client, prefix = engine
    with pytest.raises(indexer.IndexingFailed) as refused:
        indexer.sync(client, prefix, version=indexer.now_version(), file_ids=[good["id"], bad["id"]], files=[good, bad])
    assert {documents.owner_of(uid) for uid in refused.value.uids} == {("file", bad["id"])}
    assert _held(engine, post) == {f"file:{good['id']}", f"note:{good['id']}:1", f"note:{bad['id']}:1"}


def test_indices_made_by_an_older_release_take_the_current_refresh_interval_at_start(settings):
    client = make_client(settings)
    prefix = f"{settings.index_prefix}-older-{uuid.uuid4().hex[:6]}"
    try:
        indices.ensure(client, prefix)
        # As an older release left them: refreshed twice a second, never a replica.
        client.indices.put_settings(
            index=f"{prefix}-search-*", settings={"refresh_interval": "500ms", "auto_expand_replicas": "false"}
        )
        indices.ensure(client, prefix)  # the next start
        found = client.indices.get_settings(index=f"{prefix}-search-*", name="index.refresh_interval,index.auto_*")
        assert len(found) == len(indices.KINDS)
        for name, described in found.items():
            assert described["settings"]["index"]["refresh_interval"] == indices.SETTINGS["refresh_interval"], name
            assert described["settings"]["index"]["auto_expand_replicas"] == "0-1", name
    finally:
        client.indices.delete(index=",".join(client.indices.get(index=f"{prefix}-search-*")))
