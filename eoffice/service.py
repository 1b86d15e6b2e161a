"""What every nameko service of ours has: a database, an outbox, and the health entrypoints."""
from __future__ import annotations

import eventlet
from nameko.rpc import rpc

from eoffice.errors import Unavailable
from eoffice.logs import RequestLogging
from eoffice.settings import get_settings


def call_with_timeout(method, *args, timeout: float | None = None, **kwargs):
    """Calls an RPC proxy method from inside a service; raises `Unavailable` after `timeout`
    seconds (default EOFFICE_RPC_TIMEOUT) instead of waiting forever for a dead service."""
    seconds = timeout or get_settings().rpc_timeout
    try:
        with eventlet.Timeout(seconds):
            return method(*args, **kwargs)
    except eventlet.Timeout:
        raise Unavailable(f"no answer within {seconds:.0f}s") from None


class ServiceBase:
    """Base for every service class. Subclasses declare `name`, `db = Database()`,
    `outbox = Outbox(models.outbox)` and, in `peers`, the `RpcProxy` attributes of the services
    they call, which `health` checks."""

    name: str
    peers: tuple[str, ...] = ()
    request_logging = RequestLogging()

    @rpc
    def ping(self) -> dict:
        """Returns the service's name; answers as long as the process consumes RPC."""
        return {"service": self.name}

    @rpc
    def health(self) -> dict:
        """Returns this service's view of its own health: database, outbox backlog, peers.
        Never raises: a failed part is reported as such."""
        report: dict = {"service": self.name, "status": "ok", "checks": {}}
        checks = report["checks"]
        try:
            self.db.ping()
            checks["database"] = {"status": "ok", "outbox_pending": self.outbox.pending()}
        except Exception as exc:
            checks["database"] = {"status": "down", "error": type(exc).__name__}
        for peer in self.peers:
            try:
                answer = call_with_timeout(getattr(self, peer).ping, timeout=3)
                checks[f"rpc:{peer}"] = {"status": "ok" if answer.get("service") == peer else "down"}
            except Exception as exc:
                checks[f"rpc:{peer}"] = {"status": "down", "error": type(exc).__name__}
        if any(check["status"] != "ok" for check in checks.values()):
            report["status"] = "degraded"
        return report
