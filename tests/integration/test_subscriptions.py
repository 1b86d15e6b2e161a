"""Portal subscriptions through the gateway, against the real notify, files, dak and directory
services, PostgreSQL, RabbitMQ and a webhook receiver on loopback (test mode allows loopback):
every event once by id, in order per file, signed; a receiver down for a while gets everything
afterwards; a slow one delays nobody; unsafe URLs refused; redirects and huge answers contained;
secrets rotated with an overlap; payloads redacted; an AMQP portal reads its queue and nothing else."""

from __future__ import annotations

import json
import time
from collections import Counter

import amqp
import pytest

from eoffice.db import UnitOfWork, make_engine
from tests.support.demo import auth, demo_gateway, every_item, every_page, held_post, sign_in
from tests.support.portals import HEAD, emitted, files_moved, key, per_file
from tests.support.system import service_process, wait_until
from tests.support.webhook_receiver import Receiver

pytestmark = pytest.mark.live
DEALER, SO = "RO1(EST)-GAD", "SO(EST)-GAD"
# Short retries so that a receiver coming back is noticed within a second or two.
NOTIFY_ENV = {
    "EOFFICE_WEBHOOK_ALLOW_LOOPBACK": "true",
    "EOFFICE_WEBHOOK_RETRY_BASE": "0.2",
    "EOFFICE_WEBHOOK_RETRY_CAP": "1.5",
    "EOFFICE_WEBHOOK_RETRY_FOR": "1200",
    "EOFFICE_WEBHOOK_TIMEOUT": "12",
    "EOFFICE_WEBHOOK_FAILING_AFTER": "1000",
}


@pytest.fixture(scope="module")
def api(migrated):
    notify = service_process("notify", env=NOTIFY_ENV).start()
    try:
        with demo_gateway(migrated, ("directory", "dak", "files")) as client:
            client.admin = auth(sign_in(client, held_post("system_admin", None)))
            # notify's event queues exist once it answers: events from now on reach it.
            wait_until(
                lambda: client.get("/api/v1/subscriptions", headers=client.admin).status_code == 200,
                60,
                "notify answering",
            )
            head = client.post(
                "/api/v1/offices/GAD-EST/subject-heads",
                headers=auth(sign_in(client, held_post("office_admin", "GAD"))),
                json={"code": HEAD, "title": "Portal matters"},
            )
            assert head.status_code == 201, head.text
            client.dealer = auth(sign_in(client, DEALER))
            yield client
    finally:
        notify.stop()


@pytest.fixture(scope="module")
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def db(migrated):
    uow = UnitOfWork(make_engine(migrated.database_url, pool_size=1))
    yield uow
    uow.engine.dispose()


def subscribe(api, **body) -> dict:
    made = api.post(
        "/api/v1/subscriptions",
        headers={**api.admin, **key()},
        json={"name": "Revenue portal", "delivery": "webhook", "event_types": ["eoffice.file.*"], **body},
    )
    assert made.status_code == 201, made.text
    return made.json()


def test_only_the_system_admin_registers_and_bad_subscriptions_are_refused_naming_the_field(api):
    officer = auth(sign_in(api, DEALER))
    body = {"name": "X", "delivery": "webhook", "url": "https://example.org/hook", "event_types": ["*"]}
    assert api.post("/api/v1/subscriptions", headers={**officer, **key()}, json=body).status_code == 403
    assert api.get("/api/v1/subscriptions", headers=officer).status_code == 403
    cases = [
        ({"url": "https://10.1.2.3/hook"}, "url"),  # private
        ({"url": "https://169.254.169.254/latest/meta-data"}, "url"),  # link-local (cloud metadata)
        ({"url": "https://192.168.0.7:8443/x"}, "url"),
        ({"url": "https://[fd00::1]/x"}, "url"),
        ({"url": "ftp://example.org/x"}, "url"),
        ({"url": "https://user:pw@127.0.0.1/x"}, "url"),
        ({"event_types": []}, "event_types"),
        ({"event_types": ["file sent"]}, "event_types.0"),
        ({"delivery": "carrier-pigeon"}, "delivery"),
        ({"url": None}, "url"),  # a webhook without one
        ({"offices": ["no spaces allowed"]}, "offices.0"),
        # It would never hear anything: a type the system does not emit, an office it does not have.
        ({"event_types": ["eoffice.file.*", "eoffice.nonsense.v1"]}, "event_types.1"),
        ({"event_types": ["eoffice.fil.*"]}, "event_types.0"),
        ({"offices": ["GAD", "LKO-COLL"]}, "offices.1"),
        ({"url": "https://example.org:0/hook"}, "url"),
        ({"note_text": "yes"}, "note_text"),
        ({"diary_number": "1/2026"}, "diary_number"),  # a field a subscription does not have
    ]
    for change, field in cases:
        answer = api.post("/api/v1/subscriptions", headers={**api.admin, **key()}, json={**body, **change})
        assert answer.status_code == 422, (change, answer.text)
        fields = [e["field"] for e in answer.json().get("errors", [])]
        assert any(f.endswith(field) for f in fields), (change, answer.text)


