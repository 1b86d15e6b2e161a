"""What the gateway's session check costs on every request when sessions are long: each refresh
adds a row to its session's family (a 15-minute access token: about 32 rows in a working day),
and the check asks whether any row of the family is revoked.

    deploy/eoffice bench sessions [--families 200] [--rows 1000] [--checks 2000]

On the running system's PostgreSQL, in a schema of its own (`bench_sessions`, made afresh and
dropped at the end): the gateway's sessions table with its indexes, filled with `--families`
families of `--rows` rows each (the newest of each not yet rotated), written in turns as the
sessions' refreshes come, so a family's rows lie on as many pages. Then `--checks` checks of a
random family's newest session, by the statement the gateway ran before (it counted the family's
rows) and by the one it runs now (`auth.SESSION_STANDS`: its own row, and the family's revoked
rows through an index of those alone), in turns, three rounds. Reported: wall time and
PostgreSQL's CPU a check (median of the rounds).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import time

import common
from sqlalchemy import MetaData, and_, bindparam, func, select, text

from eoffice.db import make_engine
from services.gateway.auth import SESSION_STANDS
from services.gateway.models import directory_changes_seen, sessions

SCHEMA = "bench_sessions"
# The check as the gateway made it before: every row of the family counted.
COUNTING = select(
    func.count(),
    func.count(sessions.c.revoked_at),
    func.count().filter(and_(sessions.c.id == bindparam("sid"), sessions.c.rotated_at.is_not(None))),
    select(directory_changes_seen.c.last_value).scalar_subquery(),
).where(sessions.c.family == select(sessions.c.family).where(sessions.c.id == bindparam("sid")).scalar_subquery())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--families", type=int, default=200, help="sessions, each a family of rows")
    parser.add_argument("--rows", type=int, default=1000, help="rows a family (refreshes of the session)")
    parser.add_argument("--checks", type=int, default=2000, help="checks a statement a round")
    args = parser.parse_args()

    engine = make_engine(os.environ["EOFFICE_DATABASE_URL"], pool_size=2)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        conn.execute(text(f"CREATE SEQUENCE {SCHEMA}.directory_changes"))
        conn.execute(text(f"SELECT nextval('{SCHEMA}.directory_changes')"))
        sessions.to_metadata(MetaData(), schema=SCHEMA).create(conn)
        started = time.perf_counter()
        conn.execute(text(f"""
            INSERT INTO {SCHEMA}.sessions (id, family, employee_id, post_code, refresh_sha256, expires_at, rotated_at)
            SELECT f || '-' || r, 'family-' || f, 'E' || f, 'P' || f, md5(f || '-' || r) || md5(r || '-' || f),
                   now() + interval '30 days', CASE WHEN r < {args.rows} THEN now() END
            FROM generate_series(1, {args.rows}) AS r, generate_series(1, {args.families}) AS f
            ORDER BY r, f"""))  # in the order refreshes come: the families' rows interleaved, as in life
        conn.execute(text(f"ANALYZE {SCHEMA}.sessions"))
        filled = time.perf_counter() - started
    newest = [f"{family}-{args.rows}" for family in range(1, args.families + 1)]
    statements = {"before: the family's rows counted": COUNTING,
                  "now: its own row, the revoked ones by index": SESSION_STANDS}
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT",
                                                schema_translate_map={"gateway": SCHEMA}) as conn:
            figures = common.statements_in_turns(conn, statements, lambda: {"sid": random.choice(newest)},
                                                 calls=args.checks)
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        engine.dispose()

    print(f"# session check benchmark: {platform.node()}, {os.cpu_count()} cores; {args.families} sessions of "
          f"{args.rows} rows each (filled in {filled:.1f} s), {args.checks} checks a statement a round, 3 rounds\n")
    print(common.statements_table(figures, "a check"))


if __name__ == "__main__":
    main()
