"""Files through the gateway on the demo organisation, against the real files, dak and
directory services, PostgreSQL and MinIO: a whole case from receipt to closing, the notesheet
nobody can alter, only the holder acting, races, and a crash in the middle of a send."""
from __future__ import annotations

import io
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone

import pytest
from minio import Minio
from PIL import Image
from sqlalchemy import select, text

from eoffice.db import UnitOfWork, make_engine
from eoffice.errors import Conflict
from services.files.models import files as files_table
from services.files.models import movements, notes, outbox
from services.files.notesheet import record_name
from tests.support import letters
from tests.support.demo import auth, days_off, demo, demo_gateway, held_post, sign_in, working_day
from tests.support.system import service_process, wait_until

pytestmark = pytest.mark.live
TODAY = datetime.now(timezone(timedelta(hours=5, minutes=30))).date()
# A dealing hand in GAD's establishment section and the three levels above it.
DEALER, SO, US, DS = "RO1(EST)-GAD", "SO(EST)-GAD", "US(EST)-GAD", "DS(EST)-GAD"
HEAD = "11016"


@pytest.fixture(scope="module")
def api(migrated):
    with demo_gateway(migrated, ("directory", "dak", "files")) as client:
        add_subject_head(client)
        yield client


def add_subject_head(api) -> None:
    """GAD's office admin adds the subject head (HEAD) the files of these tests are opened under."""
    admin = auth(sign_in(api, held_post("office_admin", "GAD")))
    made = api.post("/api/v1/offices/GAD-EST/subject-heads", headers=admin,
                    json={"code": HEAD, "title": "Service matters: pensions"})
    assert made.status_code == 201, made.text


@pytest.fixture(scope="module")
def db(migrated):
    uow = UnitOfWork(make_engine(migrated.database_url, pool_size=1))
    yield uow
    uow.engine.dispose()


def key() -> dict:
    return {"Idempotency-Key": uuid.uuid4().hex}


def as_post(api, post: str) -> dict:
    return auth(sign_in(api, post))


def post(api, headers, path: str, **body):
    return api.post(f"/api/v1{path}", headers={**headers, **key()}, json=body)


def new_file(api, headers, **changes) -> dict:
    made = post(api, headers, "/files", **{"subject_head": HEAD, "subject": "Pension of Shri Ram Prasad", **changes})
    assert made.status_code == 201, made.text
    return made.json()