def test_every_event_once_in_order_signed_while_a_slow_subscriber_delays_nobody(api, receiver, db):
    fast = subscribe(api, url=receiver.url("/fast"))
    receiver.behaviour["/slow"] = "slow:10"
    slow = subscribe(api, url=receiver.url("/slow"))
    file_ids = files_moved(api, 6)
    truth = emitted(db, file_ids)
    assert len(truth) == 12
    started = time.monotonic()
    wait_until(lambda: len(receiver.events("/fast")) >= len(truth), 20, "the fast subscriber has every event")
    took = time.monotonic() - started
    got = receiver.verified("/fast", fast["secret"])  # each signature valid
    assert Counter(e["id"] for e in got) == Counter(e["id"] for e in truth)  # each exactly once
    assert per_file(got) == per_file(truth)  # in order per file
    # Meanwhile the slow one (10 s an answer) has had at most one round of answers.
    assert took < 8, took
    assert len(receiver.events("/slow")) < len(truth)
    # The log shows a round's answers once they are recorded, just after they came.
    wait_until(
        lambda: (
            api.get(f"/api/v1/subscriptions/{fast['id']}/deliveries", headers=api.admin).json()["deliveries"][
                "delivered"
            ]
            == len(truth)
        ),
        5,
        "the fast subscriber's log showing every delivery",
    )
    log = api.get(f"/api/v1/subscriptions/{fast['id']}/deliveries", headers=api.admin).json()
    assert log["deliveries"]["pending"] == 0
    assert all(a["ok"] for a in every_item(api, f"/api/v1/subscriptions/{fast['id']}/deliveries", api.admin))
    api.delete(f"/api/v1/subscriptions/{slow['id']}", headers=api.admin)
    api.delete(f"/api/v1/subscriptions/{fast['id']}", headers=api.admin)


def test_the_delivery_log_pages_by_cursor_each_attempt_once_and_the_old_before_still_works(api, receiver):
    """GET /subscriptions/{id}/deliveries pages like every list: `cursor` in, `{items,
    next_cursor}` out (null on the last page), each page with the counts by state; `before` (an
    attempt id), how it paged until then, still works for one release."""
    sub = subscribe(api, url=receiver.url("/paged"))
    path = f"/api/v1/subscriptions/{sub['id']}/deliveries"
    files_moved(api, 3)
    wait_until(lambda: api.get(path, headers=api.admin).json()["deliveries"]["delivered"] == 6, 20, "six delivered")
    pages = every_page(api, path, api.admin, limit=2)
    walked = [a["id"] for page in pages for a in page["items"]]
    assert len(pages) >= 3 and all(len(page["items"]) == 2 for page in pages[:-1])
    assert pages[-1]["next_cursor"] is None and all(page["next_cursor"] for page in pages[:-1])
    assert all(page["deliveries"] == {"pending": 0, "delivered": 6, "dead": 0} for page in pages)
    assert walked == sorted(set(walked), reverse=True)  # newest first, each once
    everything = api.get(path, headers=api.admin, params={"limit": 200}).json()
    assert walked == [a["id"] for a in everything["items"]] and everything["next_cursor"] is None
    assert len({a["event_id"] for page in pages for a in page["items"] if a["ok"]}) == 6

    # The deprecated `before`: the attempts older than that id, as the cursor gives them.
    old = api.get(path, headers=api.admin, params={"limit": 2, "before": walked[1]})
    assert old.status_code == 200, old.text
    assert [a["id"] for a in old.json()["items"]] == walked[2:4] == [a["id"] for a in pages[1]["items"]]
    assert old.json()["next_cursor"] == pages[1]["next_cursor"]

    for bad in ("not a cursor!", "YWJj", "OTk5OTk5OTk5OTk5OTk5OTk5OTk5"):  # not base64; "abc"; a number past bigint
        refused = api.get(path, headers=api.admin, params={"cursor": bad})
        assert refused.status_code == 422 and refused.json()["field"] == "cursor", (bad, refused.text)
    both = api.get(path, headers=api.admin, params={"cursor": pages[0]["next_cursor"], "before": 5})
    assert both.status_code == 422 and both.json()["field"] == "before", both.text
    api.delete(f"/api/v1/subscriptions/{sub['id']}", headers=api.admin)


