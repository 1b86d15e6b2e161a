"""One settings class for the whole platform; every value is an `EOFFICE_*` environment variable.

Nothing is read at import time: call `get_settings()` where a value is needed."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class OfficeSigner(BaseModel):
    """One office's document signer on the server-side PKCS#11 token: the key and certificate
    labelled `key_label` on token `token`, opened with `pin`. An empty token or PIN is
    EOFFICE_SIGNING_OFFICE_TOKEN's or EOFFICE_SIGNING_OFFICE_PIN's (one HSM partition holding
    every office's key)."""

    model_config = ConfigDict(extra="forbid")
    token: str = ""
    key_label: str = Field(min_length=1)
    pin: str = ""


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
    # Seconds search waits for an owner to list an item an event named (an issued letter files
    # has not added), retrying with backoff, before it gives the item up and reports it in the
    # consistency check (docs/search.md).
    search_give_up_after: float = 600.0
    rabbitmq_management_url: str = "http://127.0.0.1:15672"

    rpc_timeout: float = 10.0
    # Seconds a service keeps an office calendar heard from the directory (eoffice.workdays.
    # CalendarCache); an organisation import clears it sooner.
    calendar_cache_ttl: float = 60.0
    # Delays before each retry of a failed event handler; after the last one the event goes to
    # the dead-letter queue.
    retry_delays: Annotated[list[float], NoDecode] = Field(default_factory=lambda: [1.0, 10.0, 60.0])
    dead_letter_queue: str = "eoffice.dead-letters"
    outbox_poll_interval: float = 1.0
    # Days bookkeeping rows are kept (eoffice.housekeeping): events after they were published,
    # the record that a handler saw an event, idempotency keys and their answers.
    keep_published_events_days: float = Field(default=7.0, gt=0)
    keep_seen_events_days: float = Field(default=7.0, gt=0)
    keep_idempotency_keys_days: float = Field(default=30.0, gt=0)
    # Days log rows are kept after they are done with (eoffice.housekeeping, docs/scaling.md):
    # sign-in sessions after their refresh token expired; sign-in attempts (CERT-In's directions
    # of April 2022 ask for logs over a rolling 180 days at least); e-mails and SMS sent and
    # digests; notifications after they were read; portal deliveries after they were delivered.
    keep_expired_sessions_days: float = Field(default=30.0, gt=0)
    keep_sign_in_log_days: float = Field(default=365.0, ge=180)
    keep_sent_messages_days: float = Field(default=90.0, gt=0)
    keep_read_notifications_days: float = Field(default=180.0, gt=0)
    keep_delivered_days: float = Field(default=30.0, gt=0)
    # Days a signature or registration request never completed is kept after it expired.
    keep_expired_requests_days: float = Field(default=7.0, gt=0)
    # Tesseract processes the OCR worker runs at once for the pages of one PDF (each one thread):
    # one per core lets a long scan alone in the queue use the whole machine.
    ocr_processes: int = 2

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

    # Notify: e-mail (SMTP), SMS (an HTTP bulk-SMS gateway), reminders. See docs/notify.md.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025  # the loopback sink (python -m services.notify.smtp_sink) by default
    smtp_starttls: bool = False  # upgrade the connection with STARTTLS before authenticating
    smtp_ca_file: str | None = None  # CA bundle the server's certificate is checked against (default: system's)
    smtp_username: str | None = None  # AUTH only when set
    smtp_password: str | None = None
    smtp_from: str = "eoffice@localhost"
    # Where people open the web client (e.g. https://eoffice.up.gov.in): e-mails link to the item
    # they tell of. Empty: e-mails carry no link.
    public_url: str = ""
    smtp_timeout: float = 20.0
    smtp_sink_dir: str = "/var/lib/eoffice/mail"  # where the loopback sink stores what it receives
    # SMS: a GET or POST to sms_url with sms_params (JSON object; "{mobile}", "{text}" and
    # "{template_id}" in a value are replaced). Empty sms_url: no SMS is sent.
    sms_url: str = ""
    sms_method: str = "POST"
    sms_params: str = '{"to": "{mobile}", "message": "{text}", "template_id": "{template_id}"}'
    # JSON object: message kind -> the template ID registered with the gateway for its text.
    sms_template_ids: str = "{}"
    notify_daily: bool = True  # false: the daily job runs only when asked (tests: notify.run_daily)
    notify_office_hour: int = 10  # IST hour from which the daily reminders and digests go out
    notify_escalate_after: int = 3  # working days past the first reminder before escalating

    # Portal subscriptions (docs/subscribers.md). Deliveries retry after base, 2*base, 4*base ...
    # seconds (at most cap apart) for retry_for seconds, then go to the dead letters; failing_after
    # failed attempts in a row flag the subscription and alert its admin.
    webhook_timeout: float = 15.0  # one delivery: connect and answer (a 10 s portal still succeeds)
    webhook_retry_base: float = 5.0
    webhook_retry_cap: float = 3600.0
    webhook_retry_for: float = 25 * 3600.0  # at least 24 hours
    webhook_failing_after: int = 10
    # Test mode only: webhook URLs on loopback (127.0.0.1, ::1), plain http there too.
    webhook_allow_loopback: bool = False
    # The most subscriptions one notify process sends for, beyond its even share of them (0: its
    # share only; notify processes share the subscriptions evenly by themselves, portals.py).
    # A subscription whose lease lapsed while every process is full waits.
    webhook_subscriptions_per_process: int = 0
    # Seconds an idle subscription's worker waits before it looks for deliveries by itself. It is
    # woken sooner when deliveries are added, by the process that adds them (PostgreSQL NOTIFY,
    # portals.py): this is the fallback while that cannot reach it (the database away).
    webhook_idle_poll: float = 1.0

    # Signing (docs/signing.md). Trust roots: PEM file(s), comma-separated; in production CCA
    # India's root certificates, in tests the test PKI's root (eoffice/tools/pki.py). Empty:
    # every certificate is refused, saying why. Intermediates: the licensed CAs' and sub-CAs'
    # certificates (PEM), used to build chains an uploaded DSC does not carry.
    signing_trust_roots: str = ""
    signing_intermediates: str = ""
    signing_tsa_url: str = ""  # RFC 3161 time-stamping authority for signature timestamps
    signing_fetch_timeout: float = 10.0  # one OCSP or CRL fetch
    # The office's server-side token (PKCS#11; SoftHSM2 in tests, the HSM's module in production).
    signing_pkcs11_module: str = "/usr/lib/softhsm/libsofthsm2.so"
    # Letters issued with the office's key are signed by the document signer of the letter's
    # office, or of the nearest office above it that has one (docs/signing.md, "Whose key signs
    # a letter"); an office with none refuses to issue (409 no-office-signer).
    # EOFFICE_SIGNING_OFFICE_TOKEN / _KEY_LABEL / _PIN: one signer, the one of office
    # EOFFICE_SIGNING_OFFICE_CODE (and of the offices below it).
    signing_office_code: str = ""
    signing_office_token: str = ""
    signing_office_key_label: str = ""
    signing_office_pin: str = ""
    # More offices' signers, JSON: {"DIST-SPR": {"key_label": "dispatch-spr"}, "GAD": {"token":
    # "gad-hsm", "key_label": "dispatch-gad", "pin": "..."}} (see OfficeSigner).
    signing_office_signers: dict[str, OfficeSigner] = Field(default_factory=dict)
    signing_request_ttl: float = 900.0  # seconds a prepared two-phase signature waits for the signer
    # Aadhaar eSign: "standin" (the local test ESP) or the ESP's eSign 2.1 URL (docs/signing.md).
    signing_esign_url: str = ""
    signing_esign_asp_id: str = ""
    # Where the ESP posts its answer (responseUrl): the web client's return address; production
    # gives it whole (https://eoffice.example.gov.in/esign/return), as registered with the ESP.
    signing_esign_response_url: str = "/esign/return"

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

    @model_validator(mode="after")
    def _office_signers(self):
        # A signer without a token, or an office named twice, is refused here, when the
        # settings are read, not at the first letter.
        if self.signing_office_code and not (self.signing_office_token and self.signing_office_key_label):
            raise ValueError(
                f"EOFFICE_SIGNING_OFFICE_CODE names office {self.signing_office_code} but "
                "EOFFICE_SIGNING_OFFICE_TOKEN and EOFFICE_SIGNING_OFFICE_KEY_LABEL do not name its signer"
            )
        if self.signing_office_code in self.signing_office_signers:
            raise ValueError(
                f"office {self.signing_office_code} has two signers: EOFFICE_SIGNING_OFFICE_CODE and "
                "EOFFICE_SIGNING_OFFICE_SIGNERS both name it"
            )
        for code, signer in self.signing_office_signers.items():
            if not code.strip():
                raise ValueError("EOFFICE_SIGNING_OFFICE_SIGNERS: an office code is empty")
            if not (signer.token or self.signing_office_token):
                raise ValueError(
                    f"EOFFICE_SIGNING_OFFICE_SIGNERS: the signer of {code} names no token and "
                    "EOFFICE_SIGNING_OFFICE_TOKEN is not set"
                )
        return self

    def office_signers(self) -> dict[str, OfficeSigner]:
        """Every office's document signer by office code, token and PIN filled in: those of
        EOFFICE_SIGNING_OFFICE_SIGNERS and, when EOFFICE_SIGNING_OFFICE_CODE is set, the one of
        EOFFICE_SIGNING_OFFICE_TOKEN and _KEY_LABEL."""
        found = {
            code: OfficeSigner(
                token=signer.token or self.signing_office_token,
                key_label=signer.key_label,
                pin=signer.pin or self.signing_office_pin,
            )
            for code, signer in self.signing_office_signers.items()
        }
        if self.signing_office_code:
            found[self.signing_office_code] = OfficeSigner(
                token=self.signing_office_token, key_label=self.signing_office_key_label, pin=self.signing_office_pin
            )
        return found

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
