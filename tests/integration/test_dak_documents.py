"""Electronic receipts through the gateway, against the real dak, directory and OCR worker
processes, MinIO and PostgreSQL: scans and e-mails diarised, read in Hindi and English, moved,
filed and closed; bad documents refused without leaving anything behind; a node down during
upload; an unreadable scan retried, reported, and never in the receipt's way."""
from __future__ import annotations

import hashlib
import io
import json
import time
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from minio import Minio
from PIL import Image
from sqlalchemy import select

from eoffice.db import UnitOfWork, make_engine
from eoffice.intake import inspect
from eoffice.storage import DocumentStore
from eoffice.text import normalise
from services.dak.models import diary_counters, outbox, scans
from services.dak.service import sweep_uploads
from tests.support import scans as fixtures
from tests.support.demo import auth, demo_gateway, file_held_by, held_post, sign_in
from tests.support.system import part, service_process, wait_for_whole_cluster, wait_until

pytestmark = pytest.mark.live
TODAY = datetime.now(timezone(timedelta(hours=5, minutes=30))).date()
PNG, PDF, JPEG, TIFF = "image/png", "application/pdf", "image/jpeg", "image/tiff"


@pytest.fixture(scope="module")
def ocr_worker(migrated):
    worker = service_process("dak_ocr").start()
    yield worker
    worker.stop()


@pytest.fixture(scope="module")
def api(migrated, ocr_worker):
    with demo_gateway(migrated, ("directory", "dak", "files")) as client:
        yield client


@pytest.fixture(scope="module")
def store(migrated):
    return DocumentStore(migrated)


@pytest.fixture(scope="module")
def db(migrated):
    uow = UnitOfWork(make_engine(migrated.database_url, pool_size=1))
    yield uow
    uow.engine.dispose()


@pytest.fixture(scope="module")
def clerk(api):
    return auth(sign_in(api, held_post("dak_clerk", "DIST-LKO")))


def key() -> dict:
    return {"Idempotency-Key": uuid.uuid4().hex}


def letter(**changes) -> dict:
    return {"subject": "भूमि नामांतरण हेतु आवेदन", "sender_name": "रामलाल", "received_date": TODAY.isoformat(),
            "mode": "post", **changes}


def upload(api, headers, files: list[tuple[str, bytes, str]], letter_json: str | None = None, **changes):
    return api.post("/api/v1/receipts/electronic", headers={**headers, **key()},
                    data={"letter": letter_json if letter_json is not None else json.dumps(letter(**changes))},
                    files=[("scans", file) for file in files])


def read_back(api, headers, receipt_id: str, timeout: float = 240) -> list[dict]:
    """Waits for the OCR worker to finish every document of the receipt; returns them."""
    def finished():
        docs = api.get(f"/api/v1/receipts/{receipt_id}", headers=headers).json()["scans"]
        return docs if all(d["ocr_status"] != "pending" for d in docs) else None
    return wait_until(finished, timeout, f"the documents of {receipt_id} read", interval=1)


def text_of(api, headers, receipt_id: str, position: int) -> str:
    response = api.get(f"/api/v1/receipts/{receipt_id}/scans/{position}/text", headers=headers)
    assert response.status_code == 200, response.text
    return response.text


