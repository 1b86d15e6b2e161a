"""The running system as a local, unprivileged user of the same machine sees it: no way into the
database, no data or log to read, and nothing of ours running as root or listening beyond
loopback. (The security probe found the opposite: a trusted socket made any local user the
database superuser, and MinIO's data and the logs were world-readable.)"""
from __future__ import annotations

import os
import pwd
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.live
HOME = Path(os.environ.get("EOFFICE_HOME", "/var/lib/eoffice"))
PROBE = "eoffice-probe"  # a local user with no business here
PSQL = next(Path("/usr/lib/postgresql").glob("*/bin/psql"))
PORT = os.environ.get("EOFFICE_PG_PORT", "5432")


@pytest.fixture(scope="module")
def probe() -> str:
    try:
        pwd.getpwnam(PROBE)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PROBE], check=True)
    return PROBE


def as_user(user: str, *command: str) -> subprocess.CompletedProcess:
    return subprocess.run(["/usr/sbin/runuser", "-u", user, "--", *command], capture_output=True, text=True, timeout=30,
                          cwd="/", env={"PATH": "/usr/bin:/bin", "PGCONNECT_TIMEOUT": "5"})


def superuser_query(user: str, host: str) -> subprocess.CompletedProcess:
    return as_user(user, str(PSQL), "-w", "-h", host, "-p", PORT, "-U", "postgres", "-d", "postgres", "-Atc",
                   "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")


@pytest.mark.parametrize("user", [PROBE, "eoffice-app"])
def test_no_local_user_becomes_database_superuser(probe, user):
    # Over the socket: the folder is the infrastructure user's alone.
    by_socket = superuser_query(user, str(HOME / "run" / "postgres"))
    assert by_socket.returncode != 0 and by_socket.stdout.strip() != "t", by_socket
    # Over loopback: the superuser may not log in by TCP at all, password or none.
    by_tcp = superuser_query(user, "127.0.0.1")
    assert by_tcp.returncode != 0 and by_tcp.stdout.strip() != "t", by_tcp
    assert "no password supplied" in by_tcp.stderr or "rejects connection" in by_tcp.stderr


def test_the_infrastructure_user_still_administers_the_database():
    # What deploy/eoffice itself does: peer identity of the right OS user, mapped.
    admin = superuser_query("eoffice", str(HOME / "run" / "postgres"))
    assert admin.returncode == 0 and admin.stdout.strip() == "t", admin


def test_data_and_logs_are_not_readable_by_other_users(probe):
    for path in [HOME / "data", HOME / "data" / "minio", HOME / "log", HOME / "log" / "infra"]:
        listing = as_user(probe, "ls", str(path))
        assert listing.returncode != 0 and "Permission denied" in listing.stderr, (path, listing)
    for log in ["dak.log", "gateway.log", "infra/postgres.log"]:
        assert as_user(probe, "cat", str(HOME / "log" / log)).returncode != 0
    exposed = subprocess.run(["find", str(HOME / "data"), str(HOME / "log"), "-perm", "-o+r", "-type", "f"],
                             capture_output=True, text=True).stdout.split()
    # Files may be o+r inside a folder nobody else may enter; but none should be written so.
    assert not [f for f in exposed if "/data/minio/" in f or f.endswith(".log")], exposed[:5]


def program_pids() -> dict[str, int]:
    conf = HOME / "supervisor" / "supervisord.conf"
    out = subprocess.run(["supervisorctl", "-c", str(conf), "status"], capture_output=True, text=True).stdout
    pids = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) > 3 and parts[1] == "RUNNING":
            pids[parts[0]] = int(parts[3].rstrip(","))
    return pids


def owner(pid: int) -> str:
    return pwd.getpwuid(os.stat(f"/proc/{pid}").st_uid).pw_name


def test_our_programs_run_unprivileged():
    pids = program_pids()
    # A program of several instances is a group: dak_ocr:dak_ocr_0, dak_ocr:dak_ocr_1 ...
    assert {"gateway", "dak", "dak_ocr", "directory", "files"} <= {name.split(":")[0] for name in pids}, pids
    # All but the keeper, which starts the infrastructure again as its own user (as `up` does, and
    # as root, like supervisord itself); it listens nowhere and reads only the deploy script.
    assert owner(pids.pop("keeper")) == "root"
    assert {name: owner(pid) for name, pid in pids.items()} == {name: "eoffice-app" for name in pids}
    # The gateway's workers too (they parse every upload).
    workers = subprocess.run(["pgrep", "-P", str(pids["gateway"])], capture_output=True, text=True).stdout.split()
    assert workers and all(owner(int(pid)) == "eoffice-app" for pid in workers)


def test_nothing_of_ours_listens_beyond_loopback():
    listeners = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True).stdout.splitlines()
    ours = [line for line in listeners if any(name in line for name in (
        '"epmd"', '"beam.smp"', '"minio"', '"java"', '"postgres"', '"gunicorn"', '"python'))]
    assert any(":4369" in line for line in ours) and any(":25672" in line for line in ours), ours
    for line in ours:
        local = line.split()[3]
        assert local.startswith(("127.0.0.1:", "[::1]:", "[::ffff:127.0.0.1]:")), line
