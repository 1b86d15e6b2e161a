"""Starting and stopping real parts from tests: service processes and infrastructure parts.

Tests run inside `deploy/eoffice test`, which exports the test environment (database
eoffice_test, vhost eoffice_test, test-* buckets) and `EOFFICE_REPO`.

A service is started with as many instances as deploy/programs gives it, or EOFFICE_INSTANCES
of each (`EOFFICE_INSTANCES=2 deploy/eoffice suite ...` runs tests on two of everything)."""
from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import urllib3
from kombu import Connection

from eoffice.programs import program
from eoffice.settings import get_settings

REPO = Path(os.environ.get("EOFFICE_REPO", Path(__file__).resolve().parents[2]))
HOME = Path(os.environ.get("EOFFICE_HOME", "/var/lib/eoffice"))
LOG_DIR = HOME / "log" / "tests"


def log_file(name: str):
    """A log of log/tests, opened for appending, readable by its owner and group only (logs may
    hold what only operators should read)."""
    LOG_DIR.mkdir(mode=0o750, parents=True, exist_ok=True)
    return open(os.open(LOG_DIR / name, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640), "ab")


def part(action: str, name: str) -> None:
    """Starts or stops one infrastructure part through the deploy script; raises if it fails."""
    subprocess.run([str(REPO / "deploy" / "eoffice"), "part", action, name], check=True,
                   capture_output=True, timeout=240)


def wait_until(predicate, timeout: float, what: str, interval: float = 0.25):
    """Returns predicate()'s first truthy value; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # the thing waited for may raise until it is ready
            last_error = exc
        time.sleep(interval)
    raise AssertionError(f"{what} not reached within {timeout}s (last error: {last_error!r})")


def queue_empty(name: str) -> bool:
    """Whether the broker's queue `name` holds no message waiting for a consumer (those taken
    and not yet acknowledged are not counted)."""
    with Connection(get_settings().amqp_uri) as conn:
        _, count, _ = conn.channel().queue_declare(name, passive=True)
        return count == 0


def wait_for_whole_cluster(settings) -> None:
    """Waits until every MinIO node sees all the others again: "maintenance" asks each node
    whether the cluster could lose it, i.e. all peers are up. A write in the next second or two
    can still miss a node just back (its peers reconnect to its drive a little later); MinIO
    heals it there soon after (`drives_holding`)."""
    wait_until(lambda: all(urllib3.request("GET", f"http://{e}/minio/health/cluster?maintenance=true",
                                           timeout=2, retries=False).status == 200
                           for e in settings.minio_endpoints), 120, "every MinIO node back in the cluster")


def drives_holding(settings, bucket: str, name: str) -> list[str]:
    """The MinIO nodes (ports) whose drive holds the object: MinIO keeps an object's metadata
    in `<drive>/<bucket>/<name>/xl.meta` (deploy/lib/infra.sh puts node PORT's drive in
    data/minio/PORT). A write reaches every node MinIO sees online at that moment; a node back
    from a stop is sometimes seen a moment after its health checks pass, and MinIO's heal puts
    what it missed there afterwards."""
    ports = [endpoint.rsplit(":", 1)[1] for endpoint in settings.minio_endpoints]
    return [port for port in ports if (HOME / "data" / "minio" / port / bucket / name / "xl.meta").exists()]


class ServiceProcess:
    """One `nameko run` process with the test environment, logging to log/tests/<name>.log."""

    def __init__(self, target: str, name: str, env: dict[str, str] | None = None):
        self.target, self.name, self.env = target, name, env or {}
        self.process: subprocess.Popen | None = None

    def start(self) -> ServiceProcess:
        log = log_file(f"{self.name}.log")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "nameko", "run", "--config", str(REPO / "deploy" / "nameko.yaml"), self.target],
            cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": str(REPO), **self.env},
            start_new_session=True)
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        self.signal(sig)
        self.wait_stopped()

    def signal(self, sig: int = signal.SIGTERM) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)

    def wait_stopped(self) -> None:
        """Waits for the process to end after `signal`, killing it after 20 s."""
        if self.process:
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


class ServiceGroup:
    """Several processes of one service, started and stopped together, used like one
    `ServiceProcess`: `running` while every one runs, `process` the first one's."""

    def __init__(self, processes: list[ServiceProcess]):
        self.processes = processes

    def start(self) -> ServiceGroup:
        for process in self.processes:
            process.start()
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        stop_all(self.processes, sig)

    @property
    def running(self) -> bool:
        return all(process.running for process in self.processes)

    @property
    def process(self) -> subprocess.Popen | None:
        return self.processes[0].process


