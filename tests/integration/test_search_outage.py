"""Elasticsearch stopped for five minutes while receipts are diarised and moved: nothing is
lost, the index catches up once it is back, and the consistency check finds no difference.
Slow (and it stops the Elasticsearch everyone shares): `deploy/eoffice slow`."""

from __future__ import annotations

import time
import uuid

import pytest

from eoffice.elastic import make_client
from services.search import rebuild
from tests.support.demo import auth, demo_gateway, held_post, sign_in
from tests.support.search import drop_search_indices
from tests.support.system import part, wait_until

pytestmark = [pytest.mark.live, pytest.mark.slow]
OUTAGE = 300  # seconds


@pytest.fixture(scope="module")
def api(migrated):
    drop_search_indices(migrated)
    with demo_gateway(migrated, ("directory", "dak", "files", "search")) as client:
        # Search answering means its event queues are bound (one consumer declares them all):
        # an event published before that has no queue to reach (a fresh vhost's first start).
        wait_until(lambda: client.app.state.rpc.call("search", "status"), 60, "search answering")
        yield client


@pytest.mark.timeout(OUTAGE + 600)
def test_five_minutes_without_elasticsearch_lose_nothing(api, settings, rpc):
    clerk_post, officer_post = held_post("dak_clerk", "DIST-LKO"), held_post("officer", "DIST-LKO")
    clerk = auth(sign_in(api, clerk_post))
    marker = f"outage{uuid.uuid4().hex[:6]}"
    made = []

    def diarise(i: int) -> str:
        answer = api.post(
            "/api/v1/receipts",
            headers={**clerk, "Idempotency-Key": uuid.uuid4().hex},
            json={
                "subject": f"{marker} letter {i}",
                "sender_name": "रामलाल",
                "mode": "post",
                "received_date": time.strftime("%Y-%m-%d"),
            },
        )
        assert answer.status_code == 201, answer.text
        return answer.json()["id"]

    part("stop", "elasticsearch")
    try:
        deadline = time.monotonic() + OUTAGE
        i = 0
        while time.monotonic() < deadline:
            receipt_id = diarise(i)
            if i % 2:
                moved = api.post(
                    f"/api/v1/receipts/{receipt_id}/send",
                    headers={**clerk, "Idempotency-Key": uuid.uuid4().hex},
                    json={"to_post": officer_post},
                )
                assert moved.status_code == 200, moved.text
            made.append(receipt_id)
            searched = api.get("/api/v1/search", headers=clerk, params={"q": marker})
            assert searched.status_code == 503  # the engine is away: Retry-After, never a 500
            i += 1
            time.sleep(3)
    finally:
        part("start", "elasticsearch")
    wait_until(
        lambda: api.app.state.rpc.call("search", "status")["pending"] == 0, 120, "the index caught up", interval=1
    )

    def found() -> set[str]:
        page = api.get("/api/v1/search", headers=clerk, params={"q": marker, "limit": 50}).json()
        ids = {item["item_id"] for item in page["items"]}
        while cursor := page["next_cursor"]:
            page = api.get("/api/v1/search", headers=clerk, params={"q": marker, "limit": 50, "cursor": cursor}).json()
            ids |= {item["item_id"] for item in page["items"]}
        return ids

    # Indexed once nothing is pending; searchable at the index's next refresh (every 500 ms).
    wait_until(lambda: found() == set(made), 10, "every receipt of the outage found", interval=1)
    report = rebuild.check(make_client(settings), settings.index_prefix, rpc.call, say=print)
    assert (report["missing"], report["stale"], report["extra"]) == ([], [], [])
