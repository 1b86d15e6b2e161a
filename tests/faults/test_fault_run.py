"""The long fault run (`deploy/eoffice faultrun`; not part of `test` or `faults`): under a steady
realistic load (tests/support/workload.py) through the fault system's gateway, with one MinIO
node stopped for the whole run, every program killed with SIGKILL in turn, RabbitMQ restarted
twice, Elasticsearch stopped (5 minutes) and PostgreSQL restarted. Nobody steps in.

Afterwards a reconciliation shows nothing lost and nothing doubled: every acknowledged receipt
is there once and the diary numbers have no gap; every acknowledged note once; every
acknowledged send once in its item's track; every outbox row published, and a test consumer
bound to every service's events saw each event id; a webhook receiver subscribed to file
events got each of them once by id. And a report says, per fault and operation, how long
requests failed (first to last failed attempt in the fault's window; the workload sends a
failed change again with its idempotency key, so failures are attempts, not lost work).

The durations come from the environment (`deploy/eoffice faultrun --help`), so that the run can
be tried short on a shared machine: the infrastructure is shared with every other user of it."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from kombu import Connection, Queue
from nameko.standalone.events import get_event_exchange
from sqlalchemy import text

from eoffice.db import make_engine
from eoffice.programs import programs
from tests.support.demo import PASSWORD, holder_email
from tests.support.system import REPO, SpreadClient, wait_for_whole_cluster, wait_until
from tests.support.webhook_receiver import Receiver
from tests.support.workload import Organisation, Workload, percentile

pytestmark = [pytest.mark.live, pytest.mark.faults]


def seconds(name: str, default: float) -> float:
    return float(os.environ.get(f"EOFFICE_FAULTRUN_{name}", default))


RATE = seconds("RATE", 15)  # operations a second
GAP = seconds("GAP", 30)  # seconds of plain load after each fault
BROKER_DOWN = seconds("BROKER_DOWN", 15)
SEARCH_DOWN = seconds("SEARCH_DOWN", 300)
DATABASE_DOWN = seconds("DATABASE_DOWN", 10)
MINIO_NODE = os.environ.get("EOFFICE_FAULTRUN_MINIO_NODE", "minio-9003")
EVENTS_QUEUE = "faultrun.every-event"
WEBHOOK_PATH = "/faultrun"


def part(action: str, name: str) -> None:
    """`deploy/eoffice part ACTION NAME`, its output to log/tests/faultrun-parts.log: not to a
    pipe, which a started daemon (PostgreSQL) would hold open, so that waiting for its end hung."""
    log = Path(os.environ.get("EOFFICE_HOME", "/var/lib/eoffice")) / "log" / "tests" / "faultrun-parts.log"
    # Like every log of ours, for its owner and group only (tests/e2e/test_lockdown.py).
    with open(os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640), "ab") as out:
        subprocess.run([str(REPO / "deploy" / "eoffice"), "part", action, name], check=True, stdout=out,
                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=300)


class RecordingClient(SpreadClient):
    """The workload's HTTP client, keeping every attempt's time, operation and status (None: no
    answer), so that failures can be placed in a fault's window."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.attempts: list[tuple[float, str, int | None]] = []

    def send(self, request: httpx.Request, **kwargs) -> httpx.Response:
        at = time.monotonic()
        try:
            answer = super().send(request, **kwargs)
        except httpx.HTTPError:
            self.attempts.append((at, operation(request), None))
            raise
        self.attempts.append((at, operation(request), answer.status_code))
        return answer


def operation(request: httpx.Request) -> str:
    parts = request.url.path.removeprefix("/api/v1/").split("/")
    if request.method == "GET":
        return "search" if parts[0] == "search" else "read"
    if parts == ["receipts"]:
        return "diarise"
    if parts[-1] == "send":
        return f"send {parts[0][:-1]}"
    if parts[-1] == "notes":
        return "note"
    return " ".join(parts[:1] + parts[2:])