def check_outage(api, db, outage_seconds: float):
    """A receiver down for `outage_seconds` while files move gets every event afterwards, once,
    in order per file, validly signed; its log shows the failed attempts."""
    down = Receiver()
    down.start()
    down.stop()  # its port now refuses connections
    sub = subscribe(api, url=down.url("/hook"))
    file_ids: list[str] = []
    deadline = time.monotonic() + outage_seconds
    while time.monotonic() < deadline:
        file_ids += files_moved(api, 1)
        time.sleep(min(5.0, max(0.0, deadline - time.monotonic())))
    down.start()  # back, on the same port
    try:
        truth = emitted(db, file_ids)
        wait_until(lambda: len(down.events("/hook")) >= len(truth), 30, "every event after the outage")
        time.sleep(1)  # nothing more comes
        got = down.verified("/hook", sub["secret"])
        assert Counter(e["id"] for e in got) == Counter(e["id"] for e in truth)
        assert per_file(got) == per_file(truth)
        path = f"/api/v1/subscriptions/{sub['id']}/deliveries"
        log = api.get(path, headers=api.admin).json()
        assert any(not a["ok"] and "refused" in (a["error"] or "").lower() for a in every_item(api, path, api.admin))
        assert log["deliveries"] == {"pending": 0, "delivered": len(truth), "dead": 0}
    finally:
        down.stop()
        api.delete(f"/api/v1/subscriptions/{sub['id']}", headers=api.admin)


def test_a_receiver_down_for_a_while_gets_everything_afterwards(api, db):
    check_outage(api, db, outage_seconds=8)


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_a_receiver_down_for_ten_minutes_gets_everything_afterwards(api, db):
    check_outage(api, db, outage_seconds=600)


def test_redirects_to_private_addresses_and_huge_answers_are_contained(api, receiver):
    receiver.behaviour["/redirect"] = "redirect:http://169.254.169.254/latest/meta-data"
    receiver.behaviour["/huge"] = "huge"
    redirected = subscribe(api, url=receiver.url("/redirect"))
    huge = subscribe(api, url=receiver.url("/huge"))
    files_moved(api, 1)

    def attempts(sub):
        return every_item(api, f"/api/v1/subscriptions/{sub['id']}/deliveries", api.admin)

    wait_until(lambda: len(attempts(redirected)) >= 2, 20, "redirected deliveries attempted")
    assert all(not a["ok"] and "169.254.169.254" in a["error"] for a in attempts(redirected))
    assert "/redirect" not in receiver.received  # what is recorded is what got a 2xx; none did
    wait_until(lambda: len([a for a in attempts(huge) if a["ok"]]) == 2, 20, "huge answers read and let go")
    assert all(a["seconds"] < 5 for a in attempts(huge))
    assert receiver.huge_bytes_sent < 64 * 1024 * 1024  # we hung up long before 1 GB
    for sub in (redirected, huge):
        api.delete(f"/api/v1/subscriptions/{sub['id']}", headers=api.admin)


def test_a_rotated_secret_signs_beside_the_new_one_during_the_overlap(api, receiver):
    sub = subscribe(api, url=receiver.url("/rotating"))
    rotated = api.post(
        f"/api/v1/subscriptions/{sub['id']}/rotate-secret", headers={**api.admin, **key()}, json={"overlap_hours": 1}
    )
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["secret"]
    assert new_secret != sub["secret"] and rotated.json()["previous_secret_valid_until"]
    files_moved(api, 1)
    wait_until(lambda: len(receiver.events("/rotating")) >= 2, 20, "events after rotation")
    assert len(receiver.verified("/rotating", sub["secret"])) == len(receiver.verified("/rotating", new_secret))
    assert all(len(r["headers"]["webhook-signature"].split()) == 2 for r in receiver.received["/rotating"])
    api.delete(f"/api/v1/subscriptions/{sub['id']}", headers=api.admin)


