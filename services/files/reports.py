"""Reports for supervisors and the system admin: pendency, overdue files, levels of
decision-making, files past four levels to a decision, monthly movement and the ranking of
offices.

Each counts in PostgreSQL (GROUP BY, COUNT FILTER, window RANK) so a report costs a few
grouped rows however many files there are; only "overdue" looks at files one by one, because
working days depend on the holder office's calendar, which the directory service keeps. Days
and months are those of the office day (IST), as everywhere else in the files service."""

from __future__ import annotations

from datetime import date, datetime
from itertools import groupby

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Date, and_, cast, distinct, func, literal, select
from sqlalchemy.orm import Session

from eoffice import workdays
from eoffice.actor import Actor
from eoffice.clock import IST
from eoffice.errors import Forbidden, InvalidInput
from eoffice.movement import MOST_LEVELS
from eoffice.validation import parse
from services.files.models import DEFAULT_OVERDUE_DAYS, category_limits, files, movements

REPORTS = ("pendency", "overdue", "levels", "over_four_levels", "monthly", "ranking")
ZONE = "Asia/Kolkata"  # IST in PostgreSQL's terms, for dates and months of timestamps


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    office_code: str | None = Field(None, min_length=1, max_length=40, description="one office within your scope")


class YearParams(Params):
    year: int | None = Field(None, ge=2000, le=2100, description="the calendar year; this year by default")


def _ist_day(column):
    """The IST calendar day of a timestamp column: a file sent at 23:00 UTC was sent 'tomorrow'."""
    return cast(func.timezone(ZONE, column), Date)


def _year_bounds(year: int) -> tuple[datetime, datetime]:
    """The year as an IST timestamp range, so the index on movements.at can be used."""
    return datetime(year, 1, 1, tzinfo=IST), datetime(year + 1, 1, 1, tzinfo=IST)


def _scope(actor: Actor, office_code: str | None, ask) -> list[str] | None:
    """The offices whose files the actor may report on (None: every office). A supervisor
    oversees its own office and every office below it (rule 10); narrowing to an office
    outside that is refused rather than answered with an empty report, so a typo is not
    mistaken for 'nothing pending'."""
    if actor.has_role("system_admin"):
        return [office_code] if office_code else None
    if not actor.has_role("supervisor") or not actor.office_id:
        raise Forbidden("reports are for supervisors and the system admin")
    offices = list(ask("offices_under", actor.office_id))
    if office_code is None:
        return offices
    if office_code not in offices:
        raise Forbidden(f"{office_code} is not within {actor.office_id}")
    return [office_code]


def _in_scope(offices: list[str] | None):
    """A WHERE clause on the file's office (the office that opened it)."""
    return files.c.office_code.in_(offices) if offices is not None else literal(True)


def _calendars(posts, ask) -> dict:
    posts = sorted(set(posts))
    return ask("calendars_of_posts", posts) if posts else {}


def pendency(session: Session, offices, *, today: date, ask) -> dict:
    """Open and parked files by the post holding them and by that post's office: pendency is
    work waiting on someone, so it is counted where the file sits, not where it was opened."""
    rows = (
        session.execute(
            select(
                files.c.holder_post.label("post"),
                func.count().label("pending"),
                func.count().filter(files.c.due_date < today).label("overdue"),
            )
            .where(files.c.status != "closed", _in_scope(offices))
            .group_by(files.c.holder_post)
        )
        .mappings()
        .all()
    )
    calendars = _calendars((r["post"] for r in rows), ask)
    by_post = sorted(
        (
            {
                "post": r["post"],
                "office_code": calendars[r["post"]]["office_code"],
                "pending": r["pending"],
                "overdue": r["overdue"],
            }
            for r in rows
        ),
        key=lambda r: (r["office_code"], r["post"]),
    )
    by_office = [
        {
            "office_code": office,
            "pending": sum(p["pending"] for p in group),
            "overdue": sum(p["overdue"] for p in group),
        }
        for office, group in ((o, list(g)) for o, g in groupby(by_post, key=lambda r: r["office_code"]))
    ]
    return {"by_post": by_post, "by_office": by_office}