class Faults:
    """The faults done, each (name, start, end), end when the part was back."""

    def __init__(self):
        self.done: list[tuple[str, float, float]] = []

    def outage(self, name: str, part_name: str, down: float) -> None:
        started = time.monotonic()
        part("stop", part_name)
        try:
            time.sleep(down)
        finally:
            part("start", part_name)
        self.done.append((name, started, time.monotonic()))

    def kill(self, supervisor, process: str) -> None:
        """SIGKILL to one process of a program (NAME, or NAME:NAME_K of several)."""
        victim = supervisor.pid(process)
        started = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        wait_until(lambda: supervisor.states().get(process) == "RUNNING" and supervisor.pid(process) not in (0, victim),
                   120, f"{process} running again")
        self.done.append((f"kill -9 {process}", started, time.monotonic()))

    def report(self, attempts: list[tuple[float, str, int | None]], outcomes: list) -> dict:
        """Per fault: per operation, failed attempts (no answer or 5xx) from the fault's start to
        GAP seconds after its end, and the seconds from the first to the last of them; and the
        latency (p50, p99, ms) of the operations scheduled in that time. Last, under "no fault",
        the latency of those scheduled outside every fault's time but the whole-run one."""
        out = {}
        for name, start, end in self.done:
            failed: dict[str, list[float]] = {}
            for at, op, status in attempts:
                if start <= at <= end + GAP and (status is None or status >= 500):
                    failed.setdefault(op, []).append(at)
            out[name] = {"lasted": round(end - start, 1), "failing": {
                op: {"failed": len(times), "seconds": round(max(times) - min(times), 1)}
                for op, times in sorted(failed.items())},
                "latency": _latency([o for o in outcomes if start <= o.due <= end + GAP])}
        windows = [(start, end + GAP) for name, start, end in self.done if "whole run" not in name]
        out["no fault"] = {"latency": _latency(
            [o for o in outcomes if not any(start <= o.due <= end for start, end in windows)])}
        return out


def _latency(outcomes: list) -> dict:
    done = [o.latency for o in outcomes if o.ok and not o.skipped]
    return {"operations": len(done), "p50 ms": round(percentile(done, 50) * 1000),
            "p99 ms": round(percentile(done, 99) * 1000)} if done else {"operations": 0}


def every_event_queue(settings, services: list[str]) -> Queue:
    """A durable queue bound to every service's event exchange, declared before the load."""
    with Connection(settings.amqp_uri) as conn:
        queue = Queue(EVENTS_QUEUE, durable=True, bindings=[])
        channel = conn.channel()
        queue(channel).declare()
        for service in services:
            exchange = get_event_exchange(service, {})
            exchange(channel).declare()
            channel.queue_bind(EVENTS_QUEUE, exchange=exchange.name, routing_key="#")
    return queue


def drain(settings) -> Counter:
    """Every event id in the queue, with how many times it came."""
    seen: Counter = Counter()
    with Connection(settings.amqp_uri) as conn:
        channel = conn.channel()
        while True:
            message = channel.basic_get(EVENTS_QUEUE, no_ack=True)
            if message is None:
                return seen
            envelope = json.loads(message.body)
            seen[message.properties.get("message_id") or envelope["id"]] += 1


def wait_for_deliveries(receiver: Receiver, expected: set[str], *, quiet: float = 120, longest: float = 900) -> None:
    """Waits until the receiver has every event in `expected`, or nothing new came for `quiet`
    seconds (what is still missing then is the reconciliation's finding, not a hang)."""
    last_count, last_change, began = -1, time.monotonic(), time.monotonic()
    while time.monotonic() - began < longest:
        got = [e["id"] for e in receiver.events(WEBHOOK_PATH)]
        if expected <= set(got):
            return
        if len(got) != last_count:
            last_count, last_change = len(got), time.monotonic()
        elif time.monotonic() - last_change > quiet:
            return
        time.sleep(1)


