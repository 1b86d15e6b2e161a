"""The demo organisation in tests: reading its files, signing in as whoever holds a post, and a
gateway (in-process) over real services with the demo loaded."""
from __future__ import annotations

import uuid
from contextlib import ExitStack, contextmanager
from datetime import date, timedelta

from fastapi.testclient import TestClient

from eoffice.db import make_engine
from eoffice.programs import program
from eoffice.rpc import RpcPool
from eoffice.workdays import day_off
from services.directory import load
from services.directory.demo import holder_email  # shared with deploy/bench
from services.directory.demo import rows as demo
from services.directory.models import sign_in_failures
from services.gateway.app import create_app
from tests.support.system import SpreadClient, gunicorn_gateways, service_process, stop_all, wait_until

PASSWORD = load.DEMO_PASSWORD


def post_with_role(role: str, office_prefix: str = "") -> str:
    return next(p["code"] for p in demo("posts") if role in p["roles"].split(";")
                and p["office_code"].startswith(office_prefix) and any(
                    q["post_code"] == p["code"] and not q["end_date"] for q in demo("postings")))


def sign_in(api, post_code: str, act_as: str | None = None) -> dict:
    response = api.post("/api/v1/auth/sign-in", json={"email": holder_email(post_code), "password": PASSWORD,
                                                      "post_code": act_as or post_code})
    assert response.status_code == 200, response.text
    return response.json()


def auth(tokens: dict) -> dict:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def in_district(office_code: str, district: str) -> bool:
    parents = {o["code"]: o["parent_code"] for o in demo("offices")}
    while office_code:
        if office_code == district:
            return True
        office_code = parents.get(office_code)
    return False


def held_post(role: str, district: str | None, last: bool = False) -> str:
    """A post with `role`, held today, in `district` (anywhere when None): the first such post
    in the demo files, or the last."""
    held = {p["post_code"] for p in demo("postings") if not p["end_date"]}
    found = [p["code"] for p in demo("posts") if role in p["roles"].split(";") and p["code"] in held
             and (district is None or in_district(p["office_code"], district))]
    return found[-1] if last else found[0]


def days_off(api, post_code: str, start: date) -> dict[date, str]:
    """The days from `start` (included) to a year after it that are no working day of the post's
    office, by the calendar the directory gives, each with why ("a Sunday, a weekly day off",
    "a holiday")."""
    calendar = api.app.state.rpc.call("directory", "calendars_of_posts", [post_code])[post_code]
    off, holidays = frozenset(calendar["weekly_off"]), frozenset(date.fromisoformat(d) for d in calendar["holidays"])
    days = (start + timedelta(days=n) for n in range(366))
    return {day: why for day in days if (why := day_off(day, off, holidays))}


def working_day(api, post_code: str, start: date) -> date:
    """The first working day of the post's office on or after `start`."""
    off = days_off(api, post_code, start)
    return next(start + timedelta(days=n) for n in range(366) if start + timedelta(days=n) not in off)


@contextmanager
def demo_gateway(settings, services: tuple[str, ...] = ("directory",)):
    """Yields a gateway test client over the named real services, with the demo loaded and
    no lockout left (other suites may have locked accounts with wrong passwords). The gateway
    runs in-process; with several gateway instances (deploy/programs, EOFFICE_INSTANCES) it is
    that many gunicorn gateways instead, the client sending each request to the next one."""
    report = load.load(load.DEMO, PASSWORD)
    assert report.rejected == []
    engine = make_engine(settings.database_url, pool_size=1)
    with engine.begin() as conn:
        conn.execute(sign_in_failures.delete())
    engine.dispose()
    procs = [service_process(name).start() for name in services]
    try:
        with ExitStack() as stack:
            gateways = program("gateway").instances
            client = stack.enter_context(SpreadClient(stack.enter_context(gunicorn_gateways(gateways))) if gateways > 1
                                         else TestClient(create_app()))
            wait_until(lambda: client.post("/api/v1/auth/sign-in",
                                           json={"email": "x@y.in", "password": "x"}).status_code == 401,
                       60, "directory answering")
            # Every service consuming its queue before the first test asks it (a call that
            # comes first is refused by the broker: no queue yet).
            pool = RpcPool(settings.amqp_uri)
            stack.callback(pool.close)
            wait_until(lambda: all(pool.call(name, "ping") for name in services), 60, "every service answering")
            client.services = dict(zip(services, procs, strict=True))  # tests may stop and start them
            yield client
    finally:
        stop_all(procs)


def file_held_by(api, headers: dict, post_code: str) -> str:
    """Opens a file held by `post_code` (signed in as `headers`) and returns its id; the
    office admin of the post's office first adds the subject head it is opened under."""
    office = next(p["office_code"] for p in demo("posts") if p["code"] == post_code)
    head = api.post(f"/api/v1/offices/{office}/subject-heads", headers=auth(sign_in(api, _admin_over(office))),
                    json={"code": "1", "title": "General"})
    assert head.status_code == 201, head.text
    made = api.post("/api/v1/files", headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
                    json={"subject_head": "1", "subject": "Correspondence on the matter"})
    assert made.status_code == 201, made.text
    return made.json()["id"]


def _admin_over(office_code: str) -> str:
    """An office admin over `office_code`: one in that office, in an office beside it, or in
    one above it (an admin administers their whole department or district)."""
    admins = {p["office_code"]: p["code"] for p in demo("posts") if "office_admin" in p["roles"]}
    parents = {o["code"]: o["parent_code"] for o in demo("offices")}
    code = office_code
    while code:
        if code in admins:
            return admins[code]
        siblings = [admin for office, admin in admins.items() if parents.get(office) == parents.get(code)]
        if siblings:
            return siblings[0]
        code = parents.get(code)
    raise AssertionError(f"no office admin above {office_code}")


def every_page(api, path: str, headers: dict, **params) -> list[dict]:
    """Every page of a list, following `next_cursor` until it is null; fails on an error answer
    or on a list that never ends (more than 1000 pages)."""
    pages, cursor = [], None
    for _ in range(1000):
        answer = api.get(path, headers=headers, params={**params, **({"cursor": cursor} if cursor else {})})
        assert answer.status_code == 200, answer.text
        pages.append(answer.json())
        if not (cursor := pages[-1]["next_cursor"]):
            return pages
    raise AssertionError(f"{path} had more than 1000 pages")


def every_item(api, path: str, headers: dict, **params) -> list[dict]:
    """The items of every page of a list, in order."""
    return [item for page in every_page(api, path, headers, **params) for item in page["items"]]
