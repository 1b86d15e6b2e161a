"""The start command: a second run is quick and changes nothing; bad situations (a port taken,
a half-finished install, a package that cannot be had) say what to do."""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from eoffice.programs import programs
from tests.support.system import REPO, wait_until

pytestmark = pytest.mark.live
HOME = Path(os.environ.get("EOFFICE_HOME", "/var/lib/eoffice"))
EOFFICE = str(REPO / "deploy" / "eoffice")
# What the system's supervisord runs: our programs, the loopback stand-ins for outside systems, and
# the keeper (which starts again a part of the infrastructure whose process is gone).
STANDINS = [line.split()[0] for line in (REPO / "deploy" / "standins").read_text().splitlines()
            if line.strip() and not line.startswith("#")]
SUPERVISED = [p.name for p in programs()] + STANDINS + ["keeper"]


def running_pids() -> dict[str, str]:
    """The infrastructure's pid files, and each supervised program's pid."""
    pids = {f.name: f.read_text().strip() for f in sorted((HOME / "run").glob("*.pid"))}
    status = subprocess.run(["supervisorctl", "-c", str(HOME / "supervisor" / "supervisord.conf"), "status"],
                            capture_output=True, text=True).stdout
    for line in status.splitlines():
        parts = line.split()
        pids[parts[0]] = parts[3].rstrip(",") if len(parts) > 3 and parts[1] == "RUNNING" else parts[1]
    return pids


def deploy_shell(script: str, **env) -> subprocess.CompletedProcess:
    """Runs `script` with the deploy libraries sourced, as deploy/eoffice does."""
    prelude = (f'set -euo pipefail; REPO="{REPO}"; . "$REPO/deploy/lib/common.sh"; '
               '. "$REPO/deploy/lib/install.sh"; . "$REPO/deploy/lib/infra.sh"; ')
    return subprocess.run(["bash", "-c", prelude + script], capture_output=True, text=True, timeout=600,
                          env={**os.environ, **env})


