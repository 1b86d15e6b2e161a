"""Dak through the gateway on the demo organisation, against the real dak and directory
services: gap-free diary numbers, sending to posts, and pending work following the post."""
from __future__ import annotations

import base64
import json
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from eoffice.db import UnitOfWork, make_engine
from services.dak.models import outbox, receipts
from services.dak.receipts import numbered
from tests.support.demo import (
    PASSWORD,
    auth,
    days_off,
    demo,
    demo_gateway,
    file_held_by,
    held_post,
    sign_in,
    working_day,
)

pytestmark = pytest.mark.live
TODAY = datetime.now(timezone(timedelta(hours=5, minutes=30))).date()


@pytest.fixture(scope="module")
def api(migrated):
    with demo_gateway(migrated, ("directory", "dak", "files")) as client:
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
              [p["code"] for p in demo("posts") if "dak_clerk" in p["roles"] and p["office_code"] == "LKO-DAK"]]
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


def bare_receipt(office: str) -> dict:
    """A receipt row with what the table requires and nothing else."""
    return {"id": str(uuid.uuid4()), "office_code": office, "year": TODAY.year, "subject": "s", "sender_name": "n",
            "received_date": TODAY, "mode": "post", "language": "en", "security_grading": "normal",
            "physical": True, "holder_post": "DAK-CLERK", "diarised_by": "clerk"}


def test_the_first_numbers_of_a_diary_year_are_gap_free_when_taken_at_once(migrated):
    """The year's first receipt makes its office's counter row; several taking their numbers
    at that moment, each in its own transaction, still get 1..n, each once. Each holds its
    transaction open a moment after taking its number, as diarising does: the others find no
    row yet and try to make it meanwhile."""
    office, takers = f"T-{uuid.uuid4().hex[:8]}", 8
    engine = make_engine(migrated.database_url, pool_size=takers)
    uow, together = UnitOfWork(engine), threading.Barrier(takers)

    def take(_):
        together.wait(timeout=10)
        with uow.transaction() as session:
            serial = numbered(session, receipt=bare_receipt(office), movement={
                "action": "diarised", "to_post": "DAK-CLERK", "by_user": "clerk"})["serial"]
            time.sleep(0.2)
            return serial
    try:
        with ThreadPoolExecutor(max_workers=takers) as pool:
            first = list(pool.map(take, range(takers)))
            later = list(pool.map(take, range(takers)))
    finally:
        engine.dispose()
    assert sorted(first) == list(range(1, takers + 1))
    assert sorted(later) == list(range(takers + 1, 2 * takers + 1))


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
    assert stolen.status_code == 404  # the officer never had it: not even that it exists
    nowhere = api.post(f"/api/v1/receipts/{receipt['id']}/send", headers={**clerk, **key()},
                       json={"to_post": "NO-SUCH-POST"})
    assert nowhere.status_code == 422 and "NO-SUCH-POST" in nowhere.json()["detail"]
    assert nowhere.json()["field"] == "to_post"  # the service's answer names the field
    # Once the clerk has sent it on, they may still see it, but not act on it.
    assert send(api, clerk, receipt["id"], to_post=held_post("officer", "DIST-LKO", last=True)).status_code == 200
    again = api.post(f"/api/v1/receipts/{receipt['id']}/send", headers={**clerk, **key()},
                     json={"to_post": held_post("officer", "DIST-LKO")})
    assert again.status_code == 403 and again.json()["type"] == "urn:eoffice:problem:not-current-holder"


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
    signed = api.post("/api/v1/auth/sign-in",
                      json={"email": newcomer["email"], "password": PASSWORD, "post_code": post})
    new_holder = auth(signed.json())
    assert receipt["id"] in {r["id"] for r in api.get("/api/v1/inbox?limit=200", headers=new_holder).json()["items"]}
    # And the new holder can act on it at once: receive the paper, then send it on.
    assert api.get(f"/api/v1/receipts/{receipt['id']}", headers=new_holder).json()["opened"] is True
    assert api.post(f"/api/v1/receipts/{receipt['id']}/receive", headers={**new_holder, **key()}).status_code == 200
    onward = api.post(f"/api/v1/receipts/{receipt['id']}/send", headers={**new_holder, **key()},
                      json={"to_post": receipt["holder_post"]})
    assert onward.status_code == 200


