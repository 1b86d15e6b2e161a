"""The actors a gateway worker process keeps for its sessions (services/gateway/auth.py): when a
kept one may serve a request and when the directory must be asked again."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from eoffice.actor import Actor
from services.gateway import auth

ACTOR = Actor(user_id="UP100001", post_id="DA1-LKO", office_id="LKO-DAK", roles=frozenset({"dak_clerk"}))


@pytest.fixture
def clock(monkeypatch):
    """The process's monotonic clock and the office day, moved by the test."""
    now = {"t": 1000.0, "day": date(2026, 11, 30)}
    monkeypatch.setattr(auth.time, "monotonic", lambda: now["t"])
    monkeypatch.setattr(auth, "today", lambda: now["day"])
    return now


@pytest.fixture
def recent(clock):
    kept = auth.RecentActors(size=3)
    kept.watching = lambda: True
    kept.put("s1", ACTOR, changes=7, generation=kept.generation)
    return kept


def test_a_kept_actor_serves_while_nothing_changed(recent, clock):
    clock["t"] += auth.RECHECK
    assert recent.get("s1", changes=7) == ACTOR


def test_a_directory_change_counted_since_means_asking_again(recent):
    assert recent.get("s1", changes=8) is None


def test_an_event_from_the_directory_empties_it(recent):
    recent.clear({"type": "eoffice.directory.post-handed-over.v1"})
    assert recent.get("s1", changes=7) is None


def test_nothing_is_kept_while_the_process_does_not_hear_the_directory(recent):
    recent.watching = lambda: False
    assert recent.get("s1", changes=7) is None


def test_a_new_office_day_or_too_long_means_asking_again(recent, clock):
    clock["day"] += timedelta(days=1)  # a posting or delegation may have ended at midnight
    assert recent.get("s1", changes=7) is None
    clock["day"] -= timedelta(days=1)
    clock["t"] += auth.RECHECK + 0.1
    assert recent.get("s1", changes=7) is None


def test_a_refusal_is_kept_like_an_actor_and_the_oldest_session_goes_first(recent):
    recent.put("s2", "you do not hold DA1-LKO today", changes=7, generation=recent.generation)
    assert recent.get("s2", changes=7) == "you do not hold DA1-LKO today"
    recent.put("s3", ACTOR, changes=7, generation=recent.generation)
    recent.put("s4", ACTOR, changes=7, generation=recent.generation)
    assert recent.get("s1", changes=7) is None and recent.get("s4", changes=7) == ACTOR


def test_an_answer_asked_for_before_an_event_is_not_kept(recent):
    """A request asks the directory; the directory's event empties the cache while the answer is
    on its way: that answer may predate the change, so it serves no later request."""
    asked_at = recent.generation
    recent.clear({"type": "eoffice.directory.organisation-imported.v1"})
    recent.put("s9", ACTOR, changes=7, generation=asked_at)
    assert recent.get("s9", changes=7) is None
