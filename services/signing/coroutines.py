"""pyHanko's coroutines, run from nameko's green threads.

pyHanko signs and validates with coroutines; the service runs on eventlet. An event loop counts
as running for the whole OS thread, and so for every green thread in it: while one
`asyncio.run` waited on the network (an OCSP responder, a timestamp authority) the hub ran
another worker, whose `asyncio.run` was refused ("cannot be called from a running event loop"),
so two signings at once in one process failed. In the hub's thread they therefore take turns
(a green semaphore: the others wait without blocking the hub). Running each in a native thread
instead is no way out: pyHanko's fetchers then meet eventlet's green locks from several OS
threads ("cannot switch to a different thread"). Work already in a native thread (a letter
signed in `eventlet.tpool`) has a loop state of its own and runs at once."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from eventlet import patcher
from eventlet.semaphore import Semaphore

T = TypeVar("T")

_thread = patcher.original("_thread")
_HUB_THREAD = _thread.get_ident()  # imported as the service loads, in the hub's thread
_one_loop = Semaphore(1)


def run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    """Runs `coroutine` to completion on an event loop of its own and returns its result."""
    if _thread.get_ident() != _HUB_THREAD:
        return asyncio.run(coroutine)
    with _one_loop:
        return asyncio.run(coroutine)
