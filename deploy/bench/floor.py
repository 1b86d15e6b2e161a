"""The least a movement and a diarisation can cost this box with the system's parts, doing none
of their own work: what the parts themselves cost, measured at saturation in one run, added up
as a movement and a diarisation use them.

    deploy/eoffice bench floor [--clients 8] [--count 6000] [--events 10000]

Four primitives, each run on its own until it is done, with `--clients` threads where there is
a client; the CPU of every process on the box (this benchmark's included, as in the other
benchmarks) between the start and the end, over the operations done:

- an HTTP request through the gateway (gunicorn, uvicorn, FastAPI, its middleware) that asks
  nothing of anyone: `GET /api/v1/health/live`, from httpx clients as in `bench files`;
- an RPC round trip with no work: `files.ping` through RabbitMQ from the gateway's RPC pool (the
  box limit the other benchmarks report);
- an event a service has nothing to do for, taken from its queue: paper letters'
  `eoffice.receipt.diarised.v1` put on the OCR worker's queue (the publish is a plain one here;
  a service's relay publishes with a confirm, and one event reaches several queues);
- a transaction on PostgreSQL as the services make it: `UnitOfWork.transaction()` around one
  small `INSERT` into a table of the benchmark's own schema (`bench_floor`, dropped at the end).

Added up with what one operation uses, counted by `deploy/eoffice bench costs` (docs/benchmarks.md,
*what one operation costs, counted*): a movement is one request, one RPC (files), three events
(notify twice, search) and ten transactions; a diarisation one request, one RPC (dak), four events
(notify twice, search, the OCR worker) and nine transactions. What that sum leaves out (the work
itself: statements beyond one insert, pydantic, JSON, SQL of the outbox and the inbox, search's
indexing in Elasticsearch, e-mail) only adds to it, so the sum is a floor: the box cannot do more
operations a second than its cores over the floor.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import uuid

import common
import httpx
from sqlalchemy import BigInteger, Column, MetaData, Table, Text, insert, text

from eoffice.db import UnitOfWork, make_engine
from eoffice.rpc import RpcPool

SCHEMA = "bench_floor"
rows = Table("rows", MetaData(schema=SCHEMA), Column("id", BigInteger, primary_key=True, autoincrement=True),
             Column("body", Text, nullable=False))
# What one operation uses, from `bench costs` (40 of each alone, two runs): requests, RPCs,
# events taken by a service, PostgreSQL transactions.
USES = {"a file movement": (1, 1, 3, 10), "a paper diarisation": (1, 1, 4, 9)}


def box_cpu(work) -> tuple[float, dict[str, float]]:
    """Runs `work()`; returns its wall time and the CPU each group of processes used meanwhile."""
    before, start = common.processes(), time.perf_counter()
    work()
    wall, after = time.perf_counter() - start, common.processes()
    return wall, common.cpu_by_group(before, after)


def saturated(count: int, clients: int, one) -> tuple[float, dict[str, float]]:
    for n in range(min(count // 10, 200)):  # connections made, caches warm
        one(n)
    return box_cpu(lambda: common.timed_run(count, clients, one))


def requests(count: int, clients: int) -> tuple[float, dict[str, float]]:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    with httpx.Client(base_url=common.GATEWAY, timeout=60, limits=limits) as api:
        def one(_):
            api.get("/api/v1/health/live").raise_for_status()
        return saturated(count, clients, one)


def calls(count: int, clients: int) -> tuple[float, dict[str, float]]:
    pool = RpcPool(size=clients, timeout=30)
    try:
        return saturated(count, clients, lambda _: pool.call("files", "ping"))
    finally:
        pool.close()


def events(count: int) -> tuple[float, dict[str, float]]:
    wall, before, after = common.through_ocr_worker(count, "floor")
    return wall, common.cpu_by_group(before, after)


def transactions(count: int, clients: int) -> tuple[float, dict[str, float]]:
    engine = make_engine(os.environ["EOFFICE_DATABASE_URL"], pool_size=clients)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        rows.create(conn)
    uow = UnitOfWork(engine)
    statement = insert(rows)

    def one(_):
        with uow.transaction() as session:
            session.execute(statement, {"body": uuid.uuid4().hex})
    try:
        return saturated(count, clients, one)
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        uow.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--count", type=int, default=6000, help="requests, RPCs and transactions")
    parser.add_argument("--events", type=int, default=10000)
    args = parser.parse_args()
    cores = os.cpu_count() or 1

    # name: (count, (wall, CPU by group), whether this benchmark stands for the system's own
    # caller: the gateway calling files, a relay publishing, a service in a transaction; the
    # HTTP client is the load, which runs elsewhere in a state).
    measured = {
        "an HTTP request through the gateway, no work (`GET /health/live`)":
            (args.count, requests(args.count, args.clients), False),
        "an RPC round trip, no work (`files.ping`)": (args.count, calls(args.count, args.clients), True),
        "an event taken by a service with nothing to do for it": (args.events, events(args.events), True),
        "a PostgreSQL transaction: one small insert (`UnitOfWork`)":
            (args.count, transactions(args.count, args.clients), True),
    }
    print(f"# the floor of an operation: {platform.node()}, {cores} cores, {args.clients} clients\n")
    print("| primitive | count | a second | the system's CPU each | of which this benchmark, as the system's "
          "caller | the load's own CPU each (the HTTP client) |\n|---|---|---|---|---|---|")
    each = []
    for name, (count, (wall, cpu), caller) in measured.items():
        own = cpu.get("this benchmark", 0.0)
        system = sum(cpu.values()) - (0.0 if caller else own)
        each.append(system / count)
        print(f"| {name} | {count} | {count / wall:,.0f} | {system / count * 1000:.2f} ms "
              f"| {own / count * 1000 if caller else 0:.2f} ms | {0 if caller else own / count * 1000:.2f} ms |")
    print(f"\n| operation | requests, RPCs, events, transactions | floor: the system's CPU each | at most, on {cores} "
          "cores |\n|---|---|---|---|")
    for name, uses in USES.items():
        floor = sum(n * cost for n, cost in zip(uses, each, strict=True))
        print(f"| {name} | {', '.join(map(str, uses))} | {floor * 1000:.1f} ms | {cores / floor:,.0f} a second |")

if __name__ == "__main__":
    main()
