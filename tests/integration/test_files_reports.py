"""Files reports against PostgreSQL, on synthetic files and movements with known answers.

Offices (a tree HQ > A, B and an unrelated X) and their calendars come from a fake directory;
codes carry a random tag so rows of other tests in the same database never count here.
Today is Friday 20 March 2026; Sunday is off everywhere, Monday 16 March is a holiday, and B
also closes on Tuesday 17 March."""
from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import delete

from eoffice.actor import Actor
from eoffice.clock import IST
from eoffice.db import UnitOfWork, make_engine
from eoffice.errors import Forbidden, InvalidInput
from services.files import reports
from services.files.models import category_limits, files, movements

pytestmark = pytest.mark.live

TODAY = date(2026, 3, 20)
TAG = f"RPT{uuid.uuid4().hex[:6].upper()}"
HQ, A, B, X = (f"{TAG}-{o}" for o in ("HQ", "A", "B", "X"))
HQ1, A1, A2, B1, X1 = f"{HQ}-P1", f"{A}-P1", f"{A}-P2", f"{B}-P1", f"{X}-P1"
POSTS = {HQ1: HQ, A1: A, A2: A, B1: B, X1: X}
TREE = {HQ: [HQ, A, B], A: [A], B: [B], X: [X]}
HOLIDAYS = {B: ["2026-03-16", "2026-03-17"]}
FAST = f"{TAG.lower()}-fast"  # a category allowed 2 working days
SLOW = f"{TAG.lower()}-plain"  # no limit row: the default 7


def ist(month: int, day: int, hour: int = 10, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, tzinfo=IST)


def utc(year: int, month: int, day: int, hour: int) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


# name: (office, status, holder, category, held_since, due_date, [(action, from, to, at)])
FILES = {
    "F1": (A, "open", A1, SLOW, ist(3, 9), date(2026, 3, 19), [
        ("created", None, A1, ist(2, 2)), ("sent", A1, A2, ist(2, 10)), ("sent", A2, A1, ist(3, 9))]),
    "F2": (A, "parked", B1, FAST, ist(3, 16, 9), None, [  # A's file, waiting in B
        ("created", None, A1, ist(3, 2)), ("sent", A1, B1, ist(3, 16, 9)), ("parked", B1, B1, ist(3, 17))]),
    "F3": (A, "open", A1, FAST, ist(3, 18), date(2026, 3, 25), [("created", None, A1, ist(3, 18))]),
    # 20:00 UTC is the next day in India: created in 2026, received on 11 March.
    "F4": (A, "open", A2, SLOW, utc(2026, 3, 10, 20), TODAY, [
        ("created", None, A1, utc(2025, 12, 31, 20)), ("sent", A1, A2, utc(2026, 3, 10, 20))]),
    "F5": (B, "open", B1, SLOW, ist(2, 20), date(2026, 3, 1), [
        ("created", None, B1, ist(11, 5, year=2025)), ("sent", B1, HQ1, ist(12, 1, year=2025)),
        ("sent", HQ1, B1, ist(2, 20))]),
    "F6": (X, "open", X1, SLOW, ist(1, 5), date(2026, 1, 15), [("created", None, X1, ist(1, 5))]),
    "F7": (HQ, "closed", HQ1, SLOW, ist(1, 20), None, [
        ("created", None, HQ1, ist(1, 10)), ("sent", HQ1, A1, ist(1, 12)), ("sent", A1, HQ1, ist(1, 20)),
        ("closed", HQ1, HQ1, utc(2026, 3, 31, 19))]),  # 1 April in India
    "F8": (A, "closed", A1, SLOW, ist(2, 4), None, [
        ("created", None, A1, ist(12, 15, year=2025)), ("sent", A1, A2, ist(1, 5)), ("opened", A2, A2, ist(1, 6)),
        ("sent", A2, B1, ist(2, 3)), ("sent", B1, A1, ist(2, 4)), ("closed", A1, A1, ist(2, 5))]),
    "F9": (A, "closed", A1, SLOW, ist(3, 9), None, [  # closed, reopened, closed again
        ("created", None, A1, ist(3, 3)), ("closed", A1, A1, ist(3, 4)), ("reopen_asked", A1, A1, ist(3, 5)),
        ("reopened", A1, A1, ist(3, 6)), ("sent", A1, A2, ist(3, 7)), ("sent", A2, A1, ist(3, 9)),
        ("closed", A1, A1, ist(3, 10))]),
    "F10": (X, "closed", X1, SLOW, ist(2, 1), None, [
        ("created", None, X1, ist(2, 1)), ("closed", X1, X1, ist(2, 2))]),
}
IDS = {name: str(uuid.uuid4()) for name in FILES}


