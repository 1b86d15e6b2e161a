"""Whole-state benchmark: a synthetic state of 33 districts and 200,000 people, and a realistic
mix of everyday work through the gateway, open-loop at a target rate, beside the box's limits.

    deploy/eoffice bench state [--rate 20] [--seconds 30] [--clients 16] [--people 300]
                               [--districts 33] [--users 200000] [--seed 20261130] [--reimport]
    EOFFICE_INSTANCES=2 deploy/eoffice bench state ...   # two of every service and two gateways

It runs on a system of its own, never the demo's data (deploy/lib/services.sh,
`use_state_instance`): database eoffice_test_state, RabbitMQ vhost of that name, buckets and
search indices "state-*", every program under a supervisord of its own with its gateway(s) on
EOFFICE_STATE_GATEWAY_PORT (8100, 8101 ...); stopped afterwards (EOFFICE_BENCH_KEEP=1 leaves it).

1. `prepare` (before the programs start): the state's CSV files (eoffice/tools/synthetic_state.py,
   the same for the same seed) imported through the organisation importer
   (services/directory/load.py: importer.apply, one transaction, every new user the one
   password hashed once) into a template database, eoffice_state_template, timed (rows/s). The
   template is kept: later runs copy it (seconds) unless the state asked for differs or
   --reimport. So each run starts from the same organisation and none of an earlier run's work.
2. `run`: the workload (eoffice/tools/workload.py: diarise 15%, read 40%, note 15%, send 15%,
   search 10%, sign 5%) by `--people` signed-in people of every district and department, at
   `--rate` operations a second for `--seconds`; then every acknowledged result read back
   (the ledger's reconciliation), and the box's limits (pgbench, a bare RPC) in the same run.
   Printed: ops/s and p50/p95/p99 per operation; CPU seconds, share of the cores and RSS by
   process group over the load; the ratios to the box's limits. Markdown, for
   docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from common import box_limits, cpu_by_group, cpu_table, processes  # also puts the repository on sys.path

from eoffice.tools import synthetic_state
from eoffice.tools.workload import Organisation, Signer, Workload

PASSWORD = "State@2026"  # every synthetic user's
TEMPLATE = "eoffice_state_template"
HOME = Path(os.environ.get("EOFFICE_HOME", "/var/lib/eoffice"))
FOLDER = HOME / "bench-state"  # the generated CSV files


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stage", choices=("prepare", "run"))
    parser.add_argument("--rate", type=float, default=20.0, help="operations a second, offered (open loop)")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=16, help="requests at once, at most")
    parser.add_argument("--people", type=int, default=300, help="people signed in and working")
    parser.add_argument("--districts", type=int, default=33)
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=synthetic_state.SEED)
    parser.add_argument("--reimport", action="store_true", help="build the template again, import timed")
    parser.add_argument("--pgbench-seconds", type=int, default=10)
    return parser.parse_args()


# --- prepare: the state's database -----------------------------------------------------------


def _engine(url, database: str):
    from sqlalchemy import create_engine

    return create_engine(url.set(database=database), isolation_level="AUTOCOMMIT")


def made_template(url) -> dict | None:
    """What the template holds (the marker `prepare` wrote), or None when there is none."""
    from sqlalchemy import text

    admin = _engine(url, "postgres")
    try:
        with admin.connect() as db:
            if not db.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": TEMPLATE}).first():
                return None
    finally:
        admin.dispose()
    engine = _engine(url, TEMPLATE)
    try:
        with engine.connect() as db:
            row = db.execute(text("SELECT to_regclass('public.bench_state') IS NOT NULL")).scalar()
            return db.execute(text("SELECT made FROM public.bench_state")).scalar() if row else None
    finally:
        engine.dispose()


def build_template(url, args) -> dict:
    """Makes the template afresh: migrations, the state's CSV files, the import (timed)."""
    from sqlalchemy import text

    from eoffice import migrate
    from services.directory import load

    admin = _engine(url, "postgres")
    with admin.connect() as db:
        db.execute(text(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)"))
        db.execute(text(f"CREATE DATABASE {TEMPLATE}"))
    admin.dispose()
    template = url.set(database=TEMPLATE).render_as_string(hide_password=False)
    for service in migrate.SCHEMAS:
        migrate.upgrade(service, template)
    started = time.perf_counter()
    counts = synthetic_state.write(FOLDER, districts=args.districts, users=args.users, seed=args.seed)
    generated = time.perf_counter() - started
    started = time.perf_counter()
    report = load.load(FOLDER, PASSWORD, database_url=template)
    seconds = time.perf_counter() - started
    if report.rejected:
        raise SystemExit(f"the import rejected {len(report.rejected)} rows, e.g. {report.rejected[:3]}")
    made = {"state": wanted(args), "offices": counts.offices, "posts": counts.posts, "users": counts.users,
            "postings": counts.postings, "rows": counts.rows, "generate_seconds": round(generated, 1),
            "import_seconds": round(seconds, 1), "rows_per_second": round(counts.rows / seconds),
            "made_at": time.strftime("%Y-%m-%d %H:%M"), "load_average": os.getloadavg()[0]}
    engine = _engine(url, TEMPLATE)
    with engine.connect() as db:
        db.execute(text("CREATE TABLE public.bench_state (made jsonb NOT NULL)"))
        db.execute(text("INSERT INTO public.bench_state VALUES (CAST(:m AS jsonb))"), {"m": json.dumps(made)})
    engine.dispose()
    return made


def wanted(args) -> dict:
    return {"districts": args.districts, "users": args.users, "seed": args.seed, "version": synthetic_state.VERSION}


def prepare(args) -> int:
    """The state's database, copied from the template (built first if it is missing or holds
    another state), and migrated to this code's heads."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from eoffice import migrate
    from eoffice.settings import Settings

    url = make_url(Settings().database_url)
    made = made_template(url)
    if args.reimport or made is None or made["state"] != wanted(args) or not (FOLDER / "posts.csv").exists():
        print(f"building {TEMPLATE}: {args.districts} districts, {args.users} users, seed {args.seed}", flush=True)
        made = build_template(url, args)
    admin = _engine(url, "postgres")
    with admin.connect() as db:
        db.execute(text(f"DROP DATABASE IF EXISTS {url.database} WITH (FORCE)"))
        db.execute(text(f"CREATE DATABASE {url.database} TEMPLATE {TEMPLATE}"))
    admin.dispose()
    migrate.main([])  # this code's heads, and the environment's buckets
    print(json.dumps(made))
    return 0


# --- run: the load and the figures --------------------------------------------------------------


def signers() -> list[Signer]:
    """The demo PKI's two officer DSCs (the stand-in `pki` keeps them), for the sign operation."""
    pki = HOME / "standins" / "pki"
    return [Signer((pki / "certs" / f"{label}.pem").read_bytes(), (pki / "keys" / f"{label}.key.pem").read_bytes())
            for label in ("officer", "officer2") if (pki / "keys" / f"{label}.key.pem").exists()]


def run(args) -> int:
    from sqlalchemy.engine import make_url

    from eoffice.settings import Settings

    database = make_url(Settings().database_url).database
    made = made_template(make_url(Settings().database_url)) or {}
    gateways = os.environ.get("EOFFICE_STATE_GATEWAYS", "http://127.0.0.1:8100").split(",")
    organisation = Organisation.from_folder(FOLDER)
    work = Workload(gateways, organisation, password=PASSWORD, rate=args.rate, clients=args.clients,
                    people=args.people, seed=args.seed, signers=signers())
    started = time.perf_counter()
    work.prepare()
    prepared = time.perf_counter() - started
    load_before, before, t0 = os.getloadavg()[0], processes(database), time.monotonic()
    result = work.run(args.seconds)
    after, wall, load_after = processes(database), time.monotonic() - t0, os.getloadavg()[0]
    checked = result.ledger.reconcile(work)
    limits = box_limits(args.clients, pgbench_seconds=args.pgbench_seconds)

    done = sum(o.ok for o in result.outcomes)
    offered = len(result.outcomes)
    instances = os.environ.get("EOFFICE_INSTANCES", "1")
    print(f"\n# whole-state benchmark: {os.uname().nodename}, {os.cpu_count()} cores, {instances} instance(s) of "
          f"every program, {len(gateways)} gateway(s)\n")
    if made:
        print(f"State: {made['offices']} offices, {made['posts']} posts, {made['users']} users, {made['postings']} "
              f"postings ({made['state']['districts']} districts, seed {made['state']['seed']}); imported through "
              f"the organisation importer on {made['made_at']} in {made['import_seconds']:.0f} s "
              f"({made['rows_per_second']} rows/s, load average {made['load_average']:.1f}); CSV written in "
              f"{made['generate_seconds']:.1f} s.")
    print(f"Load: {len(work.everyone)} people signed in ({len(work.clerks)} dak clerks, {len(work.dealers)} dealing "
          f"hands, {len(work.officers)} officers, {len(work.signer_posts)} with a DSC) over "
          f"{len({organisation.desks[p].unit for p in work.everyone})} jurisdictions, "
          f"{len(work.file_holder)} files opened beforehand (prepared in {prepared:.0f} s); {args.rate:g} ops/s "
          f"offered for {args.seconds:g} s on at most {args.clients} requests at once: {offered} operations, "
          f"{done} answered 2xx, {result.seconds:.1f} s to the last answer, at worst "
          f"{result.behind:.1f} s behind schedule; load average {load_before:.1f} before, {load_after:.1f} after.\n")
    print(result.table())
    print(f"\nReconciliation, every acknowledged result read back: {checked['checked']} records checked, "
          f"{len(checked['lost'])} lost, {len(checked['doubled'])} doubled, {len(checked['mismatched'])} "
          f"mismatched; {len(result.ledger.receipts)} receipts, {len(result.ledger.notes)} notes, "
          f"{len(result.ledger.movements)} movements, {len(result.ledger.signatures)} signatures acknowledged; "
          f"{len(result.unacknowledged)} changes never acknowledged.")
    for problem in (checked["lost"] + checked["doubled"] + checked["mismatched"])[:5]:
        print("  ", json.dumps(problem, ensure_ascii=False)[:300])
    print(f"\nCPU and memory over the {wall:.0f} s of load, by process (this system's programs by class; "
          f"PostgreSQL backends by database; RabbitMQ, Elasticsearch and MinIO serve everyone):\n")
    print(cpu_table(before, after, wall))
    ours = {g: c for g, c in cpu_by_group(before, after).items()
            if g.startswith("nameko ") or g in ("gunicorn (gateway)", f"postgres {database}")}
    each = ", ".join(f"{g} {c / max(1, done) * 1000:.1f}" for g, c in sorted(ours.items(), key=lambda x: -x[1]))
    print(f"\nThis system's own programs and database backends: {sum(ours.values()):.1f} CPU s, "
          f"{sum(ours.values()) / max(1, done) * 1000:.0f} ms of CPU an operation ({each} ms); RabbitMQ, "
          "Elasticsearch and MinIO come on top, shared with whatever else runs.")
    print("\nThe box's limits, same run, same PostgreSQL and RabbitMQ (vhost of this system):\n")
    print("| what | count | throughput | p50 | p99 |\n|---|---|---|---|---|", *limits, sep="\n")
    rpc = float(limits[0].split("|")[3].strip().removesuffix("/s"))
    tps = float(limits[1].split("|")[3].split()[0])
    rate = done / result.seconds
    print(f"\nRatios: {rate:.1f} operations/s is {rate / rpc * 100:.1f}% of the bare RPC round trips/s and "
          f"{rate / tps * 100:.1f}% of pgbench's TPC-B transactions/s on this box in the same run.")
    return 0 if not (checked["lost"] or checked["doubled"] or checked["mismatched"]) else 1


def main() -> int:
    args = arguments()
    return prepare(args) if args.stage == "prepare" else run(args)


if __name__ == "__main__":
    sys.exit(main())