def test_hindi_and_english_scans_are_read_moved_filed_and_closed(api, clerk):
    hindi_png = fixtures.as_bytes(fixtures.letter_image(fixtures.HINDI_LETTER), "PNG")
    english_pdf = fixtures.pdf_of_images([fixtures.letter_image(fixtures.ENGLISH_LETTER)])
    hindi = upload(api, clerk, [("namantaran.png", hindi_png, PNG)], language="hi")
    english = upload(api, clerk, [("encroachment.pdf", english_pdf, PDF)], language="en",
                     subject="Removal of encroachment", sender_name="Gram Pradhan, Bakshi Ka Talab")
    assert hindi.status_code == english.status_code == 201, (hindi.text, english.text)
    hindi, english = hindi.json(), english.json()
    assert [(s["content_type"], s["pages"]) for s in english["scans"]] == [(PDF, 1)]

    for receipt, word in ((hindi, "नामांतरण"), (english, "encroachment")):
        [doc] = read_back(api, clerk, receipt["id"])
        assert doc["ocr_status"] == "done" and doc["ocr_method"] == "ocr", doc
        assert normalise(word) in normalise(text_of(api, clerk, receipt["id"], 1))
    # The original is kept exactly as it came.
    assert api.get(f"/api/v1/receipts/{hindi['id']}/scans/1", headers=clerk).content == hindi_png

    # Through two posts, then one goes in a file and the other is closed.
    first, second = held_post("section_staff", "DIST-LKO"), held_post("officer", "DIST-LKO")
    for receipt in (hindi, english):
        for sender, to_post in ((clerk, first), (auth(sign_in(api, first)), second)):
            assert api.get(f"/api/v1/receipts/{receipt['id']}", headers=sender).status_code == 200
            moved = api.post(f"/api/v1/receipts/{receipt['id']}/send", headers={**sender, **key()},
                             json={"to_post": to_post})
            assert moved.status_code == 200, moved.text
    officer = auth(sign_in(api, second))
    for receipt in (hindi, english):
        api.get(f"/api/v1/receipts/{receipt['id']}", headers=officer)
    file_id = file_held_by(api, officer, second)
    filed = api.post(f"/api/v1/receipts/{hindi['id']}/put-in-file", headers={**officer, **key()},
                     json={"file_id": file_id})
    closed = api.post(f"/api/v1/receipts/{english['id']}/close", headers={**officer, **key()},
                      json={"remarks": "encroachment removed"})
    assert filed.status_code == closed.status_code == 200
    detail = api.get(f"/api/v1/receipts/{hindi['id']}", headers=officer).json()
    assert detail["status"] == "in_file" and detail["file_id"] == file_id
    assert [m["action"] for m in detail["movements"]] == [
        "diarised", "sent", "opened", "forwarded", "opened", "put_in_file"]
    assert api.get(f"/api/v1/receipts/{english['id']}", headers=officer).json()["status"] == "closed"


def test_a_long_scan_shows_how_far_its_reading_has_gone(api, clerk):
    """While a scan of many pages is read, the receipt shows it: waiting in the queue (no start,
    no page read), then when its reading began and the pages read so far, rising as batches of
    pages are done and never going back, until it is done with every page read."""
    pages = [fixtures.letter_image(fixtures.ENGLISH_LETTER if n % 2 else fixtures.HINDI_LETTER) for n in range(24)]
    made = upload(api, clerk, [("long.pdf", fixtures.pdf_of_images(pages), PDF)])
    assert made.status_code == 201, made.text
    queued = made.json()["scans"][0]
    assert (queued["ocr_status"], queued["pages"], queued["pages_read"], queued["ocr_started_at"]) == (
        "pending", 24, 0, None)
    seen, deadline = [], time.monotonic() + 240
    while time.monotonic() < deadline:
        scan = api.get(f"/api/v1/receipts/{made.json()['id']}", headers=clerk).json()["scans"][0]
        seen.append((scan["ocr_status"], scan["pages_read"], scan["ocr_started_at"]))
        if scan["ocr_status"] != "pending":
            break
        time.sleep(0.1)
    assert seen[-1][:2] == ("done", 24), seen[-1]
    shown = [read for status, read, _ in seen if status == "pending"]
    assert shown == sorted(shown), shown  # never fewer pages than shown before
    assert any(0 < read < 24 for read in shown), shown  # part way, before the end
    assert all(started for _, read, started in seen if read), seen  # pages read only once begun