def test_second_start_changes_nothing():
    before = running_pids()
    result = subprocess.run([EOFFICE, "up"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for finding in ("venv matches requirements.lock", "PostgreSQL already running", "RabbitMQ already running",
                    "MinIO cluster already running", "Elasticsearch already running"):
        assert finding in out, out
    # Our programs, the loopback stand-ins (deploy/standins) and the keeper, none restarted.
    assert f"all {len(SUPERVISED)} programs already running, nothing restarted" in out, out
    assert running_pids() == before
    status = subprocess.run([EOFFICE, "status"], capture_output=True, text=True)
    assert status.returncode == 0, status.stdout
    # Each program with its supervisor state and how often it was restarted; a program of several
    # instances (a group) with each instance's state, on the one line.
    for program in SUPERVISED:
        state = r"RUNNING pid \d+, uptime [\d:]+"
        instance = rf"{program}:{program}_\d+ {state}"
        assert re.search(rf"{program}: running \(({state}|{instance}(; {instance})+), restarted \d+ times",
                         status.stdout), status.stdout


def test_port_taken_by_another_program_says_which_and_what_to_do():
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        result = subprocess.run([EOFFICE, "infra"], capture_output=True, text=True, timeout=120,
                                env={**os.environ, "EOFFICE_PG_PORT": str(port)})
    assert result.returncode != 0
    assert f"port {port}, needed by PostgreSQL, is already in use by pid {os.getpid()}" in result.stderr
    assert "EOFFICE_PG_PORT=<port>" in result.stderr


@pytest.fixture
def scratch_home():
    """A throwaway EOFFICE_HOME the service user can reach (pytest's tmp_path is root-only)."""
    home = HOME / "scratch" / f"home-{os.getpid()}"
    yield home
    shutil.rmtree(home, ignore_errors=True)


def test_half_finished_install_is_noticed_and_completed(scratch_home):
    home = scratch_home
    (home / "downloads").mkdir(parents=True)
    # An interrupted download and an interrupted unpack.
    real_zip = HOME / "downloads" / "elasticsearch-8.19.21.zip"
    (home / "downloads" / real_zip.name).write_bytes(real_zip.read_bytes()[: 1 << 20])
    (home / "opt" / ".es-unpack" / "elasticsearch-8.19.21").mkdir(parents=True)
    # A database directory that initdb never finished.
    (home / "data" / "postgres").mkdir(parents=True)
    result = deploy_shell('ensure_user_and_dirs; step "Elasticsearch" install_elasticsearch; '
                          'step "PostgreSQL" start_postgres; stop_postgres',
                          EOFFICE_HOME=str(home), EOFFICE_PG_PORT="55439", EOFFICE_DB_PASSWORD="x")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (home / "opt" / "elasticsearch-8.19.21" / "bin" / "elasticsearch").exists()
    assert not (home / "opt" / ".es-unpack").exists()
    assert "removing a half-initialised" in result.stdout
    assert (home / "data" / "postgres" / "PG_VERSION").exists()


def test_missing_package_names_the_package_and_the_step():
    result = deploy_shell('DEBIAN_PACKAGES=(eoffice-no-such-package); step "Debian packages" install_debian_packages')
    assert result.returncode != 0
    assert "Debian packages failed" in result.stderr
    assert "could not install eoffice-no-such-package" in result.stderr


def test_a_daemon_started_by_the_deploy_scripts_keeps_no_copy_of_their_output(tmp_path):
    """`deploy/eoffice up | tee log` ends when `up` does: the daemons it starts (here a
    supervisord of its own, started as `up` starts the system's) hold no copy of the pipe."""
    conf = tmp_path / "supervisord.conf"
    conf.write_text(f"""[supervisord]
logfile={tmp_path}/supervisord.log
pidfile={tmp_path}/supervisord.pid
[unix_http_server]
file={tmp_path}/supervisor.sock
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[supervisorctl]
serverurl=unix://{tmp_path}/supervisor.sock
""")
    prelude = (f'set -euo pipefail; REPO="{REPO}"; for lib in common install infra services; do '
               '. "$REPO/deploy/lib/$lib.sh"; done; ')
    start = subprocess.Popen(["bash", "-c", prelude + f'start_supervisord "{conf}"; echo started'],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        # The output ends (EOF) when the shell does, unless the daemon holds the pipe open.
        output = subprocess.run(["timeout", "30", "cat"], stdin=start.stdout, capture_output=True, text=True)
        assert start.wait(timeout=30) == 0
        assert output.returncode == 0, "the start command's output never ended: the daemon holds it open"
        assert "started" in output.stdout
    finally:
        pid = tmp_path / "supervisord.pid"
        wait_until(pid.exists, 30, "the test's supervisord written its pid")
        os.kill(int(pid.read_text()), signal.SIGTERM)


def test_the_keeper_waits_for_the_supervisord_it_started_to_write_its_pid(tmp_path):
    """The keeper starts supervisord again after it died. The daemon writes its pid file after it
    forks, when the start command has already returned (seconds later on a loaded box): the keeper
    waits for it, says supervisord runs again and ends, instead of calling the start a failure and
    then taking its own supervisord for an operator's. Here a stand-in daemon writes its pid file
    two seconds after its start returns."""
    script = f"""
set +e   # as the keeper runs
SUPERVISOR_DIR="{tmp_path}"; SUPERVISOR_CONF="{tmp_path}/supervisord.conf"; KEEP_GRACE=10
programs_left() {{ :; }}   # nothing of the dead one's left to stop
start_supervisord() {{
  (sleep 2; echo "$BASHPID" > "$SUPERVISOR_DIR/supervisord.pid"; exec -a supervisord sleep 60) >/dev/null 2>&1 3>&- &
}}
SUPERVISORD_GONE=$((SECONDS - 60))
keep_supervisord
echo "the keeper carries on"
"""
    try:
        kept = deploy_shell(script)
        assert kept.returncode == 0, kept.stderr
        assert "supervisord: running again" in kept.stdout, kept.stdout
        assert "did not start" not in kept.stdout and "the keeper carries on" not in kept.stdout, kept.stdout
    finally:
        pid = tmp_path / "supervisord.pid"
        wait_until(pid.exists, 30, "the stand-in's pid file")
        os.kill(int(pid.read_text()), signal.SIGTERM)
