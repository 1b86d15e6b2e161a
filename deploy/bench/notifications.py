"""What counting a post's unread notifications costs each time its list is opened, when the
post has gathered many: unread ones are never forgotten, so a post whose holders never read their
notifications in the app gathers them without end.

    deploy/eoffice bench notifications [--unread 100000] [--posts 200] [--per-post 500] [--counts 100]

On the running system's PostgreSQL, in a schema of its own (`bench_notifications`, made afresh
and dropped at the end): notify's notifications table with its indexes, holding one busy post
with `--unread` unread notifications (and a fifth as many read) and `--posts` other posts with
`--per-post` notifications each, of which one in fifty is unread, written in turns as movements
come. Then `--counts` counts a round of the busy post's unread ones, and as many of a random
other post's, by the statement notify ran before (every unread one counted) and by the one it
runs now (`repository.UNREAD_COUNT`: up to `UNREAD_COUNTED` and one more, from the index of the
unread ones), in turns, three rounds. Reported: wall time and PostgreSQL's CPU a count (median
of the rounds).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import time

import common
from sqlalchemy import MetaData, bindparam, func, select, text

from eoffice.contracts.notifications import KINDS, UNREAD_COUNTED
from eoffice.db import make_engine
from services.notify.people_tables import notifications
from services.notify.repository import UNREAD_COUNT

SCHEMA = "bench_notifications"
BEFORE = "bench_notifications_before"  # the same rows, with the indexes notify had before


def _counting(table):
    """The count as notify made it before: every unread one of the posts and kinds."""
    return select(func.count()).select_from(table).where(
        table.c.post_code.in_(bindparam("posts", expanding=True)),
        table.c.kind.in_(bindparam("kinds", expanding=True)),
        table.c.read_at.is_(None),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--unread", type=int, default=100_000, help="unread notifications of the busy post")
    parser.add_argument("--posts", type=int, default=200, help="other posts")
    parser.add_argument("--per-post", type=int, default=500, help="notifications of each other post")
    parser.add_argument("--counts", type=int, default=100, help="counts a statement a round, of each post")
    args = parser.parse_args()

    busy_rows = args.unread + args.unread // 5
    engine = make_engine(os.environ["EOFFICE_DATABASE_URL"], pool_size=2)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        notifications.to_metadata(MetaData(), schema=SCHEMA).create(conn)
        started = time.perf_counter()
        # In the order movements come: the posts' rows interleaved; the busy post's every sixth row read.
        conn.execute(text(f"""
            INSERT INTO {SCHEMA}.notifications (post_code, kind, item_type, item_id, event_id, read_at)
            SELECT post, (ARRAY{list(KINDS)})[1 + n % {len(KINDS)}], 'file', md5(post || n), md5(n || post),
                   CASE WHEN post = 'BUSY' AND n % 6 = 5 THEN now()
                        WHEN post <> 'BUSY' AND n % 50 <> 0 THEN now() END
            FROM (SELECT 'BUSY' AS post, n, n::float / {busy_rows} AS at FROM generate_series(1, {busy_rows}) AS n
                  UNION ALL
                  SELECT 'P' || p, n, n::float / {args.per_post}
                  FROM generate_series(1, {args.posts}) AS p, generate_series(1, {args.per_post}) AS n) AS rows
            ORDER BY at"""))
        before = notifications.to_metadata(MetaData(), schema=BEFORE)
        before.indexes = {index for index in before.indexes if index.name != "notifications_unread"}
        conn.execute(text(f"DROP SCHEMA IF EXISTS {BEFORE} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {BEFORE}"))
        before.create(conn)
        conn.execute(text(f"INSERT INTO {BEFORE}.notifications SELECT * FROM {SCHEMA}.notifications ORDER BY id"))
        conn.execute(text(f"ANALYZE {SCHEMA}.notifications"))
        conn.execute(text(f"ANALYZE {BEFORE}.notifications"))
        filled = time.perf_counter() - started
        unread = conn.execute(text(f"SELECT count(*) FROM {SCHEMA}.notifications WHERE post_code = 'BUSY' "
                                   "AND read_at IS NULL")).scalar_one()
    others = [f"P{p}" for p in range(1, args.posts + 1)]
    statements = {"before: every unread one counted, no index of the unread": _counting(before),
                  "every unread one counted, by the index of the unread": _counting(notifications),
                  f"now: up to {UNREAD_COUNTED:,} and one more, by the index of the unread": UNREAD_COUNT}
    cases = {f"the busy post ({unread:,} unread)": lambda: {"posts": ["BUSY"], "kinds": list(KINDS)},
             f"another post ({args.per_post // 50} unread)": lambda: {"posts": [random.choice(others)],
                                                                      "kinds": list(KINDS)}}
    figures = {}
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT",
                                                schema_translate_map={"notify": SCHEMA}) as conn:
            for case, parameters in cases.items():
                for name, rounds in common.statements_in_turns(conn, statements, parameters, calls=args.counts,
                                                               warm=5).items():
                    figures[f"{case}, {name}"] = rounds
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            conn.execute(text(f"DROP SCHEMA IF EXISTS {BEFORE} CASCADE"))
        engine.dispose()

    print(f"# unread count benchmark: {platform.node()}, {os.cpu_count()} cores; a busy post of {busy_rows:,} "
          f"notifications and {args.posts} posts of {args.per_post} (filled in {filled:.1f} s), {args.counts} "
          "counts a statement a round, 3 rounds\n")
    print(common.statements_table(figures, "a count"))


if __name__ == "__main__":
    main()
