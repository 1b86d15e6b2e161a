"""The gateway's readiness endpoint: every service and infrastructure part, and what it says
when one of them is down: to the system admin, which part; to anyone else, only whether the
system is ready."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from eoffice.migrate import SERVICES
from services.directory import load
from services.gateway.app import create_app
from tests.support.demo import auth, post_with_role, sign_in
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
    assert load.load(load.DEMO, load.DEMO_PASSWORD).rejected == []
    with TestClient(create_app()) as client:
        client.operator = wait_until(lambda: auth(sign_in(client, "SYSADM-GAD-IT")), 60, "the system admin signed in")
        yield client


def ready(client, headers: dict | None = None):
    """Readiness as the system admin sees it (the default), or with `headers`."""
    response = client.get("/api/v1/health/ready", headers=client.operator if headers is None else headers)
    return response.status_code, response.json()


def test_the_public_learns_only_whether_it_is_ready(gateway, settings):
    wait_until(lambda: ready(gateway)[0] == 200, 60, "all parts ready")
    clerk = auth(sign_in(gateway, post_with_role("dak_clerk", "LKO")))
    for headers in ({}, clerk):
        status, body = ready(gateway, headers)
        assert (status, body) == (200, {"status": "ready"})
    status, body = ready(gateway, {"Authorization": "Bearer not-a-token"})
    assert status == 401  # a token that is sent is checked, not silently ignored
    port = settings.minio_endpoints[-1].rsplit(":", 1)[1]
    part("stop", f"minio-{port}")
    try:
        status, body = ready(gateway, {})
        assert (status, body) == (503, {"status": "not-ready"})
        assert all(endpoint not in str(body) for endpoint in settings.minio_endpoints)
    finally:
        part("start", f"minio-{port}")
    wait_until(lambda: ready(gateway)[0] == 200, 60, "ready again after the node returned")


def test_ready_reports_every_service_and_part(gateway, settings):
    status, body = wait_until(lambda: (r := ready(gateway))[0] == 200 and r, 60, "all parts ready")
    expected = ({f"service:{name}" for name in SERVICES} | {"postgresql", "rabbitmq", "elasticsearch", "minio:cluster",
                                                        "worker:dak_ocr"}
                | {f"minio:{endpoint}" for endpoint in settings.minio_endpoints})
    assert set(body["checks"]) == expected
    assert body["status"] == "ready"
    assert all(check["status"] == "ok" for check in body["checks"].values())


def test_unhealthy_while_a_minio_node_is_down(gateway, settings):
    port = settings.minio_endpoints[-1].rsplit(":", 1)[1]
    part("stop", f"minio-{port}")
    try:
        status, body = ready(gateway)
        assert status == 503 and body["status"] == "not-ready"
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
