"""What SQLAlchemy costs a statement before PostgreSQL sees it: built afresh on each call, as
most code writes it, against built once (`eoffice.db`, "built once").

    deploy/eoffice bench statements [--runs 2000]

On the running system's PostgreSQL, in one transaction (rolled back), on a temporary table
shaped like a service's inbox: each kind of statement run `--runs` times, one after another,
through a session as the services run theirs. Reported: CPU (this process) and wall time per
execution. The gateway's session check (`services/gateway/auth.py`) is timed the same way on
its own tables, built per request as before and built once as now. The last rows time one
notification e-mail composed with `EmailMessage` (as notify did) and with the classic classes
(`services/notify/channels.compose`).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import timeit
import uuid
from email.message import EmailMessage
from email.utils import make_msgid

import common  # noqa: F401  (puts the repository on sys.path)
from sqlalchemy import Column, MetaData, String, Table, bindparam, exists, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from eoffice.db import fixed_text, make_engine
from services.gateway.auth import SESSION_STANDS
from services.gateway.models import directory_changes_seen, sessions
from services.notify.channels import compose

PROBE = Table(
    "bench_inbox",
    MetaData(),
    Column("event_id", String(36), primary_key=True),
    Column("handler", String(200), primary_key=True),
    prefixes=["TEMPORARY"],
)
ON_CONFLICT = pg_insert(PROBE).values(event_id=bindparam("e"), handler=bindparam("h")).on_conflict_do_nothing()
PLAIN = insert(PROBE).values(event_id=bindparam("e"), handler=bindparam("h"))
CLAIM_TEXT = fixed_text(ON_CONFLICT.returning(PROBE.c.event_id))
CLAIM_ONCE = ON_CONFLICT.returning(PROBE.c.event_id)
INSERT_ONCE = PLAIN.returning(PROBE.c.event_id)


def built_claim(db, e):
    return db.execute(
        pg_insert(PROBE).values(event_id=e, handler="h").on_conflict_do_nothing().returning(PROBE.c.event_id)
    ).first()


def built_insert(db, e):
    return db.execute(insert(PROBE).values(event_id=e, handler="h").returning(PROBE.c.event_id)).first()


def session_check_built(db, sid):
    """The gateway's session check (`auth.SESSION_STANDS`) as it would be built afresh on each
    request: the same statement, so that the two rows differ only by the building."""
    revoked_member = sessions.alias("revoked_member")
    return db.execute(
        select(
            sessions.c.rotated_at.is_not(None).label("refreshed"),
            exists()
            .where(revoked_member.c.family == sessions.c.family, revoked_member.c.revoked_at.is_not(None))
            .label("revoked"),
            select(directory_changes_seen.c.last_value).scalar_subquery().label("directory_changes"),
        ).where(sessions.c.id == sid)
    ).first()


KINDS = [
    ("INSERT ... ON CONFLICT DO NOTHING RETURNING, built on each call", built_claim),
    (
        "the same, built once (SQLAlchemy 2.0 still compiles it on each call)",
        lambda db, e: db.execute(CLAIM_ONCE, {"e": e, "h": "h"}).first(),
    ),
    (
        "the same, compiled once as text (`fixed_text`)",
        lambda db, e: db.execute(CLAIM_TEXT, {"e": e, "h": "h"}).first(),
    ),
    ("INSERT ... RETURNING, built on each call", built_insert),
    ("the same, built once", lambda db, e: db.execute(INSERT_ONCE, {"e": e, "h": "h"}).first()),
    ("the gateway's session check, built on each request (before)", session_check_built),
    ("the gateway's session check, built once (now)", lambda db, e: db.execute(SESSION_STANDS, {"sid": e}).first()),
]


def timed(db: Session, work, runs: int) -> tuple[float, float]:
    """Microseconds of CPU and of wall time an execution, after a warm-up."""
    for _ in range(100):
        work(db, str(uuid.uuid4()))
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(runs):
        work(db, str(uuid.uuid4()))
    return (time.process_time() - cpu) / runs * 1e6, (time.perf_counter() - wall) / runs * 1e6


def mail_costs(runs: int) -> list[tuple[str, float]]:
    subject = "ई-ऑफिस: फ़ाइल GAD/EST/2026/0001 प्राप्त हुई / File GAD/EST/2026/0001 has reached you"
    body = "फ़ाइल GAD/EST/2026/0001 आपके पास पहुँची है। The file has reached you.\n" * 4

    def modern():
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "e-Office <noreply@up.gov.in>", "a@up.gov.in", subject
        message["Message-ID"] = make_msgid(domain="eoffice")
        message.set_content(body, charset="utf-8")
        return message.as_bytes()

    def classic():
        return compose(sender="e-Office <noreply@up.gov.in>", to=["a@up.gov.in"], subject=subject, body=body).as_bytes()

    return [
        (name, timeit.timeit(work, number=runs) / runs * 1e6)
        for name, work in (
            ("an e-mail composed with EmailMessage, as bytes (before)", modern),
            ("an e-mail composed with the classic classes, as bytes (now)", classic),
        )
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=2000)
    args = parser.parse_args()
    engine = make_engine(pool_size=1)
    print(
        f"# statements: {args.runs} executions of each, one after another: {platform.node()}, {os.cpu_count()} cores\n"
    )
    print("| statement | CPU an execution | wall time an execution |\n|---|---|---|")
    with Session(engine) as db:
        PROBE.create(db.connection())
        for name, work in KINDS:
            cpu, wall = timed(db, work, args.runs)
            print(f"| {name} | {cpu:.0f} µs | {wall:.0f} µs |")
        db.rollback()
    for name, cpu in mail_costs(args.runs):
        print(f"| {name} | {cpu:.0f} µs | |")
    engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
