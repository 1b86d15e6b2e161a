"""What the web client needs from the API beyond what mobile apps had: the post picker
(`GET /posts?q=`), and the client itself served by the gateway under a strict CSP."""
from __future__ import annotations

import html
import re

import pytest

from services.gateway.headers import WEB_CSP, web_csp
from tests.support.demo import auth, demo_gateway, sign_in

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def api(migrated):
    with demo_gateway(migrated, ("directory",)) as client:
        yield client


@pytest.fixture(scope="module")
def clerk(api):
    return auth(sign_in(api, "DAKCLK1-GAD"))


def codes(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [p["code"] for p in response.json()]


def test_the_post_picker_finds_posts_by_code_or_designation_in_hindi_or_english(api, clerk):
    by_code = codes(api.get("/api/v1/posts", params={"q": "so(est"}, headers=clerk))
    assert by_code[0] == "SO(EST)-GAD"
    by_hindi = api.get("/api/v1/posts", params={"q": "अनुभाग अधिकारी (अधिष्ठान"}, headers=clerk).json()
    assert [p["code"] for p in by_hindi] == ["SO(EST)-GAD"]
    found = by_hindi[0]
    assert found["designation_en"] == "Section Officer (Establishment)" and found["office_code"] == "GAD-EST"
    assert found["holders"] and found["holders"][0]["name_hi"]
    assert "SO(EST)-GAD" in codes(api.get("/api/v1/posts", params={"q": "Section Officer (Est"}, headers=clerk))
    # Typed characters are text, not patterns: "%" finds only codes that contain one (none).
    assert codes(api.get("/api/v1/posts", params={"q": "%"}, headers=clerk)) == []
    assert len(codes(api.get("/api/v1/posts", params={"q": "o", "limit": 5}, headers=clerk))) == 5


def test_the_post_picker_shows_only_the_callers_jurisdiction(api, clerk):
    # A GAD clerk does not see Lucknow's district posts, nor does an unknown caller see anything.
    assert codes(api.get("/api/v1/posts", params={"q": "DM-LKO"}, headers=clerk)) == []
    lucknow = auth(sign_in(api, "DAKCLK1-LKO"))
    # Codes that start with what was typed come first (EOADM-LKO also contains it).
    assert codes(api.get("/api/v1/posts", params={"q": "DM-LKO"}, headers=lucknow))[0] == "DM-LKO"
    assert api.get("/api/v1/posts", params={"q": "DM"}).status_code == 401
    assert api.get("/api/v1/posts", params={"q": ""}, headers=clerk).status_code == 422


def test_the_post_picker_is_in_the_openapi_document(api):
    spec = api.get("/api/v1/openapi.json").json()
    assert set(spec["paths"]["/api/v1/posts"]) == {"get"}
    assert {p["name"] for p in spec["paths"]["/api/v1/posts"]["get"]["parameters"]} == {"q", "limit"}


def test_the_web_client_is_served_with_a_strict_csp_and_no_inline_script(api):
    for path in ("/", "/track"):
        page = api.get(path)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
        # Every script is a file of ours: no inline code, no other origin.
        assert re.findall(r"<script[^>]*>", page.text) == ['<script type="module" src="/web/js/app.js">']
        assert "http" not in page.text.split("<body>")[0].replace('http-equiv', '')
    app = api.get("/web/js/app.js")
    assert app.status_code == 200 and app.headers["content-type"].startswith("text/javascript")
    assert api.get("/web/../app.py").status_code == 404
    assert api.get("/web/%2e%2e/web.py").status_code == 404
    assert api.get("/web/js/nothing.js").status_code == 404


def test_the_esign_providers_answer_comes_back_to_the_page_as_data_not_markup(api):
    # The provider form-posts its answer to /esign/return; the page carries it for the client
    # (which hands it in with the session), escaped: it cannot become markup or script.
    answer = '<EsignResp txn="x" status="0"/>"><script>alert(1)</script>'
    page = api.post("/esign/return", data={"eSignResponse": answer})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert re.findall(r"<script[^>]*>", page.text) == ['<script type="module" src="/web/js/app.js">']
    carried = re.search(r'<meta name="esign-response" content="([^"]*)">', page.text)
    assert carried and html.unescape(carried.group(1)) == answer
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert api.post("/esign/return", data={}).status_code == 422
    assert api.get("/esign/return").status_code == 200  # a reload: the page, no answer


def test_the_page_may_post_only_to_the_configured_esign_provider():
    assert "form-action 'self' https://esp.example.gov.in;" in web_csp("https://esp.example.gov.in/esign/2.1")
    assert web_csp("") == web_csp("standin") == WEB_CSP and "form-action 'self';" in WEB_CSP
