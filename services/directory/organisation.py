"""The organisation as the other services ask about it: who holds a post, which posts a user
acts for, which office is under which, who supervises whom, and who may see or change what.

Persistence functions take the session as their first argument and nothing from nameko."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from eoffice.access import JURISDICTION_LEVELS
from eoffice.actor import Actor
from eoffice.clock import today
from eoffice.errors import AccountLocked, Forbidden, InvalidCredentials, InvalidInput, NotFound, NotHolderOfPost
from services.directory.models import (
    delegations,
    holidays,
    offices,
    postings,
    posts,
    sign_in_failures,
    sign_in_log,
    users,
)

LOCK_AFTER_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
hasher = PasswordHasher()


def office(session: Session, code: str) -> dict:
    """Returns the office; raises NotFound."""
    row = session.execute(select(offices).where(offices.c.code == code)).mappings().first()
    if row is None:
        raise NotFound(f"no office {code}")
    return dict(row)


def post(session: Session, code: str) -> dict:
    """Returns the post with its office path; raises NotFound."""
    row = (
        session.execute(
            select(posts, offices.c.path.label("office_path"))
            .join(offices, offices.c.code == posts.c.office_code)
            .where(posts.c.code == code)
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no post {code}")
    return dict(row)


def offices_under(session: Session, office_code: str) -> list[str]:
    """The office and every office below it, by their paths."""
    path = office(session, office_code)["path"]
    return list(
        session.execute(
            select(offices.c.code)
            .where(or_(offices.c.path == path, offices.c.path.startswith(path + "/")))
            .order_by(offices.c.path)
        ).scalars()
    )


def calendar_of(session: Session, office_code: str) -> tuple[frozenset[str], frozenset[date]]:
    """Returns the office's weekly days off and the holidays of it and every office above it."""
    found = office(session, office_code)
    days = session.execute(select(holidays.c.day).where(holidays.c.office_code.in_(found["path"].split("/")))).scalars()
    return frozenset(d for d in found["weekly_off"].split(";") if d), frozenset(days)


def jurisdiction(session: Session, office_path: str) -> str:
    """Returns the path of the department, head-of-department office or district that an office
    belongs to (the office itself if it is one); the state for offices directly under it."""
    codes = office_path.split("/")
    levels: dict[str, str] = {
        code: level
        for code, level in session.execute(select(offices.c.code, offices.c.level).where(offices.c.code.in_(codes)))
    }
    for depth in range(len(codes), 0, -1):
        if levels.get(codes[depth - 1]) in JURISDICTION_LEVELS:
            return "/".join(codes[:depth])
    return codes[0]


def is_under(path: str, ancestor_path: str) -> bool:
    """True if the office at `path` is the one at `ancestor_path` or below it."""
    return path == ancestor_path or path.startswith(ancestor_path + "/")


def _active(table, on: date):
    return and_(table.c.start_date <= on, or_(table.c.end_date.is_(None), table.c.end_date >= on))


def holders(session: Session, post_code: str, on: date | None = None) -> list[dict]:
    """Returns who holds the post on a day (regular or additional charge), and who acts for it
    by delegation (the holders of the post it is delegated to)."""
    on = on or today()
    post(session, post_code)
    held = (
        session.execute(
            select(users.c.employee_id, users.c.name_en, users.c.name_hi, postings.c.charge)
            .join(postings, postings.c.employee_id == users.c.employee_id)
            .where(postings.c.post_code == post_code, _active(postings, on))
        )
        .mappings()
        .all()
    )
    result = [{**row, "post_code": post_code, "via": "posting"} for row in held]
    for to_post in session.execute(
        select(delegations.c.to_post).where(delegations.c.from_post == post_code, _active(delegations, on))
    ).scalars():
        result += [
            {**row, "post_code": to_post, "via": "delegation"}
            for row in session.execute(
                select(users.c.employee_id, users.c.name_en, users.c.name_hi, postings.c.charge)
                .join(postings, postings.c.employee_id == users.c.employee_id)
                .where(postings.c.post_code == to_post, _active(postings, on))
            ).mappings()
        ]
    return result


def posts_of(session: Session, employee_id: str, on: date | None = None) -> list[dict]:
    """Returns the posts a user holds on a day, with charge and the posts delegated to each."""
    on = on or today()
    # The posts delegated to each held post, in the same query (asked on every write).
    delegated = (
        select(func.array_agg(delegations.c.from_post))
        .where(delegations.c.to_post == posts.c.code, _active(delegations, on))
        .correlate(posts)
        .scalar_subquery()
    )
    rows = (
        session.execute(
            select(
                posts.c.code,
                posts.c.office_code,
                posts.c.designation_en,
                posts.c.designation_hi,
                posts.c.roles,
                postings.c.charge,
                delegated.label("delegated_posts"),
            )
            .join(postings, postings.c.post_code == posts.c.code)
            .where(postings.c.employee_id == employee_id, _active(postings, on))
            .order_by(postings.c.charge.desc(), posts.c.code)
        )
        .mappings()
        .all()
    )
    return [
        {**row, "roles": list(row["roles"]), "delegated_posts": sorted(row["delegated_posts"] or [])} for row in rows
    ]