def ask(method: str, *args):
    """The directory service as the reports use it; posts of other tests sit 'elsewhere'."""
    if method == "offices_under":
        return TREE[args[0]]
    if method == "calendars_of_posts":
        return {post: {"office_code": POSTS.get(post, "ELSEWHERE"), "weekly_off": ["SUN"],
                       "holidays": HOLIDAYS.get(POSTS.get(post), ["2026-03-16"])} for post in args[0]}
    raise AssertionError(f"unexpected directory call {method}")


def supervisor(office: str) -> Actor:
    return Actor(user_id="u-sup", post_id=f"{office}-P1", office_id=office, roles=frozenset({"supervisor"}))


ADMIN = Actor(user_id="u-admin", post_id="ADMIN", office_id="STATE", roles=frozenset({"system_admin"}))


@pytest.fixture(scope="module")
def uow(migrated):
    engine = make_engine(migrated.database_url, pool_size=1)
    work = UnitOfWork(engine)
    with work.transaction() as session:
        session.execute(category_limits.insert().values(category=FAST, working_days=2))
        for name, (office, status, holder, category, held_since, due, moves) in FILES.items():
            session.execute(files.insert().values(
                id=IDS[name], file_number=f"{TAG}/{name}", office_code=office, subject_head="1",
                subject=f"subject {name}", category=category, record_category="C", creator_post=moves[0][2],
                created_by="u", holder_post=holder, held_since=held_since, status=status, due_date=due,
                closed_at=moves[-1][3] if status == "closed" else None))
            session.execute(movements.insert(), [{"file_id": IDS[name], "action": action, "from_post": frm,
                                                  "to_post": to, "by_user": "u", "at": at}
                                                 for action, frm, to, at in moves])
    yield work
    with work.transaction() as session:
        session.execute(delete(movements).where(movements.c.file_id.in_(IDS.values())))
        session.execute(delete(files).where(files.c.id.in_(IDS.values())))
        session.execute(delete(category_limits).where(category_limits.c.category == FAST))
    engine.dispose()


def report(uow, actor: Actor, name: str, **params) -> dict:
    with uow.transaction() as session:
        return reports.run(session, actor, name=name, params=params, today=TODAY, ask=ask)


def test_pendency_counts_files_where_they_wait(uow):
    assert report(uow, supervisor(HQ), "pendency") | {"today": None} == {
        "report": "pendency", "today": None, "office_code": None,
        "by_post": [{"post": A1, "office_code": A, "pending": 2, "overdue": 1},
                    {"post": A2, "office_code": A, "pending": 1, "overdue": 0},
                    {"post": B1, "office_code": B, "pending": 2, "overdue": 1}],
        "by_office": [{"office_code": A, "pending": 3, "overdue": 1}, {"office_code": B, "pending": 2, "overdue": 1}]}
    # A's supervisor sees A's files, including the one now waiting in B, and nothing of B's own.
    below = report(uow, supervisor(A), "pendency")
    assert below["by_post"] == [{"post": A1, "office_code": A, "pending": 2, "overdue": 1},
                                {"post": A2, "office_code": A, "pending": 1, "overdue": 0},
                                {"post": B1, "office_code": B, "pending": 1, "overdue": 0}]
    assert below["by_office"] == [{"office_code": A, "pending": 3, "overdue": 1},
                                  {"office_code": B, "pending": 1, "overdue": 0}]
    narrowed = report(uow, supervisor(HQ), "pendency", office_code=B)
    assert narrowed["by_post"] == [{"post": B1, "office_code": B, "pending": 1, "overdue": 1}]
    # The system admin sees every office, the unrelated X too.
    everything = report(uow, ADMIN, "pendency")
    assert [r for r in everything["by_office"] if r["office_code"].startswith(TAG)] == [
        {"office_code": A, "pending": 3, "overdue": 1}, {"office_code": B, "pending": 2, "overdue": 1},
        {"office_code": X, "pending": 1, "overdue": 1}]


