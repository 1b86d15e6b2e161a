"""Elasticsearch with Devanagari text, normalised in Python on both sides."""
from __future__ import annotations

import uuid

import pytest

from eoffice.elastic import make_client, match_query
from eoffice.text import normalise

pytestmark = pytest.mark.live


@pytest.fixture
def index(settings):
    client = make_client(settings)
    name = f"{settings.index_prefix}-hindi-{uuid.uuid4().hex[:8]}"
    client.indices.create(index=name, mappings={"properties": {"text": {"type": "text", "analyzer": "standard"}}})
    yield client, name
    client.indices.delete(index=name)


def test_hindi_letter_is_found_by_a_hindi_word(index):
    client, name = index
    letters = {
        "land": "ज़मीन के नामांतरण हेतु आवेदन, ग्राम पंचायत सीतापुर",
        "pension": "सेवानिवृत्त कर्मचारी की पेंशन संबंधी शिकायत",
        "english": "Request for transfer of land records, Sitapur",
    }
    for key, text in letters.items():
        client.index(index=name, id=key, document={"text": normalise(text)})
    client.indices.refresh(index=name)

    def found(query: str) -> set[str]:
        hits = client.search(index=name, query=match_query("text", query))["hits"]["hits"]
        return {hit["_id"] for hit in hits}

    assert found("आवेदन") == {"land"}
    assert found("पेंशन") == {"pension"}
    # Spelt without the nukta, as many type it: the same word.
    assert found("जमीन") == {"land"}
    assert found("LAND records") == {"english"}
    assert found("छात्रवृत्ति") == set()
