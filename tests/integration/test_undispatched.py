"""Rule 6 (a receipt with an undispatched draft cannot be closed), against the real directory,
dak, files and notify services: a file, and so the receipt put in it, is not closed while a
draft of it is approved but not issued, or issued (signing's event, stood in for here) but not
yet dispatched by notify; once notify has e-mailed the letter, it closes. Each refusal is a 422
naming why, with nothing changed."""
from __future__ import annotations

import uuid

import pytest

from eoffice.clock import today
from eoffice.contracts.signing import Addressee
from services.notify.smtp_sink import sink
from tests.support import letters
from tests.support.demo import _admin_over, auth, demo_gateway, held_post, sign_in
from tests.support.system import free_port, service_process, wait_until

pytestmark = pytest.mark.live
OFFICER = "SO(EST)-GAD"
OFFICE, HEAD = "GAD-EST", "11099"


@pytest.fixture(scope="module")
def smtp_port():
    return free_port()


@pytest.fixture(scope="module")
def api(migrated, smtp_port):
    # Nothing listens on the SMTP port yet: notify's e-mail fails and waits to be retried.
    notify = service_process("notify", env={"EOFFICE_SMTP_HOST": "127.0.0.1", "EOFFICE_SMTP_PORT": str(smtp_port),
                                            "EOFFICE_NOTIFY_DAILY": "false"}).start()
    try:
        with demo_gateway(migrated, ("directory", "dak", "files")) as client:
            made = client.post(f"/api/v1/offices/{OFFICE}/subject-heads", headers=auth(sign_in(
                client, _admin_over(OFFICE))), json={"code": HEAD, "title": "Replies"})
            assert made.status_code == 201, made.text
            wait_until(lambda: client.app.state.rpc.call("notify", "ping"), 60, "notify answering")
            yield client
    finally:
        notify.stop()


def post(api, headers, path: str, **body):
    return api.post(f"/api/v1{path}", headers={**headers, "Idempotency-Key": uuid.uuid4().hex}, json=body)


def refused_unchanged(api, headers, file_id: str, why: str) -> None:
    before = api.get(f"/api/v1/files/{file_id}", headers=headers).json()
    closing = post(api, headers, f"/files/{file_id}/close", remarks="reply issued")
    assert closing.status_code == 422, closing.text
    problem = closing.json()
    assert why in problem["detail"] and problem["detail"].startswith(f"file {before['file_number']} cannot be closed")
    after = api.get(f"/api/v1/files/{file_id}", headers=headers).json()
    assert (after["status"], after["version"], len(after["movements"])) == (
        "open", before["version"], len(before["movements"]))


def test_a_file_with_an_undispatched_letter_is_not_closed_until_notify_dispatches_it(api, migrated, smtp_port,
                                                                                    tmp_path):
    clerk, officer = auth(sign_in(api, held_post("dak_clerk", "GAD"))), auth(sign_in(api, OFFICER))
    receipt = post(api, clerk, "/receipts", subject="Pension arrears", sender_name="Ram Prasad",
                   received_date=today().isoformat(), mode="post")
    assert receipt.status_code == 201, receipt.text
    receipt = receipt.json()
    assert post(api, clerk, f"/receipts/{receipt['id']}/send", to_post=OFFICER).status_code == 200
    api.get(f"/api/v1/receipts/{receipt['id']}", headers=officer)
    assert post(api, officer, f"/receipts/{receipt['id']}/receive").status_code == 200
    made = post(api, officer, "/files", subject_head=HEAD, subject="Pension arrears", receipt_id=receipt["id"])
    assert made.status_code == 201, made.text
    file = made.json()
    wait_until(lambda: api.get(f"/api/v1/receipts/{receipt['id']}", headers=officer).json()["status"] == "in_file",
               30, "the receipt in the file")
    api.get(f"/api/v1/files/{file['id']}", headers=officer)  # opened: reading it later changes nothing
    draft = post(api, officer, f"/files/{file['id']}/drafts", title="Reply", body="Your arrears will be paid.").json()
    assert post(api, officer, f"/files/{file['id']}/drafts/{draft['id']}/approve", version=1).status_code == 200

    # Approved, never issued: refused, naming the draft.
    refused_unchanged(api, officer, file["id"], f"draft {draft['id']} (Reply) is approved but not issued")

    # Issued (signing's event), but notify cannot reach the mail server yet: refused, naming the letter.
    letter = letters.issue(migrated, file, draft_id=draft["id"], version=1, signer_post=OFFICER,
                           addressees=[Addressee(name="Shri Ram Prasad", email="ramprasad@example.in")])
    wait_until(lambda: any(c["kind"] == "letter" for c in api.get(f"/api/v1/files/{file['id']}",
                                                                  headers=officer).json()["correspondence"]),
               30, "the letter in the file")
    refused_unchanged(api, officer, file["id"], f"letter {letter.letter_number} is issued but not dispatched")
    receipt_close = post(api, officer, f"/receipts/{receipt['id']}/close", remarks="done")
    assert receipt_close.status_code in (409, 422) and "in file" in receipt_close.json()["detail"]

    # The mail server comes up; notify's retry (30 s) e-mails the letter and reports it dispatched.
    controller, store = sink(tmp_path / "box", port=smtp_port)
    try:
        wait_until(lambda: post(api, officer, f"/files/{file['id']}/close", remarks="reply issued").status_code == 200,
                   120, "the file closed once notify dispatched its letter", interval=2)
        letter_mails = [m for m in store.messages() if "ramprasad@example.in" in m["X-Envelope-To"]]
        assert len(letter_mails) == 1 and letter.letter_number in letter_mails[0]["Subject"]
    finally:
        controller.stop()
    closed = api.get(f"/api/v1/files/{file['id']}", headers=officer).json()
    assert closed["status"] == "closed" and [m["action"] for m in closed["movements"]][-1] == "closed"
    assert api.get(f"/api/v1/receipts/{receipt['id']}", headers=officer).json()["status"] == "in_file"
