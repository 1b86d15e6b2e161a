"""Paging at the gateway, with no infrastructure: a list that paged by `before` (an id) takes it
as a deprecated alias of the cursor's position, never both; extra fields of a page are kept."""
from __future__ import annotations

from fastapi import Depends
from fastapi.testclient import TestClient

from services.gateway.app import create_app
from services.gateway.pages import PageRequest, page, page_request_or_before


def client() -> TestClient:
    app = create_app()

    @app.get("/api/v1/probe/list")
    def listed(at: PageRequest = Depends(page_request_or_before)):
        # As a service answers: the position asked for, and the next one after a page of ids below it.
        return page({"items": [at.model_dump()], "next": str(int(at.after or 100) - at.limit), "unread": 3})

    return TestClient(app, raise_server_exceptions=False)


def test_before_stands_for_the_position_a_cursor_would_and_the_answer_goes_on_by_cursor():
    api = client()
    first = api.get("/api/v1/probe/list", params={"limit": 2}).json()
    assert first["items"] == [{"after": None, "limit": 2}] and first["unread"] == 3  # extra fields kept
    by_cursor = api.get("/api/v1/probe/list", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    by_before = api.get("/api/v1/probe/list", params={"limit": 2, "before": 98}).json()
    assert by_cursor == by_before and by_before["items"] == [{"after": "98", "limit": 2}]
    assert "next" not in by_before and by_before["next_cursor"]


def test_cursor_and_before_together_or_a_bad_either_is_422_naming_it():
    api = client()
    cursor = api.get("/api/v1/probe/list").json()["next_cursor"]
    for params, field in [({"cursor": cursor, "before": 5}, "before"), ({"cursor": "not ours!"}, "cursor"),
                          ({"before": -1}, "query.before"), ({"before": 2**63}, "query.before")]:
        answer = api.get("/api/v1/probe/list", params=params)
        assert answer.status_code == 422, (params, answer.text)
        assert [e["field"] for e in answer.json()["errors"]] == [field], (params, answer.text)


def test_the_openapi_marks_before_deprecated():
    spec = client().get("/api/v1/openapi.json")
    for path in ("/api/v1/notifications", "/api/v1/subscriptions/{subscription_id}/deliveries"):
        params = {p["name"]: p for p in spec.json()["paths"][path]["get"]["parameters"]}
        assert params["before"]["deprecated"] is True and "cursor" in params
        assert "Deprecated" in params["before"]["description"]