def open_file(api, headers, file_id: str) -> dict:
    answer = api.get(f"/api/v1/files/{file_id}", headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def send(api, headers, file_id: str, to_post: str, **extra):
    return post(api, headers, f"/files/{file_id}/send", to_post=to_post, **extra)


def test_a_whole_case_from_receipt_to_closing(api, migrated):
    clerk = as_post(api, held_post("dak_clerk", "GAD"))
    receipt = post(api, clerk, "/receipts", subject="Pension arrears of Shri Ram Prasad", sender_name="Ram Prasad",
                   received_date=TODAY.isoformat(), mode="post").json()
    assert post(api, clerk, f"/receipts/{receipt['id']}/send", to_post=DEALER).status_code == 200
    dealer = as_post(api, DEALER)
    api.get(f"/api/v1/receipts/{receipt['id']}", headers=dealer)
    assert post(api, dealer, f"/receipts/{receipt['id']}/receive").status_code == 200

    file = new_file(api, dealer, receipt_id=receipt["id"], category="pension", record_category="A")
    assert file["file_number"] == f"N-{HEAD}/{file['file_number'].split('/')[1]}/{TODAY.year}-GAD-EST"
    assert file["holder_post"] == DEALER and file["creator_post"] == DEALER
    # The receipt arrives in the file from dak's event: page 1, flagged PUC.
    pages = wait_until(lambda: open_file(api, dealer, file["id"])["correspondence"], 30, "receipt in the file")
    assert [(p["kind"], p["receipt_id"], p["first_page"], p["puc"]) for p in pages] == [
        ("receipt", receipt["id"], 1, True)]
    assert api.get(f"/api/v1/receipts/{receipt['id']}", headers=dealer).json()["status"] == "in_file"

    note = post(api, dealer, f"/files/{file['id']}/notes", body="PUC at p.1: arrears of pension for 2024-25.",
                refs={"pages": [1]}, green=True)
    assert note.status_code == 201 and note.json()["seq"] == 1, note.text
    assert send(api, dealer, file["id"], SO, remarks="for orders").status_code == 200

    so = as_post(api, SO)
    assert file["id"] in {f["id"] for f in api.get("/api/v1/files", headers=so).json()["items"]}  # at once
    open_file(api, so, file["id"])
    yellow = post(api, so, f"/files/{file['id']}/notes", body="Draft reply put up.")
    assert yellow.json()["colour"] == "yellow"
    edited = api.patch(f"/api/v1/files/{file['id']}/yellow-notes/{yellow.json()['id']}", headers={**so, **key()},
                       json={"body": "Draft reply put up for approval.", "refs": {"notes": [1]}, "version": 1})
    assert edited.status_code == 200, edited.text
    confirmed = post(api, so, f"/files/{file['id']}/yellow-notes/{yellow.json()['id']}/confirm", version=2)
    assert confirmed.status_code == 200 and confirmed.json()["seq"] == 2, confirmed.text
    draft = post(api, so, f"/files/{file['id']}/drafts", title="Reply to Shri Ram Prasad",
                 body="Your arrears will be paid by 31 March.")
    assert draft.status_code == 201, draft.text
    draft = draft.json()
    assert send(api, so, file["id"], US).status_code == 200

    us = as_post(api, US)
    open_file(api, us, file["id"])
    revised = post(api, us, f"/files/{file['id']}/drafts/{draft['id']}/versions",
                   body="Your arrears will be paid by 15 March.", version=1)
    assert revised.status_code == 201 and revised.json()["current_version"] == 2, revised.text
    post(api, us, f"/files/{file['id']}/notes", body="Date advanced. Submitted.", green=True)
    assert send(api, us, file["id"], DS).status_code == 200

    ds = as_post(api, DS)
    open_file(api, ds, file["id"])
    stale = post(api, ds, f"/files/{file['id']}/drafts/{draft['id']}/approve", version=1)
    assert stale.status_code == 409  # approve what you read: the text changed since version 1
    approved = post(api, ds, f"/files/{file['id']}/drafts/{draft['id']}/approve", version=2)
    assert approved.status_code == 200 and approved.json()["status"] == "approved", approved.text
    post(api, ds, f"/files/{file['id']}/notes", body="Approved. Issue.", green=True)
    assert send(api, ds, file["id"], DEALER, remarks="issue the reply").status_code == 200  # back down

    open_file(api, dealer, file["id"])
    # Rule 6: the file (and the receipt in it) is not closed before the approved reply is issued
    # and dispatched (signing and notify stand in here; see test_undispatched.py).
    early = post(api, dealer, f"/files/{file['id']}/close", remarks="reply issued")
    assert early.status_code == 422 and "approved but not issued" in early.json()["detail"], early.text
    letters.dispatch(migrated, letters.issue(migrated, file, draft_id=draft["id"], version=2, signer_post=DS))
    wait_until(lambda: post(api, dealer, f"/files/{file['id']}/close", remarks="reply issued").status_code == 200,
               30, "the file closed once its letter was dispatched", interval=1)
    detail = open_file(api, dealer, file["id"])
    assert detail["status"] == "closed" and detail["notes_count"] == 4
    assert [m["action"] for m in detail["movements"]] == [
        "created", "sent", "opened", "sent", "opened", "sent", "opened", "sent", "opened", "closed"]
    versions = api.get(f"/api/v1/files/{file['id']}/drafts/{draft['id']}/versions", headers=dealer).json()
    assert [v["author_post"] for v in versions] == [SO, US]

    track = api.get(f"/api/v1/files/{file['id']}/track", headers=dealer).json()
    assert [s["post"] for s in track["stays"]] == [DEALER, SO, US, DS, DEALER]
    assert all(s["until"] for s in track["stays"])  # closed: nobody holds it any more
    # Each stay is counted by its holder's office calendar; all began and ended today.
    office_of = {p["code"]: p["office_code"] for p in demo("posts")}
    assert [s["office_code"] for s in track["stays"]] == [office_of[s["post"]] for s in track["stays"]]
    assert all(s["working_days"] == 0 and s["hours"] < 1 for s in track["stays"])
    assert track["overdue"] is False
    check = api.get(f"/api/v1/files/{file['id']}/verify", headers=dealer).json()
    assert check == {**check, "intact": True, "notes": 4, "problems": []}

    secretary = as_post(api, "SECY(GAD)")  # a supervisor sees every file of the offices under him
    assert open_file(api, secretary, file["id"])["file_number"] == file["file_number"]
    levels = api.get("/api/v1/reports/files/levels?office_code=GAD-EST", headers=secretary)
    assert levels.status_code == 200 and levels.json()["decided"] >= 1, levels.text
    stranger = as_post(api, held_post("section_staff", "DIST-SPR"))
    assert api.get(f"/api/v1/files/{file['id']}", headers=stranger).status_code == 404


def test_a_draft_that_will_not_be_issued_is_withdrawn_with_a_reason_and_the_file_then_closes(api, migrated):
    """A draft given up (unapproved by its holder, approved by an officer) stays in the file,
    marked withdrawn with who and why, and no longer keeps the file from closing; an issued one,
    or one withdrawn already, is not withdrawn; a withdrawn one is neither revised nor approved."""
    dealer, so = as_post(api, DEALER), as_post(api, SO)
    file = new_file(api, dealer, subject="Reply to a representation on seniority")
    fid = file["id"]
    drafts = [post(api, dealer, f"/files/{fid}/drafts", title=title, body=f"{title}: text.").json()
              for title in ("Reply", "Second reply", "Reply already issued")]
    reply, spare, issued = (d["id"] for d in drafts)
    assert send(api, dealer, fid, SO).status_code == 200
    open_file(api, so, fid)
    for draft in (reply, issued):
        assert post(api, so, f"/files/{fid}/drafts/{draft}/approve", version=1).status_code == 200
    letter = letters.issue(migrated, file, draft_id=issued, version=1, signer_post=SO)
    letters.dispatch(migrated, letter)
    assert send(api, so, fid, DEALER).status_code == 200
    open_file(api, dealer, fid)
    assert post(api, dealer, f"/files/{fid}/close", remarks="done").status_code == 409  # an unapproved draft

    def withdraw(headers, draft: int, remarks="Superseded by a fresh reply.", **extra):
        return api.post(f"/api/v1/files/{fid}/drafts/{draft}/withdraw", headers={**headers, **(extra or key())},
                        json={"remarks": remarks})

    # Why is required; an approved draft is an officer's to withdraw; nothing changes when refused.
    before = open_file(api, dealer, fid)
    for refused, status, field in ((withdraw(dealer, spare, "  "), 422, "body.remarks"),
                                   (withdraw(dealer, reply), 403, None)):
        assert refused.status_code == status, refused.text
        assert field is None or [e["field"] for e in refused.json()["errors"]] == [field], refused.text
    assert open_file(api, dealer, fid)["drafts"] == before["drafts"]

    done = withdraw(dealer, spare)
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["withdrawn_post"], done.json()["withdrawn_remarks"]) == (
        "withdrawn", DEALER, "Superseded by a fresh reply.")
    early = post(api, dealer, f"/files/{fid}/close", remarks="done")
    assert early.status_code == 422 and "draft" in early.json()["detail"] and "approved but not issued" in (
        early.json()["detail"]), early.text

    assert send(api, dealer, fid, SO).status_code == 200
    open_file(api, so, fid)
    wait_until(lambda: withdraw(so, issued).status_code == 409, 30, "files heard the draft was issued")
    assert "issued as letter" in withdraw(so, issued).json()["detail"]
    retry = key()
    first = withdraw(so, reply, "The matter was settled in a meeting.", **retry)
    assert first.status_code == 200 and first.json()["withdrawn_post"] == SO, first.text
    assert withdraw(so, reply, "The matter was settled in a meeting.", **retry).json() == first.json()
    assert withdraw(so, reply).status_code == 409
    assert post(api, so, f"/files/{fid}/drafts/{reply}/approve", version=1).status_code == 409
    assert post(api, so, f"/files/{fid}/drafts/{reply}/versions", body="A new text.", version=1).status_code == 409

    assert send(api, so, fid, DEALER).status_code == 200
    open_file(api, dealer, fid)
    closed = post(api, dealer, f"/files/{fid}/close", remarks="no reply to issue")
    assert closed.status_code == 200, closed.text
    shown = {d["id"]: d for d in open_file(api, dealer, fid)["drafts"]}
    assert [shown[d]["status"] for d in (reply, spare, issued)] == ["withdrawn", "withdrawn", "approved"]
    assert shown[reply]["withdrawn_remarks"] == "The matter was settled in a meeting."


def tamper(db, sql: str, **params) -> None:
    with db.transaction() as session:
        session.execute(text(sql), params)


def verify(api, headers, file_id: str) -> dict:
    return api.get(f"/api/v1/files/{file_id}/verify", headers=headers).json()


