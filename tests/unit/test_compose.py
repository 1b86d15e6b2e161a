"""Static checks of docker-compose.yml.

No Docker engine runs on the development machines, so the compose file is
validated by Debian's docker-compose (``config -q``) and by reading it.
"""

import importlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.system import service_process

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
DOCKERFILE = "deploy/docker/python.Dockerfile"

MINIO_NODES = ["minio1", "minio2", "minio3", "minio4"]
NAMEKO_SERVICES = ["directory", "dak", "dak_ocr", "files", "signing", "search", "notify"]
PYTHON_SERVICES = NAMEKO_SERVICES + ["gateway"]
INFRASTRUCTURE = ["rabbitmq", "postgres", *MINIO_NODES, "elasticsearch"]


@pytest.fixture(scope="module")
def compose():
    # PyYAML's safe loader resolves the `<<` merge keys the file relies on.
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


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


def test_docker_compose_accepts_the_file():
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.fail(
            "docker-compose is not installed; the project's install script "
            "installs Debian's docker-compose package (apt-get install docker-compose)"
        )
    result = subprocess.run(
        [binary, "--file", str(COMPOSE_FILE), "config", "--quiet"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, (
        f"docker-compose config rejected {COMPOSE_FILE}:\n{result.stderr}{result.stdout}"
    )


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


def test_python_services_environment(services):
    required = {
        "EOFFICE_AMQP_URI": "amqp://eoffice:eoffice@rabbitmq:5672/eoffice",
        "EOFFICE_DATABASE_URL": "postgresql+psycopg2://eoffice:eoffice@postgres:5432/eoffice",
        "EOFFICE_MINIO_ENDPOINTS": "minio1:9000,minio2:9000,minio3:9000,minio4:9000",
        "EOFFICE_ELASTICSEARCH_URL": "http://elasticsearch:9200",
        "EOFFICE_GATEWAY_BIND": "0.0.0.0:8080",
    }
    minio_env = _environment(services["minio1"])
    for name in PYTHON_SERVICES + ["migrate"]:
        env = _environment(services[name])
        for key, value in required.items():
            assert env.get(key) == value, f"{name}: {key}={env.get(key)!r}"
        assert env.get("EOFFICE_MINIO_ACCESS_KEY") == minio_env["MINIO_ROOT_USER"]
        assert env.get("EOFFICE_MINIO_SECRET_KEY") == minio_env["MINIO_ROOT_PASSWORD"]


def test_commands_and_start_order(services):
    assert _command_args(services["migrate"]) == ["python", "-m", "eoffice.migrate"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"

    for name in NAMEKO_SERVICES:
        args = _command_args(services[name])
        assert args[:4] == ["nameko", "run", "--config", "deploy/nameko.yaml"], name
        # The target must name one service class, the one this container is for, as the
        # native deploy runs it.
        assert args[4] == service_process(name).target
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
    assert any(str(port).endswith("8080:8080") for port in gateway.get("ports", []))


def test_rabbitmq_vhost_and_user(services):
    env = _environment(services["rabbitmq"])
    assert env["RABBITMQ_DEFAULT_USER"] == "eoffice"
    assert env["RABBITMQ_DEFAULT_PASS"] == "eoffice"
    assert env["RABBITMQ_DEFAULT_VHOST"] == "eoffice"


def test_postgres_database(services):
    env = _environment(services["postgres"])
    assert env["POSTGRES_DB"] == "eoffice"
    assert env["POSTGRES_USER"] == "eoffice"


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
