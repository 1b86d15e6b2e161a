"""The search service: the Elasticsearch indices, built from events only."""
