"""Search in tests: each run's test database starts empty, so must its search indices."""

from __future__ import annotations

from eoffice.elastic import make_client


def drop_search_indices(settings) -> None:
    """Deletes this test environment's search indices (its EOFFICE_INDEX_PREFIX), if any."""
    client = make_client(settings)
    names = ",".join(client.indices.get(index=f"{settings.index_prefix}-search*"))
    if names:
        client.indices.delete(index=names)
