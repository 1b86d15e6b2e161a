"""Starting and stopping real parts from tests: service processes and infrastructure parts.

Tests run inside `deploy/eoffice test`, which exports the test environment (database
eoffice_test, vhost eoffice_test, test-* buckets) and `EOFFICE_REPO`."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import urllib3

from eoffice.programs import program

REPO = Path(os.environ.get("EOFFICE_REPO", Path(__file__).resolve().parents[2]))
LOG_DIR = Path(os.environ.get("EOFFICE_HOME", "/var/lib/eoffice")) / "log" / "tests"


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


def wait_for_whole_cluster(settings) -> None:
    """Waits until every MinIO node sees all the others again, or the next writes could skip
    one: "maintenance" asks each node whether the cluster could lose it, i.e. all peers are up."""
    wait_until(lambda: all(urllib3.request("GET", f"http://{e}/minio/health/cluster?maintenance=true",
                                           timeout=2, retries=False).status == 200
                           for e in settings.minio_endpoints), 120, "every MinIO node back in the cluster")


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
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


def service_process(name: str, env: dict[str, str] | None = None, log_as: str | None = None) -> ServiceProcess:
    """Service `name`, logging to log/tests/<name>.log, or <log_as>.log when a test reads its
    log (test runs of other environments write the shared one)."""
    # As deploy/lib/services.sh runs it (e.g. the OCR worker takes one document at a time).
    service = program(name)
    return ServiceProcess(service.target, log_as or name, {"EOFFICE_MAX_WORKERS": str(service.workers), **(env or {})})


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
    port = free_port()
    gateway = subprocess.Popen(
        GUNICORN, cwd=REPO, stdout=log_file("gateway.log"), stderr=subprocess.STDOUT,
        env={**os.environ, "EOFFICE_GATEWAY_BIND": f"127.0.0.1:{port}", "PYTHONPATH": str(REPO), **(env or {})})
    url = f"http://127.0.0.1:{port}/api/v1"
    try:
        wait_until(lambda: urllib3.request("GET", f"{url}/health/live", retries=False, timeout=2).status == 200,
                   60, "the gateway answering")
        yield url
    finally:
        gateway.terminate()
        gateway.wait(timeout=30)