@pytest.mark.timeout(7200)
def test_long_fault_run(gateway, supervisor, settings):
    if os.environ.get("EOFFICE_FAULTRUN") != "1":
        pytest.skip("the long fault run has its own command: deploy/eoffice faultrun")
    engine = make_engine(settings.database_url, pool_size=2)
    with engine.connect() as conn:
        services = conn.execute(text("SELECT table_schema FROM information_schema.tables WHERE table_name = 'outbox'"
                                     " ORDER BY 1")).scalars().all()
        began = conn.execute(text("SELECT clock_timestamp()")).scalar_one()
    every_event_queue(settings, services)
    receiver = Receiver().start()
    admin_post = "SYSADM-GAD-IT"
    with httpx.Client(base_url=gateway, timeout=30) as api:
        token = api.post("/api/v1/auth/sign-in", json={"email": holder_email(admin_post), "password": PASSWORD})
        admin = {"Authorization": f"Bearer {token.json()['access_token']}"}
        made = api.post("/api/v1/subscriptions", headers={**admin, "Idempotency-Key": os.urandom(8).hex()},
                        json={"name": "Fault run portal", "delivery": "webhook", "event_types": ["eoffice.file.*"],
                              "url": receiver.url(WEBHOOK_PATH)})
        assert made.status_code == 201, made.text
    subscribed = datetime.now().astimezone()

    work = Workload([gateway], Organisation.from_folder(REPO / "services" / "directory" / "demo"), password=PASSWORD,
                    rate=RATE, clients=16, people=60, retry_seconds=120)
    work.api = RecordingClient([gateway], limits=httpx.Limits(max_connections=24, max_keepalive_connections=24))
    work.prepare()
    faults = Faults()
    minio_stopped = time.monotonic()
    part("stop", MINIO_NODE)
    try:
        work.start()
        time.sleep(GAP)
        for process in [name for p in programs() for name in supervisor.processes(p.name)]:
            faults.kill(supervisor, process)
            time.sleep(GAP)
        for n in (1, 2):
            faults.outage(f"RabbitMQ restarted ({n})", "rabbitmq", BROKER_DOWN)
            time.sleep(GAP)
        faults.outage("Elasticsearch stopped", "elasticsearch", SEARCH_DOWN)
        time.sleep(GAP)
        faults.outage("PostgreSQL restarted", "postgres", DATABASE_DOWN)
        time.sleep(GAP)
    finally:
        result = work.stop()
        part("start", MINIO_NODE)
        for name in ("rabbitmq", "elasticsearch", "postgres"):
            part("start", name)  # whatever happened, the shared parts are left running
    faults.done.insert(0, (f"{MINIO_NODE} stopped (whole run)", minio_stopped, time.monotonic()))
    wait_for_whole_cluster(settings)

    report = {"load": result.table(), "unacknowledged": len(result.unacknowledged),
              "faults": faults.report(work.api.attempts, result.outcomes)}
    # Reconciliation. First every outbox row published and every delivery made.
    with engine.connect() as conn:
        def unpublished() -> int:
            return sum(conn.execute(text(f"SELECT count(*) FROM {s}.outbox WHERE published_at IS NULL")).scalar_one()
                       for s in services)
        wait_until(lambda: unpublished() == 0, 300, "every outbox row published")
        emitted = {s: conn.execute(text(f"SELECT id FROM {s}.outbox WHERE created_at >= :t"), {"t": began}
                                   ).scalars().all() for s in services}
        file_events = conn.execute(text("SELECT id FROM files.outbox WHERE created_at >= :t"
                                        " AND type LIKE 'eoffice.file.%'"), {"t": subscribed}).scalars().all()
        wait_for_deliveries(receiver, set(file_events))
        time.sleep(10)  # a doubled delivery would come now
        diary = conn.execute(text("SELECT office_code, year, array_agg(serial ORDER BY serial) FROM dak.receipts"
                                  " GROUP BY office_code, year")).all()
        tokens = Counter(subject.rsplit(" ", 1)[-1] for subject in conn.execute(text(
            "SELECT subject FROM dak.receipts WHERE diarised_at >= :t"), {"t": began}).scalars())
    engine.dispose()
    seen = drain(settings)
    delivered = Counter(e["id"] for e in receiver.events(WEBHOOK_PATH))
    receiver.stop()
    reconciled = result.ledger.reconcile(work)
    everything = [e for ids in emitted.values() for e in ids]
    report["reconciliation"] = {
        "receipts": len(result.ledger.receipts), "notes": len(result.ledger.notes),
        "movements": len(result.ledger.movements), "lost": reconciled["lost"], "doubled": reconciled["doubled"],
        "mismatched": reconciled["mismatched"],
        "diary gaps": [(o, y) for o, y, serials in diary if serials != list(range(1, len(serials) + 1))],
        "receipts not once": [r["id"] for r in result.ledger.receipts if tokens[r["token"]] != 1],
        "events": len(everything), "events not seen": [e for e in everything if not seen[e]],
        "events seen more than once (at-least-once publishing)": {e: n for e, n in seen.items() if n > 1},
        "file events": len(file_events), "webhook not delivered": [e for e in file_events if not delivered[e]],
        "webhook delivered more than once": {e: n for e, n in delivered.items() if n > 1},
    }
    out = Path(os.environ.get("EOFFICE_FAULTS_LOG_DIR", "/tmp")) / "faultrun-report.json"
    out.write_text(json.dumps(report, indent=1, default=str))
    print(result.table())
    print(json.dumps(report["faults"], indent=1))
    print(json.dumps({k: v if isinstance(v, int) else len(v) for k, v in report["reconciliation"].items()}, indent=1))
    print(f"report: {out}")

    rec = report["reconciliation"]
    assert not rec["lost"] and not rec["doubled"] and not rec["mismatched"], rec
    assert not rec["diary gaps"] and not rec["receipts not once"], rec
    assert not rec["events not seen"], rec["events not seen"][:5]
    assert not rec["webhook not delivered"] and not rec["webhook delivered more than once"], rec
    assert not result.unacknowledged, result.unacknowledged[:5]
