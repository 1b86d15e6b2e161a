"""The rules of holding and moving a receipt or a file (`eoffice.movement`), on plain rows:
the holder acts, receive before acting, pull back until opened, hand-over follows the post."""
from __future__ import annotations

import pytest

from eoffice.actor import Actor
from eoffice.errors import Conflict, Forbidden, InvalidInput, NotCurrentHolder
from eoffice.movement import (
    arriving,
    needs_receiving,
    opens,
    pull_back_from,
    pulled_back,
    require_actable,
    require_elsewhere,
)

SO = Actor(user_id="UP1", post_id="SO-GAD", office_id="GAD")
US = Actor(user_id="UP2", post_id="US-GAD", office_id="GAD")
# The under secretary's work is delegated to the section officer while he is on leave.
SO_COVERING_US = SO.model_copy(update={"delegated_posts": ["US-GAD"]})
LABEL = "file GAD/1/2026"


def item(**fields) -> dict:
    return {"holder_post": "US-GAD", "status": "open", "opened": False, "received": True, "physical": False,
            "version": 3, **fields}


def sent(from_post: str, to_post: str, action: str = "sent") -> dict:
    return {"action": action, "from_post": from_post, "to_post": to_post}


# --- the holder acts (rule 1) ------------------------------------------------------------

def test_only_the_holding_post_acts_and_is_named_to_others():
    require_actable(US, item(), label=LABEL)
    with pytest.raises(NotCurrentHolder, match="is with US-GAD"):
        require_actable(SO, item(), label=LABEL)


def test_a_post_delegated_to_the_actor_acts_through_them():
    require_actable(SO_COVERING_US, item(), label=LABEL)


def test_hand_over_follows_the_post_not_the_person():
    # A new officer posted as US-GAD holds what the post holds, at once.
    successor = Actor(user_id="UP9", post_id="US-GAD", office_id="GAD")
    require_actable(successor, item(), label=LABEL)
    assert opens(successor, item())


def test_acting_checks_version_then_status_then_receipt_in_that_order():
    with pytest.raises(Conflict, match=r"changed meanwhile \(version 3, not 2\)"):
        require_actable(US, item(status="closed", received=False), label=LABEL, version=2, statuses=("open",))
    with pytest.raises(Conflict, match=f"{LABEL} is closed$"):
        require_actable(US, item(status="closed", received=False), label=LABEL, statuses=("open",))
    with pytest.raises(Conflict, match="closed: reopen it first"):
        require_actable(US, item(status="closed"), label=LABEL, statuses=("open",), state="closed: reopen it first")
    require_actable(US, item(status="parked"), label=LABEL, statuses=("open", "parked"), version=3)


# --- receive before acting (rule 3) ------------------------------------------------------

def test_a_physical_item_is_received_before_its_holder_acts_on_it():
    paper = item(physical=True, **arriving(item(physical=True)))
    with pytest.raises(Conflict, match="receive it before acting"):
        require_actable(US, paper, label=LABEL)
    assert needs_receiving(US, paper, label=LABEL) is True
    assert needs_receiving(US, {**paper, "received": True}, label=LABEL) is False  # a second time does nothing


def test_an_electronic_item_arrives_received_and_cannot_be_received():
    assert arriving(item(physical=False)) == {"opened": False, "received": True}
    with pytest.raises(Conflict, match="electronic: opening it is receiving it"):
        needs_receiving(US, item(), label=LABEL)


def test_only_the_holder_receives():
    with pytest.raises(NotCurrentHolder):
        needs_receiving(SO, item(physical=True, received=False), label=LABEL)


# --- opening, sending, pulling back (rule 4) ---------------------------------------------

def test_the_holder_opens_an_item_once_others_only_look():
    assert opens(US, item())
    assert not opens(US, item(opened=True))
    assert not opens(SO, item())


def test_an_item_is_never_sent_to_its_own_holder():
    with pytest.raises(InvalidInput, match="already with US-GAD") as refused:
        require_elsewhere(item(), ["DS-GAD", "US-GAD"], label=LABEL)
    assert refused.value.fields["field"] == "to_post"
    require_elsewhere(item(), ["DS-GAD"], label=LABEL)


def test_the_sender_pulls_back_until_the_recipient_opens_it():
    moves = [sent("SO-GAD", "US-GAD")]
    last = pull_back_from(SO, item(), moves, label=LABEL, sends=("sent",))
    assert pulled_back(last) == {"holder_post": "SO-GAD", "opened": True, "received": True, "due_date": None}
    with pytest.raises(Conflict, match=f"US-GAD has already opened {LABEL}"):
        pull_back_from(SO, item(opened=True), moves, label=LABEL, sends=("sent",))


def test_only_the_last_sender_pulls_back():
    moves = [sent("SO-GAD", "US-GAD")]
    with pytest.raises(Forbidden, match="only that post pulls it back"):
        pull_back_from(US, item(), moves, label=LABEL, sends=("sent",))
    with pytest.raises(Conflict, match="has not been sent"):
        pull_back_from(SO, item(), [], label=LABEL, sends=("sent",))


def test_an_item_that_moved_on_cannot_be_pulled_back():
    moves = [sent("SO-GAD", "US-GAD"), sent("US-GAD", "DS-GAD", action="forwarded")]
    with pytest.raises(Conflict, match="has moved on from US-GAD"):
        pull_back_from(SO, item(holder_post="DS-GAD"), moves[:1], label=LABEL, sends=("sent",))
    # A forward counts as the last send where the caller says so (receipts).
    last = pull_back_from(US, item(holder_post="DS-GAD"), moves, label=LABEL, sends=("sent", "forwarded"))
    assert last["to_post"] == "DS-GAD"


def test_an_item_no_longer_open_has_moved_on_where_the_caller_says_so():
    moves = [sent("SO-GAD", "US-GAD")]
    with pytest.raises(Conflict, match="has moved on"):
        pull_back_from(SO, item(status="in_file"), moves, label=LABEL, sends=("sent",), statuses=("open",))
    pull_back_from(SO, item(status="parked"), moves, label=LABEL, sends=("sent",))
