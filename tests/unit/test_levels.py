"""Levels (DOMAIN.md): a file sent up past the sender's direct supervisor skips the posts in
between; they are told afterwards and may read it. Without infrastructure: which posts a send
skips, by the supervisor chain the files service keeps from the directory, what notify tells
them, and that they may then see the file. And "at most four levels to a decision": how the
levels a file has gone up through in its round are counted, and when a send is warned."""
from __future__ import annotations

import pytest

from eoffice.access import require_visible
from eoffice.actor import Actor
from eoffice.calendars import DirectoryCalendars
from eoffice.errors import NotFound
from eoffice.movement import level_warnings, levels_to_decision, skipped_levels
from services.notify import templates
from services.notify.inbox import apply_event

# The demo organisation's chain in GAD: each post's supervisor is the next one.
SO, US, DS, JS, SPL, SECY = "SO(EST)-GAD", "US(EST)-GAD", "DS(EST)-GAD", "JS(GAD)", "SPLSECY(GAD)", "SECY(GAD)"
CHAIN_OF_SO = (US, DS, JS, SPL, SECY)  # nearest first, as the directory's supervisors_of answers


def test_sending_above_the_direct_supervisor_skips_the_posts_in_between():
    assert skipped_levels(CHAIN_OF_SO, DS) == [US]
    assert skipped_levels(CHAIN_OF_SO, SECY) == [US, DS, JS, SPL]  # nearest the sender first


def test_sending_to_the_direct_supervisor_down_or_sideways_skips_nobody():
    assert skipped_levels(CHAIN_OF_SO, US) == []  # the direct supervisor
    assert skipped_levels(CHAIN_OF_SO, "RO1(EST)-GAD") == []  # down
    assert skipped_levels(CHAIN_OF_SO, "SO(ACC)-GAD") == []  # sideways
    assert skipped_levels((), DS) == []  # a post with no supervisor


DEALER = "RO1(EST)-GAD"
CHAIN_OF_DEALER = (SO, *CHAIN_OF_SO)


def test_each_level_of_the_round_posts_chain_reached_counts_once():
    so_far = 0
    for level, post in enumerate(CHAIN_OF_DEALER, start=1):  # up one level at a time
        so_far = levels_to_decision(CHAIN_OF_DEALER, post, so_far=so_far)
        assert so_far == level
    assert so_far == 6


def test_a_skipped_level_counts_as_gone_through():
    assert levels_to_decision(CHAIN_OF_DEALER, DS, so_far=0) == 3  # SO and US passed over
    assert levels_to_decision(CHAIN_OF_DEALER, SPL, so_far=1) == 5


def test_sending_down_sideways_outside_the_chain_or_to_a_level_reached_adds_nothing():
    assert levels_to_decision(CHAIN_OF_DEALER, SO, so_far=4) == 4  # back down to the first level
    assert levels_to_decision(CHAIN_OF_DEALER, DEALER, so_far=4) == 4  # down to where the round started
    assert levels_to_decision(CHAIN_OF_DEALER, "SO(ACC)-GAD", so_far=2) == 2  # sideways
    assert levels_to_decision(CHAIN_OF_DEALER, JS, so_far=4) == 4  # JS again, after going down and up
    assert levels_to_decision((), DS, so_far=0) == 0  # a round post without supervisors


def test_a_send_past_the_fourth_level_is_warned_not_refused_and_once_per_new_level():
    assert level_warnings("file F", before=3, after=4) == []  # four is within the rule
    warning, = level_warnings("file F", before=4, after=5)
    assert warning["type"] == "over_four_levels" and warning["levels_to_decision"] == 5
    assert warning["message"].startswith("file F now passes through 5 levels to a decision; the rule is at most four")
    assert level_warnings("file F", before=2, after=6)[0]["levels_to_decision"] == 6  # a jump past it
    assert level_warnings("file F", before=5, after=6) != []  # each further level again
    assert level_warnings("file F", before=5, after=5) == []  # sent down or sideways: no new level


