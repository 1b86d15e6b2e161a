"""Static checks of docker-compose.yml.

No Docker engine runs on the development machines, so the compose file is
validated by Debian's docker-compose (``config -q``) and by reading what
``docker-compose config`` makes of it, given the secrets a `.env` would hold.
"""

import importlib
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from eoffice.programs import programs
from eoffice.programs import services as services_list

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
DOCKERFILE = "deploy/docker/python.Dockerfile"

MINIO_NODES = ["minio1", "minio2", "minio3", "minio4"]
# Every program of deploy/programs has its container.
NAMEKO_SERVICES = [p.name for p in services_list()]
PYTHON_SERVICES = [p.name for p in programs()]
INFRASTRUCTURE = ["rabbitmq", "postgres", *MINIO_NODES, "elasticsearch"]
NEW_ENV = REPO_ROOT / "deploy/docker/new-env"

# What deploy/docker/new-env would write, told apart so that a value in the wrong place shows.
SECRETS = {
    "EOFFICE_TOKEN_SECRET": "TokenSecretForTheComposeTest0123456789abcdefABCDEF",
    "EOFFICE_DB_PASSWORD": "DbPasswordForTheComposeTest",
    "EOFFICE_AMQP_PASSWORD": "AmqpPasswordForTheComposeTest",
    "EOFFICE_MINIO_SECRET_KEY": "MinioSecretKeyForTheComposeTest",
}


