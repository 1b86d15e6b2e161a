"""The Sent lists on the real PostgreSQL: a post's sent files (files' casefile.sent) and sent or
forwarded receipts (dak's receipts.sent) that another post holds now, the one sent last first, in
pages; each read from the index of the post's own sends, not from every movement of the state."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import insert

from eoffice.actor import Actor
from eoffice.contracts.common import Page
from services.dak import models as dak
from services.dak import receipts as dak_receipts
from services.files import casefile
from services.files import models as files
from tests.support.plans import plan_of, rolled_back

pytestmark = pytest.mark.live


@pytest.fixture
def session(migrated):
    with rolled_back(migrated.database_url) as made:  # nothing of these probes stays
        yield made


def posts() -> tuple[str, str, str, str]:
    """The sender, a post delegated to it, and two others, unique to the test."""
    tag = uuid.uuid4().hex[:8].upper()
    return f"SO-{tag}", f"DLG-{tag}", f"A-{tag}", f"B-{tag}"


def moved(session, table, key: str, moves: list[tuple[str, str, str, str]]) -> dict[str, list[int]]:
    """Records `moves` (item, action, from, to) in this order; each item's movement ids."""
    ids: dict[str, list[int]] = {}
    for item, action, from_post, to_post in moves:
        row = {key: item, "action": action, "from_post": from_post, "to_post": to_post, "by_user": "u"}
        ids.setdefault(item, []).append(session.execute(insert(table).returning(table.c.id), row).scalar_one())
    return ids


def listed(page: dict) -> list[tuple[str, int]]:
    return [(item["id"], item["last_sent"]) for item in page["items"]]


def in_pages(session, listing: Callable[..., dict], sender: str, delegated: str, *, alone: list, pages: list,
             index: str) -> None:
    """`listing` (a service's Sent list) gives the sender `alone` (item, last send) acting as its
    own post; acting for `delegated` too, `pages` of two, each going on from its last send. Its
    statement reads the index of the posts' sends."""

    def sent(actor: Actor, after: str | None = None, limit: int = 50) -> dict:
        return listing(session, actor, page=Page(after=after, limit=limit))

    assert listed(sent(Actor(user_id="u", post_id=sender))) == alone
    acting = Actor(user_id="u", post_id=sender, delegated_posts=frozenset({delegated}))
    after = None
    for number, expected in enumerate(pages, 1):
        page = sent(acting, after=after, limit=2)
        after = str(expected[-1][1]) if number < len(pages) else None
        assert (listed(page), page["next"]) == (expected, after), number
    plan = plan_of(session, lambda: sent(acting, after=str(pages[0][-1][1]), limit=2))
    assert index in plan, plan


def test_a_posts_sent_files_come_the_one_sent_last_first_from_its_own_sends(session):
    so, dlg, a, b = posts()
    names = ("back", "onward", "again", "delegated", "closed", "parked", "not_sent", "others")
    ids = {name: str(uuid.uuid4()) for name in names}
    holders = {"back": so, "onward": b, "again": a, "delegated": a, "closed": a, "parked": a, "not_sent": a,
               "others": a}
    session.execute(insert(files.files), [
        {"id": ids[name], "file_number": f"{so}/{name}", "office_code": "GAD", "subject_head": "1",
         "subject": name, "record_category": "C", "creator_post": so, "created_by": "u", "holder_post": holders[name],
         "status": {"closed": "closed", "parked": "parked"}.get(name, "open")}
        for name in names
    ])
    sends = moved(session, files.movements, "file_id", [
        (ids["back"], "sent", so, a),
        (ids["onward"], "sent", so, a),
        (ids["again"], "sent", so, b),
        (ids["back"], "sent", a, so),  # back with the sender: not in its list
        (ids["onward"], "sent", a, b),  # sent on by the next post: still in it
        (ids["delegated"], "sent", dlg, a),
        (ids["again"], "sent", b, so),
        (ids["again"], "sent", so, a),  # sent a second time: listed by this send
        (ids["closed"], "sent", so, a),
        (ids["parked"], "sent", so, a),
        (ids["not_sent"], "pulled_back", so, so),
        (ids["others"], "sent", b, a),
    ])
    last = {name: max(sends[ids[name]]) for name in names}
    last["onward"] = sends[ids["onward"]][0]  # the sender's own send, not the next post's
    expected = {name: (ids[name], last[name]) for name in names}
    in_pages(session, casefile.sent, so, dlg, alone=[expected[n] for n in ("parked", "again", "onward")],
             pages=[[expected[n] for n in ("parked", "again")], [expected[n] for n in ("delegated", "onward")]],
             index="movements_sent_by_post")


def test_a_posts_sent_receipts_come_the_one_sent_last_first_from_its_own_sends(session):
    so, dlg, a, b = posts()
    names = ("sent", "forwarded", "back", "in_file", "delegated", "not_sent", "others", "copied")
    ids = {name: str(uuid.uuid4()) for name in names}
    session.execute(insert(dak.receipts), [
        {"id": ids[name], "diary_number": f"{so}/{name}", "office_code": "GAD", "year": 2026, "serial": serial,
         "subject": name, "sender_name": "Citizen", "received_date": "2026-03-02", "mode": "post",
         "language": "hi", "security_grading": "normal", "physical": True, "diarised_by": "u",
         "holder_post": so if name == "back" else a, "status": "in_file" if name == "in_file" else "open"}
        for serial, name in enumerate(names, 1)
    ])
    sends = moved(session, dak.movements, "receipt_id", [
        (ids["sent"], "sent", so, a),
        (ids["back"], "sent", so, a),
        (ids["forwarded"], "sent", b, so),
        (ids["forwarded"], "forwarded", so, a),
        (ids["back"], "forwarded", a, so),  # back with the sender: not in its list
        (ids["delegated"], "forwarded", dlg, a),
        (ids["in_file"], "sent", so, a),
        (ids["not_sent"], "diarised", so, a),
        (ids["others"], "sent", b, a),
        (ids["copied"], "copied", so, a),  # a copy marked to a further post is a send too
    ])
    last = {name: sends[ids[name]][-1] for name in names}
    expected = {name: (ids[name], last[name]) for name in names}
    in_pages(session, dak_receipts.sent, so, dlg, alone=[expected[n] for n in ("copied", "forwarded", "sent")],
             pages=[[expected[n] for n in ("copied", "delegated")], [expected[n] for n in ("forwarded", "sent")]],
             index="movements_sends_by_post")
