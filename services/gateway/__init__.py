"""The gateway: the one HTTP API (/api/v1, OpenAPI) for the web client and mobile apps."""