def test_a_pdf_with_a_text_layer_is_not_read_again(api, clerk):
    searchable = fixtures.searchable_pdf(fixtures.letter_image(fixtures.ENGLISH_LETTER), "eng")
    receipt = upload(api, clerk, [("searchable.pdf", searchable, PDF)]).json()
    assert receipt["scans"][0]["text_layer"] is True
    [doc] = read_back(api, clerk, receipt["id"])
    assert doc["ocr_method"] == "text_layer"
    assert "encroachment" in text_of(api, clerk, receipt["id"], 1)


def test_a_restricted_pdf_is_accepted_read_and_kept_as_sent(api, clerk, db):
    # Both open without a password; an owner password forbids printing and copying, as many government PDFs come.
    page = fixtures.letter_image(fixtures.ENGLISH_LETTER)
    circular = fixtures.encrypted(fixtures.searchable_pdf(page, "eng"), algorithm="RC4-128")
    order = fixtures.encrypted(fixtures.pdf_of_images([page]), algorithm="AES-256")
    made = upload(api, clerk, [("circular.pdf", circular, PDF), ("order.pdf", order, PDF)], language="en",
                  subject="Removal of encroachment", sender_name="Gram Pradhan, Bakshi Ka Talab")
    assert made.status_code == 201, made.text
    receipt = made.json()
    assert [(s["filename"], s["pages"], s["text_layer"]) for s in receipt["scans"]] == [
        ("circular.pdf", 1, True), ("order.pdf", 1, False)]
    docs = read_back(api, clerk, receipt["id"])
    assert [(d["ocr_status"], d["ocr_method"]) for d in docs] == [("done", "text_layer"), ("done", "ocr")], docs
    for position in (1, 2):
        assert "encroachment" in text_of(api, clerk, receipt["id"], position).lower()
    # Stored byte for byte as sent (never an unrestricted copy), under the SHA-256 of what was sent.
    for position, sent in ((1, circular), (2, order)):
        assert api.get(f"/api/v1/receipts/{receipt['id']}/scans/{position}", headers=clerk).content == sent
    with db.transaction() as session:
        recorded = session.execute(select(scans.c.sha256).where(scans.c.receipt_id == receipt["id"])
                                   .order_by(scans.c.position)).scalars().all()
    assert recorded == [hashlib.sha256(circular).hexdigest(), hashlib.sha256(order).hexdigest()]


def test_an_email_is_diarised_with_its_attachments(api, clerk):
    scan = fixtures.as_bytes(fixtures.letter_image(fixtures.ENGLISH_LETTER), "JPEG")
    message = fixtures.eml("Encroachment near the village pond", "Sunita Devi <sunita.devi@example.in>",
                           "Please see the attached complaint about the encroachment.",
                           [("complaint.jpg", JPEG, scan)])
    made = api.post("/api/v1/receipts/email", headers={**clerk, **key()},
                    files={"email": ("complaint.eml", message, "message/rfc822")})
    assert made.status_code == 201, made.text
    receipt = made.json()
    assert (receipt["mode"], receipt["sender_email"], receipt["subject"]) == (
        "email", "sunita.devi@example.in", "Encroachment near the village pond")
    assert [(s["filename"], s["content_type"]) for s in receipt["scans"]] == [
        ("complaint.eml", "message/rfc822"), ("complaint.jpg", JPEG)]
    docs = read_back(api, clerk, receipt["id"])
    assert [d["ocr_method"] for d in docs] == ["email", "ocr"]
    assert "attached complaint" in text_of(api, clerk, receipt["id"], 1)
    assert "encroachment" in text_of(api, clerk, receipt["id"], 2).lower()


def uploads_in(store: DocumentStore) -> set[str]:
    return set(store.names("scans/"))


def last_serial(db, office_code: str) -> int:
    with db.transaction() as session:
        return session.execute(select(diary_counters.c.last_serial).where(
            diary_counters.c.office_code == office_code, diary_counters.c.year == TODAY.year)).scalar_one()


