"""Webhook benchmark: event committed to webhook received (p50/p99), and deliveries per second,
to `--subscribers` portals at `--rate` events a second.

    deploy/eoffice bench webhooks [--subscribers 20] [--rate 100] [--seconds 30] [--files 200]
                                  [--processes 2] [--warmup 5] [--ceiling-seconds 10]

It keeps apart from the running system's data: a database and a RabbitMQ vhost of its own
(`eoffice_bench_webhooks`, made afresh, with the files and notify migrations), `--processes`
notify processes of this working tree in test mode (loopback receivers allowed; they share the
subscriptions evenly by themselves), and a receiver
process (uvicorn) on loopback with one path per subscriber that checks each signature and records
when each event arrived. Events are committed as the files service commits them (the event in
files' outbox, in its own transaction) and published by the same outbox relay the files service
runs, one green thread woken after each commit; `time` in the envelope is taken just before the
commit. Each event is about one of `--files` files in turn, so order per file is checked too.
First `--warmup` seconds of events at the same rate (notify opens its database and HTTP
connections then), reported apart; then the run, with p99 for each 5-second window of it.

First it measures the machine's own ceiling with the same receiver: one bare process posting
envelopes signed beforehand over kept-alive connections (8 threads), as fast as it can, for
`--ceiling-seconds`; notify's deliveries per second are then given as a share of that. CPU
seconds per delivery come from /proc/<pid>/stat (notify, the receiver), and the whole machine's
busy time from /proc/stat, with PostgreSQL's and RabbitMQ's part (all their processes: other
work on the machine counts too).
"""

from __future__ import annotations

import sys

# The receiver runs on asyncio (uvicorn), the ceiling's sender on threads; the rest on eventlet (nameko).
if "--receiver" not in sys.argv and "--ceiling" not in sys.argv:
    import eventlet

    eventlet.monkey_patch()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from urllib.parse import quote, unquote, urlsplit, urlunsplit  # noqa: E402

import urllib3  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
NAME = "eoffice_bench_webhooks"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else float("nan")


# The receiver: a process of its own, so that its work is not the benchmark's.


def receiver_app():
    from datetime import datetime

    from standardwebhooks.webhooks import Webhook

    secrets: dict[str, Webhook] = {}
    seen: dict[str, dict] = {}

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        path, status, answer = scope["path"], 204, b""
        if scope["method"] == "PUT" and path == "/config":
            secrets.update({p: Webhook(s) for p, s in json.loads(body).items()})
        elif scope["method"] == "GET" and path == "/stats":
            status, answer = 200, json.dumps(seen).encode()
        elif scope["method"] == "GET" and path == "/count":  # cheap enough to ask every second
            status, answer = 200, str(sum(len(s["ids"]) for p, s in seen.items() if p != "/ceiling")).encode()
        else:
            now = time.time()
            headers = {k.decode(): v.decode() for k, v in scope["headers"]}
            stats = seen.setdefault(
                path,
                {
                    "ids": {},
                    "latencies": [],
                    "arrivals": [],
                    "bad_signatures": 0,
                    "out_of_order": 0,
                    "last_seq": {},
                    "first": now,
                    "last": now,
                },
            )
            try:
                event = secrets[path].verify(body, headers)
            except Exception:
                stats["bad_signatures"] += 1
                event = json.loads(body)
            stats["ids"][event["id"]] = stats["ids"].get(event["id"], 0) + 1
            stats["latencies"].append(now - datetime.fromisoformat(event["time"]).timestamp())
            stats["arrivals"].append(now)
            seq, subject = event["data"]["seq"], event["subject"]
            if seq < stats["last_seq"].get(subject, -1):
                stats["out_of_order"] += 1
            stats["last_seq"][subject] = seq
            stats["last"] = now
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-length", str(len(answer)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": answer})

    return app


def run_receiver(port: int) -> None:
    import uvicorn

    uvicorn.run(receiver_app(), host="127.0.0.1", port=port, log_level="warning", access_log=False)


# The ceiling: what one bare sender gets through to the same receiver, without notify's work.

CEILING_THREADS = 8  # as many connections as one subscription's worker keeps busy