def supervisors(session: Session, post_code: str) -> list[str]:
    """Returns the chain of posts above a post, nearest first."""
    chain, current = [], post(session, post_code)["supervisor_code"]
    while current and current not in chain:
        chain.append(current)
        current = session.execute(select(posts.c.supervisor_code).where(posts.c.code == current)).scalar()
    return chain


def actor_for(session: Session, employee_id: str, post_code: str | None) -> Actor:
    """Returns the Actor for a user acting as one of their posts (their first regular post when
    none is named); raises NotHolderOfPost if they do not hold it today."""
    held = posts_of(session, employee_id)
    if not held:
        raise NotHolderOfPost("you hold no post today")
    chosen = next((p for p in held if p["code"] == post_code), None) if post_code else held[0]
    if chosen is None:
        raise NotHolderOfPost(f"you do not hold {post_code} today; you hold {', '.join(p['code'] for p in held)}")
    return Actor(
        user_id=employee_id,
        post_id=chosen["code"],
        office_id=chosen["office_code"],
        roles=frozenset(chosen["roles"]),
        delegated_posts=frozenset(chosen["delegated_posts"]),
    )


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hasher.hash("not anyone's password")


def authenticate(session: Session, email: str, password: str, *, client: str = "", now: datetime | None = None) -> dict:
    """Checks a password; returns the user. Counts wrong passwords per e-mail and client
    address, and after LOCK_AFTER_FAILURES of them refuses that address for that e-mail for
    LOCK_FOR (other addresses still sign in: a lock nobody else can trigger); every attempt is
    logged with its address. Raises InvalidCredentials or AccountLocked. An unknown e-mail is
    answered like a known one with a wrong password, after the same argon2 work and with the
    same lockout, so neither the answer nor its timing tells whether an account exists. The
    caller commits even when this raises, so that failures are counted."""
    now = now or datetime.now(UTC)
    email, client = email.strip().lower(), client[:64]

    def log(outcome: str):
        session.execute(sign_in_log.insert().values(email=email, outcome=outcome, client=client))

    pair = and_(sign_in_failures.c.email == email, sign_in_failures.c.client == client)
    locked_until = session.execute(select(sign_in_failures.c.locked_until).where(pair)).scalar()
    if locked_until and locked_until > now:
        log("locked")
        raise AccountLocked(f"locked for this address until {locked_until.isoformat(timespec='minutes')}")
    user = session.execute(select(users).where(users.c.email == email)).mappings().first()
    known = user is not None and user["active"] and bool(user["password_hash"])
    # A password is verified even for an unknown e-mail, so the answer takes as long.
    verified = _verify(user["password_hash"] if user is not None and known else _dummy_hash(), password)
    if user is None or not (verified and known):
        counted = insert(sign_in_failures).values(email=email, client=client, failures=1)
        failures = session.execute(
            counted.on_conflict_do_update(
                index_elements=[sign_in_failures.c.email, sign_in_failures.c.client],
                set_={"failures": sign_in_failures.c.failures + 1, "locked_until": None},
            ).returning(sign_in_failures.c.failures)
        ).scalar_one()
        log("bad_password" if known else "unknown")
        if failures >= LOCK_AFTER_FAILURES:
            locked = now + LOCK_FOR
            session.execute(sign_in_failures.update().where(pair).values(failures=0, locked_until=locked))
            raise AccountLocked(f"locked for this address until {locked.isoformat(timespec='minutes')}")
        raise InvalidCredentials()
    session.execute(delete(sign_in_failures).where(pair))
    log("ok")
    return {k: user[k] for k in ("employee_id", "name_en", "name_hi", "email")}


