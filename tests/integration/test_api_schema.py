"""Schemathesis against the gateway's own OpenAPI, as a real gunicorn process over HTTP, signed
in as the system admin of the demo organisation. It must find no server error and no response
that breaks the schema.

The same run by hand against a running system (docs/api.md):
    schemathesis run http://127.0.0.1:8080/api/v1/openapi.json --checks all \\
      --exclude-checks positive_data_acceptance --max-examples 20 \\
      --exclude-path /api/v1/auth/sign-out --exclude-path /api/v1/auth/act-as \\
      -H "Authorization: Bearer $TOKEN"
"""
from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager

import httpx
import pytest
from sqlalchemy import delete, insert, select

from eoffice.db import make_engine
from eoffice.programs import services as all_services
from services.directory import load
from services.files.models import schemes
from tests.support.system import REPO, gunicorn_gateway, log_file, service_process, wait_until

pytestmark = pytest.mark.live


@contextmanager
def kept_numbering(settings):
    """The offices' file numbering as it was before: the fuzzing signs in as the system admin,
    who may set any office's numbering (valid, but strange), and later tests number files."""
    engine = make_engine(settings.database_url, pool_size=1)
    with engine.begin() as conn:
        before = [dict(row) for row in conn.execute(select(schemes)).mappings()]
    try:
        yield
    finally:
        with engine.begin() as conn:
            conn.execute(delete(schemes))
            if before:
                conn.execute(insert(schemes), before)
        engine.dispose()


@pytest.fixture(scope="module")
def gateway_url(migrated, pki, softhsm):
    assert load.load(load.DEMO, load.DEMO_PASSWORD).rejected == []
    # Every service of deploy/programs, so that every operation is answered by its service
    # (signing with the test PKI and the office's token; notify without its daily job).
    env = {"signing": {**pki.signing_env(), **softhsm.service_env()}, "notify": {"EOFFICE_NOTIFY_DAILY": "false"}}
    services = []
    try:
        for program in all_services():
            services.append(service_process(program.name, env=env.get(program.name)).start())
        with kept_numbering(migrated), gunicorn_gateway() as url:
            wait_until(lambda: httpx.post(f"{url}/auth/sign-in", json={"email": "a@b.in", "password": "x"})
                       .status_code == 401, 60, "the directory answering")
            yield url
    finally:
        for service in services:
            service.stop()


@pytest.mark.timeout(900)  # about 60 operations, each tried many ways
def test_schemathesis_finds_no_server_error_and_no_schema_violation(gateway_url):
    token = httpx.post(f"{gateway_url}/auth/sign-in",
                       json={"email": "ankit.srivastava@up.gov.in", "password": load.DEMO_PASSWORD}
                       ).json()["access_token"]
    result = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "run", f"{gateway_url}/openapi.json", "--checks", "all",
         # Valid-looking input is often refused by rules the schema cannot state (unknown codes,
         # who may do what), so acceptance of schema-valid data is not a check here.
         "--exclude-checks", "positive_data_acceptance", "--max-examples", "10", "--seed", "1",
         # DELETE of a portal subscription stops it: the record and its delivery log stay, for
         # the audit trail (services/notify/subscriptions.py, deactivate), so they still answer.
         "--exclude-checks", "use_after_free",
         # Both end the session schemathesis is using; readiness has its own test
         # (test_readiness.py); the live stream of notifications is open-ended by design.
         "--exclude-path", "/api/v1/auth/sign-out", "--exclude-path", "/api/v1/auth/act-as",
         "--exclude-path", "/api/v1/health/ready", "--exclude-path", "/api/v1/notifications/stream",
         "-H", f"Authorization: Bearer {token}"],
        capture_output=True, text=True, timeout=600, cwd=REPO)
    # The whole report; its end is mostly warnings.
    with log_file(f"schemathesis-{os.environ.get('EOFFICE_TEST_ENV', 'test')}.log") as report:
        report.truncate(0)
        report.write(result.stdout.encode())
    failures = result.stdout.split("FAILURES", 1)[-1].split("WARNINGS", 1)[0]
    assert result.returncode == 0, failures[:8000]
