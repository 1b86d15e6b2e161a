"""Idempotency keys through the gateway, on the demo organisation, against the real directory,
dak and files services: a key belongs to the user and post that sent it. Another caller who
sends the same key gets their own work done and never sees the first caller's answer; the same
caller retrying gets the first answer again and nothing is done twice; the same caller reusing
a key for a different request is refused (422) and nothing changes."""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, update

from eoffice import housekeeping
from eoffice.db import UnitOfWork, make_engine
from services.dak.models import idempotency_keys as dak_keys
from services.dak.models import metadata as dak_metadata
from services.dak.models import movements, receipts
from services.files.models import files
from tests.support.demo import auth, demo_gateway, file_held_by, held_post, sign_in

pytestmark = pytest.mark.live
TODAY = datetime.now(timezone(timedelta(hours=5, minutes=30))).date()
LKO, SPR = "DIST-LKO", "DIST-SPR"


@pytest.fixture(scope="module")
def api(migrated):
    with demo_gateway(migrated, ("directory", "dak", "files")) as client:
        yield client


def count(settings, query) -> int:
    """How many rows `query` finds, read straight from the database."""
    engine = make_engine(settings.database_url, pool_size=1)
    with engine.connect() as conn:
        found = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    engine.dispose()
    return found


def clerk(api, district: str) -> dict:
    return auth(sign_in(api, held_post("dak_clerk", district)))


def letter(**changes) -> dict:
    return {"subject": f"Application {uuid.uuid4().hex[:8]}", "sender_name": "Ramesh Chandra",
            "sender_mobile": "9876543210", "received_date": TODAY.isoformat(), "mode": "post", **changes}


def diarise(api, headers: dict, key: str, body: dict):
    return api.post("/api/v1/receipts", headers={**headers, "Idempotency-Key": key}, json=body)


def send(api, headers: dict, key: str, receipt_id: str, to_post: str):
    return api.post(f"/api/v1/receipts/{receipt_id}/send", headers={**headers, "Idempotency-Key": key},
                    json={"to_post": to_post})


