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

    # Signs the access tokens. No default: the gateway refuses to start without one of at least
    # MIN_SECRET_BYTES (see `token_signing_secret`); services that sign nothing do not need it.
    token_secret: str | None = None
    gateway_bind: str = "127.0.0.1:8080"
    # Peer addresses (or networks) of reverse proxies whose X-Forwarded-For and X-Forwarded-Proto
    # are believed. Empty: the client is the peer address, whatever the headers say.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    api_docs: bool = True  # the interactive page at /api/v1/docs (its assets are served locally)

    # Rate limits, each "COUNT/SECONDS": at most COUNT requests in a fixed window of SECONDS,
    # counted in the gateway's schema so that every gunicorn worker sees the same count. An
    # office behind one NAT address shares the per-client limits: raise them (or name the proxy
    # in EOFFICE_TRUSTED_PROXIES) for a large office.
    rate_sign_in_client: str = "60/300"  # sign-ins from one client address, any e-mail
    rate_sign_in_account: str = "10/300"  # sign-ins to one e-mail, from anywhere
    rate_tracking_client: str = "30/60"  # public tracking-code look-ups from one client address
    rate_upload_client: str = "300/300"  # uploads (scans, e-mails, file documents) from one address
    rate_upload_account: str = "120/300"  # uploads by one signed-in user
    max_upload_bytes: int = 50 * 1024 * 1024  # one request: a scanned letter of many pages fits
    max_scan_bytes: int = 20 * 1024 * 1024  # one document of a receipt
    # Seconds the owning service may spend checking one upload request (eoffice.intake); the
    # gateway waits this much longer than rpc_timeout for an upload's answer.
    intake_timeout: float = 60.0

    @field_validator("minio_endpoints", "retry_delays", "trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value):
        # Environment variables carry lists as "a,b,c".
        if isinstance(value, str):
            return [part.strip() for part in value.strip("[]").split(",") if part.strip()]
        return value

    @field_validator(
        "rate_sign_in_client",
        "rate_sign_in_account",
        "rate_tracking_client",
        "rate_upload_client",
        "rate_upload_account",
    )
    @classmethod
    def _rate(cls, value: str) -> str:
        rate(value)
        return value

    def token_signing_secret(self) -> str:
        """Returns EOFFICE_TOKEN_SECRET; raises MissingSecret, saying what to do, when it is
        unset or shorter than MIN_SECRET_BYTES."""
        secret = self.token_secret or ""
        if len(secret.encode()) < MIN_SECRET_BYTES:
            raise MissingSecret(
                f"EOFFICE_TOKEN_SECRET is {'too short' if secret else 'not set'}: the gateway signs sign-in tokens "
                f"with it and needs at least {MIN_SECRET_BYTES} random bytes. Generate one, e.g. "
                "`python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`, and put it in the environment "
                "(deploy/eoffice keeps it in /var/lib/eoffice/secrets.env)."
            )
        return secret


MIN_SECRET_BYTES = 32


class MissingSecret(RuntimeError):
    """A secret the process cannot run without is missing or too weak."""


def rate(value: str) -> tuple[int, int]:
    """Parses a rate limit "COUNT/SECONDS" into (count, seconds); raises ValueError."""
    count, _, seconds = value.partition("/")
    if not (count.strip().isdigit() and seconds.strip().isdigit()) or int(count) < 1 or int(seconds) < 1:
        raise ValueError(f"a rate limit is COUNT/SECONDS with both at least 1, e.g. 20/60 (got {value!r})")
    return int(count), int(seconds)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Returns the settings from the environment, read once per process."""
    return Settings()
