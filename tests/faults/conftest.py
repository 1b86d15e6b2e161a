"""The fault suite's system: every program of ours under a supervisord of its own, started by
`deploy/eoffice faults` (or at the end of `deploy/eoffice test`) on the `faults` test
environment, with its gateway on a port of its own. These fixtures reach it."""
from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.support.demo import PASSWORD, holder_email

pytestmark = [pytest.mark.live, pytest.mark.faults]


@pytest.fixture(autouse=True)
def _its_own_system():
    if not os.environ.get("EOFFICE_FAULTS_SUPERVISOR_CONF"):
        pytest.skip("the fault suite runs under `deploy/eoffice faults`, which starts its system")


class Supervisor:
    """supervisorctl on the fault suite's supervisord."""

    def __init__(self, conf: str, log_dir: Path):
        self.conf, self.log_dir = conf, log_dir

    def ctl(self, *args: str) -> str:
        return subprocess.run(["supervisorctl", "-c", self.conf, *args], capture_output=True, text=True,
                              timeout=60).stdout

    def states(self) -> dict[str, str]:
        """Each program's state (RUNNING, STARTING, BACKOFF ...)."""
        return {line.split()[0]: line.split()[1] for line in self.ctl("status").splitlines() if line.strip()}

    def pid(self, program: str) -> int:
        return int(self.ctl("pid", program).strip())

    def restarts(self) -> dict[str, int]:
        """How often each program exited unexpectedly (and was started again), from the log."""
        text = (self.log_dir / "supervisord.log").read_text()
        counts: dict[str, int] = {}
        for name in re.findall(r"exited: (\S+) \(.*not expected\)", text):
            counts[name] = counts.get(name, 0) + 1
        return counts


@pytest.fixture(scope="session")
def supervisor() -> Supervisor:
    return Supervisor(os.environ["EOFFICE_FAULTS_SUPERVISOR_CONF"], Path(os.environ["EOFFICE_FAULTS_LOG_DIR"]))


@pytest.fixture(scope="session")
def gateway() -> str:
    return os.environ["EOFFICE_FAULTS_GATEWAY"]


@pytest.fixture(scope="session")
def operator(gateway) -> dict:
    """The system admin's headers: readiness shows them each part."""
    answer = httpx.post(f"{gateway}/api/v1/auth/sign-in", json={"email": holder_email("SYSADM-GAD-IT"),
                                                                "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


@dataclass
class ReadinessWatch:
    """Polls readiness (as the operator) every half second in the background, keeping what it saw."""
    gateway: str
    headers: dict
    seen: list[tuple[float, int, dict]] = field(default_factory=list)

    def __post_init__(self):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self):
        with httpx.Client(timeout=10) as client:
            while not self._stop.is_set():
                try:
                    answer = client.get(f"{self.gateway}/api/v1/health/ready", headers=self.headers)
                    self.seen.append((time.monotonic(), answer.status_code, answer.json().get("checks") or {}))
                except (httpx.HTTPError, ValueError):
                    self.seen.append((time.monotonic(), 0, {}))
                self._stop.wait(0.5)

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=15)

    def first_ready_after(self, moment: float) -> float | None:
        return next((at for at, status, _ in self.seen if at >= moment and status == 200), None)

    def reported_down(self, check: str, since: float) -> bool:
        return any(at >= since and checks.get(check, {}).get("status") == "down" for at, _, checks in self.seen)


@pytest.fixture
def readiness(gateway, operator):
    watch = ReadinessWatch(gateway, operator)
    yield watch
    watch.stop()
