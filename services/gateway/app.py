"""The gateway's HTTP app: `gunicorn -c deploy/gunicorn.conf.py services.gateway.app:app`.

Endpoints are plain `def` functions: FastAPI runs them in threads, and each borrows an RPC
proxy from the pool for its call."""
from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI
from nameko.standalone.events import get_event_exchange
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from eoffice import housekeeping
from eoffice.contracts import directory as directory_contract
from eoffice.db import UnitOfWork, make_engine
from eoffice.logs import OneLineFormatter, lean_log_records
from eoffice.rpc import RpcPool
from eoffice.settings import MissingSecret, get_settings
from eoffice.storage import DocumentStore
from services.gateway import (
    auth,
    dak,
    directory,
    docs,
    files,
    health,
    letters,
    models,
    notifications,
    problems,
    search,
    signing,
    subscriptions,
    web,
)
from services.gateway.broadcasts import Listener
from services.gateway.headers import SecurityHeaders
from services.gateway.requests import RequestContext, RequestIdLogFilter, current_request_id

API_PREFIX = "/api/v1"
log = logging.getLogger(__name__)


@asynccontextmanager
async def lifespan(app: FastAPI):
    # Created here, in the worker process after gunicorn forked: nothing shared across forks.
    settings = get_settings()
    try:
        settings.token_signing_secret()  # no tokens signed with a missing or guessable secret
    except MissingSecret as exc:
        log.critical("the gateway cannot start: %s", exc)
        raise
    app.state.settings = settings
    app.state.rpc = RpcPool(settings.amqp_uri, size=16, context=lambda: {"request_id": current_request_id()})
    # An upload's answer waits for the owning service to check it (eoffice.intake).
    app.state.upload_rpc = RpcPool(settings.amqp_uri, size=4, timeout=settings.rpc_timeout + settings.intake_timeout,
                                   context=lambda: {"request_id": current_request_id()})
    # Readiness must answer quickly even when a service is dead.
    app.state.health_rpc = RpcPool(settings.amqp_uri, size=8, timeout=3)
    # One unit of work per worker process. Sign-in sessions are checked on every request, each in
    # one statement, on connections in autocommit (`autocommit`: no BEGIN and COMMIT round trips),
    # so as many of those as RPC proxies stay open (a smaller pool closed its overflow
    # connections on return: under load a request paid for a new PostgreSQL connection).
    app.state.db = UnitOfWork(make_engine(settings.database_url, pool_size=8),
                              reader=make_engine(settings.database_url, pool_size=16, autocommit=True))
    app.state.store = DocumentStore(settings)  # uploaded documents go straight to MinIO
    # Sessions whose refresh token expired long ago are forgotten (one worker at a time).
    forgetting = housekeeping.keep_forgetting(app.state.db, models.metadata, who="gateway")
    # Who each session acts as, as the directory said lately; emptied by the directory's events
    # about who holds what, and not used while this process does not hear them.
    directory_events = [(get_event_exchange(directory_contract.SERVICE, {}), payload.event_type) for payload in
                        (directory_contract.PostHandedOver, directory_contract.DelegationCreated,
                         directory_contract.OrganisationImported)]
    app.state.actors = actors = auth.RecentActors()
    watch = Listener(settings.amqp_uri, "directory changes", bindings=directory_events,
                     on_message=actors.clear, on_connect=actors.clear)
    actors.watching = lambda: watch.listening
    yield
    forgetting.set()
    app.state.rpc.close()
    app.state.upload_rpc.close()
    app.state.health_rpc.close()
    app.state.db.dispose()


def create_app() -> FastAPI:
    settings = get_settings()
    app = FastAPI(title="e-Office API", version="1", lifespan=lifespan,
                  openapi_url=f"{API_PREFIX}/openapi.json", docs_url=None, redoc_url=None)
    # Each router straight into the app, not through a router of the API's own: a request is
    # matched against the routes once more for each level of routers it passes through (with one
    # more level, a movement spent about a fifth of the gateway's CPU finding its route).
    for router in (health.router, auth.router, directory.router, dak.router, dak.public, files.router,
                   notifications.router, letters.router, signing.router, subscriptions.router, search.router):
        app.include_router(router, prefix=API_PREFIX, responses=problems.COMMON)
    app.include_router(web.router)  # the web client (services/gateway/web.py)
    if settings.api_docs:
        docs.install(app, f"{API_PREFIX}/docs")
    problems.install(app)
    # The last added runs first: proxy headers (if trusted), then security headers on every
    # answer, then request ids and the body limit.
    app.add_middleware(RequestContext, max_body=settings.max_upload_bytes)
    app.add_middleware(SecurityHeaders, docs_path=f"{API_PREFIX}/docs", esign_url=settings.signing_esign_url)
    if settings.trusted_proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    return app


def _log_request_ids() -> None:
    """Every log line written while a request is handled carries its id."""
    lean_log_records()
    logging.basicConfig(level=logging.INFO)
    for handler in logging.getLogger().handlers:
        handler.addFilter(RequestIdLogFilter())
        handler.setFormatter(OneLineFormatter())


_log_request_ids()
app = create_app()
