"""Liveness and readiness of the whole system, as the gateway sees it.

Readiness tells everyone only `ready` or `not-ready` (200 or 503): enough for a load balancer
or a container health check. Which part is down, with internal addresses and error texts, is
for operators: a request with the system admin's access token. Not "any request from
loopback": the gateway listens on 127.0.0.1 behind a reverse proxy on the same machine, where
every outside request comes from loopback too."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError

from eoffice import health
from eoffice.actor import Actor
from eoffice.contracts.dak import OCR_QUEUE
from eoffice.errors import Unavailable
from eoffice.migrate import SERVICES
from services.gateway import auth

router = APIRouter(prefix="/health", tags=["health"])


class Live(BaseModel):
    status: str


class Check(BaseModel):
    status: str
    model_config = {"extra": "allow"}


class Ready(BaseModel):
    status: str = Field(description="ready or not-ready")
    checks: dict[str, Check] | None = Field(None, description="each part and its state: for the system admin only")


@router.get("/live", response_model=Live, summary="The gateway process answers")
def live() -> Live:
    return Live(status="ok")


def _service(pool, name: str) -> dict:
    try:
        report = pool.call(name, "health")
    except Exception as exc:
        return {"status": "down", "error": f"{type(exc).__name__}: {exc}"[:300]}
    failed = {k: v for k, v in report.get("checks", {}).items() if v.get("status") != "ok"}
    return {"status": "ok" if report.get("status") == "ok" else "down", **({"failed": failed} if failed else {})}


def _operator(request: Request, credentials: HTTPAuthorizationCredentials | None) -> bool:
    """True for a request with a valid system admin token; a token that is sent must be valid
    (NotSignedIn otherwise), so an operator is not shown less without being told why."""
    if credentials is None:
        return False
    try:
        who = auth.current(request, credentials)[0]
    except (SQLAlchemyError, Unavailable):
        # PostgreSQL (the session) or the directory (the actor afresh) is down: a signed,
        # unexpired token still names its holder, and this is when the operator most needs
        # the details.
        who = Actor.model_validate(auth.verified_claims(request, credentials.credentials)["act"])
    return who.has_role("system_admin")


@router.get("/ready", response_model=Ready, response_model_exclude_none=True,
            summary="Every service and infrastructure part answers (the parts: system admin only)",
            responses={503: {"model": Ready, "description": "Some part is down"}})
def ready(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(auth.bearer)):
    operator = _operator(request, credentials)
    state = request.app.state
    settings = state.settings
    with ThreadPoolExecutor(max_workers=len(SERVICES) + 4) as pool:
        services = {name: pool.submit(_service, state.health_rpc, name) for name in SERVICES}
        queues = pool.submit(health.queue_consumers, settings, [*(f"rpc-{name}" for name in SERVICES), OCR_QUEUE])
        futures = {"postgresql": pool.submit(health.postgres, state.db),
                   "rabbitmq": pool.submit(health.rabbitmq, settings),
                   "elasticsearch": pool.submit(health.elasticsearch, settings)}
        minio = pool.submit(health.minio_nodes, settings)
        checks = {name: future.result() for name, future in futures.items()}
        consumed = queues.result()
        for name, future in services.items():
            # Down when nothing consumes its queue (killed just now), or when it says so.
            checks[f"service:{name}"] = (consumed[f"rpc-{name}"] if consumed[f"rpc-{name}"]["status"] != "ok"
                                         else future.result())
        checks["worker:dak_ocr"] = consumed[OCR_QUEUE]
        checks.update(minio.result())
    status = "ready" if all(check["status"] == "ok" for check in checks.values()) else "not-ready"
    return JSONResponse(Ready(status=status, checks=checks if operator else None).model_dump(exclude_none=True),
                        status_code=200 if status == "ready" else 503)