def test_pull_back_works_until_the_recipient_opens_it(api):
    clerk = auth(sign_in(api, held_post("dak_clerk", "DIST-LKO")))
    officer_post = held_post("officer", "DIST-LKO")
    officer = auth(sign_in(api, officer_post))

    def sent_receipt():
        receipt = diarise(api, clerk).json()
        api.post(f"/api/v1/receipts/{receipt['id']}/send", headers={**clerk, **key()}, json={"to_post": officer_post})
        return receipt

    unopened = sent_receipt()
    back = api.post(f"/api/v1/receipts/{unopened['id']}/pull-back", headers={**clerk, **key()})
    assert back.status_code == 200 and back.json()["to_post"] == unopened["holder_post"]
    assert unopened["id"] not in {r["id"] for r in api.get("/api/v1/inbox?limit=200", headers=officer).json()["items"]}

    opened = sent_receipt()
    detail = api.get(f"/api/v1/receipts/{opened['id']}", headers=officer).json()
    assert [m["action"] for m in detail["movements"]] == ["diarised", "sent", "opened"]
    assert all(m["at"] for m in detail["movements"])  # the opening this answer made, with its time
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
    # Opening it shows the officer the details; the paper still has to reach them.
    assert api.get(f"/api/v1/receipts/{receipt['id']}", headers=officer).json()["received"] is False
    still = api.post(f"/api/v1/receipts/{receipt['id']}/close", headers={**officer, **key()}, json={"remarks": "x"})
    assert still.status_code == 409
    received = api.post(f"/api/v1/receipts/{receipt['id']}/receive", headers={**officer, **key()})
    assert received.status_code == 200 and received.json()["action"] == "received"
    actions = [m["action"] for m in api.get(f"/api/v1/receipts/{receipt['id']}", headers=officer).json()["movements"]]
    assert actions == ["diarised", "sent", "opened", "received"]
    onward = api.post(f"/api/v1/receipts/{receipt['id']}/send", headers={**officer, **key()},
                      json={"to_post": receipt["holder_post"]})
    assert onward.status_code == 200


def test_a_stranger_cannot_see_a_receipt(api):
    clerk = auth(sign_in(api, held_post("dak_clerk", "DIST-LKO")))
    receipt = diarise(api, clerk).json()
    stranger = auth(sign_in(api, held_post("section_staff", "DIST-SPR")))
    assert api.get(f"/api/v1/receipts/{receipt['id']}", headers=stranger).status_code == 404


def test_work_cannot_be_sent_beyond_the_senders_district(api):
    """A post of another district is refused as a recipient exactly as a post that does not
    exist (the directory does not show it to the sender either), for a receipt, a copy of it and
    a file, and nothing moves: a district's work never lands in another's, where its holder
    would see it for good."""
    clerk = auth(sign_in(api, held_post("dak_clerk", "DIST-LKO")))
    receipt = diarise(api, clerk).json()
    elsewhere = held_post("officer", "DIST-SPR")
    here = held_post("officer", "DIST-LKO")
    for body, field in [({"to_post": elsewhere}, "to_post"), ({"to_post": here, "copy_to": [elsewhere]}, "copy_to")]:
        refused = send(api, clerk, receipt["id"], **body)
        assert refused.status_code == 422, refused.text
        assert (refused.json()["field"], refused.json()["detail"]) == (field, f"no post {elsewhere}")
        unknown = send(api, clerk, receipt["id"], **{**body, field: "NO-SUCH-POST" if field == "to_post" else
                                                      ["NO-SUCH-POST"]})
        assert unknown.json()["detail"] == "no post NO-SUCH-POST"  # the same answer as for a post that is not there
    assert api.get(f"/api/v1/receipts/{receipt['id']}", headers=clerk).json()["holder_post"] == receipt["holder_post"]
    assert send(api, clerk, receipt["id"], to_post=here).status_code == 200  # within the district it goes

    officer = auth(sign_in(api, here))
    file_id = file_held_by(api, officer, here)
    refused = api.post(f"/api/v1/files/{file_id}/send", headers={**officer, **key()}, json={"to_post": elsewhere})
    assert refused.status_code == 422, refused.text
    assert (refused.json()["field"], refused.json()["detail"]) == ("to_post", f"no post {elsewhere}")
    assert api.get(f"/api/v1/files/{file_id}", headers=officer).json()["holder_post"] == here
    stranger = auth(sign_in(api, elsewhere))
    assert api.get(f"/api/v1/files/{file_id}", headers=stranger).status_code == 404


