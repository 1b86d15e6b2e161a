"""What `deploy/eoffice up` reads of the supervised programs, on the fault suite's supervisord:
a program stopped by hand (or still starting) is a state to compare, not a failure. Before,
`supervisorctl status` exiting 3 for it ended `up` with exit 3 and an empty log, under the
scripts' `pipefail`, instead of starting the program again."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.faults.conftest import Supervisor
from tests.support.system import wait_until

pytestmark = [pytest.mark.live, pytest.mark.faults]
REPO = Path(__file__).resolve().parents[2]

# The deploy scripts' own settings (`set -euo pipefail`), their libraries, this suite's supervisord.
READ = """set -euo pipefail
REPO="$1"
for lib in common install infra services; do . "$REPO/deploy/lib/$lib.sh"; done
SUPERVISOR_CONF="$2"; SUPERVISOR_DIR="$(dirname "$2")"
running_programs"""


def running_programs(supervisor: Supervisor) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", READ, "read", str(REPO), supervisor.conf], capture_output=True, text=True,
                          timeout=60)


def test_a_program_stopped_by_hand_is_read_as_stopped_not_as_a_failure(supervisor: Supervisor):
    assert running_programs(supervisor).returncode == 0
    stopped, other = supervisor.processes("signing")[0], supervisor.processes("files")[0]
    supervisor.ctl("stop", stopped)
    try:
        assert supervisor.states()[stopped] == "STOPPED"
        read = running_programs(supervisor)
        assert read.returncode == 0, read.stderr
        running = {line.split()[0] for line in read.stdout.splitlines()}
        assert stopped not in running and other in running, read.stdout
    finally:
        supervisor.ctl("start", stopped)
        wait_until(lambda: supervisor.states()[stopped] == "RUNNING", 60, f"{stopped} running again")
