"""Levels (DOMAIN.md: "a skipped level is informed afterwards"), through the gateway on the
demo organisation, against the real directory and files services and PostgreSQL: GAD's chain is
SO(EST)-GAD -> US(EST)-GAD -> DS(EST)-GAD -> JS(GAD) -> SPLSECY(GAD) -> SECY(GAD). A file sent up
past the sender's direct supervisor records the posts in between on its movement and in its
event, and they may read it (and search lets them find it: its readers are files' records).
Notify telling them is tests/integration/test_notify.py's (`skipped`); here, that saved
preferences take the new kind."""
from __future__ import annotations

import importlib

import pytest
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select

from eoffice.contracts.notifications import Preferences
from eoffice.db import UnitOfWork, make_engine
from services.files.models import outbox
from services.notify.people_tables import preferences
from tests.integration.test_files import add_subject_head, as_post, new_file, open_file, send
from tests.support.demo import demo_gateway

pytestmark = pytest.mark.live
DEALER, SO, US, DS, JS = "RO1(EST)-GAD", "SO(EST)-GAD", "US(EST)-GAD", "DS(EST)-GAD", "JS(GAD)"


@pytest.fixture(scope="module")
def api(migrated):
    with demo_gateway(migrated, ("directory", "dak", "files")) as client:
        add_subject_head(client)
        yield client


@pytest.fixture(scope="module")
def db(migrated):
    uow = UnitOfWork(make_engine(migrated.database_url, pool_size=1))
    yield uow
    uow.engine.dispose()


def sent_events(db, file_id: str) -> list[dict]:
    with db.transaction() as session:
        return [row.envelope["data"] for row in session.execute(
            select(outbox.c.envelope).where(outbox.c.envelope["subject"].astext == file_id,
                                            outbox.c.type == "eoffice.file.sent.v1").order_by(outbox.c.id))]


def test_a_file_sent_past_the_direct_supervisor_records_the_skipped_level_which_may_read_it(api, db):
    so, us = as_post(api, SO), as_post(api, US)
    file = new_file(api, so, subject="Leave travel concession of Smt. Kamla Devi")
    assert api.get(f"/api/v1/files/{file['id']}", headers=us).status_code == 404  # before: not US's to read

    sent = send(api, so, file["id"], DS, remarks="urgent: straight to DS")
    assert sent.status_code == 200, sent.text
    assert sent.json()["skipped"] == [US]
    seen = open_file(api, us, file["id"])  # the skipped level reads it afterwards
    assert seen["holder_post"] == DS and seen["opened"] is False  # looking does not open it for DS
    move = seen["movements"][-1]
    assert (move["action"], move["from_post"], move["to_post"], move["skipped"]) == ("sent", SO, DS, [US])
    assert [e["skipped"] for e in sent_events(db, file["id"])] == [[US]]  # the event names it
    # It is informed, it does not hold the file: it cannot act on it.
    assert send(api, us, file["id"], SO).status_code == 403
    # A level above the recipient was not skipped: it learns nothing of the file.
    assert api.get(f"/api/v1/files/{file['id']}", headers=as_post(api, JS)).status_code == 404
    # Search's readers of the file are files' records: the skipped post is among them.
    record, = api.app.state.rpc.call("files", "search_records", [file["id"]])
    assert US in record["posts"] and JS not in record["posts"]


def test_sending_to_the_direct_supervisor_or_down_skips_nobody(api, db):
    dealer, so = as_post(api, DEALER), as_post(api, SO)
    file = new_file(api, dealer)
    up = send(api, dealer, file["id"], SO)  # to the direct supervisor
    assert up.status_code == 200 and up.json()["skipped"] == [], up.text
    open_file(api, so, file["id"])
    down = send(api, so, file["id"], DEALER)  # back down
    assert down.status_code == 200 and down.json()["skipped"] == [], down.text
    assert [m["skipped"] for m in open_file(api, dealer, file["id"])["movements"] if m["action"] == "sent"] == [[], []]
    assert [e["skipped"] for e in sent_events(db, file["id"])] == [[], []]
    assert api.get(f"/api/v1/files/{file['id']}", headers=as_post(api, US)).status_code == 404  # US was not skipped


def test_saved_preferences_that_chose_every_kind_get_the_new_one(migrated):
    """Migration notify_skipped_0001: whoever had saved preferences choosing every kind there was
    gets `skipped` too (as the default has it); whoever had turned a kind off keeps their choice."""
    every = ["arrived", "returned", "pulled_back", "due", "overdue", "escalated", "signed", "issued"]
    saved = {"LVL-ALL": every, "LVL-FEW": ["arrived", "returned"], "LVL-NEW": [*every, "skipped"]}
    engine = make_engine(migrated.database_url, pool_size=1)
    migration = importlib.import_module("services.notify.migrations.versions.notify_skipped_0001")
    try:
        with engine.begin() as conn:
            conn.execute(preferences.insert(), [{"employee_id": who, "settings": {"language": "en", "kinds": kinds}}
                                                for who, kinds in saved.items()])
            with Operations.context(MigrationContext.configure(conn)):
                migration.upgrade()
            after = dict(conn.execute(select(preferences.c.employee_id, preferences.c.settings["kinds"])
                                      .where(preferences.c.employee_id.in_(saved))).all())
        assert after == {"LVL-ALL": [*every, "skipped"], "LVL-FEW": ["arrived", "returned"],
                         "LVL-NEW": [*every, "skipped"]}
        assert all(Preferences.model_validate({"kinds": kinds}) for kinds in after.values())
    finally:
        with engine.begin() as conn:
            conn.execute(preferences.delete().where(preferences.c.employee_id.in_(saved)))
        engine.dispose()