def _verify(password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        return False


# Who may see and change what. Offices are grouped into jurisdictions (a department, a head of
# department office or a district); people see their own jurisdiction, office admins change it,
# system admins see and change everything. Anything outside is "not found", not "forbidden",
# so that guessing codes reveals nothing.


def actor_jurisdiction(session: Session, actor: Actor) -> str:
    return jurisdiction(session, office(session, actor.acting_office())["path"])


def find_posts(session: Session, actor: Actor, *, text: str, limit: int) -> list[dict]:
    """Returns up to `limit` posts the actor may see whose marking code or designation (English
    or Hindi) contains `text` (case-folded), codes that start with it first, each with its
    office's names and its holders today. The post picker of the web client types into this."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")  # typed, not patterns
    needle = "%" + escaped + "%"
    query = (
        select(posts, offices.c.name_en.label("office_name_en"), offices.c.name_hi.label("office_name_hi"))
        .join(offices, offices.c.code == posts.c.office_code)
        .where(
            or_(posts.c.code.ilike(needle), posts.c.designation_en.ilike(needle), posts.c.designation_hi.ilike(needle))
        )
        .order_by(~posts.c.code.ilike(escaped + "%"), posts.c.code)
        .limit(limit)
    )
    if not actor.has_role("system_admin"):
        root = actor_jurisdiction(session, actor)
        query = query.where(or_(offices.c.path == root, offices.c.path.startswith(root + "/")))
    return [
        {**row, "roles": list(row["roles"]), "holders": holders(session, row["code"])}
        for row in session.execute(query).mappings()
    ]


def require_visible(session: Session, actor: Actor, office_path: str, *, what: str) -> None:
    if actor.has_role("system_admin"):
        return
    if not is_under(office_path, actor_jurisdiction(session, actor)):
        raise NotFound(f"no {what}")


def post_in_reach(session: Session, actor: Actor, code: str, *, field: str) -> dict:
    """Returns the post `code` that a request names in `field`, if the actor may see it; raises
    InvalidInput "no post X" naming the field, word for word alike for an unknown post and one
    outside the actor's jurisdiction (as a send answers), so that guessing codes reveals nothing."""
    try:
        found = post(session, code)
        require_visible(session, actor, found["office_path"], what=f"post {code}")
    except NotFound:
        raise InvalidInput(f"no post {code}", field=field) from None
    return found


def check_delegation(session: Session, actor: Actor, *, from_post: str, to_post: str, end: date) -> None:
    """Raises unless the actor may hand `from_post`'s work to `to_post` until `end`: both posts
    in reach (`post_in_reach`: InvalidInput naming the field), the actor an admin over
    `from_post` (Forbidden), and the period not over (InvalidInput at `end_date`)."""
    source = post_in_reach(session, actor, from_post, field="from_post")
    require_admin(session, actor, source["office_path"], what=f"post {from_post}")
    post_in_reach(session, actor, to_post, field="to_post")
    if end < today():
        raise InvalidInput(
            f"end_date {end} is past (today is {today()}): the period is over, so there is nothing to hand over",
            field="end_date",
        )


def require_admin(session: Session, actor: Actor, office_path: str, *, what: str) -> None:
    require_visible(session, actor, office_path, what=what)
    if not (actor.has_role("system_admin") or actor.has_role("office_admin")):
        raise Forbidden("only an office admin or the system admin may change the organisation")


def require_user_visible(session: Session, actor: Actor, employee_id: str) -> None:
    """Raises InvalidInput "no user", exactly as for an unknown one, unless the user exists and
    the actor may see them: the system admin sees everyone; others see the users who hold a post
    in their jurisdiction today, and those who hold none (awaiting posting, e.g. on transfer: the
    old office ends their posting, the new one posts them)."""
    found = session.execute(select(users.c.employee_id).where(users.c.employee_id == employee_id)).first() is not None
    if found and not actor.has_role("system_admin"):
        posted_in = (
            session.execute(
                select(offices.c.path)
                .join(posts, posts.c.office_code == offices.c.code)
                .join(postings, postings.c.post_code == posts.c.code)
                .where(postings.c.employee_id == employee_id, _active(postings, today()))
            )
            .scalars()
            .all()
        )
        own = actor_jurisdiction(session, actor)
        found = not posted_in or any(is_under(path, own) for path in posted_in)
    if not found:
        raise InvalidInput(f"no user {employee_id}", field="employee_id")


def hand_over(session: Session, actor: Actor, post_code: str, *, employee_id: str, start: date) -> dict:
    """Ends the post's current regular posting the day before `start` and posts the user to it
    from `start`. Pending work belongs to the post, so it is the new holder's from then on. The
    user must be one the actor may see (`require_user_visible`); the caller checks the post.
    `start` may not be after today (the office day): a hand-over is recorded on the day the new
    holder takes charge, or later. One dated ahead (a mistyped year) could not be corrected, as
    every later hand-over is refused until the posting it made has started."""
    require_user_visible(session, actor, employee_id)
    if start > today():
        raise InvalidInput(
            f"start_date {start} is after today ({today()}): a post is handed over on the day its new holder "
            "takes charge, or after it, not ahead",
            field="start_date",
        )
    current = (
        session.execute(
            select(postings).where(
                postings.c.post_code == post_code,
                postings.c.charge == "regular",
                or_(postings.c.end_date.is_(None), postings.c.end_date >= start),
            )
        )
        .mappings()
        .all()
    )
    previous = []
    for row in current:
        if row["employee_id"] == employee_id:
            raise InvalidInput(f"{employee_id} already holds {post_code}", field="employee_id")
        if row["start_date"] >= start:
            raise InvalidInput(
                f"the current posting starts on {row['start_date']}; hand over after it", field="start_date"
            )
        session.execute(postings.update().where(postings.c.id == row["id"]).values(end_date=start - timedelta(days=1)))
        previous.append(row["employee_id"])
    session.execute(
        postings.insert().values(employee_id=employee_id, post_code=post_code, start_date=start, charge="regular")
    )
    return {
        "post_code": post_code,
        "employee_id": employee_id,
        "start_date": start.isoformat(),
        "previous_holders": previous,
    }
