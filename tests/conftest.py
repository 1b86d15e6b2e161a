"""Fixtures shared by every test that needs the real infrastructure."""
from __future__ import annotations

import os

import pytest

from eoffice.settings import Settings
from tests.support.pki import pki, softhsm  # noqa: F401 (fixtures: the test PKI on loopback, SoftHSM2 tokens)
from tests.support.system import part, wait_for_whole_cluster

# The suite signs in hundreds of times, from one address (the in-process TestClient, or
# 127.0.0.1), often as the same few people: the sign-in limits would refuse it. Only those two
# are raised, here, before any settings are read (gateways started by tests inherit them);
# tests/integration/test_security.py sets low limits to see each one refuse.
for _name in ("EOFFICE_RATE_SIGN_IN_CLIENT", "EOFFICE_RATE_SIGN_IN_ACCOUNT"):
    os.environ.setdefault(_name, "100000/60")


def pytest_collection_modifyitems(config, items):
    # Live tests need `deploy/eoffice test` (it sets EOFFICE_REPO); say so instead of failing oddly.
    if os.environ.get("EOFFICE_REPO"):
        return
    skip = pytest.mark.skip(reason="needs the real infrastructure: run `deploy/eoffice test`")
    for item in items:
        if "live" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings()


@pytest.fixture(scope="session")
def migrated(settings):
    """The test database with every service's schema; the buckets exist."""
    from eoffice import migrate
    assert migrate.main([]) == 0
    return settings


@pytest.fixture(scope="session")
def rpc(settings):
    from eoffice.rpc import RpcPool
    pool = RpcPool(settings.amqp_uri, timeout=10)
    yield pool
    pool.close()


@pytest.fixture
def stopped_nodes(settings):
    """Stops the MinIO nodes a test names; starts them again afterwards, whatever happened."""
    stopped = []

    def stop(*ports):
        for port in ports:
            part("stop", f"minio-{port}")
            stopped.append(port)
    yield stop
    for port in stopped:
        part("start", f"minio-{port}")
    wait_for_whole_cluster(settings)
