"""Elasticsearch that is starting or recovering its shards answers 503 to a search: the caller
gets a 503 to retry (Unavailable), not a 500. A long fault run found it: two searches right after
Elasticsearch came back were 500s."""

from __future__ import annotations

import pytest
from elastic_transport import ApiResponseMeta, HttpHeaders, NodeConfig
from elasticsearch import ApiError

from eoffice.errors import Unavailable
from services.search.service import SearchService


def _answering(status: int) -> SearchService:
    meta = ApiResponseMeta(status=status, http_version="1.1", headers=HttpHeaders(), duration=0.0,
                           node=NodeConfig("http", "127.0.0.1", 9200))

    class Engine:
        def search(self, **_):
            raise ApiError("search_phase_execution_exception", meta, {"error": "all shards failed"})

    service = SearchService.__new__(SearchService)  # no container: only how an engine's answer is taken
    service._client = Engine  # type: ignore[method-assign]
    return service


@pytest.mark.parametrize("status", [503, 429])
def test_an_engine_recovering_or_overloaded_is_a_503_to_retry(status):
    with pytest.raises(Unavailable) as raised:
        _answering(status)._ask_engine(index="x")
    assert raised.value.status == 503 and str(status) in raised.value.detail


def test_an_engine_error_of_another_kind_stays_an_error():
    with pytest.raises(ApiError):
        _answering(500)._ask_engine(index="x")
