"""The directory and sign-in through the gateway, on the demo organisation, against the real
directory service, RabbitMQ and PostgreSQL."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import jwt
import pytest

from services.directory import importer, load
from tests.support.demo import PASSWORD, auth, demo, demo_gateway, held_post, holder_email, post_with_role, sign_in
from tests.support.system import LOG_DIR, wait_until

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def api(migrated):
    with demo_gateway(migrated) as client:
        yield client
def test_importing_the_same_organisation_again_changes_nothing(api):
    again = load.load(load.DEMO, PASSWORD)
    assert sum(again.created.values()) == 0 and sum(again.changed.values()) == 0
    assert again.unchanged["posts"] == len(demo("posts")) and again.rejected == []


def test_bad_rows_are_rejected_with_row_and_reason_and_change_nothing(api):
    admin = sign_in(api, "SYSADM-GAD-IT")
    office = demo("offices")[-1]["code"]
    posts_csv = ("code,office_code,designation_en,designation_hi,supervisor_code,roles\n"
                 f"NEW-OK-{uuid.uuid4().hex[:6]},{office},Clerk,लिपिक,,section_staff\n"
                 "BAD ROLE,GAD,Clerk,लिपिक,,chief_wizard\n"
                 "GHOST-1,NO-SUCH-OFFICE,Clerk,लिपिक,,section_staff\n")
    users_csv = "employee_id,name_en,name_hi,email,mobile\nUPX1,A B,ए बी,not-an-email,9876543210\n"
    response = api.post("/api/v1/directory/import", headers=auth(admin),
                        json={"files": {"posts": posts_csv, "users": users_csv}})
    assert response.status_code == 200, response.text
    report = response.json()
    reasons = {(r["file"], r["row"]): r["reason"] for r in report["rejected"]}
    assert "has characters other than" in reasons[("posts", 3)]
    assert "office_code NO-SUCH-OFFICE is not a known office" in reasons[("posts", 4)]
    assert "is not an e-mail address" in reasons[("users", 2)]
    assert report["created"]["posts"] == 1 and report["created"]["users"] == 0
    assert api.get("/api/v1/posts/GHOST-1", headers=auth(admin)).status_code == 404


def test_an_import_creates_changes_and_refuses_row_by_row(api):
    """What the importer decides for each row, in order: a post supervised by one made earlier
    in the same file, a user whose e-mail is someone else's, a posting of the new user; then the
    same rows changed. The report counts each, and the directory shows the result."""
    admin = auth(sign_in(api, "SYSADM-GAD-IT"))
    tag, office, taken = uuid.uuid4().hex[:6].upper(), demo("offices")[-1]["code"], demo("users")[0]["email"]
    heads = {name: ",".join(columns) + "\n" for name, columns in importer.COLUMNS.items()}

    def run(**files) -> dict:
        answer = api.post("/api/v1/directory/import", headers=admin,
                          json={"files": {name: heads[name] + text for name, text in files.items()}})
        assert answer.status_code == 200, answer.text
        return answer.json()

    first = run(posts=f"SUP-{tag},{office},Officer,अधिकारी,,officer\nDH-{tag},{office},Clerk,लिपिक,SUP-{tag},"
                      "section_staff\n",
                users=f"E{tag},Test One,टेस्ट एक,one.{tag}@up.gov.in,9876543210\n"
                      f"F{tag},Test Two,टेस्ट दो,{taken},9876543211\n",
                postings=f"E{tag},DH-{tag},2026-01-01,,regular\n")
    assert (first["created"]["posts"], first["created"]["users"], first["created"]["postings"]) == (2, 1, 1)
    assert [(r["file"], r["row"]) for r in first["rejected"]] == [("users", 3)]
    assert "already belongs to" in first["rejected"][0]["reason"]

    second = run(posts=f"DH-{tag},{office},Senior Clerk,वरिष्ठ लिपिक,SUP-{tag},section_staff\n",
                 users=f"E{tag},Test One,टेस्ट एक,first.{tag}@up.gov.in,9876543210\n"
                       f"G{tag},Test Three,टेस्ट तीन,one.{tag}@up.gov.in,9876543212\n")
    assert second["changed"]["posts"] == 1 and second["changed"]["users"] == 1 and second["created"]["users"] == 1
    assert second["rejected"] == []  # the old address was free again once E changed it
    post = api.get(f"/api/v1/posts/DH-{tag}", headers=admin).json()
    assert post["designation_en"] == "Senior Clerk" and post["supervisor_code"] == f"SUP-{tag}"
    assert [h["employee_id"] for h in post["holders"]] == [f"E{tag}"]


def test_sign_in_as_each_role_and_act_as_one_of_two_posts(api):
    for role in ("system_admin", "office_admin", "dak_clerk", "section_staff", "officer", "supervisor"):
        tokens = sign_in(api, post_with_role(role))
        assert role in tokens["roles"]
    two_posts = {}
    for posting in demo("postings"):
        if not posting["end_date"]:
            two_posts.setdefault(posting["employee_id"], []).append((posting["charge"], posting["post_code"]))
    regular, additional = next(sorted(v, reverse=True) and (dict(v)["regular"], dict(v)["additional"])
                               for v in two_posts.values() if len(v) == 2)
    tokens = sign_in(api, regular, act_as=additional)
    assert tokens["acting_as"] == additional
    me = api.get("/api/v1/auth/me", headers=auth(tokens)).json()
    assert me["acting_as"] == additional and {p["code"] for p in me["posts"]} == {regular, additional}
    switched = api.post("/api/v1/auth/act-as", headers=auth(tokens), json={"post_code": regular}).json()
    assert switched["acting_as"] == regular
    assert api.get("/api/v1/auth/me", headers=auth(tokens)).status_code == 401  # the old session ended


def test_refresh_rotates_and_a_reused_refresh_token_ends_the_session(api):
    first = sign_in(api, post_with_role("officer"))
    second = api.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200 and second.json()["refresh_token"] != first["refresh_token"]
    replay = api.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401 and "already used" in replay.json()["detail"]
    assert api.get("/api/v1/auth/me", headers=auth(second.json())).status_code == 401


def test_sign_out_revokes_the_access_token(api):
    tokens = sign_in(api, post_with_role("section_staff"))
    assert api.get("/api/v1/auth/me", headers=auth(tokens)).status_code == 200
    assert api.post("/api/v1/auth/sign-out", headers=auth(tokens)).status_code == 204
    gone = api.get("/api/v1/auth/me", headers=auth(tokens))
    assert gone.status_code == 401 and gone.json()["type"] == "urn:eoffice:problem:not-signed-in"


def test_tampered_and_expired_tokens_are_refused(api, settings):
    tokens = sign_in(api, post_with_role("dak_clerk", "LKO"))
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    claims["act"]["roles"] = ["system_admin"]
    forged = jwt.encode(claims, "guessed-secret", algorithm="HS256")
    assert api.get("/api/v1/offices", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    claims["exp"] = datetime.now(UTC) - timedelta(minutes=1)
    expired = jwt.encode(claims, settings.token_secret, algorithm="HS256")
    response = api.get("/api/v1/offices", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401 and "expired" in response.json()["detail"]


def test_repeated_failures_lock_the_account(api):
    email = holder_email(post_with_role("section_staff", "SPR"))
    for _ in range(4):
        assert api.post("/api/v1/auth/sign-in", json={"email": email, "password": "wrong"}).status_code == 401
    assert api.post("/api/v1/auth/sign-in", json={"email": email, "password": "wrong"}).status_code == 423
    locked = api.post("/api/v1/auth/sign-in", json={"email": email, "password": PASSWORD})
    assert locked.status_code == 423 and locked.json()["type"] == "urn:eoffice:problem:account-locked"


def test_what_each_role_may_see_and_change(api):
    lko_clerk = auth(sign_in(api, post_with_role("dak_clerk", "LKO")))
    lko_admin = auth(sign_in(api, post_with_role("office_admin", "DIST-LKO")))
    system = auth(sign_in(api, "SYSADM-GAD-IT"))
    spr_post = post_with_role("section_staff", "SPR")
    lko_post = post_with_role("section_staff", "LKO")

    # Another district's post is "not found" to a clerk and to an office admin, not "forbidden".
    assert api.get(f"/api/v1/posts/{spr_post}", headers=lko_clerk).status_code == 404
    assert api.get(f"/api/v1/posts/{spr_post}", headers=lko_admin).status_code == 404
    assert api.get(f"/api/v1/posts/{spr_post}", headers=system).status_code == 200
    assert api.get(f"/api/v1/posts/{lko_post}", headers=lko_clerk).status_code == 200
    assert api.get("/api/v1/offices/GAD", headers=lko_clerk).status_code == 404
    seen = {o["code"] for o in api.get("/api/v1/offices?limit=200", headers=lko_clerk).json()["items"]}
    assert "DIST-LKO" in seen and not any(code.startswith(("GAD", "DIST-SPR", "SPR")) for code in seen)

    assert api.post("/api/v1/directory/import", headers=lko_admin, json={"files": {}}).status_code == 403
    body = {"employee_id": "UP000001", "start_date": "2026-12-01"}
    key = {"Idempotency-Key": uuid.uuid4().hex}
    assert api.post(f"/api/v1/posts/{lko_post}/hand-over", headers={**lko_clerk, **key}, json=body).status_code == 403
    assert api.post(f"/api/v1/posts/{spr_post}/hand-over", headers={**lko_admin, **key}, json=body).status_code == 404


def test_handing_a_post_over_moves_it_to_the_new_holder(api):
    post = post_with_role("section_staff", "LKO")
    old_email = holder_email(post)
    newcomer = next(u for u in demo("users") if not any(p["employee_id"] == u["employee_id"] and not p["end_date"]
                                                        for p in demo("postings")))
    admin = auth(sign_in(api, post_with_role("office_admin", "DIST-LKO")))
    today = datetime.now(timezone(timedelta(hours=5, minutes=30))).date()
    key = {"Idempotency-Key": uuid.uuid4().hex}
    body = {"employee_id": newcomer["employee_id"], "start_date": today.isoformat()}
    done = api.post(f"/api/v1/posts/{post}/hand-over", headers={**admin, **key}, json=body)
    assert done.status_code == 200, done.text
    again = api.post(f"/api/v1/posts/{post}/hand-over", headers={**admin, **key}, json=body)
    assert again.status_code == 200 and again.json() == done.json()  # the retry is answered as the first call

    holders = api.get(f"/api/v1/posts/{post}", headers=admin).json()["holders"]
    assert [h["employee_id"] for h in holders] == [newcomer["employee_id"]]
    new = api.post("/api/v1/auth/sign-in", json={"email": newcomer["email"], "password": PASSWORD, "post_code": post})
    assert new.status_code == 200 and new.json()["acting_as"] == post
    old = api.post("/api/v1/auth/sign-in", json={"email": old_email, "password": PASSWORD, "post_code": post})
    assert old.status_code == 403 and old.json()["type"] == "urn:eoffice:problem:not-holder-of-post"


def test_an_office_admin_cannot_hand_a_post_to_someone_of_another_district(api):
    admin = auth(sign_in(api, held_post("office_admin", "DIST-LKO")))
    system = auth(sign_in(api, "SYSADM-GAD-IT"))
    post = held_post("officer", "DIST-LKO")
    sitapur_post = held_post("section_staff", "DIST-SPR")
    outsider = next(p for p in demo("postings") if p["post_code"] == sitapur_post and not p["end_date"])
    holders = api.get(f"/api/v1/posts/{post}", headers=system).json()["holders"]
    today = datetime.now(timezone(timedelta(hours=5, minutes=30))).date().isoformat()

    def hand_to(employee_id: str):
        return api.post(f"/api/v1/posts/{post}/hand-over", headers={**admin, "Idempotency-Key": uuid.uuid4().hex},
                        json={"employee_id": employee_id, "start_date": today})
    refused, unknown = hand_to(outsider["employee_id"]), hand_to("UP-NOBODY")
    # Refused as if no such person existed: the admin learns nothing of Sitapur's staff.
    assert refused.status_code == unknown.status_code == 422, refused.text
    assert refused.json()["field"] == unknown.json()["field"] == "employee_id"
    assert refused.json()["detail"] == unknown.json()["detail"].replace("UP-NOBODY", outsider["employee_id"])
    assert api.get(f"/api/v1/posts/{post}", headers=system).json()["holders"] == holders
    email = next(u["email"] for u in demo("users") if u["employee_id"] == outsider["employee_id"])
    not_theirs = api.post("/api/v1/auth/sign-in", json={"email": email, "password": PASSWORD, "post_code": post})
    assert not_theirs.status_code == 403, not_theirs.text


def test_unknown_post_and_bad_cursor_are_clear_errors(api):
    headers = auth(sign_in(api, "SYSADM-GAD-IT"))
    missing = api.get("/api/v1/posts/NO-SUCH-POST", headers=headers)
    assert missing.status_code == 404 and "NO-SUCH-POST" in missing.json()["detail"]
    assert api.get("/api/v1/offices?cursor=%%%", headers=headers).status_code == 422
    tampered = api.get("/api/v1/offices?cursor=AA", headers=headers)  # decodes to a NUL
    assert tampered.status_code == 422 and tampered.json()["field"] == "cursor", tampered.text


def test_pages_walk_every_office_once(api):
    headers = auth(sign_in(api, "SYSADM-GAD-IT"))

    def walk(limit: int) -> list[str]:
        seen, cursor = [], None
        while True:
            response = api.get("/api/v1/offices", headers=headers,
                               params={"limit": limit, **({"cursor": cursor} if cursor else {})})
            body = response.json()
            seen += [o["code"] for o in body["items"]]
            cursor = body["next_cursor"]
            if cursor is None:
                return seen

    # Other tests may have imported offices of their own: the walk is checked against the demo's
    # offices and against a walk in pages of another size, not against the demo's list alone.
    small, large = walk(7), walk(50)
    assert len(small) == len(set(small)) and len(large) == len(set(large))
    assert sorted(small) == sorted(large)
    assert {o["code"] for o in demo("offices")} <= set(small)


def test_working_days_follow_the_office_calendar_and_state_holidays(api):
    headers = auth(sign_in(api, post_with_role("office_admin", "DIST-LKO")))
    state_holiday = next(h["date"] for h in demo("holidays") if h["office_code"] == "UP")
    day = datetime.fromisoformat(state_holiday).date()
    around = {"start": (day - timedelta(days=1)).isoformat(), "end": (day + timedelta(days=1)).isoformat()}
    result = api.get("/api/v1/offices/DIST-LKO/working-days", headers=headers, params=around).json()
    # Two calendar days after the start, one a state holiday; Sunday is the district's day off.
    expected = sum(1 for d in (day, day + timedelta(days=1)) if d != day and d.weekday() != 6)
    assert result["working_days"] == expected
    assert api.get("/api/v1/offices/DIST-SPR/working-days", headers=headers, params=around).status_code == 404
    backwards = api.get("/api/v1/offices/DIST-LKO/working-days", headers=headers,
                        params={"start": around["end"], "end": around["start"]})
    assert backwards.status_code == 422 and "end is before start" in backwards.json()["detail"]


def test_request_id_reaches_the_directory_log(api):
    request_id = f"trace-{uuid.uuid4().hex[:12]}"
    api.post("/api/v1/auth/sign-in", headers={"X-Request-ID": request_id},
             json={"email": "nobody@up.gov.in", "password": "x"})
    log = LOG_DIR / "directory.log"
    wait_until(lambda: f"[{request_id}] eoffice.calls: directory.authenticate refused: InvalidCredentials"
               in log.read_text(), 10, "the call logged with its request id")


ROLES = ["system_admin", "office_admin", "dak_clerk", "section_staff", "officer", "supervisor"]
# What each role may do in the directory, for Lucknow's posts (its own district, except for the
# system admin who sits in the secretariat) and for Sitapur's (another district).
MAY = {
    #               read own, read other, import, hand over, delegate
    "system_admin": (True, True, True, True, True),
    "office_admin": (True, False, False, True, True),
    "dak_clerk": (True, False, False, False, False),
    "section_staff": (True, False, False, False, False),
    "officer": (True, False, False, False, False),
    "supervisor": (True, False, False, False, False),
}


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(api, role):
    read_own, read_other, may_import, may_hand_over, may_delegate = MAY[role]
    headers = auth(sign_in(api, held_post(role, None if role == "system_admin" else "DIST-LKO")))
    own, other = held_post("section_staff", "DIST-LKO"), held_post("section_staff", "DIST-SPR")
    own_officer = held_post("officer", "DIST-LKO")

    def key():
        return {"Idempotency-Key": uuid.uuid4().hex}
    system = auth(sign_in(api, "SYSADM-GAD-IT"))
    holders_before = api.get(f"/api/v1/posts/{own}", headers=system).json()["holders"]

    assert api.get(f"/api/v1/posts/{own}", headers=headers).status_code == (200 if read_own else 404)
    assert api.get(f"/api/v1/posts/{other}", headers=headers).status_code == (200 if read_other else 404)
    imported = api.post("/api/v1/directory/import", headers=headers, json={"files": {}})
    assert imported.status_code == (200 if may_import else 403)
    # Past the authority check, an unknown person is refused as bad input and nothing changes.
    handed = api.post(f"/api/v1/posts/{own}/hand-over", headers={**headers, **key()},
                      json={"employee_id": "UP-NOBODY", "start_date": "2031-01-01"})
    assert handed.status_code == (422 if may_hand_over else 403), handed.text
    delegated = api.post("/api/v1/delegations", headers={**headers, **key()},
                         json={"from_post": own, "to_post": own_officer, "start_date": "2031-01-01",
                               "end_date": "2031-01-10", "reason": f"matrix {role}"})
    assert delegated.status_code == (201 if may_delegate else 403), delegated.text
    assert api.get(f"/api/v1/posts/{own}", headers=system).json()["holders"] == holders_before


def _office_today():
    return datetime.now(timezone(timedelta(hours=5, minutes=30))).date()


def test_a_hand_over_dated_ahead_is_refused_naming_start_date_and_changes_nothing(api):
    """A hand-over is recorded on the day the new holder takes charge. One dated ahead (a year
    mistyped, 2062 for 2026) used to be taken, and then nothing corrected it: every later
    hand-over of the post was refused until that day ("the current posting starts on ...")."""
    post = held_post("section_staff", "DIST-LKO", last=True)
    admin = auth(sign_in(api, held_post("office_admin", "DIST-LKO")))
    system = auth(sign_in(api, "SYSADM-GAD-IT"))
    newcomer = [u for u in demo("users") if not any(p["employee_id"] == u["employee_id"] and not p["end_date"]
                                                    for p in demo("postings"))][-2]["employee_id"]
    # (the last one unposted is test_security's newcomer, handed a post in another district)
    today = _office_today()
    holders = api.get(f"/api/v1/posts/{post}", headers=system).json()["holders"]

    def hand_over(start) -> dict:
        return api.post(f"/api/v1/posts/{post}/hand-over", headers={**admin, "Idempotency-Key": uuid.uuid4().hex},
                        json={"employee_id": newcomer, "start_date": start.isoformat()})
    for ahead in (today + timedelta(days=1), today + timedelta(days=36 * 365)):
        refused = hand_over(ahead)
        assert refused.status_code == 422, refused.text
        assert [e["field"] for e in refused.json()["errors"]] == ["start_date"], refused.text
        assert api.get(f"/api/v1/posts/{post}", headers=system).json()["holders"] == holders
    done = hand_over(today)  # the post is still free to be handed over today
    assert done.status_code == 200, done.text
    assert [h["employee_id"] for h in api.get(f"/api/v1/posts/{post}", headers=system).json()["holders"]] == [newcomer]


def test_a_delegation_with_a_bad_post_or_period_is_refused_naming_the_field(api):
    """Each bad part of a delegation is a 422 naming its field, and nothing is recorded: a post
    unknown, or of another district (said word for word as an unknown one, as a send says it),
    the post itself as its delegate, an end before the start, a period over already."""
    admin = auth(sign_in(api, held_post("office_admin", "DIST-LKO")))
    own, officer = held_post("section_staff", "DIST-LKO"), held_post("officer", "DIST-LKO", last=True)
    sitapur = held_post("section_staff", "DIST-SPR")
    today = _office_today()
    holders = api.get(f"/api/v1/posts/{own}", headers=admin).json()["holders"]
    good = {"from_post": own, "to_post": officer, "start_date": today.isoformat(), "end_date": today.isoformat(),
            "reason": "leave"}
    cases = [
        ({"from_post": "NO-SUCH-POST"}, "from_post"),
        ({"from_post": sitapur}, "from_post"),
        ({"to_post": "NO-SUCH-POST"}, "to_post"),
        ({"to_post": sitapur}, "to_post"),
        ({"to_post": own}, "to_post"),
        ({"end_date": (today - timedelta(days=1)).isoformat()}, "end_date"),
        ({"start_date": "1900-12-02", "end_date": "1900-12-05"}, "end_date"),
    ]
    answers = {}
    for change, field in cases:
        refused = api.post("/api/v1/delegations", headers={**admin, "Idempotency-Key": uuid.uuid4().hex},
                           json={**good, **change})
        assert refused.status_code == 422, (change, refused.text)
        assert [e["field"] for e in refused.json()["errors"]] in ([field], [f"body.{field}"]), (change, refused.text)
        answers[str(change)] = refused.json()["detail"]
    assert answers[str({"to_post": sitapur})] == answers[str({"to_post": "NO-SUCH-POST"})].replace(
        "NO-SUCH-POST", sitapur)
    assert answers[str({"from_post": sitapur})] == answers[str({"from_post": "NO-SUCH-POST"})].replace(
        "NO-SUCH-POST", sitapur)
    assert api.get(f"/api/v1/posts/{own}", headers=admin).json()["holders"] == holders
