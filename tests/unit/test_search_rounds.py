"""The search service's indexing loop (`services/search/wakeup.py`), in a nameko container of
its own: a wake starts a round at once, wakes during a round make one more round (not one
each), a full round is followed by another at once, and without wakes it runs every interval."""

from __future__ import annotations

import time

import eventlet
import pytest
from nameko.containers import ServiceContainer
from nameko.testing.utils import get_extension

from services.search.wakeup import Wake, Woken, woken


class Loop:
    name = "loop"
    wake_indexer = Wake()
    started: list[float] = []
    hold = 0.0  # seconds a round takes
    full: list[bool] = []  # what the next rounds return (True: more is waiting)

    @woken(interval=0.5)
    def index_pending(self) -> bool:
        Loop.started.append(time.monotonic())
        eventlet.sleep(Loop.hold)
        return Loop.full.pop(0) if Loop.full else False


@pytest.fixture
def loop():
    Loop.started, Loop.hold, Loop.full = [], 0.0, []
    container = ServiceContainer(Loop, {})
    container.start()
    try:
        yield get_extension(container, Woken)
    finally:
        container.stop()


def test_a_wake_starts_a_round_at_once(loop):
    eventlet.sleep(0.05)
    woke = time.monotonic()
    loop.wake()
    eventlet.sleep(0.2)
    assert len(Loop.started) == 1 and Loop.started[0] - woke < 0.2  # not at the 0.5 s interval


def test_wakes_during_a_round_make_one_more_round(loop):
    Loop.hold = 0.2
    loop.wake()
    eventlet.sleep(0.02)
    for _ in range(5):  # five events noted while the first round runs
        loop.wake()
        eventlet.sleep(0.01)
    eventlet.sleep(0.3)
    assert len(Loop.started) == 2  # their items are taken together, by the second round
    assert Loop.started[1] - Loop.started[0] < 0.45  # right after the first, not at the interval


def test_a_full_round_is_followed_by_another_at_once(loop):
    Loop.full = [True, True, False]
    loop.wake()
    eventlet.sleep(0.1)
    assert len(Loop.started) == 3


def test_without_wakes_it_runs_every_interval(loop):
    eventlet.sleep(0.35)
    assert Loop.started == []
    eventlet.sleep(1.0)
    assert len(Loop.started) >= 2  # for the items waiting for a retry


def test_the_dependency_wakes_the_services_loop(loop):
    wake = get_extension(loop.container, Wake).get_dependency(None)  # what a handler calls
    wake()
    eventlet.sleep(0.2)
    assert len(Loop.started) == 1
