"""A rolling restart fails no request: under a steady mixed load through the gateway, every
service and then the gateway are restarted one after the other, the way an operator deploys new
code (`deploy/eoffice restart`). Every request the load makes gets its answer, first time: no
503, no reset connection, and every change is done exactly once.

How it holds: a service stopped with SIGTERM stops taking calls, finishes the ones it runs and
answers them; calls that arrive meanwhile wait in its durable queue for the process started in
its place (or, with two instances, are taken by the other one). The gateway is reloaded with
SIGHUP: its master keeps the listening socket, starts new workers and lets the old ones finish
what they serve (deploy/gunicorn.conf.py)."""
from __future__ import annotations

import time

import pytest

from eoffice.programs import programs
from tests.faults.conftest import Supervisor
from tests.faults.test_staying_up import assert_done_exactly_once
from tests.support.load import MixedLoad

pytestmark = [pytest.mark.live, pytest.mark.faults]
RATE = 30  # requests a second offered, all clients together


@pytest.mark.timeout(900)
def test_rolling_restart_under_load_fails_no_request(gateway, supervisor: Supervisor, settings):
    load = MixedLoad(gateway, rate=RATE, clients=8, reconnect=True)
    load.prepare()
    restarts_before = supervisor.restarts()
    load.start()
    time.sleep(3)
    took = {}
    try:
        for program in programs():
            started = time.monotonic()
            supervisor.restart_rolling(program.name)
            took[program.name] = time.monotonic() - started
            print(f"{program.name} restarted in {took[program.name]:.0f}s, {len(load.failed())} failed", flush=True)
            time.sleep(2)  # the load reaches the new process before the next one goes
    finally:
        load.stop()
    print(f"restarted one at a time: {', '.join(f'{n} {s:.1f}s' for n, s in took.items())}; {load.summary()}")

    failed = load.failed()
    assert not failed, [(c.op, c.status, c.error, c.answer) for c in failed[:5]]
    assert load.per_second() >= RATE / 2, f"the load stalled: {load.summary()}"
    # Nothing died on the way: each program was stopped and started, not killed and restarted.
    assert supervisor.restarts() == restarts_before
    assert all(s == "RUNNING" for s in supervisor.states().values()), supervisor.states()
    assert_done_exactly_once(load, settings)