def test_a_receipt_in_a_file_is_read_by_whoever_reads_the_file_and_changed_only_by_its_holder(api):
    """The paper under consideration goes with the file: the post the file is sent to reads the
    receipt put in it (and its acknowledgement), though the receipt never came to it; the post
    that put it in, no longer holding the file, may read it but not correct it; the file's holder
    corrects it; a stranger still finds nothing."""
    clerk = auth(sign_in(api, held_post("dak_clerk", "DIST-LKO")))
    officer_post, next_post = held_post("officer", "DIST-LKO"), held_post("section_staff", "DIST-LKO")
    officer, next_holder = auth(sign_in(api, officer_post)), auth(sign_in(api, next_post))
    stranger = auth(sign_in(api, held_post("officer", "DIST-SPR")))
    receipt = diarise(api, clerk, subject="Mutation of khasra 112").json()
    path = f"/api/v1/receipts/{receipt['id']}"
    send(api, clerk, receipt["id"], to_post=officer_post)
    api.post(f"{path}/receive", headers={**officer, **key()})
    file_id = file_held_by(api, officer, officer_post)
    assert api.post(f"{path}/put-in-file", headers={**officer, **key()}, json={"file_id": file_id}).status_code == 200
    assert api.get(path, headers=next_holder).status_code == 404  # not yet: the file is not theirs to read
    sent = api.post(f"/api/v1/files/{file_id}/send", headers={**officer, **key()}, json={"to_post": next_post})
    assert sent.status_code == 200, sent.text

    read = api.get(path, headers=next_holder)
    assert read.status_code == 200, read.text
    assert (read.json()["subject"], read.json()["status"]) == ("Mutation of khasra 112", "in_file")
    assert api.get(f"{path}/acknowledgement", headers=next_holder).status_code == 200
    assert api.get(path, headers=stranger).status_code == 404

    fix = {"subject": "Mutation of khasra 112/2", "reason": "number misread"}
    stale = api.patch(path, headers={**officer, **key()}, json=fix)
    assert stale.status_code == 403 and next_post in stale.json()["detail"], stale.text
    assert api.get(path, headers=officer).json()["subject"] == "Mutation of khasra 112"  # unchanged
    fixed = api.patch(path, headers={**next_holder, **key()}, json=fix)
    assert fixed.status_code == 200, fixed.text
    assert [c["field"] for c in fixed.json()["corrections"]] == ["subject"]
    assert api.get(path, headers=officer).json()["subject"] == "Mutation of khasra 112/2"


def send(api, headers, receipt_id, **body):
    return api.post(f"/api/v1/receipts/{receipt_id}/send", headers={**headers, **key()}, json=body)


def in_inbox(api, headers, query: str = "") -> set[str]:
    return {r["id"] for r in api.get(f"/api/v1/inbox?limit=200{query}", headers=headers).json()["items"]}


def test_marking_to_several_posts_gives_each_further_post_a_copy_with_a_number_of_its_own(api):
    clerk = auth(sign_in(api, held_post("dak_clerk", "DIST-LKO")))
    main_post, copy_post = held_post("officer", "DIST-LKO"), held_post("section_staff", "DIST-LKO")
    receipt = diarise(api, clerk, subject="Flood relief for Mohanlalganj").json()
    marked = send(api, clerk, receipt["id"], to_post=main_post, copy_to=[copy_post], priority="immediate",
                  remarks="please examine")
    assert marked.status_code == 200, marked.text
    [copy] = marked.json()["copies"]
    assert copy["to_post"] == copy_post and copy["diary_number"] != receipt["diary_number"]

    officer, staff = auth(sign_in(api, main_post)), auth(sign_in(api, copy_post))
    assert receipt["id"] in in_inbox(api, officer) and copy["receipt_id"] in in_inbox(api, staff)
    original = api.get(f"/api/v1/receipts/{receipt['id']}", headers=officer).json()
    duplicate = api.get(f"/api/v1/receipts/{copy['receipt_id']}", headers=staff).json()
    assert duplicate["copy_of"] == receipt["id"] and duplicate["subject"] == original["subject"]
    assert original["priority"] == duplicate["priority"] == "immediate"
    # No due date asked for: seven working days by the recipient office's calendar.
    office = next(p["office_code"] for p in demo("posts") if p["code"] == main_post)
    calendar = api.get(f"/api/v1/offices/{office}/working-days?start={TODAY}&end={TODAY}", headers=officer).json()
    assert original["due_date"] == calendar["due_in_7_working_days"]
    assert [m["action"] for m in original["movements"]] == ["diarised", "sent", "opened"]
    assert original["movements"][1]["remarks"] == "please examine"
    copied, *_ = duplicate["movements"]
    assert (copied["action"], copied["from_post"], copied["to_post"], copied["remarks"], copied["priority"],
            copied["due_date"]) == ("copied", held_post("dak_clerk", "DIST-LKO"), copy_post,
                                    f"copy of {receipt['diary_number']}", "immediate", duplicate["due_date"])

    again = send(api, clerk, receipt["id"], to_post=main_post, copy_to=[main_post])
    assert again.status_code == 422 and "more than once" in again.json()["detail"]
    past = send(api, officer, receipt["id"], to_post=copy_post, due_date="2001-01-01")
    assert past.status_code == 422 and "due_date" in past.json()["detail"]
    api.post(f"/api/v1/receipts/{receipt['id']}/receive", headers={**officer, **key()})
    forwarded = send(api, officer, receipt["id"], to_post=copy_post)
    assert forwarded.status_code == 200 and forwarded.json()["action"] == "forwarded"


