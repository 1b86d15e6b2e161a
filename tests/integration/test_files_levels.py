"""Levels (DOMAIN.md: "a skipped level is informed afterwards"), through the gateway on the
demo organisation, against the real directory and files services and PostgreSQL: GAD's chain is
SO(EST)-GAD -> US(EST)-GAD -> DS(EST)-GAD -> JS(GAD) -> SPLSECY(GAD) -> SECY(GAD). A file sent up
past the sender's direct supervisor records the posts in between on its movement and in its
event, and they may read it (and search lets them find it: its readers are files' records).
Notify telling them is tests/integration/test_notify.py's (`skipped`); here, that saved
preferences take the new kind. And "at most four levels to a decision": a send past a file's
fourth level in its round goes through with a warning, and its office's supervisors see the file
in the over_four_levels report until a decision (a draft approved) starts a new round."""
from __future__ import annotations

import importlib

import pytest
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text

from eoffice.contracts.notifications import Preferences
from eoffice.db import UnitOfWork, make_engine
from services.files.migrations.versions.files_levels_0007 import ROUND_POSTS
from services.files.models import files, outbox
from services.notify.people_tables import preferences
from tests.integration.test_files import add_subject_head, as_post, new_file, open_file, post, send
from tests.support.demo import demo_gateway

pytestmark = pytest.mark.live
DEALER, SO, US, DS, JS = "RO1(EST)-GAD", "SO(EST)-GAD", "US(EST)-GAD", "DS(EST)-GAD", "JS(GAD)"
SPLSECY, SECY = "SPLSECY(GAD)", "SECY(GAD)"


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


def over_four_levels(api) -> dict[str, dict]:
    """The over_four_levels report as GAD's head of office reads it, by file id."""
    answer = api.get("/api/v1/reports/files/over_four_levels", headers=as_post(api, SECY))
    assert answer.status_code == 200, answer.text
    return {item["file_id"]: item for item in answer.json()["items"]}


def test_a_file_sent_up_level_by_level_is_warned_at_the_fifth_and_a_decision_counts_again(api, db):
    dealer = as_post(api, DEALER)
    file = new_file(api, dealer, subject="Revision of the roster of Group C posts")
    assert open_file(api, dealer, file["id"])["levels_to_decision"] == 0
    ups = [(DEALER, SO), (SO, US), (US, DS), (DS, JS)]
    for level, (sender, recipient) in enumerate(ups, start=1):  # four levels: within the rule
        sent = send(api, as_post(api, sender), file["id"], recipient)
        assert sent.status_code == 200, sent.text
        assert (sent.json()["levels_to_decision"], sent.json()["warnings"]) == (level, [])
    assert file["id"] not in over_four_levels(api)

    js, fifth = as_post(api, JS), {"Idempotency-Key": "levels-fifth-" + file["id"]}
    sent = api.post(f"/api/v1/files/{file['id']}/send", headers={**js, **fifth}, json={"to_post": SPLSECY})
    assert sent.status_code == 200, sent.text  # never refused: a file is not stuck on a "should"
    warning, = sent.json()["warnings"]
    assert warning["type"] == "over_four_levels" and warning["levels_to_decision"] == 5
    assert "passes through 5 levels to a decision; the rule is at most four" in warning["message"]
    again = api.post(f"/api/v1/files/{file['id']}/send", headers={**js, **fifth}, json={"to_post": SPLSECY})
    assert again.json()["warnings"] == [warning]  # a retry answers as the send did

    spl = as_post(api, SPLSECY)
    seen = open_file(api, spl, file["id"])
    assert seen["holder_post"] == SPLSECY and seen["levels_to_decision"] == 5
    assert [m["levels_to_decision"] for m in seen["movements"] if m["action"] == "sent"] == [1, 2, 3, 4, 5]
    assert sorted(e["levels_to_decision"] for e in sent_events(db, file["id"])) == [1, 2, 3, 4, 5]
    listed = over_four_levels(api)[file["id"]]
    assert listed == {**listed, "file_number": file["file_number"], "holder_post": SPLSECY, "counted_from": DEALER,
                      "levels_to_decision": 5, "office_code": "GAD-EST"}
    assert api.get("/api/v1/reports/files/over_four_levels", headers=dealer).status_code == 403  # supervisors'

    # Down and up again to a level reached already: nothing added, nothing warned.
    down = send(api, spl, file["id"], JS)
    assert (down.json()["levels_to_decision"], down.json()["warnings"]) == (5, []), down.text
    up = send(api, js, file["id"], SPLSECY)
    assert (up.json()["levels_to_decision"], up.json()["warnings"]) == (5, []), up.text

    # A decision: the Special Secretary approves the reply. The next round counts from there.
    draft = post(api, spl, f"/files/{file['id']}/drafts", title="Roster orders", body="The roster is revised.")
    assert draft.status_code == 201, draft.text
    approved = post(api, spl, f"/files/{file['id']}/drafts/{draft.json()['id']}/approve", version=1)
    assert approved.status_code == 200, approved.text
    assert open_file(api, spl, file["id"])["levels_to_decision"] == 0
    assert file["id"] not in over_four_levels(api)
    up = send(api, spl, file["id"], SECY)
    assert (up.json()["levels_to_decision"], up.json()["warnings"]) == (1, []), up.text