def test_a_retried_rotation_answers_the_same_secret_and_the_portals_secret_keeps_working(api, receiver):
    """A rotation takes an Idempotency-Key: the admin whose answer was lost sends it again and
    gets the same new secret, not a third one, and the portal, still checking with the secret
    it had, keeps accepting deliveries during the overlap."""
    sub = subscribe(api, url=receiver.url("/rotate-retry"))
    path, asked, once = f"/api/v1/subscriptions/{sub['id']}/rotate-secret", {"overlap_hours": 1}, key()
    first = api.post(path, headers={**api.admin, **once}, json=asked)
    again = api.post(path, headers={**api.admin, **once}, json=asked)
    assert first.status_code == again.status_code == 200, again.text
    assert again.json()["secret"] == first.json()["secret"] != sub["secret"]
    assert again.json()["previous_secret_valid_until"] == first.json()["previous_secret_valid_until"]
    other = api.post(path, headers={**api.admin, **once}, json={"overlap_hours": 2})
    assert other.status_code == 422 and other.json()["field"] == "Idempotency-Key", other.text
    keyless = api.post(path, headers=api.admin, json=asked)
    assert keyless.status_code == 422, keyless.text
    assert [e["field"] for e in keyless.json()["errors"]] == ["header.Idempotency-Key"]
    files_moved(api, 1)
    wait_until(lambda: len(receiver.events("/rotate-retry")) >= 2, 20, "events after the rotation")
    # Each delivery verifies with the secret the portal had and with the one the admin was given.
    assert len(receiver.verified("/rotate-retry", sub["secret"])) == 2
    assert len(receiver.verified("/rotate-retry", first.json()["secret"])) == 2
    api.delete(f"/api/v1/subscriptions/{sub['id']}", headers=api.admin)


def test_event_types_no_portal_is_sent_are_refused_naming_the_field(api):
    """Portals are sent the events of receipts, files and letters (dak, files, signing); a
    subscription only to directory's or notify's own events would never hear anything."""

    def ids():
        return {s["id"] for s in api.get("/api/v1/subscriptions", headers=api.admin).json()}

    before = ids()
    body = {"name": "X", "delivery": "webhook", "url": "https://93.184.216.34/hook"}
    for types, field in [
        (["eoffice.directory.post-handed-over.v1"], "event_types.0"),
        (["eoffice.directory.*"], "event_types.0"),
        (["eoffice.file.*", "eoffice.subscription.failing.v1"], "event_types.1"),
        (["eoffice.letter.dispatched.v1"], "event_types.0"),
    ]:
        answer = api.post("/api/v1/subscriptions", headers={**api.admin, **key()}, json={**body, "event_types": types})
        assert answer.status_code == 422, (types, answer.text)
        assert [(e["field"], e["type"]) for e in answer.json()["errors"]] == [(field, "unknown_event_type")], (
            answer.text
        )
    assert ids() == before  # nothing made
    # A prefix naming some event a portal is sent still does (eoffice.letter.issued.v1, from signing).
    letters = subscribe(api, url="https://93.184.216.34/hook", event_types=["eoffice.letter.*"])
    api.delete(f"/api/v1/subscriptions/{letters['id']}", headers=api.admin)


def test_a_replay_naming_something_that_is_no_event_id_is_refused_naming_it(api):
    """Event ids are UUIDs (`id` of the envelope): one that is not could never name a dead letter."""
    sub = subscribe(api, url="https://93.184.216.34/hook", event_types=["eoffice.letter.*"])
    path = f"/api/v1/subscriptions/{sub['id']}/dead-letters/replay"
    refused = api.post(path, headers={**api.admin, **key()}, json={"event_ids": ["4be34f08-a548-48e3-9b4d", "nope"]})
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["body.event_ids.0", "body.event_ids.1"]
    fine = api.post(path, headers={**api.admin, **key()}, json={"event_ids": ["4be34f08-a548-48e3-9b4d-9d02e583b5c1"]})
    assert fine.status_code == 200 and fine.json() == {"replayed": 0}, fine.text  # no such dead letter
    api.delete(f"/api/v1/subscriptions/{sub['id']}", headers=api.admin)