def test_a_copy_marked_is_on_the_senders_sent_list_and_pulled_back_until_opened(api):
    """Marking to several posts is one send: the clerk who marked a copy to the wrong post sees it
    in Sent and takes it back as they take back the letter itself, until that post opens it."""
    clerk_post = held_post("dak_clerk", "DIST-LKO")
    clerk = auth(sign_in(api, clerk_post))
    main_post, copy_post = held_post("officer", "DIST-LKO"), held_post("section_staff", "DIST-LKO")
    staff = auth(sign_in(api, copy_post))

    def marked() -> str:
        receipt = diarise(api, clerk, subject="Copy marked in error").json()
        answer = send(api, clerk, receipt["id"], to_post=main_post, copy_to=[copy_post])
        assert answer.status_code == 200, answer.text
        return answer.json()["copies"][0]["receipt_id"]

    wrong = marked()
    sent = {r["id"] for r in api.get("/api/v1/receipts/sent?limit=200", headers=clerk).json()["items"]}
    assert wrong in sent
    back = api.post(f"/api/v1/receipts/{wrong}/pull-back", headers={**clerk, **key()})
    assert back.status_code == 200, back.text
    assert (back.json()["from_post"], back.json()["to_post"]) == (copy_post, clerk_post)
    assert wrong not in in_inbox(api, staff) and wrong in in_inbox(api, clerk)
    assert api.get(f"/api/v1/receipts/{wrong}", headers=clerk).json()["holder_post"] == clerk_post

    opened = marked()
    api.get(f"/api/v1/receipts/{opened}", headers=staff)
    late = api.post(f"/api/v1/receipts/{opened}/pull-back", headers={**clerk, **key()})
    assert late.status_code == 409 and "already opened" in late.json()["detail"]


def test_inbox_filters_unread_physical_electronic_and_overdue(api, migrated):
    clerk = auth(sign_in(api, held_post("dak_clerk", "DIST-LKO")))
    post = held_post("section_staff", "DIST-LKO", last=True)
    holder = auth(sign_in(api, post))
    first, second = diarise(api, clerk).json(), diarise(api, clerk).json()
    for receipt in (first, second):
        assert send(api, clerk, receipt["id"], to_post=post).status_code == 200
    api.get(f"/api/v1/receipts/{first['id']}", headers=holder)  # opened; second stays unread
    engine = make_engine(migrated.database_url, pool_size=1)
    with engine.begin() as conn:  # time passes: the second is past its due date
        conn.execute(receipts.update().where(receipts.c.id == second["id"])
                     .values(due_date=TODAY - timedelta(days=1)))
    engine.dispose()
    mine = {first["id"], second["id"]}
    assert in_inbox(api, holder, "&unread=true") & mine == {second["id"]}
    assert in_inbox(api, holder, "&unread=false") & mine == {first["id"]}
    assert in_inbox(api, holder, "&overdue=true") & mine == {second["id"]}
    assert in_inbox(api, holder, "&overdue=false") & mine == {first["id"]}
    assert in_inbox(api, holder, "&kind=physical") & mine == mine
    assert in_inbox(api, holder, "&kind=electronic") & mine == set()
    assert api.get("/api/v1/inbox?kind=paper", headers=holder).status_code == 422


