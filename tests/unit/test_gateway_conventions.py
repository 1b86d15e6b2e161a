"""The gateway's conventions, with no infrastructure: problem+json errors, request ids, size limits."""
from __future__ import annotations

import logging
from typing import get_args

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from eoffice.errors import InvalidInput, NotCurrentHolder, NotFound
from eoffice.validation import RequestModel
from services.gateway.app import create_app
from services.gateway.requests import RequestIdLogFilter

PROBLEM = "application/problem+json"


class Note(RequestModel):
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

    @app.get("/api/v1/probe/due")
    def due():
        raise InvalidInput("due_date 2026-12-06 is a Sunday", field="due_date", type="not_working_day")

    @app.get("/api/v1/probe/frozen")
    def frozen():
        raise InvalidInput("mode cannot change", field="mode", errors=[
            {"field": "mode", "message": "frozen", "type": "frozen_once_moved"}, {"field": "x", "message": "?"}])

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


def test_each_error_item_carries_a_stable_type(client):
    """Beside `field` and `message`, each item of `errors` says which check failed: pydantic's
    error type, or a service's own (the problem's code when a service named none)."""
    invalid = client.post("/api/v1/probe/note", json={"page": "seven", "colour": "green"}).json()["errors"]
    assert {(e["field"], e["type"]) for e in invalid} == {
        ("body.text", "missing"), ("body.page", "int_parsing"), ("body.colour", "extra_forbidden")}
    due = client.get("/api/v1/probe/due").json()
    assert due["field"] == "due_date"
    assert due["errors"] == [{"field": "due_date", "message": "due_date 2026-12-06 is a Sunday",
                              "type": "not_working_day"}]
    assert [(e["field"], e["type"]) for e in client.get("/api/v1/probe/frozen").json()["errors"]] == [
        ("mode", "frozen_once_moved"), ("x", "invalid_input")]


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


def _models_in(annotation) -> set[type[BaseModel]]:
    """The pydantic models an annotation names, and every model inside those."""
    found: set[type[BaseModel]] = set()
    todo = [annotation]
    while todo:
        kind = todo.pop()
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            if kind not in found:
                found.add(kind)
                todo.extend(field.annotation for field in kind.model_fields.values())
        todo.extend(get_args(kind))
    return found


def _routes(routes=None):
    """Every API route of the gateway, those of included routers too."""
    from fastapi.routing import APIRoute
    for route in create_app().routes if routes is None else routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from _routes(route.original_router.routes)


def test_every_json_body_refuses_unknown_fields_and_loose_booleans():
    """A body is a RequestModel all the way down: a misspelt field is refused, not dropped, and
    `true`/`false` are the only booleans (eoffice.validation.RequestModel)."""
    from eoffice.validation import RequestModel
    loose = {f"{route.path} {model.__name__}" for route in _routes() if route.body_field is not None
             and route.body_field.field_info.__class__.__name__ == "Body"
             for model in _models_in(route.body_field.field_info.annotation) if not issubclass(model, RequestModel)}
    assert loose == set()


def test_no_answer_refuses_what_a_service_says_beyond_the_request():
    """An answer model built on a request model ignores extra fields (models.ANSWER): a service
    answering one more field than the request named must not turn a done request into a 500."""
    forbidding = {f"{route.path} {model.__name__}" for route in _routes() if route.response_model is not None
                  for model in _models_in(route.response_model) if model.model_config.get("extra") == "forbid"}
    assert forbidding == set()