def test_a_stopped_subscription_gets_no_new_secret_and_no_replay(api):
    """A subscription stopped (DELETE) is sent nothing more: a rotation (which would hand out a
    secret that signs nothing) and a replay (which would queue deliveries never sent) are 409,
    and change nothing; a RabbitMQ subscription has no secret to rotate (409, no field)."""
    sub = subscribe(api, url="https://93.184.216.34/hook", event_types=["eoffice.letter.*"])
    assert api.delete(f"/api/v1/subscriptions/{sub['id']}", headers=api.admin).status_code == 200
    rotated = api.post(f"/api/v1/subscriptions/{sub['id']}/rotate-secret", headers={**api.admin, **key()},
                       json={"overlap_hours": 1})
    assert rotated.status_code == 409 and "is stopped" in rotated.json()["detail"], rotated.text
    replayed = api.post(f"/api/v1/subscriptions/{sub['id']}/dead-letters/replay", headers={**api.admin, **key()},
                        json={})
    assert replayed.status_code == 409 and "is stopped" in replayed.json()["detail"], replayed.text
    shown = api.get(f"/api/v1/subscriptions/{sub['id']}", headers=api.admin).json()
    assert not shown["active"] and shown["previous_secret_valid_until"] is None, shown


def test_payloads_carry_only_what_the_subscriber_may_see(api, receiver):
    plain = subscribe(api, url=receiver.url("/plain"), event_types=["eoffice.file.sent.v1", "eoffice.receipt.*"])
    granted = subscribe(api, url=receiver.url("/granted"), event_types=["eoffice.file.sent.v1"], note_text=True)
    elsewhere = subscribe(api, url=receiver.url("/elsewhere"), event_types=["eoffice.file.*"], offices=["DIST-LKO"])
    # A department covers the offices below it: the files of GAD's sections.
    department = subscribe(api, url=receiver.url("/department"), event_types=["eoffice.file.sent.v1"], offices=["GAD"])
    assert {"GAD", "GAD-EST"} <= set(department["offices"]), department
    clerk = auth(sign_in(api, held_post("dak_clerk", "DIST-LKO")))
    letter = {
        "subject": "Land records",
        "sender_name": "Ram Lal",
        "mode": "post",
        "received_date": time.strftime("%Y-%m-%d"),
    }
    normal = api.post("/api/v1/receipts", headers={**clerk, **key()}, json=letter)
    secret = api.post("/api/v1/receipts", headers={**clerk, **key()}, json={**letter, "security_grading": "secret"})
    assert normal.status_code == secret.status_code == 201, secret.text
    [file_id] = files_moved(api, 1, remarks="The Collector's view is unfavourable")
    wait_until(
        lambda: (
            receiver.events("/granted") and any(e["subject"] == normal.json()["id"] for e in receiver.events("/plain"))
        ),
        20,
        "deliveries",
    )
    time.sleep(2)  # anything wrongly sent would have arrived by now
    plain_got = receiver.events("/plain")
    assert secret.json()["id"] not in {e["subject"] for e in plain_got}
    [sent_plain] = [e for e in plain_got if e["subject"] == file_id]
    assert sent_plain["data"]["remarks"] == ""
    [sent_granted] = [e for e in receiver.events("/granted") if e["subject"] == file_id]
    assert sent_granted["data"]["remarks"] == "The Collector's view is unfavourable"
    assert "/elsewhere" not in receiver.received  # a GAD file is not Lucknow's
    assert [e["subject"] for e in receiver.events("/department")] == [file_id]
    for sub in (plain, granted, elsewhere, department):
        api.delete(f"/api/v1/subscriptions/{sub['id']}", headers=api.admin)