def test_green_notes_cannot_be_changed_and_tampering_is_detected(api, db, migrated):
    dealer = as_post(api, DEALER)
    file = new_file(api, dealer, subject="Leave encashment")
    for body in ("First note.", "Second note.", "Third note."):
        post(api, dealer, f"/files/{file['id']}/notes", body=body, green=True)
    draft = post(api, dealer, f"/files/{file['id']}/notes", body="a draft").json()
    post(api, dealer, f"/files/{file['id']}/yellow-notes/{draft['id']}/confirm", version=1)

    # Through the API: no route changes or deletes a green note, and the yellow-note route
    # refuses a note that has become green.
    for method in ("PATCH", "PUT", "DELETE"):
        answer = api.request(method, f"/api/v1/files/{file['id']}/notes/1", headers={**dealer, **key()},
                             json={"body": "rewritten"})
        assert answer.status_code == 405 and answer.headers["allow"] == "GET", (method, answer.text)
    assert api.get(f"/api/v1/files/{file['id']}/notes/1", headers=dealer).json()["body"] == "First note."
    assert api.get(f"/api/v1/files/{file['id']}/notes/99", headers=dealer).status_code == 404
    late = api.patch(f"/api/v1/files/{file['id']}/yellow-notes/{draft['id']}", headers={**dealer, **key()},
                     json={"body": "rewritten", "version": 1})
    assert late.status_code == 409 and "green" in late.json()["detail"]
    stale = api.patch(f"/api/v1/files/{file['id']}/yellow-notes/{draft['id']}", headers={**dealer, **key()},
                      json={"body": "rewritten", "version": 2})
    assert stale.status_code == 409
    assert [n["body"] for n in open_file(api, dealer, file["id"])["notes"]][-1] == "a draft"
    assert verify(api, dealer, file["id"])["intact"] is True

    # In the database, behind the service's back: found by the verify call.
    tamper(db, "UPDATE files.notes SET body = 'Rewritten.' WHERE file_id = :f AND seq = 2", f=file["id"])
    found = verify(api, dealer, file["id"])
    assert found["intact"] is False and any("note 2" in p and "database" in p for p in found["problems"])
    tamper(db, "UPDATE files.notes SET body = 'Second note.' WHERE file_id = :f AND seq = 2", f=file["id"])
    assert verify(api, dealer, file["id"])["intact"] is True
    # A careful forger recomputes the hashes of the whole chain: the locked records still differ.
    from services.files.notesheet import note_hash
    with db.transaction() as session:
        chain = [dict(n) for n in session.execute(select(notes).where(notes.c.file_id == file["id"])
                                                   .order_by(notes.c.seq)).mappings()]
        previous = None
        for n in chain:
            n["prev_hash"] = previous
            if n["seq"] == 1:
                n["body"] = "Forged first note."
            n["hash"] = previous = note_hash(n)
            session.execute(notes.update().where(notes.c.file_id == file["id"], notes.c.seq == n["seq"])
                            .values(body=n["body"], prev_hash=n["prev_hash"], hash=n["hash"]))
        session.execute(files_table.update().where(files_table.c.id == file["id"]).values(notes_head=previous))
    forged = verify(api, dealer, file["id"])
    assert forged["intact"] is False and any("note 1 differs from its locked record" in p
                                             for p in forged["problems"]), forged
    # Deleting the last note (and fixing the count) leaves its locked record behind.
    tamper(db, "DELETE FROM files.notes WHERE file_id = :f AND seq = 4", f=file["id"])
    tamper(db, "UPDATE files.files SET notes_count = 3 WHERE id = :f", f=file["id"])
    assert any("000004" in p and "not in the database" in p for p in verify(api, dealer, file["id"])["problems"])

    # In the object store: the locked version cannot be replaced; an overwrite is noticed.
    other = new_file(api, dealer, subject="Medical reimbursement")
    post(api, dealer, f"/files/{other['id']}/notes", body="Only note.", green=True)
    raw = Minio(migrated.minio_endpoints[0], access_key=migrated.minio_access_key,
                secret_key=migrated.minio_secret_key, secure=False)
    raw.put_object(migrated.records_bucket, record_name(other["id"], 1), io.BytesIO(b"{}"), 2)
    overwritten = verify(api, dealer, other["id"])
    assert overwritten["intact"] is False and any("overwritten" in p for p in overwritten["problems"])


def test_only_the_holder_acts_and_two_at_once_cannot_both_win(api, db):
    dealer, so = as_post(api, DEALER), as_post(api, SO)
    file = new_file(api, dealer, subject="Transfer request")
    assert send(api, so, file["id"], US).status_code == 404  # SO has never had it: not found

    # Pull back works until the recipient opens the file.
    send(api, dealer, file["id"], SO)
    assert post(api, dealer, f"/files/{file['id']}/pull-back").status_code == 200
    # SO had it for a moment and may look at it, but does not hold it.
    assert send(api, so, file["id"], US).status_code == 403
    assert post(api, so, f"/files/{file['id']}/notes", body="x", green=True).status_code == 403
    send(api, dealer, file["id"], SO)
    open_file(api, so, file["id"])
    late = post(api, dealer, f"/files/{file['id']}/pull-back")
    assert late.status_code == 409 and "already opened" in late.json()["detail"]

    # Two requests for the holder at once, to different posts: exactly one wins.
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda to: send(api, so, file["id"], to), [US, DEALER]))
    assert sorted(a.status_code for a in answers) == [200, 403], [a.text for a in answers]
    winner = next(a.json()["to_post"] for a in answers if a.status_code == 200)
    with db.transaction() as session:
        holder = session.execute(select(files_table.c.holder_post).where(files_table.c.id == file["id"])).scalar()
        sends = session.execute(select(movements.c.to_post).where(
            movements.c.file_id == file["id"], movements.c.action == "sent").order_by(movements.c.id)).scalars().all()
    assert holder == winner and sends == [SO, SO, winner]

    # A stale version is refused: the file changed since the caller looked at it.
    now = as_post(api, winner)
    seen = open_file(api, now, file["id"])["version"]
    post(api, now, f"/files/{file['id']}/notes", body="a note moves the version on", green=True)
    refused = api.post(f"/api/v1/files/{file['id']}/send", headers={**now, **key(), "If-Match": str(seen)},
                       json={"to_post": DS})
    assert refused.status_code == 409 and "changed meanwhile" in refused.json()["detail"]


def test_bad_input_is_refused_and_changes_nothing(api, db):
    dealer = as_post(api, DEALER)
    assert post(api, dealer, "/files", subject="x").status_code == 422  # no subject head
    unknown = post(api, dealer, "/files", subject_head="99999", subject="x")
    assert unknown.status_code == 422 and "99999" in unknown.json()["detail"]
    file = new_file(api, dealer, subject="Court case")
    bad_ref = post(api, dealer, f"/files/{file['id']}/notes", body="see p.9", refs={"pages": [9]}, green=True)
    assert bad_ref.status_code == 422 and "page 9" in bad_ref.json()["detail"]
    assert send(api, dealer, file["id"], "NO-SUCH-POST").status_code == 422
    assert send(api, dealer, file["id"], SO, due_date="2001-01-01").status_code == 422
    assert post(api, dealer, f"/files/{file['id']}/drafts", title="x", body="y").status_code == 201
    unapproved = post(api, dealer, f"/files/{file['id']}/close", remarks="done")
    assert unapproved.status_code == 409 and "not yet approved" in unapproved.json()["detail"]
    detail = open_file(api, dealer, file["id"])
    assert (detail["status"], detail["holder_post"], detail["notes_count"]) == ("open", DEALER, 0)
    assert [m["action"] for m in detail["movements"]] == ["created"]

    # Only the creator closes, and only a supervisor of the asker reopens.
    plain = new_file(api, dealer, subject="Stationery")
    send(api, dealer, plain["id"], SO)
    so = as_post(api, SO)
    open_file(api, so, plain["id"])
    assert post(api, so, f"/files/{plain['id']}/close", remarks="x").status_code == 403
    send(api, so, plain["id"], DEALER)
    open_file(api, dealer, plain["id"])
    assert post(api, dealer, f"/files/{plain['id']}/close", remarks="supplied").status_code == 200
    assert post(api, dealer, f"/files/{plain['id']}/reopen-request", remarks="more needed").status_code == 200
    outsider = as_post(api, held_post("officer", "DIST-LKO"))  # an officer, but not in the asker's chain
    assert post(api, outsider, f"/files/{plain['id']}/reopen-approve", remarks="ok").status_code == 404
    reopened = post(api, so, f"/files/{plain['id']}/reopen-approve", remarks="ok")
    assert reopened.status_code == 200 and open_file(api, dealer, plain["id"])["status"] == "open"


