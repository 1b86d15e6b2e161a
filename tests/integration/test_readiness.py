"""The gateway's readiness endpoint: every service and infrastructure part, and what it says
when one of them is down."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from eoffice.migrate import SERVICES
from services.gateway.app import create_app
from tests.support.system import part, service_process, wait_until

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def services(migrated):
    procs = {name: service_process(name).start() for name in (*SERVICES, "dak_ocr")}
    yield procs
    for proc in procs.values():
        proc.stop()


@pytest.fixture(scope="module")
def gateway(services):
    with TestClient(create_app()) as client:
        yield client


def ready(client):
    response = client.get("/api/v1/health/ready")
    return response.status_code, response.json()


def test_ready_reports_every_service_and_part(gateway, settings):
    status, body = wait_until(lambda: (r := ready(gateway))[0] == 200 and r, 60, "all parts ready")
    expected = ({f"service:{name}" for name in SERVICES} | {"postgresql", "rabbitmq", "elasticsearch", "minio:cluster",
                                                        "worker:dak_ocr"}
                | {f"minio:{endpoint}" for endpoint in settings.minio_endpoints})
    assert set(body["checks"]) == expected
    assert body["status"] == "ok"
    assert all(check["status"] == "ok" for check in body["checks"].values())


def test_unhealthy_while_a_minio_node_is_down(gateway, settings):
    port = settings.minio_endpoints[-1].rsplit(":", 1)[1]
    part("stop", f"minio-{port}")
    try:
        status, body = ready(gateway)
        assert status == 503 and body["status"] == "unhealthy"
        assert body["checks"][f"minio:127.0.0.1:{port}"]["status"] == "down"
        assert body["checks"]["minio:127.0.0.1:9001"]["status"] == "ok"
    finally:
        part("start", f"minio-{port}")
    wait_until(lambda: ready(gateway)[0] == 200, 60, "ready again after the node returned")


def test_unhealthy_while_a_service_is_down(gateway, services):
    services["signing"].stop()
    try:
        status, body = ready(gateway)
        assert status == 503
        assert body["checks"]["service:signing"]["status"] == "down"
        assert body["checks"]["service:files"]["status"] == "ok"
    finally:
        services["signing"] = service_process("signing").start()
    wait_until(lambda: ready(gateway)[0] == 200, 60, "ready again after the service returned")
