"""Linked files move with their main file, through the gateway on the demo organisation, against
the real directory, dak and files services and PostgreSQL: a file linked to another (to be
considered together) is sent and pulled back with it, each with its own movement and event, and
never on its own while linked; a reference only cites a file, wherever it is."""
from __future__ import annotations

import pytest
from sqlalchemy import select, text

from services.files.migrations.versions.files_links_0008 import TRAVELLING
from services.files.models import files, links, outbox
from tests.integration import test_files
from tests.integration.test_files import as_post, key, new_file, open_file, post, send

pytestmark = pytest.mark.live
api, db = test_files.api, test_files.db  # the same fixtures (module-scoped: this module's own gateway and engine)
DEALER, SO, US = "RO1(EST)-GAD", "SO(EST)-GAD", "US(EST)-GAD"


def link(api, headers, main: dict, other: dict, kind: str = "link"):
    return post(api, headers, f"/files/{main['id']}/links", other_file_id=other["id"], kind=kind)


def unlink(api, headers, main: dict, other: dict):
    return api.delete(f"/api/v1/files/{main['id']}/links/{other['id']}", headers={**headers, **key()})


def inbox(api, headers) -> set[str]:
    return {f["id"] for f in api.get("/api/v1/files?limit=200", headers=headers).json()["items"]}