def test_a_send_that_skips_past_the_fourth_level_is_warned_and_sending_down_adds_nothing(api):
    so = as_post(api, SO)
    file = new_file(api, so, subject="Court case of Shri Mohan Lal: para-wise comments")
    down = send(api, so, file["id"], DEALER)  # down from where the round started
    assert (down.json()["levels_to_decision"], down.json()["warnings"]) == (0, []), down.text
    up = send(api, as_post(api, DEALER), file["id"], SO)  # back to where the round started: no level
    assert (up.json()["levels_to_decision"], up.json()["warnings"]) == (0, []), up.text
    straight = send(api, so, file["id"], SECY)  # past US, DS, JS and SPLSECY, to the fifth level
    assert straight.status_code == 200, straight.text
    body = straight.json()
    assert (body["skipped"], body["levels_to_decision"]) == ([US, DS, JS, SPLSECY], 5)
    assert [w["type"] for w in body["warnings"]] == ["over_four_levels"]
    assert over_four_levels(api)[file["id"]]["counted_from"] == SO


def test_a_pull_back_undoes_the_levels_of_its_send_for_the_file_and_the_files_linked_to_it(api):
    """A pull back undoes the send: the file (and each file linked to it, pulled back with it) is
    at the levels to a decision it had before that send, so a send past the fourth level pulled
    back leaves the over_four_levels report, and the next send past it is warned again."""
    dealer = as_post(api, DEALER)
    main = new_file(api, dealer, subject="Cadre review of the Secretariat service")
    linked = new_file(api, dealer, subject="Cadre strength statement")
    assert post(api, dealer, f"/files/{main['id']}/links", other_file_id=linked["id"], kind="link").status_code == 201
    for sender, recipient in [(DEALER, SO), (SO, US), (US, DS), (DS, JS)]:
        assert send(api, as_post(api, sender), main["id"], recipient).status_code == 200
    js = as_post(api, JS)
    past = send(api, js, main["id"], SPLSECY)
    assert past.status_code == 200, past.text
    assert [w["levels_to_decision"] for w in past.json()["warnings"]] == [5, 5]  # the file and the linked one
    assert {main["id"], linked["id"]} <= set(over_four_levels(api))

    pulled = post(api, js, f"/files/{main['id']}/pull-back")
    assert pulled.status_code == 200, pulled.text
    assert [m["file_id"] for m in pulled.json()["moved_with"]] == [linked["id"]]
    for file in (main, linked):
        seen = open_file(api, js, file["id"])
        assert (seen["holder_post"], seen["levels_to_decision"]) == (JS, 4), file["file_number"]
    assert not {main["id"], linked["id"]} & set(over_four_levels(api))

    again = send(api, js, main["id"], SPLSECY)  # past the fourth level again: warned again
    assert [w["levels_to_decision"] for w in again.json()["warnings"]] == [5, 5], again.text
    assert {main["id"], linked["id"]} <= set(over_four_levels(api))
    # A send that added no level, pulled back, takes none off.
    spl = as_post(api, SPLSECY)
    assert send(api, spl, main["id"], JS).json()["levels_to_decision"] == 5
    assert post(api, spl, f"/files/{main['id']}/pull-back").status_code == 200
    assert open_file(api, spl, main["id"])["levels_to_decision"] == 5


def test_the_migration_starts_the_round_of_a_file_decided_on_before_at_its_last_decision(api, db):
    """Migration files_levels_0007 on files that moved before it: one with a draft approved counts
    from the post that approved it, one never decided on from its creator (round_post NULL)."""
    dealer, ds = as_post(api, DEALER), as_post(api, DS)
    decided, undecided = (new_file(api, dealer, subject=subject) for subject in ("Transfer policy", "Leave rules"))
    assert send(api, dealer, decided["id"], DS).status_code == 200
    draft = post(api, ds, f"/files/{decided['id']}/drafts", title="Policy", body="The policy is approved.").json()
    assert post(api, ds, f"/files/{decided['id']}/drafts/{draft['id']}/approve", version=1).status_code == 200
    ids = [decided["id"], undecided["id"]]
    with db.transaction() as session:  # as they were before the migration
        session.execute(files.update().where(files.c.id.in_(ids)).values(round_post=None))
        session.execute(text(ROUND_POSTS))
        after = dict(session.execute(select(files.c.id, files.c.round_post).where(files.c.id.in_(ids))).all())
    assert after == {decided["id"]: DS, undecided["id"]: None}


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