def test_a_numbering_that_could_give_two_files_one_number_is_refused(api):
    """An office's numbering must name the subject head, serial, year and office (serials count
    per office, head and year); one that does not is refused at its field and changes nothing."""
    admin = as_post(api, held_post("office_admin", "GAD"))
    dealer = as_post(api, DEALER)

    def numbering(pattern: str):
        return api.put("/api/v1/offices/GAD-EST/file-scheme", headers=admin, json={"prefix": "N", "pattern": pattern})

    assert numbering("EST-{head}/{serial:04d}/{year}-{office}").status_code == 200, "a pattern of its own"
    try:
        for pattern, why in [
            ("ä®Þ/ã", "must name {head}, {serial}, {year}, {office}"),
            ("{head}/{year}-{office}", "must name {serial}"),
            ("{head}/{serial}/{year}", "must name {office}"),
            ("{head:.1}/{serial}/{year}-{office}", "{head} takes no format"),
            ("{head}/{serial}/{year}-{office}-{clerk}", "'clerk'"),
            ("{head}/{serial}/{year}-{office}{", "Single '{'"),
            ("x" * 130 + "{head}/{serial}/{year}-{office}", "longer than 200"),
            ("N\x0f-{head}/{serial}/{year}-{office}", "control character"),
        ]:
            refused = numbering(pattern)
            assert refused.status_code == 422, (pattern, refused.text)
            problem = refused.json()
            assert [error["field"] for error in problem["errors"]] == ["body.pattern"], refused.text
            assert why in problem["detail"], refused.text
        suffix = api.put("/api/v1/offices/GAD-EST/file-scheme", headers=admin,
                         json={"pattern": "{head}/{serial}/{year}-{office}", "office_suffix": "GAD\x81"})
        assert suffix.status_code == 422 and [e["field"] for e in suffix.json()["errors"]] == ["body.office_suffix"]
        first, second = new_file(api, dealer, subject="Leave of Smt Kamla"), new_file(api, dealer, subject="Leave")
        for file in (first, second):
            assert file["file_number"].startswith(f"EST-{HEAD}/") and file["file_number"].endswith("-GAD-EST")
        assert first["file_number"] != second["file_number"]
    finally:
        assert numbering("{prefix}-{head}/{serial}/{year}-{office}").status_code == 200


def serial_of(file: dict) -> int:
    return int(file["file_number"].split("/")[1])  # N-11016/<serial>/2026-GAD-EST


def test_a_receipt_that_may_not_go_in_a_file_opens_no_file_uses_no_number_and_spends_no_key(api, db):
    """Found by QA: a refused receipt_id answered its error, yet the file was opened (held by
    the caller, a number used) and the Idempotency-Key spent. Now dak is asked first: each
    refusal names receipt_id, and nothing is left of the request."""
    clerk = as_post(api, held_post("dak_clerk", "GAD"))
    dealer = as_post(api, DEALER)

    def receipt(*, to_dealer: bool = True, receive: bool = True) -> str:
        made = post(api, clerk, "/receipts", subject="Arrears of pension", sender_name="Ram Prasad",
                    received_date=TODAY.isoformat(), mode="post")
        assert made.status_code == 201, made.text
        if to_dealer:
            assert post(api, clerk, f"/receipts/{made.json()['id']}/send", to_post=DEALER).status_code == 200
            if receive:
                assert post(api, dealer, f"/receipts/{made.json()['id']}/receive").status_code == 200
        return made.json()["id"]

    sent_on, closed = receipt(), receipt()
    assert post(api, dealer, f"/receipts/{sent_on}/send", to_post=SO).status_code == 200
    assert post(api, dealer, f"/receipts/{closed}/close", remarks="replied").status_code == 200
    before = serial_of(new_file(api, dealer, subject="Opened before the refusals"))
    one_key = {**dealer, "Idempotency-Key": uuid.uuid4().hex}
    for receipt_id, status, why in [
        ("00000000-0000-0000-0000-000000000000", 404, "no receipt"),
        (receipt(to_dealer=False), 404, "no receipt"),  # one the dealer never saw
        (receipt(receive=False), 409, "receive it before acting on it"),
        (sent_on, 403, SO),  # another post holds it now
        (closed, 409, "closed"),
    ]:
        refused = api.post("/api/v1/files", headers=one_key,
                           json={"subject_head": HEAD, "subject": "Refused receipt", "receipt_id": receipt_id})
        assert refused.status_code == status and why in refused.json()["detail"], (receipt_id, refused.text)
        with db.transaction() as session:
            left = session.execute(select(files_table.c.file_number).where(files_table.c.subject == "Refused receipt"))
            assert left.all() == [], (receipt_id, "a file was opened all the same")
        assert refused.json().get("field") == "receipt_id", refused.text

    good = receipt()
    made = api.post("/api/v1/files", headers=one_key,  # the same key, the body put right
                    json={"subject_head": HEAD, "subject": "Refused receipt, put right", "receipt_id": good})
    assert made.status_code == 201, made.text
    assert serial_of(made.json()) == before + 1  # no number was used by the refusals
    pages = wait_until(lambda: open_file(api, dealer, made.json()["id"])["correspondence"], 30, "receipt in the file")
    assert [(p["receipt_id"], p["puc"]) for p in pages] == [(good, True)]
    again = api.post("/api/v1/files", headers=one_key,  # a retry of the request that was done
                     json={"subject_head": HEAD, "subject": "Refused receipt, put right", "receipt_id": good})
    assert again.status_code == 201 and again.json()["id"] == made.json()["id"], again.text


