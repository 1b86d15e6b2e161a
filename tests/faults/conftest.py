"""The fault suite's system: every program of ours under a supervisord of its own, started by
`deploy/eoffice faults` (or at the end of `deploy/eoffice test`) on the `faults` test
environment, with its gateway on a port of its own (a second one beside it with
EOFFICE_TEST_ENV=NAME and EOFFICE_FAULTS_GATEWAY_PORT). These fixtures reach it."""
from __future__ import annotations

import contextlib
import os
import re
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import httpx
import pytest

from eoffice.settings import get_settings
from tests.support.demo import PASSWORD, holder_email
from tests.support.system import service_process, wait_until

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

    def processes(self, program: str) -> list[str]:
        """supervisord's names of a program's processes: NAME, or NAME:NAME_0, NAME:NAME_1 ..."""
        return [name for name in self.states() if name == program or name.startswith(f"{program}:")]

    def restart_rolling(self, program: str, timeout: float = 120) -> None:
        """Restarts the program's processes one at a time, each when the one before is back at
        work, so that something always takes its calls. A service process is stopped (SIGTERM:
        it stops taking calls and finishes the ones it runs) and started; while it is away its
        second instance takes the calls. A program of one instance gets a second one for the
        time (a surge process, started and consuming before the restart, stopped gracefully
        after it). The gateway's master is sent SIGHUP: new workers, the old ones finish what
        they serve, the listening socket stays open."""
        processes = self.processes(program)
        if program == "gateway":
            for process in processes:
                master = self.pid(process)
                old = set(children(master))
                self.ctl("signal", "HUP", process)
                wait_until(lambda: set(children(master)).isdisjoint(old) and len(children(master)) == len(old),  # noqa: B023
                           timeout, f"{process}: every worker replaced")
            return
        surge = None
        try:
            if len(processes) == 1:
                queues = consumed_by(self.pid(processes[0]))
                surge = service_process(program, log_as=f"faults-{program}-surge", instances=1).start()
                wait_consuming(lambda: surge.process.pid, queues, timeout, f"{program} surge consuming")
            for process in processes:
                queues = consumed_by(self.pid(process))
                self.ctl("restart", process)  # returns when it was stopped and started again
                wait_consuming(lambda: self.pid(process), queues, timeout, f"{process} consuming again")  # noqa: B023
        finally:
            if surge is not None:
                surge.stop()

    def restarts(self) -> dict[str, int]:
        """How often each program exited unexpectedly (and was started again), from the log."""
        text = (self.log_dir / "supervisord.log").read_text()
        counts: dict[str, int] = {}
        for name in re.findall(r"exited: (\S+) \(.*not expected\)", text):
            counts[name] = counts.get(name, 0) + 1
        return counts


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid`."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(proc.name))
        except (OSError, ValueError):
            continue
    return found


def wait_consuming(pid: Callable[[], int], queues: set[str], timeout: float, what: str) -> None:
    """Waits until process `pid()` consumes every queue of `queues`; the failure names the
    queues it does not consume."""
    assert queues, f"{what}: the process it stands for consumed no queue (the ports matched nothing?)"
    missing = set(queues)

    def consuming() -> bool:
        now = queues - consumed_by(pid())
        missing.clear()
        missing.update(now)
        return not now

    try:
        wait_until(consuming, timeout, what)
    except AssertionError as failed:
        raise AssertionError(f"{failed}; not consumed: {sorted(missing)} of {sorted(queues)}") from None


def consumed_by(pid: int) -> set[str]:
    """The shared queues process `pid` consumes (not its own reply queues, nor its broadcast
    queues, which are not durable), from RabbitMQ's management API: consumers whose connection
    comes from one of the process's sockets to the broker."""
    ports = local_ports(pid, remote_port=urlsplit(get_settings().amqp_uri).port or 5672)
    durable = {q["name"] for q in management("queues", columns="name,durable") if q["durable"]}
    # A consumer whose channel is going has no details: RabbitMQ gives them as [] rather than {}.
    return {c["queue"]["name"] for c in management("consumers") if isinstance(c["channel_details"], dict)
            and c["channel_details"].get("peer_port") in ports
            and c["queue"]["name"] in durable and not c["queue"]["name"].startswith("rpc.reply-")}


def management(what: str, **params) -> list[dict]:
    """GET /api/WHAT/VHOST of RabbitMQ's management API, for the fault system's vhost."""
    settings = get_settings()
    uri = urlsplit(settings.amqp_uri)
    answer = httpx.get(f"{settings.rabbitmq_management_url}/api/{what}/{quote(uri.path[1:], safe='')}", params=params,
                       auth=(unquote(uri.username or ""), unquote(uri.password or "")), timeout=10)
    answer.raise_for_status()
    return answer.json()


def local_ports(pid: int, *, remote_port: int) -> set[int]:
    """The local TCP ports of process `pid`'s sockets connected to `remote_port`. Linux gives
    one local port to several connections when they go to different places, so a port alone
    may also be another process's connection to the broker: its queues counted as this one's,
    which a second instance of this program then never consumed."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    ports = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes and int(fields[2].rsplit(":", 1)[1], 16) == remote_port:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


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
