"""What every benchmark shares: the gateway, signing in demo posts, timing many calls on a
few client threads, and a Markdown row of throughput and latency percentiles."""
from __future__ import annotations

import logging
import os
import platform
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from services.directory.demo import PASSWORD, holder_email  # noqa: E402

logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request would bury the figures
GATEWAY = "http://" + os.environ.get("EOFFICE_GATEWAY_BIND", "127.0.0.1:8080")
TABLE = "| what | count | throughput | p50 | p99 |\n|---|---|---|---|---|"


def client() -> httpx.Client:
    return httpx.Client(base_url=GATEWAY, timeout=120)


def sign_in(api: httpx.Client, post: str) -> dict:
    answer = api.post("/api/v1/auth/sign-in", json={"email": holder_email(post), "password": PASSWORD,
                                                    "post_code": post})
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def call(api: httpx.Client, method: str, path: str, *, headers: dict, expect: int = 200, **kwargs) -> dict:
    """One request with a fresh idempotency key; stops the benchmark on an unexpected answer."""
    answer = api.request(method, path, headers={**headers, "Idempotency-Key": uuid.uuid4().hex}, **kwargs)
    if answer.status_code != expect:
        raise SystemExit(f"{method} {path} failed: {answer.status_code} {answer.text}")
    return answer.json()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def timed_run(count: int, clients: int, work) -> tuple[float, list[float]]:
    """Runs work(n) for n in range(count) on `clients` threads; returns wall time and latencies."""
    latencies: list[float] = []

    def one(n: int):
        start = time.perf_counter()
        work(n)
        latencies.append(time.perf_counter() - start)
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(one, range(count)))
    return time.perf_counter() - start, latencies


def row(name: str, count: int, timing: tuple[float, list[float]]) -> str:
    """One table row from `timed_run`'s (wall time, latencies)."""
    wall, latencies = timing
    return (f"| {name} | {count} | {count / wall:.1f}/s | {percentile(latencies, 50) * 1000:.0f} ms "
            f"| {percentile(latencies, 99) * 1000:.0f} ms |")


def heading(what: str, clients: int) -> str:
    return f"# {what}: {platform.node()}, {os.cpu_count()} cores, {clients} clients, gateway {GATEWAY}\n"


def box_limits(clients: int, calls: int = 400, pgbench_seconds: int = 10) -> list[str]:
    """The box's own limits, measured in the same run, to set the figures beside: a bare RPC
    round trip (`files.ping`: no database, no work) on the same RabbitMQ from `clients`
    threads, and pgbench's TPC-B on the same PostgreSQL (its tables in a schema of their own,
    `pgbench`, in the system's database) with as many clients. Rows for `TABLE`."""
    import subprocess

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from eoffice.rpc import RpcPool

    pool = RpcPool(size=clients, timeout=30)
    try:
        rows = [row("bare RPC round trip (files.ping), box limit", calls,
                    timed_run(calls, clients, lambda _: pool.call("files", "ping")))]
    finally:
        pool.close()
    url = make_url(os.environ["EOFFICE_DATABASE_URL"])
    engine = create_engine(url)
    with engine.begin() as db:
        db.execute(text("CREATE SCHEMA IF NOT EXISTS pgbench"))
    engine.dispose()
    env = {**os.environ, "PGPASSWORD": url.password or "", "PGOPTIONS": "-c search_path=pgbench"}
    where = ["-h", url.host or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or "", url.database or ""]
    subprocess.run(["pgbench", "-q", "-i", "-s", "1", *where], env=env, check=True, capture_output=True)
    out = subprocess.run(["pgbench", "-c", str(clients), "-j", "2", "-T", str(pgbench_seconds), *where], env=env,
                         check=True, capture_output=True, text=True).stdout
    tps = next(line for line in out.splitlines() if line.startswith("tps"))
    latency = next((line for line in out.splitlines() if line.startswith("latency average")), "")
    rows.append(f"| pgbench TPC-B (scale 1), box limit | {pgbench_seconds} s | {float(tps.split()[2]):.0f} tps "
                f"| {latency.split('=')[-1].strip()} average | |")
    return rows


