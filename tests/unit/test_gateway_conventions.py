"""The gateway's conventions, with no infrastructure: problem+json errors, request ids, size limits."""
from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from eoffice.errors import NotCurrentHolder, NotFound
from services.gateway.app import create_app
from services.gateway.requests import RequestIdLogFilter

PROBLEM = "application/problem+json"


class Note(BaseModel):
    text: str
    page: int


@pytest.fixture
def client():
    app = create_app()

    @app.get("/api/v1/probe/holder")
    def holder():
        raise NotCurrentHolder("file N-11016/6/2016-ARC-DARPG is with SO(EST)-GAD")

    @app.get("/api/v1/probe/missing")
    def missing():
        raise NotFound()

    @app.post("/api/v1/probe/note")
    def note(body: Note):
        return body

    @app.get("/api/v1/probe/crash")
    def crash():
        logging.getLogger("probe").error("about to fail")
        raise RuntimeError("database password is hunter2")

    return TestClient(app, raise_server_exceptions=False)


def test_domain_error_becomes_its_status_and_stable_type(client):
    response = client.get("/api/v1/probe/holder")
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == "urn:eoffice:problem:not-current-holder"
    assert body["detail"] == "file N-11016/6/2016-ARC-DARPG is with SO(EST)-GAD"
    assert body["request_id"] == response.headers["x-request-id"]
    assert client.get("/api/v1/probe/missing").json()["status"] == 404


def test_invalid_body_names_each_field(client):
    response = client.post("/api/v1/probe/note", json={"page": "seven"})
    assert response.status_code == 422 and response.headers["content-type"] == PROBLEM
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields == {"body.text", "body.page"}


def test_unexpected_error_reveals_nothing_but_the_request_id(client):
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    handler.addFilter(RequestIdLogFilter())
    logging.getLogger("probe").addHandler(handler)
    try:
        response = client.get("/api/v1/probe/crash", headers={"X-Request-ID": "trace-12345678"})
    finally:
        logging.getLogger("probe").removeHandler(handler)
    assert [record.request_id for record in records] == ["trace-12345678"]
    assert response.status_code == 500
    assert "hunter2" not in response.text
    assert response.json()["request_id"] == "trace-12345678"
    assert response.headers["x-request-id"] == "trace-12345678"


def test_request_id_is_made_when_missing_or_unsafe(client):
    made = client.get("/api/v1/health/live")
    assert made.status_code == 200 and len(made.headers["x-request-id"]) == 32
    unsafe = client.get("/api/v1/health/live", headers={"X-Request-ID": "bad id\nwith newline"})
    assert unsafe.headers["x-request-id"] != "bad id\nwith newline"


def test_unknown_path_is_a_problem_too(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404 and response.json()["type"] == "urn:eoffice:problem:not-found"


def test_body_over_the_limit_is_refused_before_it_is_read(client):
    from eoffice.settings import get_settings
    limit = get_settings().max_upload_bytes
    response = client.post("/api/v1/probe/note", content=b"x" * (limit + 1),
                           headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["limit"] == limit
