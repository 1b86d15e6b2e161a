"""What one operation costs the system, counted rather than timed: PostgreSQL transactions and
rows (from its statistics, per schema, i.e. per service) and RabbitMQ messages, for one file
movement and for one paper diarisation, each made alone.

    deploy/eoffice bench costs [--count 40] [--pause 0.3]

`--count` movements (a file sent back and forth between a dealing hand of GAD's establishment
section and its section officer) and then `--count` paper letters diarised by a Lucknow dak
clerk, one at a time, `--pause` seconds apart, so that each one's consequences (notify's notice
and e-mail, search's re-indexing, the portals' deliveries) are done before the next. Every
process also works when nothing happens (outbox relays, timers): that is measured first, over
as long an idle window, and taken off. PostgreSQL reports a backend's counts up to 10 s late,
so each window ends with a wait of 11 s. The counts are per operation, averaged; run it on a
system nobody else is using.
"""
from __future__ import annotations

import argparse
import time
from collections import Counter
from datetime import date
from urllib.parse import quote, unquote, urlsplit

import httpx
from common import call, client, heading, sign_in
from files import DEALERS, OFFICER
from sqlalchemy import create_engine, text

from eoffice.settings import get_settings
from services.directory.demo import rows as demo

SETTLE = 11.0  # seconds: PostgreSQL flushes an idle backend's statistics within 10 s
SCHEMAS = ("gateway", "directory", "dak", "files", "signing", "search", "notify")


class Counters:
    """Cumulative counts of the system's database and broker, read together."""

    def __init__(self):
        settings = get_settings()
        self.engine = create_engine(settings.database_url, isolation_level="AUTOCOMMIT", pool_size=1)
        parts = urlsplit(settings.amqp_uri)
        self.broker = httpx.Client(base_url=settings.rabbitmq_management_url, timeout=30,
                                   auth=(unquote(parts.username or ""), unquote(parts.password or "")))
        self.vhost = quote(unquote(parts.path.lstrip("/")) or "/", safe="")

    def read(self) -> Counter:
        found: Counter = Counter()
        with self.engine.connect() as db:
            db.execute(text("SELECT pg_stat_clear_snapshot()"))
            found["transactions"] = db.execute(text(
                "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()")).scalar()
            for row in db.execute(text(
                    "SELECT schemaname, sum(n_tup_ins + n_tup_upd + n_tup_del), "
                    "sum(coalesce(idx_scan, 0) + coalesce(seq_scan, 0)) FROM pg_stat_user_tables GROUP BY 1")):
                if row[0] in SCHEMAS:
                    found[f"rows written: {row[0]}"] = int(row[1] or 0)
                    found[f"table reads: {row[0]}"] = int(row[2] or 0)
        stats = self.broker.get(f"/api/vhosts/{self.vhost}").raise_for_status().json().get("message_stats", {})
        for name in ("publish", "deliver_get", "ack", "confirm", "disk_writes", "drop_unroutable"):
            found[f"messages: {name}"] = stats.get(name, 0)
        return found

    def window(self, seconds: float, work=None) -> tuple[Counter, float]:
        """The counts that `work()` (or nothing) adds, and the wall time it took, SETTLE included."""
        before, start = self.read(), time.perf_counter()
        if work:
            work()
        else:
            time.sleep(seconds)
        time.sleep(SETTLE)
        after = self.read()
        return Counter({key: after[key] - before[key] for key in after}), time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--pause", type=float, default=0.3)
    args = parser.parse_args()
    count = args.count // 2 * 2  # an even number of movements: the file ends where it began

    counters = Counters()
    with client() as api:
        call(api, "POST", "/api/v1/offices/GAD-EST/subject-heads", headers=sign_in(api, "EOADM-GAD"), expect=201,
             json={"code": "BENCH", "title": "Benchmark files"})
        dealer = DEALERS[0]
        here, there = sign_in(api, dealer), sign_in(api, OFFICER)
        clerk = sign_in(api, next(p["code"] for p in demo("posts")
                                  if "dak_clerk" in p["roles"] and p["office_code"] == "LKO-DAK"))
        file_id = call(api, "POST", "/api/v1/files", headers=here, expect=201,
                       json={"subject_head": "BENCH", "subject": "[bench] costs"})["id"]
        call(api, "POST", f"/api/v1/files/{file_id}/notes", headers=here, expect=201,
             json={"body": "Examined; submitted for orders.", "green": True})
        time.sleep(2)  # the note's consequences, before the windows

        def movements():
            move, back = (here, OFFICER), (there, dealer)  # (who sends, to which post)
            for _ in range(count):
                time.sleep(args.pause)
                call(api, "POST", f"/api/v1/files/{file_id}/send", headers=move[0], json={"to_post": move[1]})
                move, back = back, move

        def diarisations():
            for n in range(count):
                time.sleep(args.pause)
                call(api, "POST", "/api/v1/receipts", headers=clerk, expect=201, json={
                    "subject": f"[bench] costs {n}", "sender_name": "रामलाल", "mode": "post",
                    "received_date": date.today().isoformat()})

        moved, moved_for = counters.window(0, movements)
        diarised, diarised_for = counters.window(0, diarisations)
        idle, idle_for = counters.window(max(moved_for, diarised_for) - SETTLE)

    def per_operation(counts: Counter, seconds: float, key: str) -> str:
        background = idle[key] / idle_for * seconds
        return f"{max(counts[key] - background, 0) / count:.1f}"

    print(heading(f"costs of one operation, {count} of each made alone, {args.pause:g} s apart", 1))
    print("| counted | a file movement | a paper diarisation | idle, a second |\n|---|---|---|---|")
    for key in sorted(idle, key=lambda k: (k.split(":")[0], k)):
        if any(c[key] for c in (moved, diarised)):
            print(f"| {key} | {per_operation(moved, moved_for, key)} | {per_operation(diarised, diarised_for, key)} "
                  f"| {idle[key] / idle_for:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
