"""Dak through the gateway on the demo organisation, against the real dak and directory
services: gap-free diary numbers, sending to posts, and pending work following the post."""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from eoffice.db import make_engine
from services.dak.models import receipts
from tests.support.demo import PASSWORD, auth, demo, demo_gateway, held_post, sign_in

pytestmark = pytest.mark.live
TODAY = datetime.now(timezone(timedelta(hours=5, minutes=30))).date()


@pytest.fixture(scope="module")
def api(migrated):
    with demo_gateway(migrated, ("directory", "dak")) as client:
        yield client


def letter(**changes) -> dict:
    return {"subject": "भूमि नामांतरण हेतु आवेदन", "sender_name": "रामलाल", "received_date": TODAY.isoformat(),
            "mode": "post", **changes}


def key() -> dict:
    return {"Idempotency-Key": uuid.uuid4().hex}


def diarise(api, headers, **changes):
    return api.post("/api/v1/receipts", headers={**headers, **key()}, json=letter(**changes))


def test_diary_numbers_stay_gap_free_and_unique_under_concurrent_intake(api, migrated):
    clerks = [auth(sign_in(api, code)) for code in
              [p["code"] for p in demo("posts") if "dak_clerk" in p["roles"] and p["office_code"] == "LKO-DAK"][:2]]
    assert clerks, "the demo has dak clerks in LKO-DAK"
    # Invalid letters among the valid ones: each is refused and must not use a number.
    jobs = [(clerks[i % len(clerks)], {"mode": "pigeon"} if i % 7 == 3 else {}) for i in range(40)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda job: diarise(api, job[0], **job[1]), jobs))
    made = [a.json() for a in answers if a.status_code == 201]
    assert sum(a.status_code == 422 for a in answers) == sum(1 for _, bad in jobs if bad)
    engine = make_engine(migrated.database_url, pool_size=1)
    with engine.connect() as conn:
        serials = sorted(conn.execute(select(receipts.c.serial).where(
            receipts.c.office_code == "LKO-DAK", receipts.c.year == TODAY.year)).scalars())
    engine.dispose()
    assert serials == list(range(1, len(serials) + 1))
    assert len({r["diary_number"] for r in made}) == len(made)
    assert all(r["diary_number"].endswith(f"/{TODAY.year}/LKO-DAK") for r in made)


def test_retried_diarisation_makes_one_receipt(api):
    clerk = auth(sign_in(api, held_post("dak_clerk", "DIST-LKO")))
    same = key()
    first = api.post("/api/v1/receipts", headers={**clerk, **same}, json=letter())
    again = api.post("/api/v1/receipts", headers={**clerk, **same}, json=letter())
    assert first.status_code == again.status_code == 201
    assert first.json()["diary_number"] == again.json()["diary_number"]


def test_only_dak_clerks_diarise_and_only_the_holder_sends(api):
    officer = auth(sign_in(api, held_post("officer", "DIST-LKO")))
    assert diarise(api, officer).status_code == 403
    clerk = auth(sign_in(api, held_post("dak_clerk", "DIST-LKO")))
    receipt = diarise(api, clerk).json()
    stolen = api.post(f"/api/v1/receipts/{receipt['id']}/send", headers={**officer, **key()},
                      json={"to_post": held_post("officer", "DIST-LKO")})
    assert stolen.status_code == 403 and stolen.json()["type"] == "urn:eoffice:problem:not-current-holder"
    nowhere = api.post(f"/api/v1/receipts/{receipt['id']}/send", headers={**clerk, **key()},
                       json={"to_post": "NO-SUCH-POST"})
    assert nowhere.status_code == 422 and "NO-SUCH-POST" in nowhere.json()["detail"]