def test_a_file_whose_receipt_dak_refused_after_all_is_withdrawn_and_its_number_given_back(api, rpc, db):
    """The gateway's step when dak refuses the receipt in the moment between its check and
    putting it in: files withdraws the file it just opened (files.withdraw), as if never asked."""
    dealer = as_post(api, DEALER)
    employee = next(p["employee_id"] for p in demo("postings") if p["post_code"] == DEALER and not p["end_date"])
    who = rpc.call("directory", "actor_for", employee, DEALER)
    opening = {**dealer, "Idempotency-Key": uuid.uuid4().hex}
    opened = api.post("/api/v1/files", headers=opening, json={"subject_head": HEAD, "subject": "Opened for a receipt"})
    assert opened.status_code == 201, opened.text
    opened = opened.json()

    withdrawn = rpc.call("files", "withdraw", who, opening["Idempotency-Key"], "receipt 12/2026/GAD not put in it")
    assert withdrawn["withdrawn"] and withdrawn["file_id"] == opened["id"], withdrawn
    assert api.get(f"/api/v1/files/{opened['id']}", headers=dealer).status_code == 404
    assert rpc.call("files", "withdraw", who, opening["Idempotency-Key"], "again") == {"withdrawn": False}
    with db.transaction() as session:
        told = session.execute(select(outbox.c.envelope).where(outbox.c.type == "eoffice.file.withdrawn.v1",
                                                               outbox.c.envelope["subject"].astext == opened["id"]))
        assert [e["data"]["remarks"] for (e,) in told] == ["receipt 12/2026/GAD not put in it"]

    # The number goes to the next file, and the key is free for another request.
    again = api.post("/api/v1/files", headers=opening, json={"subject_head": HEAD, "subject": "Opened again"})
    assert again.status_code == 201 and again.json()["file_number"] == opened["file_number"], again.text
    # A file worked on meanwhile is not withdrawn: it stays as it is.
    assert post(api, dealer, f"/files/{again.json()['id']}/notes", body="Put up.", green=True).status_code == 201
    with pytest.raises(Conflict) as refused:
        rpc.call("files", "withdraw", who, opening["Idempotency-Key"], "receipt not put in it")
    assert "worked on" in refused.value.detail
    assert open_file(api, dealer, again.json()["id"])["notes_count"] == 1


def test_an_office_prints_only_its_own_suffix_and_numbers_that_read_back(api):
    """Found by QA: LKO-LAND could print {office} as LKO-REV, another office's code, and its
    files took LKO-REV's numbers; a pattern without separators gave two heads one number. Both
    are refused at their field, saying why, and nothing changes."""
    admin = as_post(api, "EOADM-LKO")  # administers the district's offices

    def numbering(office: str, pattern: str = "{prefix}-{head}/{serial}/{year}-{office}", suffix: str | None = None):
        return api.put(f"/api/v1/offices/{office}/file-scheme", headers=admin,
                       json={"prefix": "N", "pattern": pattern, "office_suffix": suffix})

    try:
        another_office = numbering("LKO-LAND", suffix="LKO-REV")
        assert another_office.status_code == 422, another_office.text
        assert another_office.json()["field"] == "office_suffix"
        assert "LKO-REV is the code of another office" in another_office.json()["detail"]
        assert numbering("LKO-LAND", suffix="LKO-LAND-SEC").status_code == 200
        another_suffix = numbering("LKO-REV", suffix="LKO-LAND-SEC")
        assert another_suffix.status_code == 422 and another_suffix.json()["field"] == "office_suffix"
        assert "office LKO-LAND's already" in another_suffix.json()["detail"], another_suffix.text
        glued = numbering("LKO-LAND", pattern="{head}{serial}{year}{office}")
        assert glued.status_code == 422, glued.text
        assert [e["field"] for e in glued.json()["errors"]] == ["body.pattern"]
        assert "{head} and {serial} must be separated by fixed text" in glued.json()["detail"]
    finally:
        assert numbering("LKO-LAND").status_code == 200 and numbering("LKO-REV").status_code == 200


def test_a_number_that_comes_out_as_another_files_answers_409_and_writes_nothing(api):
    """Found by QA: a number another file had made POST /files answer 500 for that head from
    then on. A numbering that still prints another office's numbers (two patterns printing
    alike: no rule on one pattern alone sees it) is refused with 409 naming the numbering, and
    nothing is written: no file, no serial, no key spent."""
    admin = as_post(api, "EOADM-LKO")
    land, rev = as_post(api, "AO(LAND)-LKO"), as_post(api, "AO(REV)-LKO")
    head = f"Q{uuid.uuid4().hex[:6].upper()}"
    for office in ("LKO-LAND", "LKO-REV"):
        added = api.post(f"/api/v1/offices/{office}/subject-heads", headers=admin, json={"code": head, "title": "QA"})
        assert added.status_code == 201, added.text

    def numbering(pattern: str = "{prefix}-{head}/{serial}/{year}-{office}", suffix: str | None = None):
        return api.put("/api/v1/offices/LKO-LAND/file-scheme", headers=admin,
                       json={"prefix": "N", "pattern": pattern, "office_suffix": suffix})

    try:
        # LKO-LAND's own suffix and a pattern whose numbers read back, yet it prints LKO-REV's.
        assert numbering("{prefix}-{head}/{serial}/{year}-L{office}", suffix="KO-REV").status_code == 200
        theirs = post(api, rev, "/files", subject_head=head, subject="Mutation of khasra 112")
        assert theirs.status_code == 201 and theirs.json()["file_number"] == f"N-{head}/1/{TODAY.year}-LKO-REV"
        opening = {**land, "Idempotency-Key": uuid.uuid4().hex}
        body = {"subject_head": head, "subject": "Acquisition for the ring road"}
        taken = api.post("/api/v1/files", headers=opening, json=body)
        assert taken.status_code == 409, taken.text
        assert theirs.json()["file_number"] in taken.json()["detail"]
        assert "the numbering of LKO-LAND" in taken.json()["detail"], taken.text
        assert taken.json()["detail"] == api.post("/api/v1/files", headers=opening, json=body).json()["detail"]

        assert numbering().status_code == 200  # the admin puts it right
        made = api.post("/api/v1/files", headers=opening, json=body)  # the same key: it was not spent
        assert made.status_code == 201 and made.json()["file_number"] == f"N-{head}/1/{TODAY.year}-LKO-LAND"
    finally:
        assert numbering().status_code == 200


def test_part_files_links_parking_and_volumes(api):
    dealer = as_post(api, DEALER)
    main = new_file(api, dealer, subject="Recruitment rules")
    part = post(api, dealer, f"/files/{main['id']}/parts", remarks="for the court reply")
    assert part.status_code == 201 and part.json()["file_number"] == main["file_number"] + "/Part-1"
    linked = post(api, dealer, f"/files/{main['id']}/links", other_file_id=part.json()["id"], kind="reference")
    assert linked.status_code == 201
    assert open_file(api, dealer, main["id"])["links"][0]["file_number"] == part.json()["file_number"]
    assert post(api, dealer, f"/files/{main['id']}/park", remarks="awaiting report").status_code == 200
    assert main["id"] in {f["id"] for f in api.get("/api/v1/files?parked=true", headers=dealer).json()["items"]}
    assert post(api, dealer, f"/files/{main['id']}/unpark").status_code == 200
    for n in range(3):  # 3 x 90 pages: the third starts volume 2, numbering carries on
        added = post(api, dealer, f"/files/{main['id']}/documents", title=f"Annexure {n}", pages=90)
        assert added.status_code == 201, added.text
    items = open_file(api, dealer, main["id"])["correspondence"]
    assert [(i["first_page"], i["last_page"], i["volume"]) for i in items] == [(1, 90, 1), (91, 180, 1),
                                                                              (181, 270, 2)]


