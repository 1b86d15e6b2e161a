"""Elasticsearch access shared by the services that index or query.

The search service (a later wave) owns the indices; this module only makes the client and
keeps the one rule every index follows: text fields are stored normalised (`eoffice.text`)
and analysed with the `standard` analyser, and queries are normalised the same way."""

from __future__ import annotations

from elasticsearch import Elasticsearch

from eoffice.settings import Settings, get_settings
from eoffice.text import normalise


def make_client(settings: Settings | None = None) -> Elasticsearch:
    """Returns a client for EOFFICE_ELASTICSEARCH_URL with short timeouts and a few retries."""
    settings = settings or get_settings()
    return Elasticsearch(settings.elasticsearch_url, request_timeout=10, max_retries=2, retry_on_timeout=True)


def match_query(field: str, text: str) -> dict:
    """Returns a `match` query on `field` for `text`, normalised like indexed text."""
    return {"match": {field: {"query": normalise(text), "operator": "and"}}}


def ping(client: Elasticsearch) -> None:
    """Raises unless the cluster reports at least yellow health (GET / is absent in our build)."""
    health = client.cluster.health(wait_for_status="yellow", timeout="2s")
    if health["status"] not in ("green", "yellow"):
        raise RuntimeError(f"cluster health is {health['status']}")