class Files(DirectoryCalendars):
    """A service mixing the kept directory facts in, its directory a stand-in counting calls."""

    def __init__(self):
        self.asked: list[list[str]] = []
        chains = {SO: list(CHAIN_OF_SO), "RO1(EST)-GAD": [SO, *CHAIN_OF_SO]}

        class Directory:
            @staticmethod
            def calendars_of_posts(posts):
                self.asked.append(posts)
                if set(posts) - set(chains):
                    raise NotFound(f"no post {posts[0]}")
                return {post: {"office_code": "GAD-EST", "office_path": "UP/GAD/GAD-EST", "jurisdiction": "UP/GAD",
                               "weekly_off": ["SAT", "SUN"], "holidays": [], "supervisors": chains[post]}
                        for post in posts}
        self.directory = Directory()


def test_the_skipped_posts_come_from_the_chain_kept_with_the_calendar_asked_once(monkeypatch):
    monkeypatch.setattr("eoffice.calendars.call_with_timeout", lambda method, *args: method(*args))
    files = Files()
    files.calendars.clear()
    assert files.skipped_levels(SO, DS) == [US]
    assert files.skipped_levels(SO, US) == []
    assert files.skipped_levels("RO1(EST)-GAD", DS) == [SO, US]
    assert files.asked == [[SO], ["RO1(EST)-GAD"]]  # once per post, not once per movement
    files.directory_organisation_imported({})  # a supervisor may have changed: asked again
    assert files.skipped_levels(SO, DS) == [US]
    assert files.asked[-1] == [SO]


def test_the_levels_are_counted_on_the_round_posts_chain_kept_with_the_calendar(monkeypatch):
    monkeypatch.setattr("eoffice.calendars.call_with_timeout", lambda method, *args: method(*args))
    files = Files()
    files.calendars.clear()
    assert files.levels_to_decision(DEALER, JS, so_far=2) == 4
    assert files.levels_to_decision(DEALER, SPL, so_far=4) == 5
    assert files.levels_to_decision(SO, SPL, so_far=0) == 4  # a round that started at SO counts from SO
    assert files.asked == [[DEALER], [SO]]  # once per post, not once per send
    # A round post abolished since: the send is not held up, nothing more is counted.
    assert files.levels_to_decision("GONE(EST)-GAD", SECY, so_far=3) == 3


def test_each_skipped_post_is_told_and_none_of_them_holds_the_file():
    sent = {"file_id": "f" * 36, "file_number": "N-11016/1/2026-GAD-EST", "by_user": "E1", "from_post": SO,
            "to_post": SECY, "due_date": "2026-04-10", "skipped": [US, DS]}
    where, notices = apply_event("eoffice.file.sent.v1", sent, known=None)
    assert [(n.post_code, n.kind) for n in notices] == [(SECY, "arrived"), (US, "skipped"), (DS, "skipped")]
    assert notices[1].detail == {"from_post": SO, "to_post": SECY}
    assert where.holder_post == SECY and where.posts_seen == [SECY]  # informed, not holding
    text = templates.line("skipped", "en", item_type="file", number=sent["file_number"], post=US,
                          detail=notices[1].detail)
    assert text == f"File N-11016/1/2026-GAD-EST went past {US} from {SO} to {SECY}."
    hindi = templates.line("skipped", "hi", item_type="file", number="N-1", post=US, detail=notices[1].detail)
    assert hindi == f"फ़ाइल N-1 {US} को छोड़कर {SO} से {SECY} को भेजी गई।"


def test_a_skipped_post_may_read_the_file_afterwards():
    file = {"holder_post": DS}
    moves = [{"from_post": SO, "to_post": DS, "skipped": [US]}]
    us = Actor(user_id="E2", post_id=US, office_id="GAD-EST")
    assert require_visible(us, "file", "F1", item=file, movements=moves) is file
    js = Actor(user_id="E3", post_id=JS, office_id="GAD")
    with pytest.raises(NotFound):
        require_visible(js, "file", "F1", item=file, movements=moves)