def receipt(api, headers: dict, receipt_id: str) -> dict:
    answer = api.get(f"/api/v1/receipts/{receipt_id}", headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_clerk_in_another_district_reusing_a_key_gets_their_own_receipt(api, migrated):
    lucknow, key = clerk(api, LKO), uuid.uuid4().hex
    body = letter(sender_name="Lucknow sender", sender_mobile="9811111111")
    theirs = diarise(api, lucknow, key, body)
    assert theirs.status_code == 201, theirs.text
    theirs = theirs.json()

    # Another clerk's letter under the same key: a receipt of their own, nothing of Lucknow's.
    sitapur = clerk(api, SPR)
    mine = diarise(api, sitapur, key, letter(sender_name="Sitapur sender", sender_mobile="9822222222"))
    assert mine.status_code == 201, mine.text
    assert mine.json()["id"] != theirs["id"] and mine.json()["office_code"] == "SPR-DAK"
    assert mine.json()["sender_name"] == "Sitapur sender" and mine.json()["diary_number"].endswith("/SPR-DAK")
    for secret in ("id", "subject", "sender_name", "sender_mobile", "diary_number", "tracking_code"):
        assert theirs[secret] not in mine.text, secret

    # Even the very same letter under the same key is a new receipt for another caller.
    same = diarise(api, auth(sign_in(api, "DAKCLK2-SPR")), key, body)
    assert same.status_code == 201, same.text
    assert same.json()["id"] != theirs["id"] and same.json()["office_code"] == "SPR-DAK"
    assert theirs["diary_number"] not in same.text and theirs["tracking_code"] not in same.text
    assert count(migrated, select(receipts.c.id).where(receipts.c.subject == body["subject"])) == 2


def test_another_user_reusing_a_key_for_a_new_file_gets_their_own_file(api):
    lko_post, spr_post = held_post("section_staff", LKO), held_post("section_staff", SPR)
    lucknow, sitapur = auth(sign_in(api, lko_post)), auth(sign_in(api, spr_post))
    file_held_by(api, lucknow, lko_post)  # each office gets subject head "1"
    file_held_by(api, sitapur, spr_post)
    key = {"Idempotency-Key": uuid.uuid4().hex}
    theirs = api.post("/api/v1/files", headers={**lucknow, **key},
                      json={"subject_head": "1", "subject": "Lucknow land"})
    assert theirs.status_code == 201, theirs.text
    mine = api.post("/api/v1/files", headers={**sitapur, **key}, json={"subject_head": "1", "subject": "Sitapur well"})
    assert mine.status_code == 201, mine.text
    assert mine.json()["id"] != theirs.json()["id"]
    assert mine.json()["subject"] == "Sitapur well" and mine.json()["holder_post"] == spr_post
    assert theirs.json()["file_number"] not in mine.text and "Lucknow" not in mine.text


def test_a_send_by_another_user_with_a_reused_key_moves_their_receipt(api):
    lucknow, sitapur, key = clerk(api, LKO), clerk(api, SPR), uuid.uuid4().hex
    first = diarise(api, lucknow, uuid.uuid4().hex, letter()).json()
    second = diarise(api, sitapur, uuid.uuid4().hex, letter()).json()
    lko_officer, spr_officer = held_post("officer", LKO), held_post("officer", SPR)

    assert send(api, lucknow, key, first["id"], lko_officer).status_code == 200
    moved = send(api, sitapur, key, second["id"], spr_officer)
    assert moved.status_code == 200, moved.text
    assert moved.json()["receipt_id"] == second["id"] and moved.json()["to_post"] == spr_officer
    assert not moved.json()["repeated"]
    now = receipt(api, auth(sign_in(api, spr_officer)), second["id"])
    assert now["holder_post"] == spr_officer
    assert [m["action"] for m in now["movements"]][:2] == ["diarised", "sent"]


def test_the_same_user_reusing_a_key_for_another_request_is_refused_and_nothing_changes(api, migrated):
    lucknow, key = clerk(api, LKO), uuid.uuid4().hex
    made = diarise(api, lucknow, key, letter())
    assert made.status_code == 201
    other = letter()
    refused = diarise(api, lucknow, key, other)
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["type"] == "urn:eoffice:problem:invalid-input" and problem["field"] == "Idempotency-Key"
    assert "different request" in problem["detail"]
    assert count(migrated, select(receipts.c.id).where(receipts.c.subject == other["subject"])) == 0

    # A send: the key that sent the receipt to one post does not send it to another.
    officer, other_officer = held_post("officer", LKO), held_post("officer", LKO, last=True)
    send_key = uuid.uuid4().hex
    assert send(api, lucknow, send_key, made.json()["id"], officer).status_code == 200
    assert api.post(f"/api/v1/receipts/{made.json()['id']}/pull-back",
                    headers={**lucknow, "Idempotency-Key": uuid.uuid4().hex}).status_code == 200
    again = send(api, lucknow, send_key, made.json()["id"], other_officer)
    assert again.status_code == 422 and again.json()["field"] == "Idempotency-Key"
    assert receipt(api, lucknow, made.json()["id"])["holder_post"] == held_post("dak_clerk", LKO)
    assert count(migrated, select(movements.c.id).where(movements.c.receipt_id == made.json()["id"],
                                                      movements.c.to_post == other_officer)) == 0


def test_the_same_user_retrying_gets_the_same_answer_and_the_work_is_done_once(api, migrated):
    lucknow, key = clerk(api, LKO), uuid.uuid4().hex
    body = letter()
    first, again = diarise(api, lucknow, key, body), diarise(api, lucknow, key, body)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert count(migrated, select(receipts.c.id).where(receipts.c.subject == body["subject"])) == 1

    officer, send_key = held_post("officer", LKO), uuid.uuid4().hex
    sent = send(api, lucknow, send_key, first.json()["id"], officer)
    resent = send(api, lucknow, send_key, first.json()["id"], officer)
    assert sent.status_code == resent.status_code == 200 and resent.json() == sent.json()
    assert count(migrated, select(movements.c.id).where(movements.c.receipt_id == first.json()["id"],
                                                      movements.c.action == "sent")) == 1


def test_two_calls_at_once_with_one_key_make_one_receipt(api, migrated):
    lucknow, key, body = clerk(api, LKO), uuid.uuid4().hex, letter()
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: diarise(api, lucknow, key, body), range(4)))
    assert [a.status_code for a in answers] == [201] * 4, [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert count(migrated, select(receipts.c.id).where(receipts.c.subject == body["subject"])) == 1


def test_a_refused_call_leaves_its_key_free(api):
    lucknow, key = clerk(api, LKO), uuid.uuid4().hex
    refused = diarise(api, lucknow, key, letter(physical=False))  # electronic, but no scan
    assert refused.status_code == 422 and refused.json()["field"] == "scans"
    assert diarise(api, lucknow, key, letter()).status_code == 201


def test_a_file_retried_is_the_same_file(api, migrated):
    post = held_post("section_staff", LKO)
    headers = auth(sign_in(api, post))
    file_held_by(api, headers, post)
    key = {"Idempotency-Key": uuid.uuid4().hex}
    body = {"subject_head": "1", "subject": f"Encroachment {uuid.uuid4().hex[:8]}"}
    first = api.post("/api/v1/files", headers={**headers, **key}, json=body)
    again = api.post("/api/v1/files", headers={**headers, **key}, json=body)
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert count(migrated, select(files.c.id).where(files.c.subject == body["subject"])) == 1
    other = api.post("/api/v1/files", headers={**headers, **key}, json={**body, "subject": "Another matter"})
    assert other.status_code == 422 and other.json()["field"] == "Idempotency-Key"


def test_a_key_past_its_keeping_time_is_a_new_request(api, migrated):
    """Keys are kept EOFFICE_KEEP_IDEMPOTENCY_KEYS_DAYS days (`eoffice.housekeeping`): within
    that, the key with another letter is refused; once forgotten, it is a new request."""
    sitapur, key = clerk(api, SPR), uuid.uuid4().hex
    first = diarise(api, sitapur, key, letter())
    assert first.status_code == 201, first.text
    assert diarise(api, sitapur, key, letter()).status_code == 422

    engine = make_engine(migrated.database_url, pool_size=2)
    try:
        with engine.begin() as conn:  # the key, a month older
            aged = conn.execute(update(dak_keys).where(dak_keys.c.answer["id"].astext == first.json()["id"])
                                .values(created_at=dak_keys.c.created_at - timedelta(days=31))).rowcount
        assert aged == 1
        assert housekeeping.prune(UnitOfWork(engine), dak_metadata)["dak.idempotency_keys"] >= 1
    finally:
        engine.dispose()

    later = letter()
    again = diarise(api, sitapur, key, later)
    assert again.status_code == 201, again.text
    assert again.json()["id"] != first.json()["id"] and again.json()["subject"] == later["subject"]