def test_the_inbox_shows_the_latest_letters_first_page_after_page(api):
    """However many letters wait, the inbox is in one order, the latest diarised first, and its
    pages walk them all once; a cursor that is no position of ours is refused at its field."""
    clerk = auth(sign_in(api, held_post("dak_clerk", "DIST-LKO")))
    post = held_post("section_staff", "DIST-LKO")
    holder = auth(sign_in(api, post))
    made = [diarise(api, clerk, subject=f"Letter {n} of five").json()["id"] for n in range(5)]
    for receipt_id in made:
        assert send(api, clerk, receipt_id, to_post=post).status_code == 200
    seen, cursor = [], None
    while True:
        page = api.get("/api/v1/inbox", headers=holder, params={"limit": 2, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.text
        seen += [r["id"] for r in page.json()["items"]]
        if not (cursor := page.json()["next_cursor"]):
            break
    assert len(seen) == len(set(seen)) and [r for r in seen if r in made] == made[::-1]
    everything = api.get("/api/v1/inbox?limit=200", headers=holder).json()["items"]
    times = [r["diarised_at"] for r in everything]
    assert times == sorted(times, reverse=True) and [r["id"] for r in everything] == seen
    bad = base64.urlsafe_b64encode(b"yesterday|x").decode()
    assert api.get("/api/v1/inbox", headers=holder, params={"cursor": bad}).json()["field"] == "cursor"


def test_a_tracking_code_typed_with_letter_o_for_zero_or_i_or_l_for_one_finds_the_letter(api, migrated):
    """The code's alphabet has no I, L or O so that none is misread; a citizen who types the
    letter for the digit on their acknowledgement (O for 0, I or L for 1) still finds their letter."""
    clerk = auth(sign_in(api, held_post("dak_clerk", "DIST-LKO")))
    receipt = diarise(api, clerk).json()
    code = "01" + "".join(random.choice("23456789ABCDEFGHJKMNPQRSTVWXYZ") for _ in range(8)) + "10"
    code = f"{code[:4]}-{code[4:8]}-{code[8:]}"
    engine = make_engine(migrated.database_url, pool_size=1)
    with engine.begin() as conn:
        conn.execute(receipts.update().where(receipts.c.id == receipt["id"]).values(tracking_code=code))
    engine.dispose()
    for typed in (code, code.replace("0", "O").replace("1", "I"), code.replace("0", "o").replace("1", "l")):
        found = api.get(f"/api/v1/public/receipts/{typed}")
        assert found.status_code == 200, (typed, found.text)
        assert found.json() == {"tracking_code": code, "status": "received"}


def test_put_in_file_close_reopen_and_the_public_status_the_sender_sees(api, migrated):
    clerk = auth(sign_in(api, held_post("dak_clerk", "DIST-LKO")))
    post = held_post("officer", "DIST-LKO")
    officer = auth(sign_in(api, post))
    filed, closed = diarise(api, clerk).json(), diarise(api, clerk).json()
    ack = api.get(f"/api/v1/receipts/{filed['id']}/acknowledgement", headers=clerk).json()
    assert ack["diary_number"] == filed["diary_number"] and ack["tracking_code"] == filed["tracking_code"]

    def public(code):
        response = api.get(f"/api/v1/public/receipts/{code}")  # no sign-in
        assert response.status_code == 200, response.text
        assert set(response.json()) == {"tracking_code", "status"}  # nothing else is revealed
        return response.json()["status"]

    assert public(ack["tracking_code"]) == "received"
    assert public(ack["tracking_code"].replace("-", "").lower()) == "received"
    for receipt in (filed, closed):
        send(api, clerk, receipt["id"], to_post=post)
        api.get(f"/api/v1/receipts/{receipt['id']}", headers=officer)
        api.post(f"/api/v1/receipts/{receipt['id']}/receive", headers={**officer, **key()})
    assert public(filed["tracking_code"]) == "under_process"

    nowhere = api.post(f"/api/v1/receipts/{filed['id']}/put-in-file", headers={**officer, **key()},
                       json={"file_id": str(uuid.uuid4())})
    assert nowhere.status_code == 404 and nowhere.json()["field"] == "file_id", nowhere.text
    file_id = file_held_by(api, officer, post)
    put = api.post(f"/api/v1/receipts/{filed['id']}/put-in-file", headers={**officer, **key()},
                   json={"file_id": file_id})
    assert put.status_code == 200 and put.json()["file_id"] == file_id
    moved = send(api, officer, filed["id"], to_post=filed["holder_post"])
    assert moved.status_code == 409 and "moves with the file" in moved.json()["detail"]
    assert filed["id"] not in in_inbox(api, officer)

    shut = api.post(f"/api/v1/receipts/{closed['id']}/close", headers={**officer, **key()},
                    json={"remarks": "reply sent, nothing further"})
    assert shut.status_code == 200 and public(closed["tracking_code"]) == "disposed"
    assert send(api, officer, closed["id"], to_post=closed["holder_post"]).status_code == 409
    assert api.post(f"/api/v1/receipts/{closed['id']}/close", headers={**officer, **key()},
                    json={"remarks": ""}).status_code == 422
    reopened = api.post(f"/api/v1/receipts/{closed['id']}/reopen", headers={**officer, **key()},
                        json={"remarks": "the sender wrote again"})
    assert reopened.status_code == 200 and public(closed["tracking_code"]) == "under_process"
    assert api.get("/api/v1/public/receipts/ZZZZ-ZZZZ-ZZZZ").status_code == 404

    engine = make_engine(migrated.database_url, pool_size=1)
    with engine.connect() as conn:
        types = set(conn.execute(select(outbox.c.type).where(outbox.c.envelope["subject"].astext.in_(
            [filed["id"], closed["id"]]))).scalars())
    engine.dispose()
    assert {f"eoffice.receipt.{step}.v1" for step in (
        "diarised", "sent", "opened", "received", "put-in-file", "closed", "reopened")} <= types


def test_corrections_are_logged_and_frozen_fields_stay_frozen_once_moved(api):
    clerk = auth(sign_in(api, held_post("dak_clerk", "DIST-LKO")))
    post = held_post("officer", "DIST-LKO")
    receipt = diarise(api, clerk, letter_date=TODAY.isoformat()).json()
    before_move = api.patch(f"/api/v1/receipts/{receipt['id']}", headers={**clerk, **key()},
                            json={"mode": "hand", "reason": "brought by hand, not posted"})
    assert before_move.status_code == 200 and before_move.json()["mode"] == "hand"
    send(api, clerk, receipt["id"], to_post=post)
    officer = auth(sign_in(api, post))
    api.post(f"/api/v1/receipts/{receipt['id']}/receive", headers={**officer, **key()})

    for field, value in (("received_date", (TODAY - timedelta(days=1)).isoformat()), ("mode", "post"),
                         ("letter_date", None)):
        frozen = api.patch(f"/api/v1/receipts/{receipt['id']}", headers={**officer, **key()},
                           json={field: value, "subject": "changed?", "reason": "typo"})
        assert frozen.status_code == 422 and frozen.json()["field"] == field, frozen.text
    not_holder = api.patch(f"/api/v1/receipts/{receipt['id']}", headers={**clerk, **key()},
                           json={"subject": "x", "reason": "typo"})
    assert not_holder.status_code == 403
    assert api.patch(f"/api/v1/receipts/{receipt['id']}", headers={**officer, **key()},
                     json={"subject": "x"}).status_code == 422  # a reason is required

    fixed = api.patch(f"/api/v1/receipts/{receipt['id']}", headers={**officer, **key()},
                      json={"sender_name": "रामलाल वर्मा", "sender_mobile": "9876543210", "reason": "full name"})
    assert fixed.status_code == 200, fixed.text
    assert all(c["at"] for c in fixed.json()["corrections"])  # the answer says when, as a later read does
    detail = api.get(f"/api/v1/receipts/{receipt['id']}", headers=officer).json()
    assert detail["subject"] == receipt["subject"] and detail["mode"] == "hand"  # refused changes left nothing
    assert [(c["field"], c["old_value"], c["new_value"]) for c in detail["corrections"]] == [
        ("mode", "post", "hand"), ("sender_name", "रामलाल", "रामलाल वर्मा"), ("sender_mobile", "", "9876543210")]
    assert api.patch(f"/api/v1/receipts/{receipt['id']}", headers={**officer, **key()},
                     json={"sender_mobile": "12345", "reason": "x"}).status_code == 422


def test_what_a_caller_may_not_see_answers_404_whatever_the_verb(api):
    clerk_post, officer_post = held_post("dak_clerk", "DIST-LKO"), held_post("officer", "DIST-LKO")
    clerk, officer = auth(sign_in(api, clerk_post)), auth(sign_in(api, officer_post))
    receipt = diarise(api, clerk, subject="Encroachment on the village pond").json()
    assert send(api, clerk, receipt["id"], to_post=officer_post).status_code == 200
    stranger_post = held_post("officer", "DIST-SPR")  # another district
    stranger = auth(sign_in(api, stranger_post))
    their_file = file_held_by(api, stranger, stranger_post)
    mine = file_held_by(api, clerk, clerk_post)
    path = f"/api/v1/receipts/{receipt['id']}"

    def verbs(file_id: str, to_post: str) -> dict:  # to_post: a post the caller may send to
        return {
            "open": lambda who: api.get(path, headers=who),
            "acknowledgement": lambda who: api.get(f"{path}/acknowledgement", headers=who),
            "document": lambda who: api.get(f"{path}/scans/1", headers=who),
            "send": lambda who: send(api, who, receipt["id"], to_post=to_post),
            "receive": lambda who: api.post(f"{path}/receive", headers={**who, **key()}),
            "pull back": lambda who: api.post(f"{path}/pull-back", headers={**who, **key()}),
            "put in file": lambda who: api.post(f"{path}/put-in-file", headers={**who, **key()},
                                                json={"file_id": file_id}),
            "close": lambda who: api.post(f"{path}/close", headers={**who, **key()}, json={"remarks": "done"}),
            "reopen": lambda who: api.post(f"{path}/reopen", headers={**who, **key()}, json={"remarks": "again"}),
            "correct": lambda who: api.patch(path, headers={**who, **key()}, json={"subject": "x", "reason": "y"}),
        }

    secrets = (receipt["diary_number"], officer_post, clerk_post, receipt["tracking_code"])
    for verb, attempt in verbs(their_file, stranger_post).items():
        answer = attempt(stranger)
        assert answer.status_code == 404, (verb, answer.text)
        assert answer.json()["type"] == "urn:eoffice:problem:not-found", (verb, answer.text)
        assert not any(secret in answer.text for secret in secrets), (verb, answer.text)

    # The clerk sent it and may look at it; only its holder, the officer, acts on it.
    for verb, attempt in verbs(mine, clerk_post).items():
        if verb in ("open", "acknowledgement", "document", "pull back"):
            continue  # reading is allowed, there is no document, and pulling back is the sender's right
        answer = attempt(clerk)
        assert answer.status_code == 403, (verb, answer.text)
        assert answer.json()["type"] == "urn:eoffice:problem:not-current-holder", (verb, answer.text)
    not_sender = verbs(mine, clerk_post)["pull back"](officer)  # the holder, who did not send it
    assert not_sender.status_code == 403 and clerk_post in not_sender.json()["detail"], not_sender.text

    # A file of another district is not found either, and its number and holder stay unsaid.
    api.post(f"{path}/receive", headers={**officer, **key()})
    number = api.get(f"/api/v1/files/{their_file}", headers=stranger).json()["file_number"]
    elsewhere = api.post(f"{path}/put-in-file", headers={**officer, **key()}, json={"file_id": their_file})
    assert elsewhere.status_code == 404 and elsewhere.json()["field"] == "file_id", elsewhere.text
    assert number not in elsewhere.text and stranger_post not in elsewhere.text
    detail = api.get(path, headers=officer).json()
    assert (detail["status"], detail["holder_post"], detail["subject"]) == ("open", officer_post, receipt["subject"])
    assert [m["action"] for m in detail["movements"]] == ["diarised", "sent", "received"]  # nothing else happened


def test_received_and_letter_dates_are_bounded_and_the_diary_year_is_todays(api, migrated):
    clerk = auth(sign_in(api, held_post("dak_clerk", "DIST-LKO")))
    first = diarise(api, clerk)
    assert first.status_code == 201, first.text
    serial = int(first.json()["diary_number"].split("/")[0])
    day = timedelta(days=1)
    ten_years_ago = TODAY.replace(year=TODAY.year - 10, day=min(TODAY.day, 28))
    refused = [
        ({"received_date": "0001-01-02"}, "received_date"),
        ({"received_date": "2099-12-31"}, "received_date"),
        ({"received_date": (TODAY + timedelta(days=30)).isoformat()}, "received_date"),
        ({"received_date": (TODAY + day).isoformat()}, "received_date"),
        ({"received_date": (ten_years_ago - 5 * day).isoformat()}, "received_date"),
        ({"letter_date": (TODAY + day).isoformat()}, "letter_date"),
        ({"received_date": (TODAY - 5 * day).isoformat(), "letter_date": (TODAY - 2 * day).isoformat()},
         "letter_date"),
        ({"letter_date": "0001-01-01"}, "letter_date"),
    ]
    for changes, field in refused:
        answer = diarise(api, clerk, **changes)
        assert answer.status_code == 422, (changes, answer.text)
        assert [e["field"] for e in answer.json()["errors"]] == [f"body.{field}"], (changes, answer.text)
    # Last year's letter, diarised today, is numbered in today's diary: no number was used above.
    old = diarise(api, clerk, received_date=(TODAY - timedelta(days=400)).isoformat(),
                  letter_date=(TODAY - timedelta(days=410)).isoformat())
    assert old.status_code == 201, old.text
    assert old.json()["diary_number"] == f"{serial + 1}/{TODAY.year}/{old.json()['office_code']}"
    # A correction is held to the same bounds.
    future = api.patch(f"/api/v1/receipts/{old.json()['id']}", headers={**clerk, **key()},
                       json={"received_date": (TODAY + day).isoformat(), "reason": "typo"})
    assert future.status_code == 422 and "received_date" in future.json()["detail"], future.text


def test_a_tampered_cursor_is_refused_naming_it(api):
    clerk = auth(sign_in(api, held_post("dak_clerk", "DIST-LKO")))
    for path in ("/api/v1/inbox", "/api/v1/files", "/api/v1/offices"):
        for cursor in ("AA", "AAAA", "%%%"):
            answer = api.get(path, headers=clerk, params={"cursor": cursor})
            assert answer.status_code == 422, (path, cursor, answer.text)
            assert answer.json()["field"] == "cursor", (path, cursor, answer.text)


def test_a_refusal_names_the_field_as_the_caller_wrote_it(api):
    """An e-mail that is not one is named `body.sender_email`, once, saying it is no e-mail (not
    pydantic's union branches); a body that is not JSON is named `body`."""
    clerk = auth(sign_in(api, held_post("dak_clerk", "DIST-LKO")))
    bad = diarise(api, clerk, sender_email="not-an-email")
    assert bad.status_code == 422, bad.text
    [error] = bad.json()["errors"]
    assert error["field"] == "body.sender_email" and "email" in error["message"], error
    broken = api.post("/api/v1/receipts", headers={**clerk, **key(), "content-type": "application/json"},
                      content=b'{"subject": "x",')
    assert broken.status_code == 422 and [e["field"] for e in broken.json()["errors"]] == ["body"], broken.text
    blank = diarise(api, clerk, subject="   ")  # says nothing: refused as an empty one is
    assert [(e["field"], e["message"]) for e in blank.json()["errors"]] == [
        ("body.subject", "Value error, is only spaces: write something")], blank.text


def test_a_due_date_is_neither_past_nor_years_away(api):
    """A due date no reminder would reach keeps work from ever showing overdue (rule 8): a
    receipt or a file is sent with one at most a year ahead; nothing moves otherwise."""
    clerk = auth(sign_in(api, held_post("dak_clerk", "DIST-LKO")))
    here = held_post("officer", "DIST-LKO")
    receipt = diarise(api, clerk).json()
    officer = auth(sign_in(api, here))
    file_id = file_held_by(api, officer, here)
    for due in ("2099-01-01", (TODAY + timedelta(days=400)).isoformat(), (TODAY - timedelta(days=1)).isoformat()):
        refused = send(api, clerk, receipt["id"], to_post=here, due_date=due)
        assert refused.status_code == 422 and refused.json()["field"] == "due_date", refused.text
        moved = api.post(f"/api/v1/files/{file_id}/send", headers={**officer, **key()},
                         json={"to_post": receipt["holder_post"], "due_date": due})
        assert moved.status_code == 422 and moved.json()["field"] == "due_date", moved.text
    assert api.get(f"/api/v1/receipts/{receipt['id']}", headers=clerk).json()["holder_post"] == receipt["holder_post"]
    in_a_month = send(api, clerk, receipt["id"], to_post=here,
                      due_date=working_day(api, here, TODAY + timedelta(days=30)).isoformat())
    assert in_a_month.status_code == 200, in_a_month.text


def test_a_due_date_asked_for_is_a_working_day_of_each_recipients_office(api):
    """Nobody is at the desk on a weekly day off or a holiday of the recipient's office: a due
    date asked for on one is refused at `due_date`, saying so (with copies to further posts too);
    nothing moves and no copy is made."""
    clerk = auth(sign_in(api, held_post("dak_clerk", "DIST-LKO")))
    here, copy_post = held_post("officer", "DIST-LKO"), held_post("section_staff", "DIST-LKO")
    receipt = diarise(api, clerk, subject="Drainage in ward 12").json()
    off = days_off(api, here, TODAY + timedelta(days=1))
    weekly = next(day for day, why in off.items() if "weekly" in why)
    holiday = next(day for day, why in off.items() if why == "a holiday")  # the district's, or the state's
    working = working_day(api, here, TODAY + timedelta(days=1))
    for due, copies in ((weekly, []), (holiday, []), (holiday, [copy_post])):
        refused = send(api, clerk, receipt["id"], to_post=here, copy_to=copies, due_date=due.isoformat())
        assert refused.status_code == 422, refused.text
        problem = refused.json()
        assert problem["field"] == "due_date" and "not a working day" in problem["detail"], problem
        assert due.isoformat() in problem["detail"] and off[due] in problem["detail"], problem
        assert [(e["field"], e["type"]) for e in problem["errors"]] == [("due_date", "not_working_day")]
    shown = api.get(f"/api/v1/receipts/{receipt['id']}", headers=clerk).json()
    assert shown["holder_post"] == receipt["holder_post"] and "sent" not in [m["action"] for m in shown["movements"]]
    moved = send(api, clerk, receipt["id"], to_post=here, due_date=working.isoformat())
    assert moved.status_code == 200 and moved.json()["due_date"] == working.isoformat(), moved.text


def test_a_loose_boolean_or_a_misspelt_field_is_refused_and_uses_no_number(api):
    """`vip: "yes"` is no boolean and `subjcet` names no field: each is refused at its field with
    the check's type (pydantic's), on every way a letter comes in and on a correction, and no
    diary number is used for it."""
    clerk = auth(sign_in(api, held_post("dak_clerk", "DIST-LKO")))
    first = diarise(api, clerk).json()

    def refused(answer, field: str, kind: str) -> None:
        assert answer.status_code == 422, answer.text
        assert [(e["field"], e["type"]) for e in answer.json()["errors"]] == [(field, kind)], answer.text

    for loose in ("yes", "true", 1, "no"):
        refused(diarise(api, clerk, vip=loose), "body.vip", "bool_type")
    refused(diarise(api, clerk, subjcet="Land record"), "body.subjcet", "extra_forbidden")
    scanned = api.post("/api/v1/receipts/electronic", headers={**clerk, **key()},
                       data={"letter": json.dumps({**letter(), "vip": "yes"})},
                       files={"scans": ("page.pdf", b"%PDF-1.4\n", "application/pdf")})
    refused(scanned, "vip", "bool_type")
    corrected = api.patch(f"/api/v1/receipts/{first['id']}", headers={**clerk, **key()},
                          json={"vip": "yes", "reason": "VIP reference"})
    refused(corrected, "body.vip", "bool_type")
    marked = send(api, clerk, first["id"], to_post=held_post("officer", "DIST-LKO"), remark="see")
    refused(marked, "body.remark", "extra_forbidden")
    shown = api.get(f"/api/v1/receipts/{first['id']}", headers=clerk).json()
    assert (shown["vip"], shown["holder_post"]) == (False, first["holder_post"])
    after = diarise(api, clerk).json()
    serial = lambda receipt: int(receipt["diary_number"].split("/")[0])  # noqa: E731
    assert serial(after) == serial(first) + 1
    assert diarise(api, clerk, vip=True).json()["vip"] is True
