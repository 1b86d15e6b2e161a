"""Organisation imports as jobs, through the gateway, against the real directory service,
RabbitMQ and PostgreSQL: the system admin starts one and follows it to its report; a file
that cannot be imported is refused at once and nothing changes; a job whose service is killed
mid-way ends as failed, with nothing of it stored."""
from __future__ import annotations

import random
import signal
import time
import uuid
from datetime import date, timedelta

import pytest

from tests.support.demo import auth, demo, demo_gateway, post_with_role, sign_in
from tests.support.system import wait_until

pytestmark = pytest.mark.live
JOBS = "/api/v1/directory/import-jobs"
OFFICE = demo("offices")[-1]["code"]  # a section: its holidays are in no other office's calendar


@pytest.fixture(scope="module")
def api(migrated):
    with demo_gateway(migrated) as client:
        yield client


@pytest.fixture(scope="module")
def admin(api):
    return auth(sign_in(api, "SYSADM-GAD-IT"))


def start(api, headers: dict, files: dict, key: str | None = None):
    return api.post(JOBS, headers={**headers, "Idempotency-Key": key or uuid.uuid4().hex}, json={"files": files})


# Enough rows that the job is seen part-way, and can be killed part-way: the importer writes
# 10,000 to 60,000 rows a second (in batches), and shows its progress every PROGRESS_EVERY (0.5 s).
ROWS, CRASH_ROWS = 60_000, 80_000


def holidays(count: int) -> tuple[date, dict]:
    """Files of `count` holidays in a row for the demo's last office, from a day far ahead (no
    calendar in use is touched, and they are new in every run), and of a post of an office
    that does not exist: (the first holiday, files). Offices stay as the demo has them."""
    first = date(2200, 1, 1) + timedelta(days=random.randrange(2_500_000))  # up to the year 9264
    days = (first + timedelta(days=n) for n in range(count))
    return first, {
        "holidays": "office_code,date,name_en,name_hi\n" + "".join(f"{OFFICE},{d},Test holiday,परीक्षण अवकाश\n"
                                                                    for d in days),
        "posts": "code,office_code,designation_en,designation_hi,supervisor_code,roles\n"
                 f"GHOST-{uuid.uuid4().hex[:8]},NO-SUCH-OFFICE,Clerk,लिपिक,,section_staff\n",
    }


def free_holidays(api, headers: dict, count: int) -> tuple[date, dict]:
    """`holidays(count)` whose first days no earlier import made holidays: a test that checks
    that those days are still working days after a refused or failed import must not start on
    an earlier run's (a 60,000-day import covers 2% of the range)."""
    for _ in range(20):
        first, files = holidays(count)
        if working_days(api, headers, first) > 0:
            return first, files
    raise AssertionError("no free days found in 20 draws")


def working_days(api, headers: dict, first: date, days: int = 10) -> int:
    """Working days of the office in the `days` after `first`, by its calendar."""
    answer = api.get(f"/api/v1/offices/{OFFICE}/working-days", headers=headers,
                     params={"start": first.isoformat(), "end": (first + timedelta(days=days)).isoformat()})
    assert answer.status_code == 200, answer.text
    return answer.json()["working_days"]


def follow(api, headers: dict, location: str, timeout: float = 120) -> tuple[dict, list[dict]]:
    """Polls the job until it is done or failed; returns the last answer and every one seen."""
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = api.get(location, headers=headers)
        assert answer.status_code == 200, answer.text
        seen.append(answer.json())
        if seen[-1]["state"] in ("done", "failed"):
            return seen[-1], seen
        time.sleep(0.1)
    raise AssertionError(f"the job is still {seen[-1]['state']} after {timeout}s: {seen[-1]}")


def done_rows(job: dict) -> int:
    return sum(stage["rows_done"] for stage in job["stages"])