def run_ceiling(port: int, seconds: float, secret: str) -> None:
    """Posts envelopes signed beforehand to the receiver's /ceiling over kept-alive connections
    from CEILING_THREADS threads for `seconds`; prints JSON: how many got a 2xx, the seconds
    taken and this process's CPU seconds while posting."""
    import http.client
    import threading
    import uuid
    from datetime import UTC, datetime

    from standardwebhooks.webhooks import Webhook

    hook, signed = Webhook(secret), []
    for n in range(5000):  # reused in turn: the receiver verifies each as it would a new one
        now, event_id = datetime.now(UTC), str(uuid.uuid4())
        body = json.dumps(
            {
                "specversion": "1.0",
                "id": event_id,
                "source": "eoffice/files",
                "type": "eoffice.file.sent.v1",
                "subject": f"bench-file-{n % 200}",
                "time": now.isoformat().replace("+00:00", "Z"),
                "datacontenttype": "application/json",
                "data": {"seq": 0, "file_id": f"bench-file-{n % 200}"},
            },
            separators=(",", ":"),
        ).encode()
        signed.append(
            (
                body,
                {
                    "content-type": "application/cloudevents+json; charset=utf-8",
                    "webhook-id": event_id,
                    "webhook-timestamp": str(int(now.timestamp())),
                    "webhook-signature": hook.sign(event_id, now, body.decode()),
                },
            )
        )
    counts = [0] * CEILING_THREADS
    deadline = time.monotonic() + seconds

    def post(n: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
        i = n
        while time.monotonic() < deadline:
            body, headers = signed[i % len(signed)]
            connection.request("POST", "/ceiling", body=body, headers=headers)
            answer = connection.getresponse()
            answer.read()
            counts[n] += 200 <= answer.status < 300
            i += CEILING_THREADS
        connection.close()

    threads = [threading.Thread(target=post, args=(n,)) for n in range(CEILING_THREADS)]
    cpu, started = time.process_time(), time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps({"count": sum(counts), "seconds": time.monotonic() - started, "cpu": time.process_time() - cpu}))


def measure_ceiling(port: int, seconds: float, receiver_pid: int) -> dict:
    """Runs the ceiling's sender against the receiver (its own secret, path /ceiling); returns its
    JSON with `receiver_cpu`, the receiver's CPU seconds meanwhile."""
    from standardwebhooks.webhooks import Webhook  # noqa: F401  (the receiver's own dependency, checked here)

    from services.notify.subscriptions import new_secret

    secret = new_secret()
    urllib3.request(
        "PUT",
        f"http://127.0.0.1:{port}/config",
        body=json.dumps({"/ceiling": secret}),
        retries=urllib3.Retry(10, backoff_factor=0.2),
    )
    before = cpu_seconds(receiver_pid)
    done = subprocess.run(
        [sys.executable, __file__, "--ceiling", str(port), "--ceiling-seconds", str(seconds)],
        env={**os.environ, "BENCH_CEILING_SECRET": secret},
        capture_output=True,
        text=True,
        check=True,
    )
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "receiver_cpu": cpu_seconds(receiver_pid) - before}


# CPU accounting


def cpu_seconds(pid: int) -> float:
    """Returns the CPU seconds (user and system) process `pid` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu() -> dict[str, float]:
    """Returns CPU seconds used so far on the machine: `busy` (every core, everything), and by
    PostgreSQL's and RabbitMQ's processes alive now."""
    ticks = os.sysconf("SC_CLK_TCK")
    # The first line: user nice system idle iowait irq softirq steal ... (steal is not ours: left out)
    user, nice, system, _idle, _iowait, irq, softirq, *_ = (
        int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]
    )
    used = {"busy": (user + nice + system + irq + softirq) / ticks, "postgres": 0.0, "rabbitmq": 0.0}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # gone meanwhile
        name = text[text.index("(") + 1 : text.rindex(")")]
        kind = "postgres" if name == "postgres" else "rabbitmq" if name == "beam.smp" else None
        if kind:
            fields = text.rsplit(")", 1)[1].split()
            used[kind] += (int(fields[11]) + int(fields[12])) / ticks
    return used


# The benchmark


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def with_path(url: str, path: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=path))


def fresh_environment(database_url: str, amqp_uri: str, management_url: str) -> tuple[str, str]:
    """Makes the benchmark's own database and vhost afresh; returns their URLs."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import ProgrammingError

    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    deadline = time.monotonic() + 300
    with admin.connect() as conn:
        while True:
            try:
                conn.execute(text(f"DROP DATABASE IF EXISTS {NAME} WITH (FORCE)"))
                break
            except ProgrammingError:
                # An autovacuum worker (a superuser's process) still cleans the last run's
                # database: FORCE may not end it. It finishes by itself.
                if time.monotonic() > deadline:
                    raise
                print(f"waiting for autovacuum to finish on {NAME} before dropping it", file=sys.stderr)
                time.sleep(10)
        conn.execute(text(f"CREATE DATABASE {NAME}"))
    admin.dispose()
    parts = urlsplit(amqp_uri)
    headers = urllib3.make_headers(basic_auth=f"{unquote(parts.username)}:{unquote(parts.password)}")
    headers["content-type"] = "application/json"
    base = management_url.rstrip("/") + "/api"
    urllib3.request("DELETE", f"{base}/vhosts/{NAME}", headers=headers)
    for method, path, body in [
        ("PUT", f"vhosts/{NAME}", {}),
        (
            "PUT",
            f"permissions/{NAME}/{quote(unquote(parts.username))}",
            {"configure": ".*", "write": ".*", "read": ".*"},
        ),
    ]:
        answer = urllib3.request(method, f"{base}/{path}", headers=headers, body=json.dumps(body))
        if answer.status >= 300:
            raise SystemExit(f"RabbitMQ management: {method} {path}: {answer.status} {answer.data[:200]!r}")
    return with_path(database_url, f"/{NAME}"), with_path(amqp_uri, f"/{NAME}")


