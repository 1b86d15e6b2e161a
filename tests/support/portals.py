"""Helpers of the portal subscription tests: moving files to make events, and the events the
files service committed (the truth a subscriber's deliveries are compared with)."""

from __future__ import annotations

import uuid

from sqlalchemy import text

DEALER, SO = "RO1(EST)-GAD", "SO(EST)-GAD"
HEAD = "11017"  # the subject head the tests' files are opened under, in GAD-EST


def key() -> dict:
    return {"Idempotency-Key": uuid.uuid4().hex}


def files_moved(api, count: int, remarks: str = "Please examine") -> list[str]:
    """Opens `count` files as the dealer and sends each to the SO: two events a file."""
    ids = []
    for i in range(count):
        made = api.post(
            "/api/v1/files", headers={**api.dealer, **key()}, json={"subject_head": HEAD, "subject": f"Portal case {i}"}
        )
        assert made.status_code == 201, made.text
        ids.append(made.json()["id"])
    for file_id in ids:
        sent = api.post(
            f"/api/v1/files/{file_id}/send", headers={**api.dealer, **key()}, json={"to_post": SO, "remarks": remarks}
        )
        assert sent.status_code == 200, sent.text
    return ids


def emitted(db, file_ids: list[str]) -> list[dict]:
    """The events the files service committed about these files, in commit order: the truth."""
    with db.transaction() as session:
        rows = (
            session.execute(
                text(
                    "SELECT envelope FROM files.outbox WHERE envelope->>'subject' = ANY(:ids) ORDER BY created_at, id"
                ),
                {"ids": file_ids},
            )
            .scalars()
            .all()
        )
    return list(rows)


def per_file(events: list[dict]) -> dict[str, list[str]]:
    order: dict[str, list[str]] = {}
    for event in events:
        order.setdefault(event["subject"], []).append(event["id"])
    return order
