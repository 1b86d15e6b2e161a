"""RPC from outside the services (the gateway, tools, tests): a pool of nameko cluster proxies.

One `ClusterRpcProxy` shared by threads deadlocks, so each call borrows a proxy of its own.
Proxies are created lazily, i.e. in the process that uses them (after gunicorn forks).

While the broker is away, every call would spend its time failing to connect; instead, for
`BROKER_PAUSE` seconds after a call found it away, calls answer `Unavailable` at once (a
circuit breaker), so clients hear 503 with Retry-After immediately and the gateway's threads
stay free. The first call after the pause tries the broker again."""

from __future__ import annotations

import contextlib
import queue
import time
from collections.abc import Callable, Iterator

from nameko.exceptions import RemoteError, RpcTimeout
from nameko.standalone.rpc import ClusterRpcProxy

from eoffice.amqp import BROKER_ERRORS
from eoffice.errors import DomainError, Unavailable, error_by_name
from eoffice.settings import get_settings

BROKER_PAUSE = 1.0  # seconds


class RpcPool:
    def __init__(
        self,
        amqp_uri: str | None = None,
        *,
        size: int = 8,
        timeout: float | None = None,
        context: Callable[[], dict] | None = None,
    ):
        settings = get_settings()
        self.config = {"AMQP_URI": amqp_uri or settings.amqp_uri}
        self.timeout = timeout or settings.rpc_timeout
        self._idle: queue.LifoQueue = queue.LifoQueue(maxsize=size)
        self._context = context  # e.g. the request id, sent along with every call
        self._broker_away_until = 0.0

    def _new(self):
        proxy = ClusterRpcProxy(self.config, timeout=self.timeout)
        return proxy, proxy.start()

    @contextlib.contextmanager
    def cluster(self) -> Iterator:
        """Yields a cluster proxy (`cluster.files.create(...)`) that no other thread uses."""
        try:
            holder = self._idle.get_nowait()
        except queue.Empty:
            holder = self._new()
        broken = False
        if self._context:
            # Each proxy serves one thread at a time, so its context may change per call.
            holder[0]._worker_ctx.data.update(self._context())
        try:
            yield holder[1]
        except (RemoteError, DomainError):
            raise
        except Exception:
            broken = True  # a timeout or connection error leaves the reply queue in doubt
            raise
        finally:
            if broken:
                with contextlib.suppress(Exception):
                    holder[0].stop()
            else:
                try:
                    self._idle.put_nowait(holder)
                except queue.Full:
                    holder[0].stop()

    def call(self, service: str, method: str, *args, **kwargs):
        """Calls `service.method(*args, **kwargs)`; turns remote domain errors back into their
        `DomainError` class and timeouts or a missing broker into `Unavailable`."""
        if time.monotonic() < self._broker_away_until:
            raise Unavailable("message broker unreachable; trying again in a moment")
        try:
            with self.cluster() as cluster:
                return getattr(getattr(cluster, service), method)(*args, **kwargs)
        except RemoteError as exc:
            cls = error_by_name(exc.exc_type)
            if cls is None:
                raise
            raise cls(exc.value) from exc
        except RpcTimeout:
            raise Unavailable(f"{service} did not answer within {self.timeout:.0f}s") from None
        except BROKER_ERRORS as exc:
            # The broker is away (or went away during the call): this proxy was dropped, and
            # the idle ones share its fate; the next call after the pause makes a new one.
            self._broker_away_until = time.monotonic() + BROKER_PAUSE
            self.close()
            raise Unavailable(f"message broker unreachable: {type(exc).__name__}") from exc

    def close(self) -> None:
        while True:
            try:
                proxy, _ = self._idle.get_nowait()
            except queue.Empty:
                return
            with contextlib.suppress(Exception):
                proxy.stop()