def test_correcting_an_electronic_receipt_opens_it_so_the_sender_cannot_pull_it_back(api, clerk):
    officer_post = held_post("officer", "DIST-LKO")
    officer = auth(sign_in(api, officer_post))
    receipt = upload(api, clerk, [("page.pdf", fixtures.pdf_page_of(595, 842), PDF)]).json()
    sent = api.post(f"/api/v1/receipts/{receipt['id']}/send", headers={**clerk, **key()},
                    json={"to_post": officer_post})
    assert sent.status_code == 200, sent.text
    # The officer corrects the sender's name straight from the inbox, never asking for the receipt.
    fixed = api.patch(f"/api/v1/receipts/{receipt['id']}", headers={**officer, **key()},
                      json={"sender_name": "रामलाल वर्मा", "reason": "full name"})
    assert fixed.status_code == 200, fixed.text
    late = api.post(f"/api/v1/receipts/{receipt['id']}/pull-back", headers={**clerk, **key()})
    assert late.status_code == 409 and "already opened" in late.json()["detail"], late.text
    detail = api.get(f"/api/v1/receipts/{receipt['id']}", headers=clerk).json()
    assert detail["opened"] is True and detail["holder_post"] == officer_post
    assert [m["action"] for m in detail["movements"]] == ["diarised", "sent", "opened", "corrected"]
    unread = api.get("/api/v1/inbox?unread=true&limit=200", headers=officer).json()["items"]
    assert receipt["id"] not in {r["id"] for r in unread}


def test_bad_documents_are_refused_and_leave_nothing_behind(api, clerk, store, db):
    good = fixtures.as_bytes(fixtures.letter_image(["short"]), "PNG")
    jpeg = fixtures.as_bytes(fixtures.letter_image(["short"]), "JPEG")
    officer = auth(sign_in(api, held_post("officer", "DIST-LKO")))
    cases = [
        ("unsupported", clerk, [("letter.txt", "प्रिय महोदय".encode(), "text/plain")], None, 422, "letter.txt"),
        ("corrupt", clerk, [("scan.jpg", fixtures.truncated(jpeg), JPEG)], None, 422, "scan.jpg"),
        ("over the limit", clerk, [("big.pdf", b"%PDF-1.4\n" + bytes(21 * 1024 * 1024), PDF)], None, 422, "limit"),
        ("PDF bomb", clerk, [("bomb.pdf", fixtures.pdf_bomb_flate(1024), PDF)], None, 422, "bomb.pdf"),
        ("restricted PDF bomb", clerk, [("bomb.pdf", fixtures.encrypted(fixtures.pdf_bomb_flate(1024)), PDF)], None,
         422, "bomb.pdf unpacks to over"),
        ("needs a password", clerk, [("locked.pdf", fixtures.encrypted(fixtures.pdf_bomb_pages(1), user_password="x"),
                                      PDF)], None, 422, "locked.pdf is password protected"),
        ("too many pages", clerk, [("pages.pdf", fixtures.pdf_bomb_pages(5000), PDF)], None, 422, "pages.pdf"),
        ("missing field", clerk, [("ok.png", good, PNG)], json.dumps({"received_date": TODAY.isoformat(),
                                                                       "mode": "post"}), 422, "subject"),
        ("a good file after a bad one", clerk, [("ok.png", good, PNG), ("bad.png", b"\x89PNG\r\n", PNG)], None,
         422, "bad.png"),
        ("not a dak clerk", officer, [("ok.png", good, PNG)], None, 403, "dak clerk"),
        ("a name over 255 characters", clerk, [("n" * 300 + ".png", good, PNG)], None, 422, "scans"),
        ("said to be a paper letter", clerk, [("ok.png", good, PNG)], json.dumps(letter(physical=True)), 422,
         "physical: a receipt diarised with its scans or e-mail is electronic"),
    ]
    office = api.post("/api/v1/receipts", headers={**clerk, **key()}, json=letter()).json()["office_code"]
    before, serial = uploads_in(store), last_serial(db, office)
    for what, who, files, letter_json, status, mentioned in cases:
        answer = upload(api, who, files, letter_json)
        assert answer.status_code == status, (what, answer.text)
        assert mentioned in answer.json()["detail"], (what, answer.json())
        assert uploads_in(store) == before, f"{what} left objects behind"
        assert last_serial(db, office) == serial, f"{what} used a diary number"
    message = fixtures.eml("A paper letter?", "Sunita Devi <sunita.devi@example.in>", "Please see.", [])
    by_email = api.post("/api/v1/receipts/email", headers={**clerk, **key()}, data={"letter": '{"physical": true}'},
                        files={"email": ("letter.eml", message, "message/rfc822")})
    assert by_email.status_code == 422 and by_email.json()["field"] == "physical", by_email.text
    assert uploads_in(store) == before and last_serial(db, office) == serial
    # And a sound upload after all that takes the very next number.
    made = upload(api, clerk, [("ok.png", good, PNG)]).json()
    assert made["diary_number"].split("/")[0] == str(serial + 1)
    too_long = upload(api, clerk, [("n" * 256 + ".pdf", good, PNG)])
    assert too_long.status_code == 422 and too_long.json()["field"] == "scans", too_long.text


