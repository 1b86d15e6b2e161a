"""Liveness and readiness of the whole system, as the gateway sees it."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from eoffice import health
from eoffice.migrate import SERVICES
from services.dak.ocr_worker import QUEUE as OCR_QUEUE

router = APIRouter(prefix="/health", tags=["health"])


class Live(BaseModel):
    status: str


class Check(BaseModel):
    status: str
    model_config = {"extra": "allow"}


class Ready(BaseModel):
    status: str  # "ok" or "unhealthy"
    checks: dict[str, Check]


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


@router.get("/ready", response_model=Ready, summary="Every service and infrastructure part answers",
            responses={503: {"model": Ready, "description": "Some part is down"}})
def ready(request: Request):
    state = request.app.state
    settings = state.settings
    with ThreadPoolExecutor(max_workers=len(SERVICES) + 4) as pool:
        futures = {f"service:{name}": pool.submit(_service, state.health_rpc, name) for name in SERVICES}
        futures["postgresql"] = pool.submit(health.postgres, state.db)
        futures["rabbitmq"] = pool.submit(health.rabbitmq, settings)
        futures["elasticsearch"] = pool.submit(health.elasticsearch, settings)
        futures["worker:dak_ocr"] = pool.submit(health.worker_queue, settings, OCR_QUEUE)
        minio = pool.submit(health.minio_nodes, settings)
        checks = {name: future.result() for name, future in futures.items()}
        checks.update(minio.result())
    status = "ok" if all(check["status"] == "ok" for check in checks.values()) else "unhealthy"
    return JSONResponse(Ready(status=status, checks=checks).model_dump(),
                        status_code=200 if status == "ok" else 503)