def test_a_graded_receipt_put_in_a_file_does_not_reach_portals_through_the_file(api, receiver):
    """A receipt put in a file joins its correspondence, and files tells of it
    (`eoffice.file.correspondence-added.v1`) with the receipt's diary number and subject as the
    item's title. For a secret receipt that file event must not travel, as the receipt's own do not;
    a normal receipt's still does."""
    sub = subscribe(api, url=receiver.url("/graded"), event_types=["eoffice.file.*"])
    clerk = auth(sign_in(api, held_post("dak_clerk", "GAD")))
    today = time.strftime("%Y-%m-%d")
    files = {}
    for grading in ("secret", "normal"):
        letter = {
            "subject": f"Enquiry {grading} {time.time()}",
            "sender_name": "Chief Vigilance Officer",
            "mode": "post",
            "received_date": today,
            "security_grading": grading,
        }
        receipt = api.post("/api/v1/receipts", headers={**clerk, **key()}, json=letter)
        assert receipt.status_code == 201, receipt.text
        rid = receipt.json()["id"]
        sent = api.post(f"/api/v1/receipts/{rid}/send", headers={**clerk, **key()}, json={"to_post": DEALER})
        assert sent.status_code == 200, sent.text
        got = api.post(f"/api/v1/receipts/{rid}/receive", headers={**api.dealer, **key()})
        assert got.status_code == 200, got.text
        made = api.post(
            "/api/v1/files",
            headers={**api.dealer, **key()},
            json={"subject_head": HEAD, "subject": "An enquiry", "receipt_id": rid},
        )
        assert made.status_code == 201, made.text
        files[grading] = (made.json()["id"], letter["subject"])

    def added(file_id):
        return [
            e
            for e in receiver.events("/graded")
            if e["subject"] == file_id and e["type"] == "eoffice.file.correspondence-added.v1"
        ]

    wait_until(lambda: added(files["normal"][0]), 20, "the normal receipt's correspondence event")
    assert files["normal"][1] in added(files["normal"][0])[0]["data"]["title"]
    time.sleep(1)  # the secret one's, recorded before it, would have come by now
    assert added(files["secret"][0]) == []
    assert files["secret"][1] not in json.dumps(receiver.events("/graded"))
    # The file itself still reaches the portal: only what tells of the receipt is withheld.
    assert [e["type"] for e in receiver.events("/graded") if e["subject"] == files["secret"][0]] == [
        "eoffice.file.created.v1"
    ]
    api.delete(f"/api/v1/subscriptions/{sub['id']}", headers=api.admin)


def test_an_amqp_portal_reads_its_own_queue_and_nothing_else(api, migrated, db):
    made = api.post(
        "/api/v1/subscriptions",
        headers={**api.admin, **key()},
        json={"name": "Treasury portal", "delivery": "amqp", "event_types": ["eoffice.file.created.v1"]},
    )
    assert made.status_code == 201, made.text
    sub = made.json()
    access = sub["amqp"]
    other = api.post(
        "/api/v1/subscriptions",
        headers={**api.admin, **key()},
        json={"name": "Other portal", "delivery": "amqp", "event_types": ["*"]},
    ).json()
    unsigned = api.post(f"/api/v1/subscriptions/{sub['id']}/rotate-secret", headers={**api.admin, **key()},
                        json={"overlap_hours": 1})
    assert unsigned.status_code == 409 and "only a webhook subscription" in unsigned.json()["detail"], unsigned.text
    file_ids = files_moved(api, 2)
    truth = [e for e in emitted(db, file_ids) if e["type"] == "eoffice.file.created.v1"]

    def connect():
        conn = amqp.Connection(
            f"{access['host']}:{access['port']}",
            userid=access["user"],
            password=sub["secret"],
            virtual_host=access["vhost"],
        )
        conn.connect()
        return conn

    conn = connect()
    try:
        channel = conn.channel()
        got: list[dict] = []

        def take():
            message = channel.basic_get(access["queue"], no_ack=False)
            if message is not None:
                got.append(json.loads(message.body))
                channel.basic_ack(message.delivery_tag)
            return len(got) >= len(truth)

        wait_until(take, 20, "the portal's events in its queue")
        assert [e["id"] for e in got] == [e["id"] for e in truth]
        assert {e["type"] for e in got} == {"eoffice.file.created.v1"}
        with pytest.raises(amqp.exceptions.AccessRefused):
            channel.basic_get(other["amqp"]["queue"])
    finally:
        try:
            conn.close()
        except Exception:
            pass
    conn = connect()
    try:
        with pytest.raises(amqp.exceptions.AccessRefused):  # publishing with confirms: refused at once
            conn.channel().basic_publish_confirm(
                amqp.Message(b"{}"), exchange="files.events", routing_key="eoffice.file.sent.v1"
            )
    finally:
        try:
            conn.close()
        except Exception:
            pass
    conn = connect()
    try:
        with pytest.raises(amqp.exceptions.AccessRefused):  # not even into its own queue, nor another's
            conn.channel().basic_publish_confirm(amqp.Message(b"{}"), exchange="", routing_key=access["queue"])
    finally:
        try:
            conn.close()
        except Exception:
            pass
    for s in (sub, other):
        assert api.delete(f"/api/v1/subscriptions/{s['id']}", headers=api.admin).status_code == 200
