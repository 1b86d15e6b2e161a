"""What a service writes to its log when a call goes wrong, against a real dak process: a
request the service refuses (the caller's mistake: 422, 403) is one INFO line with the error
and the request id, and no traceback; a real fault keeps nameko's traceback at ERROR."""
from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from nameko.exceptions import RemoteError

from eoffice.rpc import RpcPool
from tests.support.demo import auth, demo_gateway, held_post, sign_in
from tests.support.system import LOG_DIR, service_process, wait_until

pytestmark = pytest.mark.live
TODAY = datetime.now(timezone(timedelta(hours=5, minutes=30))).date()
RECORD_START = re.compile(r"(?=^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} )", re.M)  # a record's first line


@pytest.fixture(scope="module")
def dak_log(migrated):
    """The gateway over the directory and a dak process of this module's own, whose log only
    this module writes."""
    name = f"dak-logs-{uuid.uuid4().hex[:8]}"
    dak = service_process("dak", log_as=name).start()
    try:
        with demo_gateway(migrated, ("directory",)) as client:
            client.log = LOG_DIR / f"{name}.log"
            yield client
    finally:
        dak.stop()
    client.log.unlink(missing_ok=True)


def records(log, request_id: str) -> list[str]:
    """The log records (a line and any traceback under it) made for one request id."""
    return [r for r in RECORD_START.split(log.read_text()) if f"[{request_id}]" in r.split("\n", 1)[0]]


def diarise(api, headers: dict, request_id: str, **changes):
    return api.post("/api/v1/receipts", headers={**headers, "Idempotency-Key": uuid.uuid4().hex,
                                                 "X-Request-ID": request_id},
                    json={"subject": "Pension", "sender_name": "Ram Prasad", "received_date": TODAY.isoformat(),
                          "mode": "post", **changes})


def test_a_refused_request_is_one_info_line_without_a_traceback(dak_log, rpc):
    api, clerk = dak_log, auth(sign_in(dak_log, held_post("dak_clerk", "DIST-LKO")))
    wait_until(lambda: rpc.call("dak", "ping"), 60, "dak answering")

    invalid = f"refused-{uuid.uuid4().hex[:12]}"
    answer = diarise(api, clerk, invalid, physical=False)  # electronic, without its scan
    assert answer.status_code == 422 and answer.json()["field"] == "scans"
    lines = wait_until(lambda: records(dak_log.log, invalid), 10, "the refusal logged")
    assert len(lines) == 1, lines
    assert " INFO " in lines[0] and "dak.diarise refused: InvalidInput (422) an electronic receipt needs its scan" \
        in lines[0]
    assert not [r for r in RECORD_START.split(dak_log.log.read_text())
                if "Traceback" in r and "an electronic receipt needs its scan" in r]

    forbidden = f"refused-{uuid.uuid4().hex[:12]}"
    officer = auth(sign_in(api, held_post("officer", "DIST-LKO")))
    assert diarise(api, officer, forbidden).status_code == 403
    lines = wait_until(lambda: records(dak_log.log, forbidden), 10, "the refusal logged")
    assert len(lines) == 1 and " INFO " in lines[0] and "refused: Forbidden (403) only a dak clerk diarises" in lines[0]


def test_a_fault_keeps_its_traceback_at_error(dak_log, settings):
    # A caller that breaks the RPC contract (an actor without its user) is a bug, not a refusal.
    fault = f"fault-{uuid.uuid4().hex[:12]}"
    pool = RpcPool(settings.amqp_uri, timeout=10, context=lambda: {"request_id": fault})
    try:
        with pytest.raises(RemoteError):
            pool.call("dak", "inbox", {"post_id": "DAKCLK1-LKO"})
    finally:
        pool.close()
    lines = wait_until(lambda: [r for r in records(dak_log.log, fault) if " ERROR " in r], 10, "the fault logged")
    assert "error handling worker" in lines[0] and "Traceback" in lines[0] and "ValidationError" in lines[0]