def overdue(session: Session, offices, *, today: date, ask) -> dict:
    """Files kept by their current holder longer than their category allows, in working days
    of the holder's office. A stay of N working days needs at least N+1 calendar days, so SQL
    drops every file that cannot be late yet; only the rest are counted against a calendar."""
    limit = func.coalesce(category_limits.c.working_days, DEFAULT_OVERDUE_DAYS)
    since = _ist_day(files.c.held_since)
    rows = (
        session.execute(
            select(
                files.c.id.label("file_id"),
                files.c.file_number,
                files.c.subject,
                files.c.holder_post,
                files.c.held_since,
                since.label("since_day"),
                limit.label("limit"),
            )
            .select_from(files.outerjoin(category_limits, category_limits.c.category == files.c.category))
            .where(files.c.status != "closed", _in_scope(offices), since + (limit + 1) <= today)
            .order_by(files.c.held_since, files.c.file_number)
        )
        .mappings()
        .all()
    )
    calendars = _calendars((r["holder_post"] for r in rows), ask)
    items = []
    for r in rows:
        cal = calendars[r["holder_post"]]
        days = workdays.working_days_between(
            r["since_day"],
            today,
            weekly_off=frozenset(cal["weekly_off"]),
            holidays=frozenset(date.fromisoformat(d) for d in cal["holidays"]),
        )
        if days > r["limit"]:
            items.append(
                {
                    "file_id": r["file_id"],
                    "file_number": r["file_number"],
                    "subject": r["subject"],
                    "holder_post": r["holder_post"],
                    "office_code": cal["office_code"],
                    "held_since": r["held_since"].astimezone(IST).isoformat(),
                    "working_days": days,
                    "limit": r["limit"],
                }
            )
    return {"items": items}


def levels(session: Session, offices) -> dict:
    """How many posts a decided (closed) file passed through before its decision: the
    distinct posts it was created with or sent to. Fewer levels means quicker decisions, the
    aim of delayering; the overall average is over files, not an average of office averages."""
    per_file = (
        select(files.c.office_code, func.count(distinct(movements.c.to_post)).label("levels"))
        .select_from(
            files.outerjoin(
                movements, and_(movements.c.file_id == files.c.id, movements.c.action.in_(("created", "sent")))
            )
        )
        .where(files.c.status == "closed", _in_scope(offices))
        .group_by(files.c.id, files.c.office_code)
        .subquery()
    )
    rows = (
        session.execute(
            select(
                per_file.c.office_code,
                func.grouping(per_file.c.office_code).label("total"),
                func.count().label("decided"),
                func.round(func.avg(per_file.c.levels), 2).label("average_levels"),
            )
            .group_by(func.rollup(per_file.c.office_code))
            .order_by(per_file.c.office_code)
        )
        .mappings()
        .all()
    )
    total = next((r for r in rows if r["total"]), None)  # ROLLUP's grand total (none if no files)
    decided = total["decided"] if total else 0
    return {
        "decided": decided,
        "average_levels": float(total["average_levels"]) if total and decided else 0.0,
        "by_office": [
            {"office_code": r["office_code"], "decided": r["decided"], "average_levels": float(r["average_levels"])}
            for r in rows
            if not r["total"]
        ],
    }


def over_four_levels(session: Session, offices) -> dict:
    """Files not closed that have gone up through more than four levels in their current round
    (DOMAIN.md: a file should pass through at most four levels to a decision; the sends went
    through, each with a warning): where the round started (`counted_from`), who holds the file
    now, and its levels, most levels first."""
    rows = session.execute(
        select(
            files.c.id.label("file_id"),
            files.c.file_number,
            files.c.subject,
            files.c.office_code,
            files.c.holder_post,
            func.coalesce(files.c.round_post, files.c.creator_post).label("counted_from"),
            files.c.levels_to_decision,
        )
        .where(files.c.status != "closed", files.c.levels_to_decision > MOST_LEVELS, _in_scope(offices))
        .order_by(files.c.levels_to_decision.desc(), files.c.file_number)
    ).mappings()
    return {"most_levels": MOST_LEVELS, "items": [dict(r) for r in rows]}