def test_a_caller_who_may_not_diarise_is_refused_before_the_upload_is_read(api, clerk, store, db):
    officer = auth(sign_in(api, held_post("officer", "DIST-LKO")))
    slow = fixtures.tiff_slow_to_decode(200)
    started = time.monotonic()
    inspect(io.BytesIO(slow), "slow.tif", max_bytes=20 * 1024 * 1024)  # what checking it costs a clerk
    decoding = time.monotonic() - started
    assert decoding > 1.5, f"the payload decodes in {decoding:.1f}s: not slow enough to tell"
    office = api.post("/api/v1/receipts", headers={**clerk, **key()}, json=letter()).json()["office_code"]
    before, serial = uploads_in(store), last_serial(db, office)

    started = time.monotonic()
    refused = upload(api, officer, [("slow.tif", slow, TIFF), ("slow-2.tif", slow, TIFF)])
    answered = time.monotonic() - started
    assert refused.status_code == 403 and "dak clerk" in refused.json()["detail"], refused.text
    assert answered < decoding / 4, f"refused after {answered:.1f}s; decoding one file takes {decoding:.1f}s"
    # Files the checks would refuse (422), and metadata that is not even JSON: still 403, so the
    # role was asked before anything of the upload was looked at.
    broken = upload(api, officer, [("bad.png", b"\x89PNG\r\n", PNG)], letter_json="{not json")
    assert broken.status_code == 403, broken.text
    eml = fixtures.eml("Complaint", "a@b.in", "text", [])
    by_email = api.post("/api/v1/receipts/email", headers={**officer, **key()},
                        files={"email": ("m" * 300 + ".eml", eml, "message/rfc822")})
    assert by_email.status_code == 403, by_email.text
    assert uploads_in(store) == before and last_serial(db, office) == serial


def test_a_scan_survives_a_minio_node_down_during_upload(api, clerk, migrated, stopped_nodes):
    ports = [endpoint.rsplit(":", 1)[1] for endpoint in migrated.minio_endpoints]
    page = fixtures.as_bytes(fixtures.letter_image(fixtures.ENGLISH_LETTER), "PNG")
    stopped_nodes(ports[0])  # the gateway's first choice
    made = upload(api, clerk, [("node-down.png", page, PNG)])
    assert made.status_code == 201, made.text
    receipt_id = made.json()["id"]
    downloaded = api.get(f"/api/v1/receipts/{receipt_id}/scans/1", headers=clerk)
    assert downloaded.content == page, downloaded.text[:500]
    # The node comes back and another fails: the scan still reads back whole. (Two more
    # failures would be too many until MinIO heals the returning node's share.)
    part("start", f"minio-{ports[0]}")
    wait_for_whole_cluster(migrated)
    stopped_nodes(ports[1])
    downloaded = api.get(f"/api/v1/receipts/{receipt_id}/scans/1", headers=clerk)
    assert downloaded.content == page, downloaded.text[:500]