def test_overdue_counts_working_days_of_the_holders_office(uow):
    items = report(uow, supervisor(HQ), "overdue")["items"]
    assert [(i["file_number"], i["holder_post"], i["office_code"], i["working_days"], i["limit"]) for i in items] == [
        (f"{TAG}/F5", B1, B, 22, 7),  # 20 Feb to 20 Mar: Sundays and B's two holidays off
        (f"{TAG}/F1", A1, A, 9, 7),
        (f"{TAG}/F2", B1, B, 3, 2),  # A's file held in B: by B's calendar (A's would say 4)
    ]
    assert items[1] == {"file_id": IDS["F1"], "file_number": f"{TAG}/F1", "subject": "subject F1",
                        "holder_post": A1, "office_code": A, "held_since": "2026-03-09T10:00:00+05:30",
                        "working_days": 9, "limit": 7}
    # F3 is at exactly its limit; F4 too, counted from its Indian date (11 March), not UTC's 10th.
    assert not {IDS["F3"], IDS["F4"]} & {i["file_id"] for i in items}
    x = report(uow, ADMIN, "overdue", office_code=X)["items"]
    assert [(i["file_id"], i["working_days"]) for i in x] == [(IDS["F6"], 63)]


def test_levels_average_distinct_posts_of_decided_files(uow):
    levels = report(uow, supervisor(HQ), "levels")
    assert (levels["decided"], levels["average_levels"]) == (3, 2.33)
    assert levels["by_office"] == [{"office_code": A, "decided": 2, "average_levels": 2.5},
                                   {"office_code": HQ, "decided": 1, "average_levels": 2.0}]
    assert report(uow, ADMIN, "levels", office_code=X) | {"today": None} == {
        "report": "levels", "today": None, "office_code": X, "decided": 1, "average_levels": 1.0,
        "by_office": [{"office_code": X, "decided": 1, "average_levels": 1.0}]}
    assert report(uow, supervisor(B), "levels")["decided"] == 0


def test_monthly_counts_by_indian_month(uow):
    assert report(uow, supervisor(HQ), "monthly")["rows"] == [
        {"office_code": A, "month": "2026-01", "created": 1, "moved": 1, "closed": 0},
        {"office_code": A, "month": "2026-02", "created": 1, "moved": 3, "closed": 1},
        {"office_code": A, "month": "2026-03", "created": 3, "moved": 5, "closed": 2},
        {"office_code": B, "month": "2026-02", "created": 0, "moved": 1, "closed": 0},
        {"office_code": HQ, "month": "2026-01", "created": 1, "moved": 2, "closed": 0},
        {"office_code": HQ, "month": "2026-04", "created": 0, "moved": 0, "closed": 1},
    ]
    assert report(uow, supervisor(HQ), "monthly", year=2025)["rows"] == [
        {"office_code": A, "month": "2025-12", "created": 1, "moved": 0, "closed": 0},
        {"office_code": B, "month": "2025-11", "created": 1, "moved": 0, "closed": 0},
        {"office_code": B, "month": "2025-12", "created": 0, "moved": 1, "closed": 0},
    ]


def test_ranking_by_files_handled_with_shared_ranks(uow):
    assert report(uow, supervisor(HQ), "ranking")["rows"] == [
        {"rank": 1, "office_code": A, "handled": 6, "created": 5, "closed": 2},
        {"rank": 2, "office_code": B, "handled": 1, "created": 0, "closed": 0},
        {"rank": 2, "office_code": HQ, "handled": 1, "created": 1, "closed": 1},
    ]
    assert report(uow, supervisor(HQ), "ranking", year=2025)["rows"] == [
        {"rank": 1, "office_code": A, "handled": 1, "created": 1, "closed": 0},
        {"rank": 1, "office_code": B, "handled": 1, "created": 1, "closed": 0},
    ]
    assert report(uow, ADMIN, "ranking", office_code=X)["rows"] == [
        {"rank": 1, "office_code": X, "handled": 2, "created": 2, "closed": 1}]


def test_who_may_see_what(uow):
    staff = Actor(user_id="u-staff", post_id=A1, office_id=A, roles=frozenset({"section_staff"}))
    with pytest.raises(Forbidden):
        report(uow, staff, "pendency")
    with pytest.raises(InvalidInput) as unknown:
        report(uow, supervisor(HQ), "gossip")
    assert unknown.value.fields == {"field": "name"} and "pendency" in unknown.value.detail
    # A supervisor's tree stops at its own office: X is not below HQ, HQ is not below A.
    for actor, office in ((supervisor(HQ), X), (supervisor(A), HQ), (supervisor(A), B)):
        with pytest.raises(Forbidden):
            report(uow, actor, "levels", office_code=office)
    assert not any(r["office_code"] == X for r in report(uow, supervisor(HQ), "ranking")["rows"])
    with pytest.raises(InvalidInput):
        report(uow, supervisor(HQ), "pendency", year=2026)  # a year only for monthly and ranking
    with pytest.raises(InvalidInput):
        report(uow, supervisor(HQ), "monthly", year="last")