def test_an_import_job_shows_its_progress_then_its_report(api, admin):
    first, files = free_holidays(api, admin, ROWS)
    started = start(api, admin, files)
    assert started.status_code == 202, started.text
    job = started.json()
    assert started.headers["location"] == f"{JOBS}/{job['id']}"
    totals = [(s["file"], s["rows_total"]) for s in job["stages"]]
    assert job["state"] in ("queued", "running") and totals == [("holidays", ROWS), ("posts", 1)]

    last, seen = follow(api, admin, started.headers["location"])
    running = [answer for answer in seen if answer["state"] == "running"]
    assert running, f"never seen running: {[answer['state'] for answer in seen]}"
    assert all([(s["file"], s["rows_total"]) for s in answer["stages"]] == totals for answer in seen)
    progress = [done_rows(answer) for answer in seen]
    assert progress == sorted(progress), f"rows done went backwards: {progress}"
    assert any(0 < done_rows(answer) < ROWS + 1 for answer in running), f"no progress seen part-way: {progress}"

    assert last["state"] == "done" and last["error"] is None, last
    assert [(s["file"], s["rows_done"]) for s in last["stages"]] == [("holidays", ROWS), ("posts", 1)]
    report = last["report"]
    assert report["created"]["holidays"] == ROWS and report["created"]["posts"] == 0
    assert [(r["file"], r["row"]) for r in report["rejected"]] == [("posts", 2)]
    assert "NO-SUCH-OFFICE is not a known office" in report["rejected"][0]["reason"]
    assert working_days(api, admin, first) == 0

    # The same files again change nothing.
    again = start(api, admin, files)
    assert again.status_code == 202, again.text
    last, _ = follow(api, admin, again.headers["location"])
    assert sum(last["report"]["created"].values()) == 0 and last["report"]["unchanged"]["holidays"] == ROWS


def test_a_file_that_cannot_be_imported_is_refused_and_nothing_changes(api, admin):
    office = f"T{uuid.uuid4().hex[:8].upper()}"
    first, files = free_holidays(api, admin, 5)
    files["offices"] = f"code,parent_code,level,name_en,name_hi,weekly_off\n{office},GAD,section,Test,परीक्षण,SUN\n"
    files["posts"] = "code,office_code,designation_en,supervisor_code,roles\n" + files["posts"].split("\n", 1)[1]
    refused = start(api, admin, {**files, "transfers": "a,b\n1,2\n"})
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["type"] == "urn:eoffice:problem:invalid-input"
    named = {(e["field"], e["file"], e.get("column")) for e in problem["errors"]}
    assert named == {("files.posts", "posts", "designation_hi"), ("files.transfers", "transfers", None)}, problem
    assert "row 1" in problem["detail"]
    assert api.get(f"/api/v1/offices/{office}", headers=admin).status_code == 404
    assert working_days(api, admin, first, days=5) > 0
    assert start(api, admin, {}).status_code == 422


def test_only_the_system_admin_starts_and_follows_imports(api, admin):
    office_admin = auth(sign_in(api, post_with_role("office_admin", "DIST-LKO")))
    _, files = holidays(1)
    assert start(api, office_admin, files).status_code == 403
    key = uuid.uuid4().hex
    first, second = start(api, admin, files, key), start(api, admin, files, key)
    assert first.status_code == second.status_code == 202 and first.json()["id"] == second.json()["id"]
    assert api.get(first.headers["location"], headers=office_admin).status_code == 403
    assert api.get(f"{JOBS}/{uuid.uuid4()}", headers=admin).status_code == 404
    follow(api, admin, first.headers["location"])


def test_a_job_interrupted_by_a_crash_fails_and_leaves_nothing(api, admin):
    first, files = free_holidays(api, admin, CRASH_ROWS)
    started = start(api, admin, files)
    assert started.status_code == 202, started.text

    def under_way():
        job = api.get(started.headers["location"], headers=admin).json()
        assert job["state"] in ("queued", "running"), job
        return job["state"] == "running" and done_rows(job) > 0
    wait_until(under_way, 60, "the import under way", interval=0.05)
    directory = api.services["directory"]
    directory.stop(signal.SIGKILL)
    directory.start()
    wait_until(lambda: api.get(started.headers["location"], headers=admin).status_code == 200, 60,
               "the directory service back")
    last, _ = follow(api, admin, started.headers["location"], timeout=90)
    assert last["state"] == "failed" and "nothing was changed" in last["error"] and last["report"] is None, last
    assert working_days(api, admin, first) > 0