def processes(environment: str | None = None) -> dict[int, tuple[str, float, int]]:
    """Every process now: pid -> (group, CPU seconds used so far, RSS bytes). Groups: a nameko
    service by its class ("nameko DakService"), "gunicorn (gateway)", "postgres" (with the
    database a backend serves, "postgres eoffice_test_x", or "postgres (background)"),
    "beam.smp (RabbitMQ)", "java (Elasticsearch)", "minio", "this benchmark", "kernel threads",
    "python -m MODULE" (the stand-ins: the mail server, the PKI), "python dak/ocr_engine.py", else
    the name.
    With `environment` (a database name), our programs serving another database are one group,
    "our programs of other systems": their processes look the same but serve someone else."""
    ticks, page = os.sysconf("SC_CLK_TCK"), os.sysconf("SC_PAGE_SIZE")
    mine = os.getpid()
    out = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            args = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            name = text[text.index("(") + 1:text.rindex(")")]
            fields = text.rsplit(")", 1)[1].split()
            pid = int(stat.parent.name)
            if "nameko" in args or "gunicorn" in args:
                group = f"nameko {args.split(':')[-1].strip()}" if "nameko" in args else "gunicorn (gateway)"
                if environment and f"/{environment}\0".encode() not in (stat.parent / "environ").read_bytes():
                    group = "our programs of other systems (the demo, tests)"
            elif not args:  # a kernel thread: a worker's name changes with its work (kworker/1:1-events)
                group = "kernel threads"
            elif name == "postgres":
                words = args.split()
                group = (f"postgres {words[2]}" if len(words) > 3 and words[0] == "postgres:"
                         and words[2] not in ("process", "writer", "launcher", "worker") else "postgres (background)")
            elif name == "beam.smp":
                group = "beam.smp (RabbitMQ)"
            elif name == "java":
                group = "java (Elasticsearch)"
            elif pid == mine:
                group = "this benchmark"
            elif name.startswith("python") and " -m " in args:  # the stand-ins: mail server, PKI
                group = "python -m " + args.split(" -m ", 1)[1].split()[0]
            elif name.startswith("python") and "/services/" in args:  # the OCR engines
                group = "python " + next(word for word in args.split() if "/services/" in word).split("/services/")[1]
            elif name.startswith("python"):
                group = "other Python processes (tests, benchmarks)"
            else:
                group = name
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile, or not ours to read
        out[pid] = (group, (int(fields[11]) + int(fields[12])) / ticks, int(fields[21]) * page)
    return out


def cpu_by_group(before: dict, after: dict) -> dict[str, float]:
    """CPU seconds by group between two `processes()` snapshots (a process born meanwhile
    counts whole; one gone meanwhile is not seen)."""
    cpu: dict[str, float] = {}
    for pid, (group, used, _) in after.items():
        earlier = before.get(pid)
        cpu[group] = cpu.get(group, 0.0) + used - (earlier[1] if earlier and earlier[0] == group else 0.0)
    return cpu


def cpu_table(before: dict, after: dict, seconds: float, *, top: int = 14) -> str:
    """Markdown: CPU seconds, share of all cores and RSS (MB) by group of processes, between two
    `processes()` snapshots `seconds` apart (a process born meanwhile counts whole)."""
    cpu = cpu_by_group(before, after)
    rss: dict[str, int] = {}
    count: dict[str, int] = {}
    for group, _, resident in after.values():
        rss[group] = rss.get(group, 0) + resident
        count[group] = count.get(group, 0) + 1
    cores = os.cpu_count() or 1
    lines = [f"| process (group) | processes | CPU s | share of {cores} cores | RSS |", "|---|---|---|---|---|"]
    ranked = sorted(cpu, key=lambda g: -cpu[g])
    if "this benchmark" in ranked[top:]:  # the load's own cost is always shown
        ranked.remove("this benchmark")
        ranked.insert(top - 1, "this benchmark")
    for group in ranked[:top]:
        lines.append(f"| {group} | {count[group]} | {cpu[group]:.1f} | {cpu[group] / seconds / cores * 100:.0f}% "
                     f"| {rss[group] / 2**20:.0f} MB |")
    rest = ranked[top:]
    others = sum(cpu[g] for g in rest)
    lines.append(f"| everything else ({sum(count[g] for g in rest)} processes) | | {others:.1f} "
                 f"| {others / seconds / cores * 100:.0f}% | {sum(rss[g] for g in rest) / 2**20:.0f} MB |")
    total = sum(cpu.values())
    lines.append(f"| all | {len(after)} | {total:.1f} | {total / seconds / cores * 100:.0f}% | |")
    return "\n".join(lines)


def postgres_cpu(before: dict, after: dict) -> float:
    """PostgreSQL's CPU seconds (every backend and its background) between two `processes()`."""
    return sum(seconds for group, seconds in cpu_by_group(before, after).items() if group.startswith("postgres"))


def statements_in_turns(conn, statements: dict, parameters, *, calls: int, rounds: int = 3,
                        warm: int = 50) -> dict[str, list[tuple[float, float]]]:
    """Runs each of `statements` (name -> statement) `calls` times a round, one after another,
    `rounds` rounds, each call with `parameters()`, after `warm` calls to read its pages in.
    Returns, by name, each round's wall time and PostgreSQL's CPU a call, in microseconds."""
    figures: dict[str, list[tuple[float, float]]] = {name: [] for name in statements}
    for _ in range(rounds):
        for name, statement in statements.items():
            for _ in range(warm):
                conn.execute(statement, parameters()).all()
            cpu, wall = processes(), time.perf_counter()
            for _ in range(calls):
                conn.execute(statement, parameters()).all()
            wall, cpu = time.perf_counter() - wall, postgres_cpu(cpu, processes())
            figures[name].append((wall / calls * 1e6, cpu / calls * 1e6))
    return figures


