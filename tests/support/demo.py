"""The demo organisation in tests: reading its files, signing in as whoever holds a post, and a
gateway (in-process) over real services with the demo loaded."""
from __future__ import annotations

import csv
from contextlib import contextmanager

from fastapi.testclient import TestClient

from eoffice.db import make_engine
from services.directory import load
from services.directory.models import users
from services.gateway.app import create_app
from tests.support.system import service_process, wait_until

PASSWORD = load.DEMO_PASSWORD


def demo(name: str) -> list[dict]:
    with open(load.DEMO / f"{name}.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def holder_email(post_code: str) -> str:
    """The demo e-mail of whoever holds a post today, from the demo files themselves."""
    emails = {u["employee_id"]: u["email"] for u in demo("users")}
    return next(emails[p["employee_id"]] for p in demo("postings")
                if p["post_code"] == post_code and not p["end_date"])


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



@contextmanager
def demo_gateway(settings, services: tuple[str, ...] = ("directory",)):
    """Yields a gateway test client over the named real services, with the demo loaded and
    every account unlocked (other suites may have locked some with wrong passwords)."""
    report = load.load(load.DEMO, PASSWORD)
    assert report.rejected == []
    engine = make_engine(settings.database_url, pool_size=1)
    with engine.begin() as conn:
        conn.execute(users.update().values(failed_sign_ins=0, locked_until=None))
    engine.dispose()
    procs = [service_process(name).start() for name in services]
    try:
        with TestClient(create_app()) as client:
            wait_until(lambda: client.post("/api/v1/auth/sign-in", json={"email": "x@y.in", "password": "x"}).status_code == 401,
                       60, "directory answering")
            yield client
    finally:
        for proc in procs:
            proc.stop()