def test_a_crash_mid_send_leaves_the_file_sent_or_not_never_half(api, db, migrated):
    dealer = as_post(api, DEALER)
    file = new_file(api, dealer, subject="GPF advance")
    # Swap the files service for one that dies inside the send's transaction.
    api.services["files"].stop()
    crashing = service_process("files", {"EOFFICE_CRASH_AT": "files.send"}).start()
    try:
        answer = send(api, dealer, file["id"], SO)
        assert answer.status_code == 503  # the caller learns nothing came back
        wait_until(lambda: not crashing.running, 30, "the files service died mid-send")
        with db.transaction() as session:
            row = session.execute(select(files_table).where(files_table.c.id == file["id"])).mappings().one()
            sent = session.execute(select(movements).where(movements.c.file_id == file["id"],
                                                           movements.c.action == "sent")).all()
            events = session.execute(select(outbox.c.type).where(outbox.c.envelope["subject"].astext == file["id"],
                                                                 outbox.c.type == "eoffice.file.sent.v1")).all()
        assert (row["holder_post"], sent, events) == (DEALER, [], [])  # not sent at all
    finally:
        crashing.stop()
        api.services["files"].start()
    # The request was never acknowledged: the restarted service takes it again and finishes it.
    def sent_once():
        with db.transaction() as session:
            return session.execute(select(movements.c.to_post).where(
                movements.c.file_id == file["id"], movements.c.action == "sent")
                .order_by(movements.c.id)).scalars().all()
    assert wait_until(sent_once, 60, "the send redelivered and done") == [SO]
    with db.transaction() as session:
        assert session.execute(select(files_table.c.holder_post).where(
            files_table.c.id == file["id"])).scalar() == SO
        assert len(session.execute(select(outbox.c.id).where(
            outbox.c.envelope["subject"].astext == file["id"], outbox.c.type == "eoffice.file.sent.v1")).all()) == 1


def test_uploaded_documents_and_draft_documents(api, migrated):
    from eoffice.storage import DocumentStore
    from tests.support import scans as fixtures
    store = DocumentStore(migrated)

    def uploads() -> set[str]:
        return set(store.names("files/"))
    dealer = as_post(api, DEALER)
    file = new_file(api, dealer, subject="Annual property returns")
    two_pages = fixtures.pdf_of_images([fixtures.letter_image(["page one"]), fixtures.letter_image(["page two"])])
    before = uploads()
    added = api.post(f"/api/v1/files/{file['id']}/documents/upload", headers={**dealer, **key()},
                     data={"title": "Returns of 2025"},
                     files={"document": ("returns.pdf", two_pages, "application/pdf")})
    assert added.status_code == 201, added.text
    item = added.json()
    assert (item["first_page"], item["last_page"]) == (1, 2)  # its pages counted from the PDF
    got = api.get(f"/api/v1/files/{file['id']}/correspondence/{item['id']}/document", headers=dealer)
    assert got.status_code == 200 and got.content == two_pages
    assert len(uploads() - before) == 1

    before = uploads()
    bad = api.post(f"/api/v1/files/{file['id']}/documents/upload", headers={**dealer, **key()},
                   data={"title": "x"}, files={"document": ("x.pdf", b"%PDF-1.4 not really", "application/pdf")})
    assert bad.status_code == 422 and "x.pdf" in bad.json()["detail"]
    so = as_post(api, SO)  # has never had the file: refused after storing, and the upload removed
    refused = api.post(f"/api/v1/files/{file['id']}/documents/upload", headers={**so, **key()},
                       data={"title": "x"}, files={"document": ("ok.pdf", two_pages, "application/pdf")})
    assert refused.status_code == 404
    long_name = api.post(f"/api/v1/files/{file['id']}/documents/upload", headers={**dealer, **key()},
                         data={"title": "x"}, files={"document": ("r" * 300 + ".pdf", two_pages, "application/pdf")})
    assert long_name.status_code == 422 and long_name.json()["field"] == "document", long_name.text
    assert uploads() == before
    # The JSON routes take no document: naming an upload there (anybody's, e.g. the one above) is
    # refused, naming the field, not silently dropped; the file gains nothing.
    named_upload = {"object_name": f"files/{uuid.uuid4().hex}/returns.pdf", "sha256": "0" * 64,
                    "filename": "returns.pdf", "size": len(two_pages)}
    pages_before = api.get(f"/api/v1/files/{file['id']}", headers=dealer).json()
    for path, body in ((f"/files/{file['id']}/documents", {"title": "x", "document": named_upload}),
                       (f"/files/{file['id']}/drafts", {"title": "x", "body": "y", "document": named_upload})):
        sneaked = api.post(f"/api/v1{path}", headers={**dealer, **key()}, json=body)
        assert sneaked.status_code == 422, sneaked.text
        assert [e["field"] for e in sneaked.json()["errors"]] == ["body.document"], sneaked.text
    assert api.get(f"/api/v1/files/{file['id']}", headers=dealer).json() == pages_before

    first = fixtures.as_bytes(fixtures.letter_image(["Draft order, first version"]), "PNG")
    second = fixtures.as_bytes(fixtures.letter_image(["Draft order, second version"]), "PNG")
    draft = api.post(f"/api/v1/files/{file['id']}/drafts/upload", headers={**dealer, **key()},
                     data={"title": "Office order", "body": "As attached."},
                     files={"document": ("order-v1.png", first, "image/png")})
    assert draft.status_code == 201, draft.text
    revised = api.post(f"/api/v1/files/{file['id']}/drafts/{draft.json()['id']}/versions/upload",
                       headers={**dealer, **key()}, data={"body": "As attached, revised.", "version": "1"},
                       files={"document": ("order-v2.png", second, "image/png")})
    assert revised.status_code == 201 and revised.json()["current_version"] == 2, revised.text
    for version, data in ((1, first), (2, second)):
        got = api.get(f"/api/v1/files/{file['id']}/drafts/{draft.json()['id']}/versions/{version}/document",
                      headers=dealer)
        assert got.status_code == 200 and got.content == data


def test_checking_a_slow_upload_leaves_the_files_service_answering(api):
    """The intake's heavy steps run in a thread pool (eoffice.intake.base.in_threads): while
    one upload takes seconds to check, other requests to the same service answer at once."""
    import time

    from tests.support import scans as fixtures
    dealer = as_post(api, DEALER)
    file = new_file(api, dealer, subject="Scanned service books")
    slow = fixtures.tiff_slow_to_decode(200)  # valid; every one of its 49 MP pages is decoded
    with ThreadPoolExecutor(1) as pool:
        started = time.monotonic()
        upload = pool.submit(lambda: api.post(
            f"/api/v1/files/{file['id']}/documents/upload", headers={**dealer, **key()}, data={"title": "Books"},
            files={"document": ("books.tif", slow, "image/tiff")}))
        time.sleep(0.3)
        waits = []
        while not upload.done():
            asked = time.monotonic()
            assert api.get("/api/v1/files", headers=dealer).status_code == 200
            waits.append(time.monotonic() - asked)
        checked_in = time.monotonic() - started
    added = upload.result()
    assert added.status_code == 201 and added.json()["last_page"] - added.json()["first_page"] == 199, added.text
    assert checked_in > 1.5, f"checked in {checked_in:.1f}s: not slow enough to tell"
    assert max(waits) < 1.0 and len(waits) >= 3, (
        f"the service answered {len(waits)} times, in up to {max(waits):.1f}s, while checking for {checked_in:.1f}s")