def statements_table(figures: dict[str, list[tuple[float, float]]], what: str) -> str:
    """Markdown: the figures of `statements_in_turns`, the median of the rounds, `what` a call."""
    lines = [f"| statement | wall {what} (median, rounds) | PostgreSQL's CPU {what} (median) |", "|---|---|---|"]
    for name, rounds in figures.items():
        walls, cpus = [w for w, _ in rounds], [c for _, c in rounds]
        lines.append(f"| {name} | {statistics.median(walls):,.0f} us ({', '.join(f'{w:,.0f}' for w in walls)}) "
                     f"| {statistics.median(cpus):,.0f} us |")
    return "\n".join(lines)


class SteadyWindow:
    """The CPU of every process over a window inside a run under load (from `after` seconds after
    its start, `seconds` long) and the operations completed in it: what an operation costs the
    box once the run is steady, its consequences (events, indexing, e-mail) handled as they come.
    `start()` as the run starts, `done()` as each operation completes, `stop()` as it ends."""

    def __init__(self, after: float = 3.0, seconds: float = 12.0):
        self.after, self.seconds = after, seconds
        self.done_at: list[float] = []
        self.snapshots: list[tuple[float, dict]] = []
        self.ended = float("inf")
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        time.sleep(self.after)
        self.snapshots.append((time.perf_counter(), processes()))
        time.sleep(self.seconds)
        self.snapshots.append((time.perf_counter(), processes()))

    def start(self) -> None:
        self._thread.start()

    def done(self) -> None:
        self.done_at.append(time.perf_counter())  # list.append is atomic: no lock

    def stop(self) -> None:
        self.ended = time.perf_counter()

    def _measured(self) -> tuple[float, int, dict[str, float]] | None:
        """The window's length, the operations completed in it and the CPU by group; None if the
        run ended before the window did."""
        if len(self.snapshots) < 2 or self.snapshots[1][0] > self.ended:
            return None
        (start, before), (end, after) = self.snapshots
        return end - start, sum(1 for at in self.done_at if start <= at < end), cpu_by_group(before, after)

    def by_process(self, what: str) -> str:
        """A line: the CPU an operation, by group of processes, largest first."""
        measured = self._measured()
        if measured is None:
            return ""
        _, count, cpu = measured
        return f"CPU {what}, by process: " + ", ".join(
            f"{group} {seconds / count * 1000:.2f} ms"
            for group, seconds in sorted(cpu.items(), key=lambda item: -item[1]) if seconds / count >= 0.00005)

    def rows(self, what: str) -> list[str]:
        """Markdown rows for `TABLE`: the system's CPU an operation, and the load's own (this
        benchmark's client)."""
        measured = self._measured()
        if measured is None:
            return [f"| {what}: the run was shorter than the CPU window ({self.after + self.seconds:g} s) | | | | |"]
        seconds, count, cpu = measured
        own = cpu.pop("this benchmark", 0.0)
        return [f"| {what}: the system's CPU each, {seconds:.0f} s inside the run | {count} | "
                f"{sum(cpu.values()) / count * 1000:.1f} ms | the load's own: {own / count * 1000:.1f} ms | |"]


def through_ocr_worker(count: int, tag: str) -> tuple[float, dict, dict]:
    """Puts `count` paper letters' `eoffice.receipt.diarised.v1` straight on the OCR worker's
    queue (a paper letter has no scan to read: it has nothing to do for them) and waits until it
    has taken them all; returns the wall time and `processes()` before and after."""
    from kombu import Connection, Producer

    from eoffice.contracts.dak import OCR_QUEUE, ReceiptDiarised
    from eoffice.events import envelope_for
    from eoffice.settings import get_settings

    bodies = [envelope_for("dak", ReceiptDiarised(
        receipt_id=f"{tag}-{n}", diary_number=f"{n}/2026/{tag.upper()}", office_code=tag.upper(),
        holder_post=tag.upper(), physical=True, scans=0), subject=f"{tag}-{n}").model_dump_json() for n in range(count)]
    with Connection(get_settings().amqp_uri) as connection:
        channel = connection.channel()
        producer = Producer(channel)
        before, start = processes(), time.perf_counter()
        for body in bodies:
            producer.publish(body, exchange="", routing_key=OCR_QUEUE, content_type="application/json",
                             delivery_mode=2)
        while channel.queue_declare(OCR_QUEUE, passive=True).message_count:
            time.sleep(0.1)
        time.sleep(0.5)  # the last ones taken are still being acknowledged
        return time.perf_counter() - start, before, processes()