def test_an_unreadable_scan_is_retried_then_reported_and_never_blocks_the_receipt(
        api, clerk, ocr_worker, migrated, db):
    ocr_worker.stop()  # so the scan can be damaged before it is read
    try:
        receipt = upload(api, clerk, [("damaged.png", fixtures.as_bytes(
            fixtures.letter_image(["damaged"]), "PNG"), PNG)]).json()
        name = object_of(db, receipt["id"])
        endpoint = migrated.minio_endpoints[0]
        raw = Minio(endpoint, access_key=migrated.minio_access_key, secret_key=migrated.minio_secret_key,
                    secure=False)
        raw.put_object(migrated.documents_bucket, name, io.BytesIO(b"not what was uploaded"), 21)
    finally:
        ocr_worker.start()
    [doc] = read_back(api, clerk, receipt["id"])
    attempts = len(migrated.retry_delays) + 1
    assert (doc["ocr_status"], doc["ocr_attempts"]) == ("failed", attempts)
    assert "ObjectCorrupted" in doc["ocr_error"]
    text = api.get(f"/api/v1/receipts/{receipt['id']}/scans/1/text", headers=clerk)
    assert text.status_code == 409 and "failed" in text.json()["detail"]
    with db.transaction() as session:
        reported = session.execute(select(outbox.c.type).where(outbox.c.envelope["subject"].astext == receipt["id"]))
        assert "eoffice.receipt.scan-unreadable.v1" in set(reported.scalars())
    # The receipt goes on regardless.
    sent = api.post(f"/api/v1/receipts/{receipt['id']}/send", headers={**clerk, **key()},
                    json={"to_post": held_post("officer", "DIST-LKO")})
    assert sent.status_code == 200


def test_a_scan_with_no_text_to_read_says_so_at_once(api, clerk, db):
    """A blank page, or one too faint to read, is not "done" with nothing in it: the clerk is told
    no text could be read (failed, with the reason, as the web client shows it), at the first
    reading, since reading it again would find nothing either; the other document is read."""
    blank = fixtures.as_bytes(Image.new("L", (1165, 1654), 255), "PNG")
    english = fixtures.as_bytes(fixtures.letter_image(fixtures.ENGLISH_LETTER), "PNG")
    receipt = upload(api, clerk, [("blank.png", blank, PNG), ("letter.png", english, PNG)]).json()
    empty, read = read_back(api, clerk, receipt["id"])
    assert (empty["ocr_status"], empty["ocr_attempts"]) == ("failed", 1), empty
    assert "no text could be read" in empty["ocr_error"]
    text = api.get(f"/api/v1/receipts/{receipt['id']}/scans/1/text", headers=clerk)
    assert text.status_code == 409 and "no text could be read" in text.json()["detail"]
    assert read["ocr_status"] == "done" and "encroachment" in text_of(api, clerk, receipt["id"], 2)
    with db.transaction() as session:
        reported = session.execute(select(outbox.c.type).where(outbox.c.envelope["subject"].astext == receipt["id"]))
        assert "eoffice.receipt.scan-unreadable.v1" in set(reported.scalars())


def test_the_sweep_removes_uploads_no_receipt_holds(api, clerk, store, db):
    orphan = store.put(io.BytesIO(b"left by a gateway that stopped"), name=f"scans/{uuid.uuid4()}/1")
    kept = upload(api, clerk, [("kept.png", fixtures.as_bytes(fixtures.letter_image(["kept"]), "PNG"), PNG)]).json()
    removed = sweep_uploads(store, db, datetime.now(UTC) + timedelta(minutes=1))
    assert orphan.name in removed and orphan.name not in uploads_in(store)
    assert object_of(db, kept["id"]) not in removed
    assert api.get(f"/api/v1/receipts/{kept['id']}/scans/1", headers=clerk).status_code == 200


def object_of(db, receipt_id: str) -> str:
    with db.transaction() as session:
        return session.execute(select(scans.c.object_name).where(scans.c.receipt_id == receipt_id)).scalar_one()
