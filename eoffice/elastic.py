"""Elasticsearch access: the client. The search service owns the indices and their analysis
(`services.search.indices`): text is indexed as written and analysed in the engine, by the
eoffice-analysis plugin, never rewritten in Python first."""

from __future__ import annotations

from functools import lru_cache

from elasticsearch import Elasticsearch

from eoffice.settings import Settings, get_settings


def make_client(settings: Settings | None = None) -> Elasticsearch:
    """Returns a client for EOFFICE_ELASTICSEARCH_URL with short timeouts and a few retries."""
    settings = settings or get_settings()
    return Elasticsearch(settings.elasticsearch_url, request_timeout=10, max_retries=2, retry_on_timeout=True)


@lru_cache(maxsize=1)
def shared_client() -> Elasticsearch:
    """One client per process (it keeps its connection pool), for the settings' URL."""
    return make_client()


def ping(client: Elasticsearch) -> None:
    """Raises unless the cluster reports at least yellow health (GET / is absent in our build)."""
    health = client.cluster.health(wait_for_status="yellow", timeout="2s")
    if health["status"] not in ("green", "yellow"):
        raise RuntimeError(f"cluster health is {health['status']}")