@pytest.fixture(scope="module")
def docker_compose(tmp_path_factory):
    """run(*args, env=, compose_file=, dotenv=False) runs docker-compose on `compose_file`
    with `env` and nothing of the test runner's EOFFICE_*/COMPOSE_* variables; a `.env` next
    to the file is read only if `dotenv`, so a developer's own .env changes nothing."""
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.fail(
            "docker-compose is not installed; the project's install script "
            "installs Debian's docker-compose package (apt-get install docker-compose)"
        )
    empty = tmp_path_factory.mktemp("compose") / "empty.env"
    empty.write_text("")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("EOFFICE_", "COMPOSE_"))}

    def run(*args, env=None, compose_file=COMPOSE_FILE, dotenv=False):
        options = ["--file", str(compose_file)] + ([] if dotenv else ["--env-file", str(empty)])
        return subprocess.run(
            [binary, *options, *args],
            cwd=compose_file.parent,
            env={**clean, **(env or {})},
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run


@pytest.fixture(scope="module")
def compose(docker_compose):
    """The file as docker-compose resolves it (merge keys, variables) with SECRETS set."""
    result = docker_compose("config", env=SECRETS)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


@pytest.fixture(scope="module")
def services(compose):
    return compose["services"]


def _environment(service):
    """A service's environment as a dict, whichever form the file uses."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def _expand_ellipses(arg):
    """Expand MinIO's `{a...b}` notation, e.g. `http://minio{1...4}/data`."""
    match = re.search(r"\{(\d+)\.\.\.(\d+)\}", arg)
    if not match:
        return [arg]
    first, last = int(match.group(1)), int(match.group(2))
    head, tail = arg[: match.start()], arg[match.end():]
    return [
        expanded
        for n in range(first, last + 1)
        for expanded in _expand_ellipses(f"{head}{n}{tail}")
    ]


def _mount(volume):
    """(source, target) of a volume in short or long syntax."""
    if isinstance(volume, dict):
        return volume.get("source"), volume.get("target")
    source, _, rest = volume.partition(":")
    return source, rest.split(":")[0]


def _command_args(service):
    command = service["command"]
    return command.split() if isinstance(command, str) else list(command)


def test_docker_compose_accepts_the_file(docker_compose):
    result = docker_compose("config", "--quiet", env=SECRETS)
    assert result.returncode == 0, (
        f"docker-compose config rejected {COMPOSE_FILE}:\n{result.stderr}{result.stdout}"
    )


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_no_secret_has_a_default(docker_compose, missing):
    # Unset, then empty: Compose must stop and say which one and how to make it.
    for env in ({k: v for k, v in SECRETS.items() if k != missing}, {**SECRETS, missing: ""}):
        result = docker_compose("config", "--quiet", env=env)
        assert result.returncode != 0, f"docker-compose config ran without {missing}"
        assert f"{missing} is missing, run deploy/docker/new-env" in result.stderr, result.stderr
    # Every use of it is `${VAR:?...}`: none with a default, none that lets an empty value by.
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    uses = re.findall(r"\$\{?" + missing + r"[^A-Z0-9_]{0,2}", text)
    assert uses and all(use.startswith("${" + missing + ":?") for use in uses), uses


def test_images_are_pinned(services):
    for name, service in services.items():
        if "image" in service and "build" not in service:
            image = service["image"]
            tag = image.rsplit("/", 1)[-1].partition(":")[2]
            assert tag and tag != "latest", f"{name}: image {image!r} is not pinned"


def test_infrastructure_has_healthchecks(services):
    for name in INFRASTRUCTURE:
        assert name in services, f"service {name} missing"
        test = services[name].get("healthcheck", {}).get("test")
        assert test and test != ["NONE"], f"{name} has no healthcheck"


def test_four_minio_nodes_each_with_own_volume_and_all_endpoints(compose, services):
    minio = sorted(name for name in services if name.startswith("minio"))
    assert minio == MINIO_NODES

    expected_endpoints = {f"http://{node}/data" for node in MINIO_NODES}
    volumes_seen = set()
    for name in MINIO_NODES:
        service = services[name]
        assert re.fullmatch(r"minio/minio:RELEASE\.[0-9TZ-]+", service["image"]), (
            f"{name}: MinIO image must be pinned to a RELEASE tag"
        )

        args = _command_args(service)
        assert args[0] == "server", f"{name}: command must start `minio server`"
        endpoints = {e for arg in args if arg.startswith("http") for e in _expand_ellipses(arg)}
        assert endpoints == expected_endpoints, f"{name}: endpoints {sorted(endpoints)}"

        data_volumes = [
            source for source, target in map(_mount, service.get("volumes", [])) if target == "/data"
        ]
        assert len(data_volumes) == 1, f"{name}: needs exactly one volume on /data"
        volume = data_volumes[0]
        assert volume in (compose.get("volumes") or {}), (
            f"{name}: {volume} is not a named volume declared at the top level"
        )
        assert volume not in volumes_seen, f"{name} shares volume {volume}"
        volumes_seen.add(volume)

        env = _environment(service)
        assert env.get("MINIO_ROOT_USER") and env.get("MINIO_ROOT_PASSWORD")


def test_python_services_share_one_dockerfile(services):
    for name in PYTHON_SERVICES + ["migrate"]:
        assert name in services, f"service {name} missing"
        build = services[name].get("build")
        assert isinstance(build, dict), f"{name} is not built from the shared Dockerfile"
        assert build.get("dockerfile") == DOCKERFILE, f"{name}: dockerfile {build.get('dockerfile')!r}"
        assert (REPO_ROOT / build.get("context", ".")).resolve() == REPO_ROOT, (
            f"{name}: build context must be the repository root"
        )
    assert (REPO_ROOT / DOCKERFILE).is_file()


def test_python_image_runs_as_a_non_root_user():
    lines = [line.strip() for line in (REPO_ROOT / DOCKERFILE).read_text(encoding="utf-8").splitlines()]
    instructions = [line for line in lines if line and not line.startswith("#")]
    last_stage = instructions[max(i for i, line in enumerate(instructions) if line.upper().startswith("FROM "))]
    final = instructions[instructions.index(last_stage):]
    users = [line.split(None, 1)[1] for line in final if line.upper().startswith("USER ")]
    assert users, f"{DOCKERFILE}: the final stage has no USER, so the processes run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), f"{DOCKERFILE}: USER {users[-1]}"
    assert any(re.search(rf"\b(useradd|adduser)\b.*\b{re.escape(user)}$", line) for line in final), (
        f"{DOCKERFILE}: user {user} is not created in the final stage"
    )


def test_python_services_environment(services):
    required = {
        "EOFFICE_MINIO_ENDPOINTS": "minio1:9000,minio2:9000,minio3:9000,minio4:9000",
        "EOFFICE_ELASTICSEARCH_URL": "http://elasticsearch:9200",
        "EOFFICE_GATEWAY_BIND": "0.0.0.0:8080",
    }
    for name in PYTHON_SERVICES + ["migrate"]:
        env = _environment(services[name])
        for key, value in required.items():
            assert env.get(key) == value, f"{name}: {key}={env.get(key)!r}"


def test_every_container_gets_the_same_secrets(services):
    postgres = _environment(services["postgres"])
    rabbitmq = _environment(services["rabbitmq"])
    assert postgres["POSTGRES_PASSWORD"] == SECRETS["EOFFICE_DB_PASSWORD"]
    assert rabbitmq["RABBITMQ_DEFAULT_PASS"] == SECRETS["EOFFICE_AMQP_PASSWORD"]
    minio_users = set()
    for name in MINIO_NODES:
        env = _environment(services[name])
        assert env["MINIO_ROOT_PASSWORD"] == SECRETS["EOFFICE_MINIO_SECRET_KEY"], name
        minio_users.add(env["MINIO_ROOT_USER"])
    assert len(minio_users) == 1, minio_users

    for name in PYTHON_SERVICES + ["migrate"]:
        env = _environment(services[name])
        assert env.get("EOFFICE_TOKEN_SECRET") == SECRETS["EOFFICE_TOKEN_SECRET"], name
        assert env.get("EOFFICE_MINIO_ACCESS_KEY") in minio_users, name
        assert env.get("EOFFICE_MINIO_SECRET_KEY") == SECRETS["EOFFICE_MINIO_SECRET_KEY"], name

        database = urlsplit(env["EOFFICE_DATABASE_URL"])
        assert (database.scheme, database.hostname, database.port, database.path) == (
            "postgresql+psycopg2", "postgres", 5432, "/" + postgres["POSTGRES_DB"]), name
        assert (database.username, database.password) == (
            postgres["POSTGRES_USER"], postgres["POSTGRES_PASSWORD"]), name

        amqp = urlsplit(env["EOFFICE_AMQP_URI"])
        assert (amqp.scheme, amqp.hostname, amqp.port, amqp.path) == (
            "amqp", "rabbitmq", 5672, "/" + rabbitmq["RABBITMQ_DEFAULT_VHOST"]), name
        assert (amqp.username, amqp.password) == (
            rabbitmq["RABBITMQ_DEFAULT_USER"], rabbitmq["RABBITMQ_DEFAULT_PASS"]), name


def _published(service):
    """(host address, host port, container port) of each published port, short syntax."""
    published = []
    for port in service.get("ports", []):
        host_ip, host_port, container = str(port).split("/")[0].rsplit(":", 2)
        published.append((host_ip, host_port, container))
    return published


def test_only_the_gateway_is_published_and_on_loopback(services):
    for name, service in services.items():
        if name != "gateway":
            assert not service.get("ports"), f"{name} publishes {service['ports']}"
    assert _published(services["gateway"]) == [("127.0.0.1", "8080", "8080")]


def test_gateway_address_can_be_changed_for_a_remote_proxy(docker_compose):
    result = docker_compose("config", env={**SECRETS, "EOFFICE_GATEWAY_PUBLISH": "10.0.0.5:8443"})
    assert result.returncode == 0, result.stderr
    gateway = yaml.safe_load(result.stdout)["services"]["gateway"]
    assert _published(gateway) == [("10.0.0.5", "8443", "8080")]


def test_long_running_containers_restart_and_the_migration_does_not(services):
    for name, service in services.items():
        if name == "migrate":
            assert service.get("restart") == "no", f"migrate: restart {service.get('restart')!r}"
        else:
            assert service.get("restart") in ("unless-stopped", "always"), (
                f"{name}: restart {service.get('restart')!r}"
            )


def test_new_env_writes_secrets_the_compose_file_accepts(docker_compose, tmp_path):
    written = []
    for run in ("first", "second"):
        root = tmp_path / run
        (root / "deploy/docker").mkdir(parents=True)
        shutil.copy(COMPOSE_FILE, root / "docker-compose.yml")
        shutil.copy(NEW_ENV, root / "deploy/docker/new-env")
        result = subprocess.run([root / "deploy/docker/new-env"], capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, result.stderr

        env_file = root / ".env"
        assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
        values = dict(
            line.split("=", 1) for line in env_file.read_text().splitlines()
            if line and not line.startswith("#")
        )
        assert set(values) == set(SECRETS)
        assert len(values["EOFFICE_TOKEN_SECRET"].encode()) >= 32
        assert re.fullmatch(r"[A-Za-z0-9_-]+", values["EOFFICE_TOKEN_SECRET"])
        for name in ("EOFFICE_DB_PASSWORD", "EOFFICE_AMQP_PASSWORD", "EOFFICE_MINIO_SECRET_KEY"):
            assert re.fullmatch(r"[A-Za-z0-9]{16,}", values[name]), name
        written.append(values)

        # docker-compose reads the .env next to the file by itself.
        config = docker_compose("config", "--quiet", dotenv=True, compose_file=root / "docker-compose.yml")
        assert config.returncode == 0, config.stderr

        # A second run keeps the .env the running system was set up with.
        before = env_file.read_bytes()
        again = subprocess.run([root / "deploy/docker/new-env"], capture_output=True, text=True, timeout=30)
        assert again.returncode != 0 and "already exists" in again.stderr
        assert env_file.read_bytes() == before

    assert all(written[0][name] != written[1][name] for name in SECRETS), "new-env repeats its secrets"


def test_env_file_stays_out_of_git_and_images():
    ignored = subprocess.run(["git", "check-ignore", "--quiet", ".env"], cwd=REPO_ROOT, timeout=30)
    assert ignored.returncode == 0, ".env is not in .gitignore"
    dockerignore = (REPO_ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert ".env" in dockerignore, ".env is not in .dockerignore"


def test_commands_and_start_order(services):
    assert _command_args(services["migrate"]) == ["python", "-m", "eoffice.migrate"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"

    programs_by_name = {p.name: p for p in programs()}
    for name in NAMEKO_SERVICES:
        args = _command_args(services[name])
        assert args[:4] == ["nameko", "run", "--config", "deploy/nameko.yaml"], name
        # The target must name one service class, the one this container is for, as the
        # native deploy runs it.
        assert args[4] == programs_by_name[name].target
        module, _, cls = args[4].partition(":")
        assert getattr(importlib.import_module(module), cls).name == name
        depends = services[name]["depends_on"]
        for backend in INFRASTRUCTURE:
            assert depends[backend]["condition"] == "service_healthy", f"{name} -> {backend}"
        assert depends["migrate"]["condition"] == "service_completed_successfully"

    gateway = services["gateway"]
    assert _command_args(gateway) == [
        "gunicorn", "-c", "deploy/gunicorn.conf.py", "services.gateway.app:app",
    ]


def test_every_nameko_service_runs_more_than_once(services):
    # Two containers of each at least, and never fewer than the native run's instances
    # (deploy/programs); the gateway once, as it publishes one port (docs/scaling.md).
    for program in services_list():
        replicas = services[program.name].get("deploy", {}).get("replicas", 1)
        assert replicas >= max(2, program.instances), f"{program.name}: {replicas} replica(s)"
        assert "container_name" not in services[program.name], program.name  # would allow only one
    assert services["gateway"].get("deploy", {}).get("replicas", 1) == 1


def test_rabbitmq_vhost_and_user(services):
    env = _environment(services["rabbitmq"])
    assert env["RABBITMQ_DEFAULT_USER"] == "eoffice"
    assert env["RABBITMQ_DEFAULT_PASS"] == SECRETS["EOFFICE_AMQP_PASSWORD"]
    assert env["RABBITMQ_DEFAULT_VHOST"] == "eoffice"


def test_postgres_database(services):
    env = _environment(services["postgres"])
    assert env["POSTGRES_DB"] == "eoffice"
    assert env["POSTGRES_USER"] == "eoffice"
    assert env["POSTGRES_PASSWORD"] == SECRETS["EOFFICE_DB_PASSWORD"]


def test_elasticsearch_single_node_without_security(services):
    service = services["elasticsearch"]
    assert re.fullmatch(r"docker\.elastic\.co/elasticsearch/elasticsearch:8\.19\.\d+", service["image"])
    env = _environment(service)
    assert env.get("discovery.type") == "single-node"
    assert env.get("xpack.security.enabled", "").lower() == "false"
    java_opts = env.get("ES_JAVA_OPTS", "").split()
    assert any(o.startswith("-Xms") for o in java_opts) and any(o.startswith("-Xmx") for o in java_opts), (
        "Elasticsearch needs an explicit heap"
    )