def track(api, headers, file: dict) -> dict:
    answer = api.get(f"/api/v1/files/{file['id']}/track", headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def events(db, file: dict, event_type: str) -> list[dict]:
    with db.transaction() as session:
        return [row.envelope["data"] for row in session.execute(
            select(outbox.c.envelope).where(outbox.c.envelope["subject"].astext == file["id"],
                                            outbox.c.type == event_type).order_by(outbox.c.id))]


def refused(answer, *words: str) -> dict:
    assert answer.status_code == 409, answer.text
    problem = answer.json()
    assert all(word in problem["detail"] for word in words), (words, problem)
    return problem


def test_a_linked_file_is_sent_and_pulled_back_with_its_main_file_and_never_alone(api, db):
    dealer, so = as_post(api, DEALER), as_post(api, SO)
    main = new_file(api, dealer, subject="Pay fixation of Shri Ram Prasad")
    other = new_file(api, dealer, subject="Service book of Shri Ram Prasad", category="pension")
    assert link(api, dealer, main, other).status_code == 201
    assert [(x["id"], x["kind"]) for x in open_file(api, dealer, main["id"])["links"]] == [(other["id"], "link")]
    assert open_file(api, dealer, other["id"])["linked_to"]["file_number"] == main["file_number"]

    sent = send(api, dealer, main["id"], SO, remarks="for orders")
    assert sent.status_code == 200, sent.text
    assert [(m["file_id"], m["to_post"]) for m in sent.json()["moved_with"]] == [(other["id"], SO)]
    assert {main["id"], other["id"]} <= inbox(api, so)
    for file, remarks in ((main, "for orders"), (other, f"moved with file {main['file_number']}: for orders")):
        where = track(api, dealer, file)
        assert where["holder_post"] == SO and where["stays"][-1]["post"] == SO
        assert (where["movements"][-1]["action"], where["movements"][-1]["remarks"]) == ("sent", remarks)
        assert where["movements"][-1]["due_date"] is not None  # its own category's limit
        assert [e["to_post"] for e in events(db, file, "eoffice.file.sent.v1")] == [SO]

    # The dealer pulls the main file back before SO opens it: the linked file comes back too.
    pulled = post(api, dealer, f"/files/{main['id']}/pull-back")
    assert pulled.status_code == 200, pulled.text
    assert [m["file_id"] for m in pulled.json()["moved_with"]] == [other["id"]]
    assert not {main["id"], other["id"]} & inbox(api, so)
    assert {main["id"], other["id"]} <= inbox(api, dealer)
    assert len(events(db, other, "eoffice.file.pulled-back.v1")) == 1

    # Alone, the linked file is neither sent, nor pulled back, nor closed; the main file is not closed.
    refused(send(api, dealer, other["id"], US), main["file_number"], "unlink")
    refused(post(api, dealer, f"/files/{other['id']}/close", remarks="done"), main["file_number"], "unlink")
    refused(post(api, dealer, f"/files/{main['id']}/close", remarks="done"), other["file_number"], "Unlink")
    assert track(api, dealer, other)["holder_post"] == DEALER

    # Unlinked (by the holder of the main file), it moves on its own; the movements say who unlinked it.
    gone = unlink(api, dealer, main, other)
    assert gone.status_code == 200, gone.text
    assert gone.json()["by_user"] and gone.json()["other_file_number"] == other["file_number"]
    assert unlink(api, dealer, main, other).status_code == 404  # no such link any more
    assert open_file(api, dealer, other["id"])["linked_to"] is None
    assert open_file(api, dealer, main["id"])["links"] == []
    for file in (main, other):
        last = track(api, dealer, file)["movements"][-1]
        assert (last["action"], last["by_user"]) == ("unlinked", gone.json()["by_user"])
    alone = send(api, dealer, other["id"], US)
    assert alone.status_code == 200 and alone.json()["moved_with"] == [], alone.text
    again = send(api, dealer, main["id"], SO)
    assert again.status_code == 200 and again.json()["moved_with"] == [], again.text


def test_a_linked_file_pulled_back_alone_is_refused(api):
    dealer = as_post(api, DEALER)
    main = new_file(api, dealer, subject="Deputation of Shri Gopal")
    other = new_file(api, dealer, subject="Vigilance clearance of Shri Gopal")
    assert link(api, dealer, main, other).status_code == 201
    assert send(api, dealer, main["id"], SO).status_code == 200
    refused(post(api, dealer, f"/files/{other['id']}/pull-back"), main["file_number"], "unlink")
    assert track(api, dealer, other)["holder_post"] == SO


def test_only_a_file_your_post_holds_is_linked_a_reference_cites_any_and_there_are_no_chains(api, db):
    dealer = as_post(api, DEALER)
    main, second, third = (new_file(api, dealer, subject=s) for s in ("Recruitment of clerks", "Roster", "Vacancies"))
    elsewhere = new_file(api, dealer, subject="Recruitment rules")
    assert send(api, dealer, elsewhere["id"], SO).status_code == 200  # the dealer sees it, SO holds it

    held_elsewhere = refused(link(api, dealer, main, elsewhere), elsewhere["file_number"], SO, "reference")
    assert [e["field"] for e in held_elsewhere["errors"]] == ["other_file_id"]
    assert link(api, dealer, main, elsewhere, kind="reference").status_code == 201
    assert track(api, dealer, elsewhere)["holder_post"] == SO

    assert link(api, dealer, main, second).status_code == 201
    refused(link(api, dealer, third, second), main["file_number"])  # linked to a main file already
    refused(link(api, dealer, second, third), main["file_number"], "chains")  # a linked file has none of its own
    refused(link(api, dealer, third, main), "chains")  # a main file is not linked to another
    with db.transaction() as session:
        assert session.execute(select(files.c.linked_to).where(files.c.id == third["id"])).scalar() is None
        assert session.execute(select(files.c.linked_to).where(files.c.id == main["id"])).scalar() is None

    # Made a reference, it no longer moves with the main file.
    assert link(api, dealer, main, second, kind="reference").status_code == 201
    assert send(api, dealer, second["id"], US).status_code == 200
    sent = send(api, dealer, main["id"], SO)
    assert sent.status_code == 200 and sent.json()["moved_with"] == [], sent.text


def test_the_migration_keeps_links_that_may_travel_and_makes_the_others_references(api, db):
    """Migration files_links_0008 on links recorded before it: a link between two files one post
    holds travels; one to a file held elsewhere, and both links of a chain, become references."""
    dealer = as_post(api, DEALER)
    a, b, c, d, e, f = (new_file(api, dealer, subject=f"Old link {n}") for n in "abcdef")
    assert send(api, dealer, e["id"], SO).status_code == 200
    before = [(a, b), (c, d), (d, f), (a, e)]  # a-b travels; c-d-f is a chain; e is with SO
    ids = [x["id"] for x in (a, b, c, d, e, f)]
    with db.transaction() as session:  # as they were recorded before the migration
        for main, other in before:
            session.execute(links.insert().values(file_id=main["id"], other_id=other["id"], kind="link",
                                                  by_user="someone"))
        for _ in range(2):  # run twice, the same
            session.execute(text(TRAVELLING))
        linked_to = dict(session.execute(select(files.c.id, files.c.linked_to).where(files.c.id.in_(ids))).all())
        kinds = {(r.file_id, r.other_id): r.kind for r in session.execute(
            select(links).where(links.c.file_id.in_(ids)))}
    assert linked_to == {a["id"]: None, b["id"]: a["id"], c["id"]: None, d["id"]: None, e["id"]: None, f["id"]: None}
    assert kinds == {(a["id"], b["id"]): "link", (c["id"], d["id"]): "reference", (d["id"], f["id"]): "reference",
                     (a["id"], e["id"]): "reference"}
    sent = send(api, dealer, a["id"], SO)
    assert [m["file_id"] for m in sent.json()["moved_with"]] == [b["id"]], sent.text


def test_linking_or_noting_under_a_received_file_opens_it_so_the_sender_cannot_pull_it_back(api, db):
    """Rule 4, pull back until opened: the recipient acting on a file it has not opened (here,
    linking one of its own files under it, or putting a receipt in it) opens it, as looking at it
    does, with its "opened" movement and eoffice.file.opened.v1. The sender's pull back is then
    refused as after any opening, and the recipient's own file is never pulled back to the sender."""
    dealer, so = as_post(api, DEALER), as_post(api, SO)
    main = new_file(api, dealer, subject="Promotion of Shri Mohan Lal")
    own = new_file(api, so, subject="ACRs of Shri Mohan Lal")  # SO's own file
    assert send(api, dealer, main["id"], SO).status_code == 200
    assert link(api, so, main, own).status_code == 201  # SO has not looked at the main file
    late = refused(post(api, dealer, f"/files/{main['id']}/pull-back"), SO, "already opened", main["file_number"])
    assert own["file_number"] not in late["detail"]
    for file in (main, own):
        assert track(api, so, file)["holder_post"] == SO
    assert [(m["action"], m["to_post"]) for m in track(api, so, main)["movements"]][-2:] == [
        ("sent", SO), ("opened", SO)]
    assert [e["by_post"] for e in events(db, main, "eoffice.file.opened.v1")] == [SO]

    # A received file linked under the recipient's own is opened too: its sender is told so,
    # not to unlink it (which only its holder may).
    received = new_file(api, dealer, subject="Seniority of Shri Mohan Lal")
    assert send(api, dealer, received["id"], SO).status_code == 200
    assert link(api, so, new_file(api, so, subject="Promotion panel"), received).status_code == 201
    refused(post(api, dealer, f"/files/{received['id']}/pull-back"), SO, "already opened", received["file_number"])

    # Unlinking under a received file opens it and the file unlinked: neither comes back.
    second = new_file(api, dealer, subject="Transfer of Shri Mohan Lal")
    along = new_file(api, dealer, subject="Relieving order of Shri Mohan Lal")
    assert link(api, dealer, second, along).status_code == 201
    assert send(api, dealer, second["id"], SO).status_code == 200
    assert unlink(api, so, second, along).status_code == 200
    for file in (second, along):
        refused(post(api, dealer, f"/files/{file['id']}/pull-back"), SO, "already opened", file["file_number"])
        assert track(api, so, file)["holder_post"] == SO

    # Putting a receipt in a received file (through dak) opens it too: the receipt is not pulled
    # back to the sender inside the file.
    clerk = as_post(api, test_files.held_post("dak_clerk", "GAD"))
    letter = post(api, clerk, "/receipts", subject="Representation of Shri Mohan Lal", sender_name="Mohan Lal",
                  received_date=test_files.TODAY.isoformat(), mode="post")
    assert letter.status_code == 201, letter.text
    assert post(api, clerk, f"/receipts/{letter.json()['id']}/send", to_post=SO).status_code == 200
    assert post(api, so, f"/receipts/{letter.json()['id']}/receive").status_code == 200  # the paper reached SO
    filed_in = new_file(api, dealer, subject="Representations of Shri Mohan Lal")
    assert send(api, dealer, filed_in["id"], SO).status_code == 200
    put = post(api, so, f"/receipts/{letter.json()['id']}/put-in-file", file_id=filed_in["id"])
    assert put.status_code == 200, put.text
    refused(post(api, dealer, f"/files/{filed_in['id']}/pull-back"), SO, "already opened", filed_in["file_number"])
    assert track(api, so, filed_in)["holder_post"] == SO

    # As a note does (the same rule for every step of the holder), and opening a linked file that
    # came with its main file keeps both with the recipient.
    noted = new_file(api, dealer, subject="Pay of Shri Mohan Lal")
    assert send(api, dealer, noted["id"], SO).status_code == 200
    assert post(api, so, f"/files/{noted['id']}/notes", body="Seen; to US.", green=False).status_code == 201
    refused(post(api, dealer, f"/files/{noted['id']}/pull-back"), SO, "already opened")
    third, with_it = (new_file(api, dealer, subject=s) for s in ("Leave of Shri Mohan Lal", "Leave account"))
    assert link(api, dealer, third, with_it).status_code == 201
    assert send(api, dealer, third["id"], SO).status_code == 200
    open_file(api, so, with_it["id"])
    refused(post(api, dealer, f"/files/{third['id']}/pull-back"), SO, "already opened", with_it["file_number"])
    assert {third["id"], with_it["id"]} <= inbox(api, so)
