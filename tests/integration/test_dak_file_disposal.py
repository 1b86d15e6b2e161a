"""A receipt put in a file is dealt with when the file is: its sender's public status page says
`disposed` once the file is closed, and `under_process` again when the file is reopened."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from eoffice.contracts.files import FileClosed
from eoffice.db import make_engine
from tests.support import letters
from tests.support.demo import auth, demo_gateway, held_post, sign_in
from tests.support.system import wait_until

pytestmark = pytest.mark.live
TODAY = datetime.now(timezone(timedelta(hours=5, minutes=30))).date()
DEALER, SO = "RO1(EST)-GAD", "SO(EST)-GAD"  # a dealing hand and the officer above it


@pytest.fixture(scope="module")
def api(migrated):
    with demo_gateway(migrated, ("directory", "dak", "files")) as client:
        yield client


def post(api, headers, path: str, **body):
    answer = api.post(f"/api/v1{path}", headers={**headers, "Idempotency-Key": uuid.uuid4().hex}, json=body)
    assert answer.status_code in {200, 201}, (path, answer.text)
    return answer.json()


def public(api, code: str) -> str:
    answer = api.get(f"/api/v1/public/receipts/{code}")  # no sign-in
    assert answer.status_code == 200, answer.text
    return answer.json()["status"]


def test_a_receipt_in_a_file_is_disposed_while_the_file_is_closed(api, migrated):
    clerk = auth(sign_in(api, held_post("dak_clerk", "GAD")))
    dealer, so = auth(sign_in(api, DEALER)), auth(sign_in(api, SO))
    receipt = post(api, clerk, "/receipts", subject="पेंशन हेतु आवेदन", sender_name="रामलाल",
                   received_date=TODAY.isoformat(), mode="post")
    post(api, clerk, f"/receipts/{receipt['id']}/send", to_post=DEALER)
    api.get(f"/api/v1/receipts/{receipt['id']}", headers=dealer)  # opened by its new holder
    post(api, dealer, f"/receipts/{receipt['id']}/receive")  # a physical letter, in hand (rule 3)
    admin = auth(sign_in(api, held_post("office_admin", "GAD")))
    head = str(uuid.uuid4().int)[:8]
    post(api, admin, "/offices/GAD-EST/subject-heads", code=head, title="Pensions")
    file = post(api, dealer, "/files", subject_head=head, subject="Pension of Shri Ramlal")  # no drafts: rule 6
    post(api, dealer, f"/receipts/{receipt['id']}/put-in-file", file_id=file["id"])
    code = receipt["tracking_code"]
    assert public(api, code) == "under_process"

    post(api, dealer, f"/files/{file['id']}/close", remarks="pension sanctioned")  # by its creator (rule 5)
    # dak takes it from the files' event, a moment later; slow polling: the page is rate-limited
    wait_until(lambda: public(api, code) == "disposed", 30, "the sender sees disposed", interval=2)

    post(api, dealer, f"/files/{file['id']}/reopen-request", remarks="arrears still due")
    post(api, so, f"/files/{file['id']}/reopen-approve", remarks="ok")  # a supervisor of the asker
    wait_until(lambda: public(api, code) == "under_process", 30, "the sender sees under_process again", interval=2)

    # Closed and reopened come on two queues: a close that arrives after the reopen, though it
    # happened before, must not make the receipt disposed again.
    closed_before = datetime.now(UTC) - timedelta(minutes=1)
    late = letters.publish(migrated, "files", FileClosed(file_id=file["id"], file_number=file["file_number"],
                                                         by_user="E1", by_post=DEALER), file["id"], time=closed_before)
    engine = make_engine(migrated.database_url, pool_size=1)
    try:
        with engine.connect() as conn:
            wait_until(lambda: conn.execute(text("SELECT count(*) FROM dak.inbox WHERE event_id = :e"),
                                            {"e": late}).scalar_one() == 1, 30, "dak took the late close event")
    finally:
        engine.dispose()
    assert public(api, code) == "under_process"