def stop_all(processes: list[ServiceProcess] | list[ServiceProcess | ServiceGroup], sig: int = signal.SIGTERM) -> None:
    """Stops them all at once: each is signalled before any is waited for (a nameko service
    takes seconds to stop)."""
    each = [p for item in processes for p in (item.processes if isinstance(item, ServiceGroup) else [item])]
    for process in each:
        process.signal(sig)
    for process in each:
        process.wait_stopped()


def service_process(name: str, env: dict[str, str] | None = None, log_as: str | None = None,
                    instances: int | None = None) -> ServiceProcess | ServiceGroup:
    """Service `name`, logging to log/tests/<name>.log, or <log_as>.log when a test reads its
    log (test runs of other environments write the shared one); `instances` processes of it
    (default: as deploy/programs or EOFFICE_INSTANCES says), all writing that one log, so that
    a test reading it finds what any of them did."""
    # As deploy/lib/services.sh runs it (e.g. the OCR worker takes one document at a time).
    service = program(name)
    env = {"EOFFICE_MAX_WORKERS": str(service.workers), **(env or {})}
    count = service.instances if instances is None else instances
    if count == 1:
        return ServiceProcess(service.target, log_as or name, env)
    return ServiceGroup([ServiceProcess(service.target, log_as or name, env) for _ in range(count)])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The gateway as deploy/eoffice runs it; EOFFICE_GATEWAY_BIND says where.
GUNICORN = [sys.executable, "-m", "gunicorn", "-c", str(REPO / "deploy" / "gunicorn.conf.py"),
            program("gateway").target]


@contextmanager
def gunicorn_gateway(env: dict[str, str] | None = None) -> Iterator[str]:
    """Runs the gateway as deploy/eoffice does (gunicorn, deploy/gunicorn.conf.py, its worker
    processes) on a free port, with `env` added; yields its /api/v1 URL once it answers."""
    with gunicorn_gateways(1, env) as urls:
        yield urls[0]


@contextmanager
def gunicorn_gateways(count: int, env: dict[str, str] | None = None) -> Iterator[list[str]]:
    """Runs `count` gateways at once, each a gunicorn of its own on a free port (as instances
    of the gateway in deploy/programs run); yields their /api/v1 URLs once all answer."""
    gateways, urls = [], []
    try:
        for _ in range(count):
            port = free_port()
            gateways.append(subprocess.Popen(
                GUNICORN, cwd=REPO, stdout=log_file("gateway.log"), stderr=subprocess.STDOUT,
                env={**os.environ, "EOFFICE_GATEWAY_BIND": f"127.0.0.1:{port}", "PYTHONPATH": str(REPO),
                     **(env or {})}))
            urls.append(f"http://127.0.0.1:{port}/api/v1")
        for url in urls:
            wait_until(lambda url=url: urllib3.request("GET", f"{url}/health/live", retries=False,
                                                       timeout=2).status == 200, 60, f"the gateway at {url} answering")
        yield urls
    finally:
        for gateway in gateways:
            gateway.terminate()
        for gateway in gateways:
            gateway.wait(timeout=30)


class SpreadClient(httpx.Client):
    """An HTTP client over several gateways, used like the in-process TestClient (paths such as
    "/api/v1/files"): each request goes to the next gateway in turn, so that of two requests at
    once, each reaches another gateway. A request whose connection broke before an answer is
    sent once more, to the next gateway: every changing call of ours carries an idempotency key
    (and an idle keep-alive connection that the gateway closed breaks that way)."""

    def __init__(self, urls: list[str], **kwargs):
        # "http://127.0.0.1:8081/api/v1" -> "http://127.0.0.1:8081": the tests' paths carry /api/v1.
        self.gateways = [url.removesuffix("/api/v1") for url in urls]
        super().__init__(base_url=self.gateways[0], follow_redirects=True,
                         timeout=httpx.Timeout(60.0, connect=5.0), **kwargs)
        self._turns, self._lock = itertools.cycle(range(len(self.gateways))), threading.Lock()
        self.served = [0] * len(self.gateways)  # requests sent to each, for tests to check the spread

    def _next(self) -> int:
        with self._lock:
            turn = next(self._turns)
            self.served[turn] += 1
            return turn

    def send(self, request: httpx.Request, **kwargs) -> httpx.Response:
        for attempt in (1, 2):
            target = httpx.URL(self.gateways[self._next()])
            request.url = request.url.copy_with(scheme=target.scheme, host=target.host, port=target.port)
            try:
                return super().send(request, **kwargs)
            except (httpx.RemoteProtocolError, httpx.ConnectError, httpx.ReadError):
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")