def test_pending_work_follows_the_post_to_its_new_holder(api):
    clerk = auth(sign_in(api, held_post("dak_clerk", "DIST-LKO")))
    post = held_post("officer", "DIST-LKO", last=True)  # a post no other test here needs
    receipt = diarise(api, clerk, subject="Pension arrears of a retired patwari").json()
    sent = api.post(f"/api/v1/receipts/{receipt['id']}/send", headers={**clerk, **key()},
                    json={"to_post": post, "remarks": "for necessary action"})
    assert sent.status_code == 200 and sent.json()["from_post"] == receipt["holder_post"]
    holder = auth(sign_in(api, post))
    assert receipt["id"] in {r["id"] for r in api.get("/api/v1/inbox?limit=200", headers=holder).json()["items"]}

    newcomer = next(u for u in demo("users") if not any(p["employee_id"] == u["employee_id"] and not p["end_date"]
                                                        for p in demo("postings")))
    admin = auth(sign_in(api, held_post("office_admin", "DIST-LKO")))
    handed = api.post(f"/api/v1/posts/{post}/hand-over", headers={**admin, **key()},
                      json={"employee_id": newcomer["employee_id"], "start_date": TODAY.isoformat()})
    assert handed.status_code == 200, handed.text
    signed = api.post("/api/v1/auth/sign-in", json={"email": newcomer["email"], "password": PASSWORD, "post_code": post})
    new_holder = auth(signed.json())
    assert receipt["id"] in {r["id"] for r in api.get("/api/v1/inbox?limit=200", headers=new_holder).json()["items"]}
    # And the new holder can act on it at once: receive the paper, then send it on.
    assert api.get(f"/api/v1/receipts/{receipt['id']}", headers=new_holder).json()["opened"] is True
    onward = api.post(f"/api/v1/receipts/{receipt['id']}/send", headers={**new_holder, **key()},
                      json={"to_post": receipt["holder_post"]})
    assert onward.status_code == 200


def test_pull_back_works_until_the_recipient_opens_it(api):
    clerk = auth(sign_in(api, held_post("dak_clerk", "DIST-LKO")))
    officer_post = held_post("officer", "DIST-LKO")
    officer = auth(sign_in(api, officer_post))

    def sent_receipt():
        receipt = diarise(api, clerk, physical=False).json()
        api.post(f"/api/v1/receipts/{receipt['id']}/send", headers={**clerk, **key()}, json={"to_post": officer_post})
        return receipt

    unopened = sent_receipt()
    back = api.post(f"/api/v1/receipts/{unopened['id']}/pull-back", headers={**clerk, **key()})
    assert back.status_code == 200 and back.json()["to_post"] == unopened["holder_post"]
    assert unopened["id"] not in {r["id"] for r in api.get("/api/v1/inbox?limit=200", headers=officer).json()["items"]}

    opened = sent_receipt()
    detail = api.get(f"/api/v1/receipts/{opened['id']}", headers=officer).json()
    assert [m["action"] for m in detail["movements"]] == ["diarised", "sent", "opened"]
    late = api.post(f"/api/v1/receipts/{opened['id']}/pull-back", headers={**clerk, **key()})
    assert late.status_code == 409 and "already opened" in late.json()["detail"]
    # The sender may still look at it, which does not open it for anyone.
    assert api.get(f"/api/v1/receipts/{opened['id']}", headers=clerk).status_code == 200


def test_a_physical_receipt_is_received_before_it_is_acted_on(api):
    clerk = auth(sign_in(api, held_post("dak_clerk", "DIST-LKO")))
    officer_post = held_post("officer", "DIST-LKO")
    officer = auth(sign_in(api, officer_post))
    receipt = diarise(api, clerk, physical=True).json()
    api.post(f"/api/v1/receipts/{receipt['id']}/send", headers={**clerk, **key()}, json={"to_post": officer_post})
    early = api.post(f"/api/v1/receipts/{receipt['id']}/send", headers={**officer, **key()},
                     json={"to_post": receipt["holder_post"]})
    assert early.status_code == 409 and "receive it" in early.json()["detail"]
    actions = [m["action"] for m in api.get(f"/api/v1/receipts/{receipt['id']}", headers=officer).json()["movements"]]
    assert actions[-1] == "received"
    onward = api.post(f"/api/v1/receipts/{receipt['id']}/send", headers={**officer, **key()},
                      json={"to_post": receipt["holder_post"]})
    assert onward.status_code == 200


def test_a_stranger_cannot_see_a_receipt(api):
    clerk = auth(sign_in(api, held_post("dak_clerk", "DIST-LKO")))
    receipt = diarise(api, clerk).json()
    stranger = auth(sign_in(api, held_post("section_staff", "DIST-SPR")))
    assert api.get(f"/api/v1/receipts/{receipt['id']}", headers=stranger).status_code == 404