def test_a_physical_file_is_received_first_and_an_overdue_one_is_reported(api, db):
    dealer, so = as_post(api, DEALER), as_post(api, SO)
    paper = new_file(api, dealer, subject="Service book of Shri Mohan Lal", physical=True)
    send(api, dealer, paper["id"], SO)
    open_file(api, so, paper["id"])
    early = post(api, so, f"/files/{paper['id']}/notes", body="seen", green=True)
    assert early.status_code == 409 and "receive it" in early.json()["detail"]
    assert post(api, so, f"/files/{paper['id']}/receive").status_code == 200
    assert post(api, so, f"/files/{paper['id']}/notes", body="seen", green=True).status_code == 201

    # Time passes: it has been with the section officer for three weeks.
    three_weeks = datetime.now(UTC) - timedelta(days=21)
    with db.transaction() as session:
        session.execute(files_table.update().where(files_table.c.id == paper["id"]).values(
            held_since=three_weeks, due_date=TODAY - timedelta(days=10)))
        session.execute(movements.update().where(movements.c.file_id == paper["id"], movements.c.action == "sent")
                        .values(at=three_weeks))
    track = api.get(f"/api/v1/files/{paper['id']}/track", headers=so).json()
    assert track["overdue"] is True and track["stays"][-1]["working_days"] > track["limit_working_days"]
    assert paper["id"] in {f["id"] for f in api.get("/api/v1/files?overdue=true", headers=so).json()["items"]}
    secretary = as_post(api, "SECY(GAD)")
    overdue = api.get("/api/v1/reports/files/overdue", headers=secretary).json()
    assert paper["id"] in {item["file_id"] for item in overdue["items"]}
    pendency = api.get("/api/v1/reports/files/pendency", headers=secretary).json()
    assert any(row["post"] == SO and row["overdue"] >= 1 for row in pendency["by_post"])
    assert api.get("/api/v1/reports/files/overdue", headers=so).status_code == 403  # not a supervisor


def test_the_sweep_removes_file_uploads_nothing_holds(api, db, migrated):
    from eoffice.storage import DocumentStore
    from services.files.service import sweep_uploads
    from tests.support import scans as fixtures
    store = DocumentStore(migrated)
    dealer = as_post(api, DEALER)
    file = new_file(api, dealer, subject="Audit para")
    page = fixtures.as_bytes(fixtures.letter_image(["audit para"]), "PNG")
    item = api.post(f"/api/v1/files/{file['id']}/documents/upload", headers={**dealer, **key()},
                    data={"title": "Audit para"}, files={"document": ("para.png", page, "image/png")}).json()
    orphan = store.put(io.BytesIO(b"left by a gateway that stopped"), name=f"files/{uuid.uuid4()}/1")
    removed = sweep_uploads(store, db, datetime.now(UTC) + timedelta(minutes=1))
    assert orphan.name in removed
    got = api.get(f"/api/v1/files/{file['id']}/correspondence/{item['id']}/document", headers=dealer)
    assert got.status_code == 200 and got.content == page


def test_what_a_caller_may_not_see_answers_404_whatever_the_verb(api, db):
    dealer = as_post(api, DEALER)
    file = new_file(api, dealer, subject="Disciplinary proceedings against a clerk")
    other = new_file(api, dealer, subject="Service book of the same clerk")
    fid = file["id"]
    yellow = post(api, dealer, f"/files/{fid}/notes", body="A first thought.").json()
    assert post(api, dealer, f"/files/{fid}/notes", body="Statement taken.", green=True).status_code == 201
    item = post(api, dealer, f"/files/{fid}/documents", title="Statement of the clerk", pages=2).json()
    draft = post(api, dealer, f"/files/{fid}/drafts", title="Show cause notice", body="Why not ...").json()
    stranger = as_post(api, held_post("officer", "DIST-SPR"))  # another district
    image = io.BytesIO()
    Image.new("L", (40, 40), 255).save(image, "PNG")
    png = ("x.png", image.getvalue(), "image/png")  # sound: refused for who sends it, not for what it is
    f, remarks = f"/api/v1/files/{fid}", {"remarks": "x"}

    def attempts(who: dict) -> dict:
        def h() -> dict:  # a fresh key for each attempt
            return {**who, **key()}
        return {
            "open": lambda: api.get(f, headers=who),
            "track": lambda: api.get(f"{f}/track", headers=who),
            "verify": lambda: api.get(f"{f}/verify", headers=who),
            "green note": lambda: api.get(f"{f}/notes/1", headers=who),
            "draft versions": lambda: api.get(f"{f}/drafts/{draft['id']}/versions", headers=who),
            "document": lambda: api.get(f"{f}/correspondence/{item['id']}/document", headers=who),
            "send": lambda: api.post(f"{f}/send", headers=h(), json={"to_post": SO}),
            "receive": lambda: api.post(f"{f}/receive", headers=h()),
            "pull back": lambda: api.post(f"{f}/pull-back", headers=h()),
            "park": lambda: api.post(f"{f}/park", headers=h(), json=remarks),
            "unpark": lambda: api.post(f"{f}/unpark", headers=h(), json=remarks),
            "close": lambda: api.post(f"{f}/close", headers=h(), json=remarks),
            "reopen request": lambda: api.post(f"{f}/reopen-request", headers=h(), json=remarks),
            "reopen approval": lambda: api.post(f"{f}/reopen-approve", headers=h(), json=remarks),
            "note": lambda: api.post(f"{f}/notes", headers=h(), json={"body": "x", "green": True}),
            "edit yellow note": lambda: api.patch(f"{f}/yellow-notes/{yellow['id']}", headers=h(),
                                                  json={"body": "y", "version": 1}),
            "discard yellow note": lambda: api.post(f"{f}/yellow-notes/{yellow['id']}/discard", headers=h(),
                                                    json={"version": 1}),
            "confirm yellow note": lambda: api.post(f"{f}/yellow-notes/{yellow['id']}/confirm", headers=h(),
                                                    json={"version": 1}),
            "add document": lambda: api.post(f"{f}/documents", headers=h(), json={"title": "x", "pages": 1}),
            "upload document": lambda: api.post(f"{f}/documents/upload", headers=h(), data={"title": "x"},
                                                files={"document": png}),
            "flag": lambda: api.post(f"{f}/correspondence/{item['id']}/flag", headers=h(), json={"puc": True}),
            "draft": lambda: api.post(f"{f}/drafts", headers=h(), json={"title": "x", "body": "y"}),
            "revise draft": lambda: api.post(f"{f}/drafts/{draft['id']}/versions", headers=h(),
                                             json={"body": "y", "version": 1}),
            "approve draft": lambda: api.post(f"{f}/drafts/{draft['id']}/approve", headers=h(), json={"version": 1}),
            "link": lambda: api.post(f"{f}/links", headers=h(), json={"other_file_id": other["id"], "kind": "link"}),
            "part file": lambda: api.post(f"{f}/parts", headers=h(), json=remarks),
            "unlink": lambda: api.delete(f"{f}/links/{other['id']}", headers=h()),
        }

    def state() -> tuple:
        with db.transaction() as session:
            row = session.execute(select(files_table).where(files_table.c.id == fid)).mappings().one()
            moves = session.execute(select(movements.c.id).where(movements.c.file_id == fid)).scalars().all()
        return row["version"], row["holder_post"], row["status"], row["notes_count"], len(moves)

    before = state()
    for verb, attempt in attempts(stranger).items():
        answer = attempt()
        assert answer.status_code == 404, (verb, answer.text)
        assert answer.json()["type"] == "urn:eoffice:problem:not-found", (verb, answer.text)
        assert file["file_number"] not in answer.text and DEALER not in answer.text, (verb, answer.text)
    assert state() == before

    # The dealer created it and sent it on: they may still see it, not act on it. So may a
    # supervisor of the office who never had it.
    assert send(api, dealer, fid, SO).status_code == 200
    supervisor = as_post(api, held_post("supervisor", "GAD"))
    before = state()
    for who in (dealer, supervisor):
        for verb, attempt in attempts(who).items():
            if verb in ("open", "track", "verify", "green note", "draft versions", "document", "pull back",
                        "reopen approval", "part file"):
                continue  # reading; the sender's own right; a supervisor's; and what anyone who sees it may do
            answer = attempt()
            assert answer.status_code == 403, (verb, answer.text)
            assert answer.json()["type"] == "urn:eoffice:problem:not-current-holder", (verb, answer.text)
    not_sender = attempts(as_post(api, SO))["pull back"]()  # the holder, who did not send it
    assert not_sender.status_code == 403 and DEALER in not_sender.json()["detail"], not_sender.text
    assert state() == before


