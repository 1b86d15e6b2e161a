"""One settings class for the whole platform; every value is an `EOFFICE_*` environment variable.

Nothing is read at import time: call `get_settings()` where a value is needed."""
from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EOFFICE_", extra="ignore")

    amqp_uri: str = "amqp://eoffice:eoffice@127.0.0.1:5672/eoffice"
    database_url: str = "postgresql+psycopg2://eoffice:eoffice@127.0.0.1:5432/eoffice"
    database_pool_size: int = 5

    # Every MinIO node the client may talk to; it moves to the next when one does not answer.
    minio_endpoints: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["127.0.0.1:9001"])
    minio_access_key: str = "eoffice"
    minio_secret_key: str = "eoffice-secret"
    minio_secure: bool = False
    documents_bucket: str = "documents"
    records_bucket: str = "records"  # object lock (compliance): signed, issued, closed records

    elasticsearch_url: str = "http://127.0.0.1:9200"
    index_prefix: str = "eoffice"
    rabbitmq_management_url: str = "http://127.0.0.1:15672"

    rpc_timeout: float = 10.0
    # Delays before each retry of a failed event handler; after the last one the event goes to
    # the dead-letter queue.
    retry_delays: Annotated[list[float], NoDecode] = Field(default_factory=lambda: [1.0, 10.0, 60.0])
    dead_letter_queue: str = "eoffice.dead-letters"
    outbox_poll_interval: float = 1.0

    token_secret: str = "change-me"
    gateway_bind: str = "127.0.0.1:8080"
    max_upload_bytes: int = 50 * 1024 * 1024  # one request: a scanned letter of many pages fits
    max_scan_bytes: int = 20 * 1024 * 1024  # one document of a receipt

    @field_validator("minio_endpoints", "retry_delays", mode="before")
    @classmethod
    def _comma_separated(cls, value):
        # Environment variables carry lists as "a,b,c".
        if isinstance(value, str):
            return [part.strip() for part in value.strip("[]").split(",") if part.strip()]
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Returns the settings from the environment, read once per process."""
    return Settings()
