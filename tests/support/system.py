"""Starting and stopping real parts from tests: service processes and infrastructure parts.

Tests run inside `deploy/eoffice test`, which exports the test environment (database
eoffice_test, vhost eoffice_test, test-* buckets) and `EOFFICE_REPO`."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(os.environ.get("EOFFICE_REPO", Path(__file__).resolve().parents[2]))
LOG_DIR = Path(os.environ.get("EOFFICE_HOME", "/var/lib/eoffice")) / "log" / "tests"


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


class ServiceProcess:
    """One `nameko run` process with the test environment, logging to log/tests/<name>.log."""

    def __init__(self, target: str, name: str):
        self.target, self.name = target, name
        self.process: subprocess.Popen | None = None

    def start(self) -> "ServiceProcess":
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        log = open(LOG_DIR / f"{self.name}.log", "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "nameko", "run", "--config", str(REPO / "deploy" / "nameko.yaml"), self.target],
            cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": str(REPO)},
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


SERVICE_CLASSES = {"directory": "DirectoryService", "dak": "DakService", "files": "FilesService",
                   "signing": "SigningService", "search": "SearchService", "notify": "NotifyService"}


def service_process(name: str) -> ServiceProcess:
    return ServiceProcess(f"services.{name}.service:{SERVICE_CLASSES[name]}", name)