def test_subject_heads_are_seen_within_the_jurisdiction_only(api):
    lucknow_office = next(p["office_code"] for p in demo("posts") if p["code"] == held_post("officer", "DIST-LKO"))
    sitapur = as_post(api, held_post("section_staff", "DIST-SPR"))
    lucknow = as_post(api, held_post("section_staff", "DIST-LKO"))
    theirs = api.get(f"/api/v1/offices/{lucknow_office}/subject-heads", headers=sitapur)
    assert theirs.status_code == 404 and theirs.json()["type"] == "urn:eoffice:problem:not-found", theirs.text
    assert api.get("/api/v1/offices/NO-SUCH-OFFICE/subject-heads", headers=sitapur).status_code == 404
    assert api.get(f"/api/v1/offices/{lucknow_office}/subject-heads", headers=lucknow).status_code == 200
    assert api.get("/api/v1/offices/GAD-EST/subject-heads", headers=as_post(api, DEALER)).json() != []


def test_a_holiday_imported_counts_in_the_next_due_date(api):
    # The files service keeps office calendars (eoffice/calendars.py); an import must reach
    # it through the directory's event, well before the cache's own expiry (60 s).
    tag = uuid.uuid4().hex[:6].upper()
    office, to = f"T{tag}", f"P{tag}-T"
    admin = as_post(api, "SYSADM-GAD-IT")

    def imported(files: dict) -> None:
        answer = api.post("/api/v1/directory/import", headers=admin, json={"files": files})
        assert answer.status_code == 200 and answer.json()["rejected"] == [], answer.text
    imported({"offices": f"code,parent_code,level,name_en,name_hi,weekly_off\n{office},GAD,section,Test,परीक्षण,SUN\n",
              "posts": f"code,office_code,designation_en,designation_hi,supervisor_code,roles\n"
                       f"{to},{office},Clerk,लिपिक,,section_staff\n"})
    dealer = as_post(api, DEALER)
    file = new_file(api, dealer, subject="Holiday in the recipient's office")
    sent = send(api, dealer, file["id"], to)
    assert sent.status_code == 200, sent.text
    due = sent.json()["due_date"]
    imported({"holidays": f"office_code,date,name_en,name_hi\n{office},{due},Local holiday,स्थानीय अवकाश\n"})

    def due_again():  # pull back and send again until the new calendar is used
        assert post(api, dealer, f"/files/{file['id']}/pull-back").status_code == 200
        again = send(api, dealer, file["id"], to)
        assert again.status_code == 200, again.text
        return again.json()["due_date"] if again.json()["due_date"] > due else None
    assert wait_until(due_again, 20, "the imported holiday counted in the due date") > due


def test_a_second_reopen_request_is_refused_while_one_is_pending(api):
    """A closed file is asked to be reopened once: asking again while the request waits for a
    supervisor is 409 saying one is pending, and logs nothing; the same request retried with its
    Idempotency-Key still gets the first answer."""
    dealer = as_post(api, DEALER)
    file = new_file(api, dealer, subject="Reopened once")
    assert post(api, dealer, f"/files/{file['id']}/close", remarks="supplied").status_code == 200
    retry = key()
    asked = api.post(f"/api/v1/files/{file['id']}/reopen-request", headers={**dealer, **retry},
                     json={"remarks": "more needed"})
    assert asked.status_code == 200, asked.text
    again = post(api, dealer, f"/files/{file['id']}/reopen-request", remarks="still more needed")
    assert again.status_code == 409, again.text
    assert "already pending" in again.json()["detail"] and DEALER in again.json()["detail"]
    repeated = api.post(f"/api/v1/files/{file['id']}/reopen-request", headers={**dealer, **retry},
                        json={"remarks": "more needed"})
    assert repeated.status_code == 200 and repeated.json() == asked.json(), repeated.text
    actions = [m["action"] for m in open_file(api, dealer, file["id"])["movements"]]
    assert actions.count("reopen_asked") == 1, actions
    assert post(api, as_post(api, SO), f"/files/{file['id']}/reopen-approve", remarks="ok").status_code == 200


def test_a_due_date_asked_for_is_a_working_day_of_the_recipients_office(api):
    """A file sent with a due date on a weekly day off or a holiday of the recipient's office is
    refused at `due_date`, saying it is not a working day there; the file stays."""
    dealer = as_post(api, DEALER)
    file = new_file(api, dealer, subject="Due on a working day")
    tomorrow = TODAY + timedelta(days=1)
    off = days_off(api, SO, tomorrow)
    for due in (next(day for day, why in off.items() if "weekly" in why),
                next(day for day, why in off.items() if why == "a holiday")):
        refused = send(api, dealer, file["id"], SO, due_date=due.isoformat())
        assert refused.status_code == 422, refused.text
        problem = refused.json()
        assert problem["field"] == "due_date" and "not a working day" in problem["detail"], problem
        assert [(e["field"], e["type"]) for e in problem["errors"]] == [("due_date", "not_working_day")]
    assert open_file(api, dealer, file["id"])["holder_post"] == DEALER
    due = working_day(api, SO, tomorrow)
    sent = send(api, dealer, file["id"], SO, due_date=due.isoformat())
    assert sent.status_code == 200 and sent.json()["due_date"] == due.isoformat(), sent.text