def monthly(session: Session, offices, year: int) -> dict:
    """Per office (that opened the file) and month: files created, movements sent on, and
    closings (a file closed, reopened and closed again counts twice: this is activity)."""
    start, end = _year_bounds(year)
    month = func.to_char(func.timezone(ZONE, movements.c.at), "YYYY-MM")
    action = movements.c.action
    rows = (
        session.execute(
            select(
                files.c.office_code,
                month.label("month"),
                func.count().filter(action == "created").label("created"),
                func.count().filter(action == "sent").label("moved"),
                func.count().filter(action == "closed").label("closed"),
            )
            .select_from(movements.join(files, files.c.id == movements.c.file_id))
            .where(
                action.in_(("created", "sent", "closed")),
                movements.c.at >= start,
                movements.c.at < end,
                _in_scope(offices),
            )
            .group_by(files.c.office_code, month)
            .order_by(files.c.office_code, month)
        )
        .mappings()
        .all()
    )
    return {"year": year, "rows": [dict(r) for r in rows]}


def ranking(session: Session, offices, year: int) -> dict:
    """Offices by the files they handled in the year: distinct files with any movement then,
    counted for the office that opened the file. Created and closed count files too (a file
    closed twice is one file closed). Ties share a rank, and the next rank skips (1, 1, 3)."""
    start, end = _year_bounds(year)
    action = movements.c.action
    counts = (
        select(
            files.c.office_code,
            func.count(distinct(files.c.id)).label("handled"),
            func.count(distinct(files.c.id)).filter(action == "created").label("created"),
            func.count(distinct(files.c.id)).filter(action == "closed").label("closed"),
        )
        .select_from(movements.join(files, files.c.id == movements.c.file_id))
        .where(movements.c.at >= start, movements.c.at < end, _in_scope(offices))
        .group_by(files.c.office_code)
        .subquery()
    )
    rank = func.rank().over(order_by=counts.c.handled.desc()).label("rank")
    rows = (
        session.execute(
            select(rank, counts.c.office_code, counts.c.handled, counts.c.created, counts.c.closed).order_by(
                rank, counts.c.office_code
            )
        )
        .mappings()
        .all()
    )
    return {"year": year, "rows": [dict(r) for r in rows]}


def run(session: Session, actor: Actor, *, name: str, params: dict, today: date, ask) -> dict:
    """Runs the report `name` over the offices the actor oversees; `ask(method, *args)` asks
    the directory service (offices below an office, calendars of posts)."""
    if not (actor.has_role("system_admin") or actor.has_role("supervisor")):
        raise Forbidden("reports are for supervisors and the system admin")
    if name not in REPORTS:
        raise InvalidInput(f"no report {name!r}: the reports are {', '.join(REPORTS)}", field="name")
    query: Params = parse(YearParams, params) if name in ("monthly", "ranking") else parse(Params, params)
    offices = _scope(actor, query.office_code, ask)
    if name == "pendency":
        body = pendency(session, offices, today=today, ask=ask)
    elif name == "overdue":
        body = overdue(session, offices, today=today, ask=ask)
    elif name == "levels":
        body = levels(session, offices)
    elif name == "over_four_levels":
        body = over_four_levels(session, offices)
    else:  # monthly or ranking, whose parameters are YearParams
        year = (query.year if isinstance(query, YearParams) else None) or today.year
        body = (monthly if name == "monthly" else ranking)(session, offices, year)
    return {"report": name, "today": today.isoformat(), "office_code": query.office_code, **body}
