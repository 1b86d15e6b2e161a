"""An entrypoint that runs when woken: the search service's indexing loop (a group commit).

    class SearchService:
        wake_indexer = Wake()

        @woken(interval=2)
        def index_pending(self) -> bool: ...   # True: run again at once (more is waiting)

        def handler(self, ...):
            ...note the work...
            self.wake_indexer()

One run at a time per process: a wake while nothing runs starts a run at once; wakes during a
run make one more run after it. So at low load each piece of work is taken as soon as it is
noted, and under load the work noted during one run is taken together by the next (one RPC
and one bulk write for many events instead of one each). Without a wake it runs every
`interval` seconds (for what waits for a retry)."""

from __future__ import annotations

from collections.abc import Callable

from eventlet import Timeout
from eventlet.event import Event
from nameko.extensions import DependencyProvider, Entrypoint


class Woken(Entrypoint):
    def __init__(self, interval: float, **kwargs):
        self.interval = interval
        self._rung = Event()
        self._finished = Event()
        self._stopping = False
        self.gt = None
        super().__init__(**kwargs)

    def start(self):
        self.gt = self.container.spawn_managed_thread(self._run, identifier=f"woken:{self.method_name}")

    def stop(self):
        self._stopping = True
        self.wake()
        if self.gt is not None:
            self.gt.wait()

    def kill(self):
        if self.gt is not None:
            self.gt.kill()

    def wake(self) -> None:
        """Asks for a run (at once if none is running, else right after the one running)."""
        if not self._rung.ready():
            self._rung.send(True)

    def _run(self):
        while True:
            with Timeout(self.interval, False):
                self._rung.wait()
            if self._stopping:
                return
            if self._rung.ready():
                # Work noted before this point is seen by the run below; a wake after it, by the next.
                self._rung.reset()
            self._finished = Event()
            self.container.spawn_worker(self, (), {}, handle_result=self._handle_result)
            self._finished.wait()

    def _handle_result(self, worker_ctx, result, exc_info):  # noqa: PLR0917  (nameko's signature)
        if exc_info is None and result:  # more was waiting than one run takes
            self.wake()
        self._finished.send(True)
        return result, exc_info


woken = Woken.decorator


class Wake(DependencyProvider):
    """In a worker, a function that wakes the service's `woken` entrypoints."""

    def get_dependency(self, worker_ctx) -> Callable[[], None]:
        loops = [entrypoint for entrypoint in self.container.entrypoints if isinstance(entrypoint, Woken)]

        def wake() -> None:
            for loop in loops:
                loop.wake()

        return wake
