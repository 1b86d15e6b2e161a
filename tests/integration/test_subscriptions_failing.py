"""Portal subscriptions that keep failing, with a short retry period: a subscriber answering 500
forever ends in the dead-letter list, the subscription is flagged and its admin alerted, and a
replay delivers the dead letters once it works again; and deliveries waiting in the outbox
survive a restart of notify."""

from __future__ import annotations

import time
import uuid

import pytest
from sqlalchemy import text

from eoffice.db import UnitOfWork, make_engine
from services.notify.smtp_sink import sink
from tests.support.demo import auth, demo_gateway, every_item, held_post, sign_in
from tests.support.portals import HEAD, emitted, files_moved, per_file
from tests.support.system import free_port, service_process, wait_until
from tests.support.webhook_receiver import Receiver

pytestmark = pytest.mark.live
NOTIFY_ENV = {
    "EOFFICE_WEBHOOK_ALLOW_LOOPBACK": "true",
    "EOFFICE_WEBHOOK_RETRY_BASE": "0.2",
    "EOFFICE_WEBHOOK_RETRY_CAP": "1",
    "EOFFICE_WEBHOOK_RETRY_FOR": "4",
    "EOFFICE_WEBHOOK_TIMEOUT": "5",
    "EOFFICE_WEBHOOK_FAILING_AFTER": "3",
}


@pytest.fixture(scope="module")
def mail(tmp_path_factory):
    port = free_port()
    controller, store = sink(tmp_path_factory.mktemp("mail"), port=port)
    yield {"port": port, "store": store}
    controller.stop()


@pytest.fixture(scope="module")
def api(migrated, mail):
    with demo_gateway(migrated, ("directory", "dak", "files")) as client:
        env = {**NOTIFY_ENV, "EOFFICE_SMTP_HOST": "127.0.0.1", "EOFFICE_SMTP_PORT": str(mail["port"])}
        client.notify = service_process("notify", env=env).start()
        try:
            client.admin = auth(sign_in(client, held_post("system_admin", None)))
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
            assert head.status_code in (201, 409, 422), head.text  # the other module may have added it
            client.dealer = auth(sign_in(client, "RO1(EST)-GAD"))
            yield client
        finally:
            client.notify.stop()


@pytest.fixture(scope="module")
def db(migrated):
    uow = UnitOfWork(make_engine(migrated.database_url, pool_size=1))
    yield uow
    uow.engine.dispose()


def subscribe(api, url: str) -> dict:
    made = api.post(
        "/api/v1/subscriptions",
        headers={**api.admin, "Idempotency-Key": uuid.uuid4().hex},
        json={
            "name": "Flaky portal",
            "delivery": "webhook",
            "url": url,
            "event_types": ["eoffice.file.*"],
            "contact_email": "ops@portal.example.gov.in",
        },
    )
    assert made.status_code == 201, made.text
    return made.json()


def test_a_subscriber_answering_500_forever_is_dead_lettered_flagged_and_replayed(api, db, mail):
    receiver = Receiver().start()
    try:
        receiver.behaviour["/broken"] = "500"
        sub = subscribe(api, receiver.url("/broken"))
        file_ids = files_moved(api, 2)
        truth = emitted(db, file_ids)
        dead = f"/api/v1/subscriptions/{sub['id']}/dead-letters"
        wait_until(lambda: len(api.get(dead, headers=api.admin).json()) == len(truth), 30, "every event dead-lettered")
        shown = api.get(f"/api/v1/subscriptions/{sub['id']}", headers=api.admin).json()
        assert shown["failing"] and shown["last_error"] == "answered 500" and shown["failures_in_a_row"] >= 3
        path = f"/api/v1/subscriptions/{sub['id']}/deliveries"
        assert api.get(path, headers=api.admin).json()["deliveries"]["dead"] == len(truth)
        assert all(a["status"] == 500 for a in every_item(api, path, api.admin))
        # The admin is alerted once: the event for them (in-app and e-mail take it from there).
        with db.transaction() as session:
            alerts = (
                session.execute(
                    text("SELECT envelope FROM notify.outbox WHERE type = :t AND envelope->>'subject' = :s"),
                    {"t": "eoffice.subscription.failing.v1", "s": sub["id"]},
                )
                .scalars()
                .all()
            )
        assert len(alerts) == 1 and alerts[0]["data"]["admin_user"] == shown["admin_user"]

        # ... and e-mailed, once, at the subscription's contact address and the admin's own.
        def alert_mails():
            return [m for m in mail["store"].messages() if "Flaky portal" in m["Subject"]]

        wait_until(alert_mails, 20, "the admin's alert e-mail")
        (alert,) = alert_mails()
        assert "ops@portal.example.gov.in" in alert["To"] and "answered 500" in alert.get_content()
        # Fixed: replaying sends each dead letter once, in order per file, and clears the flag.
        receiver.behaviour["/broken"] = "ok"
        replayed = api.post(f"{dead}/replay", headers=api.admin, json={})
        assert replayed.json() == {"replayed": len(truth)}
        wait_until(lambda: len(receiver.events("/broken")) >= len(truth), 20, "the replayed events")
        time.sleep(1)
        got = receiver.verified("/broken", sub["secret"])
        assert sorted(e["id"] for e in got) == sorted(e["id"] for e in truth)
        assert per_file(got) == per_file(truth)
        assert api.get(dead, headers=api.admin).json() == []
        assert not api.get(f"/api/v1/subscriptions/{sub['id']}", headers=api.admin).json()["failing"]
        api.delete(f"/api/v1/subscriptions/{sub['id']}", headers=api.admin)
    finally:
        receiver.stop()


def test_deliveries_waiting_in_the_outbox_survive_a_restart_of_notify(api, db):
    receiver = Receiver().start()
    try:
        receiver.behaviour["/later"] = "slow:3"
        sub = subscribe(api, receiver.url("/later"))
        file_ids = files_moved(api, 3)
        truth = emitted(db, file_ids)
        # The events reached notify's outbox for the portal; stop notify before all are sent.
        with db.transaction() as session:
            queued = text("SELECT count(*) FROM notify.deliveries WHERE subscription_id = :s")
            wait_until(
                lambda: session.execute(queued, {"s": sub["id"]}).scalar() == len(truth), 20, "deliveries queued"
            )
        api.notify.stop()
        assert len(receiver.events("/later")) < len(truth)
        receiver.behaviour["/later"] = "ok"
        api.notify = service_process("notify", env=NOTIFY_ENV).start()
        wait_until(
            lambda: len({e["id"] for e in receiver.events("/later")}) == len(truth), 60, "every event after the restart"
        )
        got = receiver.verified("/later", sub["secret"])
        assert {e["id"] for e in got} == {e["id"] for e in truth}
        # At least once: an answer cut off by the stop is sent again (one per file at most).
        assert len(got) - len(truth) <= len(file_ids)
        first = list({e["id"]: e for e in reversed(got)}.values())[::-1]  # each id where it first came
        assert per_file(first) == per_file(truth)
        api.delete(f"/api/v1/subscriptions/{sub['id']}", headers=api.admin)
    finally:
        receiver.stop()