def main() -> int:  # noqa: PLR0915  (one script, read top to bottom)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=20)
    parser.add_argument("--rate", type=float, default=100.0, help="events committed per second")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--files", type=int, default=200, help="events go round this many files")
    parser.add_argument(
        "--whole-notify",
        action="store_true",
        help="run the whole notify service (its people handlers share the workers), not its portal half alone",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=2,
        help="notify processes (one a core on the reference box); each leases its share of the subscriptions",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=5.0,
        help="seconds of events at --rate sent first and reported apart (notify opens its connections then)",
    )
    parser.add_argument(
        "--ceiling-seconds", type=float, default=10.0, help="how long the bare sender measures the ceiling (0: not)"
    )
    parser.add_argument("--receiver", type=int, help=argparse.SUPPRESS)  # internal: run the receiver
    parser.add_argument("--ceiling", type=int, help=argparse.SUPPRESS)  # internal: run the ceiling's sender
    args = parser.parse_args()
    if args.receiver:
        run_receiver(args.receiver)
        return 0
    if args.ceiling:
        run_ceiling(args.ceiling, args.ceiling_seconds, os.environ["BENCH_CEILING_SECRET"])
        return 0

    from eventlet.event import Event
    from sqlalchemy import text

    from eoffice import migrate
    from eoffice.actor import Actor
    from eoffice.db import UnitOfWork, make_engine
    from eoffice.events import EventPayload
    from eoffice.messaging import Relay, record_event
    from eoffice.rpc import RpcPool
    from eoffice.settings import Settings
    from services.files.models import outbox as files_outbox

    class BenchEvent(EventPayload):
        event_type = "eoffice.file.sent.v1"
        file_id: str
        seq: int

    settings = Settings()
    database_url, amqp_uri = fresh_environment(
        settings.database_url, settings.amqp_uri, settings.rabbitmq_management_url
    )
    for service in ("files", "notify"):
        migrate.upgrade(service, database_url)
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "EOFFICE_DATABASE_URL": database_url,
        "EOFFICE_AMQP_URI": amqp_uri,
        "EOFFICE_WEBHOOK_ALLOW_LOOPBACK": "true",
        "EOFFICE_MAX_WORKERS": "10",
    }
    log_dir = Path(os.environ.get("EOFFICE_HOME", "/var/lib/eoffice")) / "log"
    log = open(log_dir / "bench-webhooks-notify.log", "ab")
    port = free_port()
    receiver = subprocess.Popen([sys.executable, __file__, "--receiver", str(port)], env=env)
    ceiling = measure_ceiling(port, args.ceiling_seconds, receiver.pid) if args.ceiling_seconds > 0 else None
    notify = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "nameko",
                "run",
                "--config",
                str(REPO / "deploy" / "nameko.yaml"),
                "services.notify.service:NotifyService"
                if args.whole_notify
                else "services.notify.portal_entrypoints:PortalsOnly",
            ],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        for _ in range(args.processes)
    ]
    rpc = RpcPool(amqp_uri, size=2, timeout=30)
    uow = UnitOfWork(make_engine(database_url, pool_size=10))
    try:
        admin = Actor(user_id="bench", roles=frozenset({"system_admin"})).model_dump(mode="json")
        deadline = time.monotonic() + 60
        while True:
            try:
                rpc.call("notify", "list_subscriptions", admin)
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise SystemExit("notify did not answer within 60 s (log/bench-webhooks-notify.log)") from None
                time.sleep(0.5)
        secrets = {}
        for n in range(args.subscribers):
            made = rpc.call(
                "notify",
                "create_subscription",
                admin,
                {
                    "name": f"bench portal {n}",
                    "delivery": "webhook",
                    "url": f"http://127.0.0.1:{port}/p{n}",
                    "event_types": ["eoffice.file.*"],
                },
                f"bench-{n}",
            )
            secrets[f"/p{n}"] = made["secret"]
        urllib3.request(
            "PUT",
            f"http://127.0.0.1:{port}/config",
            body=json.dumps(secrets),
            retries=urllib3.Retry(10, backoff_factor=0.2),
        )
        # Every subscription leased by a delivery worker (the processes share them out every 2 s).
        deadline = time.monotonic() + 30
        while True:
            with uow.transaction() as session:
                leased = session.execute(
                    text("SELECT count(*) FROM notify.subscriptions WHERE active AND lease_until > now()")
                ).scalar_one()
            if leased >= args.subscribers or time.monotonic() > deadline:
                break
            time.sleep(0.2)

        relay = Relay(uow, files_outbox, service="files", amqp_uri=amqp_uri)
        count = int(args.rate * args.seconds)
        seqs: dict[int, int] = {}
        woken, generating = Event(), [True]

        def relay_loop() -> None:
            # As the files service's relay (eoffice.messaging.Outbox): one green thread, woken
            # after each worker that committed, publishing what is pending in batches.
            while generating[0] or relay.pending():
                with eventlet.Timeout(0.5, False):
                    woken.wait()
                if woken.ready():
                    woken.reset()
                while relay.publish_pending() == relay.batch_size:
                    pass

        def commit(f: int, seq: int) -> None:
            with uow.transaction() as session:  # the commit, as the files service makes it
                record_event(
                    session,
                    files_outbox,
                    service="files",
                    payload=BenchEvent(file_id=f"bench-file-{f}", seq=seq),
                    subject=f"bench-file-{f}",
                )
            if not woken.ready():
                woken.send(True)

        # Commits of different files overlap as the files service's workers do; one file's in turn.
        busy: dict[int, eventlet.greenthread.GreenThread] = {}

        def generate(count: int) -> float:
            """Commits `count` events at `--rate`, the files in turn; returns the seconds it took."""
            began = time.monotonic()
            for n in range(count):
                pause = began + n / args.rate - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                f = n % args.files
                seqs[f] = seqs.get(f, -1) + 1
                if f in busy:
                    busy[f].wait()
                busy[f] = eventlet.spawn(commit, f, seqs[f])
            for thread in busy.values():
                thread.wait()
            return time.monotonic() - began

        def received_all(expected: int, seconds: float) -> None:
            deadline = time.monotonic() + seconds
            while int(urllib3.request("GET", f"http://127.0.0.1:{port}/count").data) < expected:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.2)

        relaying = eventlet.spawn(relay_loop)
        # The warm-up: notify's first seconds open its database and HTTP connections (about 30
        # and 160); what arrives then is reported apart, not counted in the run.
        warm = int(args.rate * args.warmup)
        if warm:
            generate(warm)
            received_all(warm * args.subscribers, 60)
        load_before = os.getloadavg()[0]
        cpu_before = {"machine": machine_cpu(), "receiver": cpu_seconds(receiver.pid), "me": time.process_time()}
        cpu_before["notify"] = sum(cpu_seconds(process.pid) for process in notify)
        measured_from, started = time.time(), time.monotonic()
        committed = generate(count)
        generating[0] = False
        relaying.wait()
        expected = (warm + count) * args.subscribers
        received_all(expected, 120)
        elapsed = time.monotonic() - started
        machine = {k: v - cpu_before["machine"][k] for k, v in machine_cpu().items()}
        notify_cpu = sum(cpu_seconds(process.pid) for process in notify) - cpu_before["notify"]
        receiver_cpu = cpu_seconds(receiver.pid) - cpu_before["receiver"]
        my_cpu = time.process_time() - cpu_before["me"]
        stats = json.loads(urllib3.request("GET", f"http://127.0.0.1:{port}/stats").data)
        stats.pop("/ceiling", None)
        # (arrival, latency) of each delivery; those of events committed before the run: the warm-up's.
        arrived = [pair for s in stats.values() for pair in zip(s["arrivals"], s["latencies"], strict=True)]
        warming = [latency for at, latency in arrived if at - latency < measured_from]
        measured = [(at, latency) for at, latency in arrived if at - latency >= measured_from]
        latencies = [latency for _, latency in measured]
        first, last = min(at for at, _ in measured), max(at for at, _ in measured)
        duplicates = sum(c - 1 for s in stats.values() for c in s["ids"].values())
        rate = len(latencies) / (last - first)
        print(
            f"# webhooks benchmark: {socket.gethostname()}, {os.cpu_count()} cores, {args.subscribers} subscribers, "
            f"{count} events at {count / committed:.1f}/s over {committed:.1f} s, {args.files} files, "
            f"{args.processes} notify process{'es' if args.processes > 1 else ''}"
            + (f", after a warm-up of {warm} events" if warm else "")
            + "\n"
        )
        print("| what | count | throughput | p50 | p99 |\n|---|---|---|---|---|")
        print(
            f"| event committed to webhook received | {len(latencies)} of {count * args.subscribers} | "
            f"{rate:.0f} deliveries/s | {percentile(latencies, 50) * 1000:.0f} ms | "
            f"{percentile(latencies, 99) * 1000:.0f} ms |"
        )
        if ceiling:
            print(
                f"| ceiling: one bare sender, envelopes signed beforehand, {CEILING_THREADS} kept-alive connections "
                f"| {ceiling['count']} in {ceiling['seconds']:.1f} s | {ceiling['count'] / ceiling['seconds']:.0f} "
                f"deliveries/s | | |"
            )
        delivered = max(1, len(latencies))
        print(
            f"\nCPU a delivery: notify {notify_cpu / delivered * 1000:.2f} ms, receiver "
            f"{receiver_cpu / delivered * 1000:.2f} ms"
            + (
                f"; in the ceiling run the sender {ceiling['cpu'] / max(1, ceiling['count']) * 1000:.2f} ms, "
                f"the receiver {ceiling['receiver_cpu'] / max(1, ceiling['count']) * 1000:.2f} ms; "
                f"notify's rate is {rate / (ceiling['count'] / ceiling['seconds']) * 100:.0f}% of the ceiling"
                if ceiling
                else ""
            )
        )
        print(
            f"machine, over the {elapsed:.0f} s from the first commit to the last delivery: busy "
            f"{machine['busy']:.0f} of {elapsed * (os.cpu_count() or 1):.0f} CPU seconds; notify {notify_cpu:.0f}, "
            f"receiver {receiver_cpu:.0f}, PostgreSQL {machine['postgres']:.0f} (every database), RabbitMQ "
            f"{machine['rabbitmq']:.0f}, the event generator {my_cpu:.0f}, the rest (other work) "
            f"{machine['busy'] - notify_cpu - receiver_cpu - machine['postgres'] - machine['rabbitmq'] - my_cpu:.0f}; "
            f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
        )
        # Where the tail comes from: p99 of what arrived in each 5-second window of the run.
        windows: dict[int, list[float]] = {}
        for at, latency in measured:
            windows.setdefault(int((at - first) // 5), []).append(latency)
        print(
            "p99 by 5-s window of arrival: "
            + ", ".join(f"{percentile(v, 99) * 1000:.0f}" for _, v in sorted(windows.items()))
            + " ms"
            + (
                f"; the warm-up (not counted): {len(warming)} deliveries, p50 {percentile(warming, 50) * 1000:.0f} ms, "
                f"p99 {percentile(warming, 99) * 1000:.0f} ms"
                if warming
                else ""
            )
        )
        print(
            f"max {max(latencies) * 1000:.0f} ms; duplicates {duplicates}; out of order per file "
            f"{sum(s['out_of_order'] for s in stats.values())}; bad signatures "
            f"{sum(s['bad_signatures'] for s in stats.values())}"
        )
        return 0 if len(latencies) + len(warming) >= expected else 1
    finally:
        rpc.close()
        uow.engine.dispose()
        for process in (*notify, receiver):
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    raise SystemExit(main())
