"""The gateway's security headers, its docs page, its token secret and whose address it counts,
with no infrastructure (issue 10: findings 3, 4 and 13)."""
from __future__ import annotations

import re

import pytest
from fastapi import Request
from fastapi.testclient import TestClient

from eoffice.settings import MissingSecret, get_settings
from services.gateway import limits
from services.gateway.app import create_app

SECRET = "s" * 32


@pytest.fixture
def environment(monkeypatch):
    """Sets EOFFICE_* variables for one test; the settings are read afresh before and after."""
    def set_(**values):
        for name, value in values.items():
            monkeypatch.setenv(f"EOFFICE_{name.upper()}", value)
        get_settings.cache_clear()
    monkeypatch.setenv("EOFFICE_TOKEN_SECRET", SECRET)
    get_settings.cache_clear()
    yield set_
    get_settings.cache_clear()


def app_with_probe():
    app = create_app()

    @app.get("/api/v1/probe/client")
    def client_seen(request: Request):
        return {"client": limits.client_address(request), "scheme": request.url.scheme}
    return app


def test_every_answer_carries_the_security_headers_and_no_server(environment):
    client = TestClient(app_with_probe())
    for response in (client.get("/api/v1/health/live"), client.get("/api/v1/no-such-thing")):
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["cache-control"] == "no-store"
        csp = dict(part.strip().split(" ", 1) for part in headers["content-security-policy"].split(";"))
        assert csp["default-src"] == "'self'" and csp["script-src"] == "'self'"
        assert csp["frame-ancestors"] == "'none'"
        assert "strict-transport-security" not in headers  # plain http: HSTS means nothing there
        assert "server" not in headers


def test_hsts_only_over_tls(environment):
    over_tls = TestClient(app_with_probe(), base_url="https://testserver").get("/api/v1/health/live")
    assert over_tls.headers["strict-transport-security"].startswith("max-age=31536000")


def test_the_docs_page_loads_nothing_from_elsewhere_and_runs_no_inline_script(environment):
    client = TestClient(create_app())
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    sources = re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', page.text)
    assert sources and all(source.startswith("/api/v1/docs/") for source in sources)
    assert re.findall(r"<script[^>]*>([^<]*)</script>", page.text) == ["", ""]  # each only a src
    script_src = re.search(r"script-src ([^;]+)", page.headers["content-security-policy"]).group(1)
    assert script_src == "'self'"
    for source in sources:
        asset = client.get(source)
        assert asset.status_code == 200 and len(asset.content) > 100, source
    bundle = client.get("/api/v1/docs/swagger-ui-bundle.js")
    assert bundle.headers["content-type"].startswith("text/javascript") and b"SwaggerUIBundle" in bundle.content
    assert client.get("/api/v1/docs/index.html").status_code == 404  # only the files the page uses


def test_docs_can_be_switched_off(environment):
    environment(api_docs="false")
    client = TestClient(create_app())
    assert client.get("/api/v1/docs").status_code == 404
    assert client.get("/api/v1/docs/swagger-ui-bundle.js").status_code == 404


@pytest.mark.parametrize("secret", [None, "", "change-me", "x" * 31])
def test_the_gateway_refuses_to_start_without_a_strong_token_secret(environment, monkeypatch, secret):
    if secret is None:
        monkeypatch.delenv("EOFFICE_TOKEN_SECRET")
    else:
        monkeypatch.setenv("EOFFICE_TOKEN_SECRET", secret)
    get_settings.cache_clear()
    with pytest.raises(MissingSecret, match="EOFFICE_TOKEN_SECRET .*at least 32"):
        with TestClient(create_app()):
            pass


def test_a_forwarded_address_counts_only_from_a_trusted_proxy(environment):
    forged = {"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https"}
    direct = TestClient(app_with_probe(), client=("203.0.113.5", 4000)).get("/api/v1/probe/client", headers=forged)
    assert direct.json() == {"client": "203.0.113.5", "scheme": "http"}

    environment(trusted_proxies="10.0.0.1")
    proxied = TestClient(app_with_probe(), client=("10.0.0.1", 4000)).get("/api/v1/probe/client", headers=forged)
    assert proxied.json() == {"client": "198.51.100.7", "scheme": "https"}
    assert proxied.headers["strict-transport-security"]
    stranger = TestClient(app_with_probe(), client=("10.0.0.2", 4000)).get("/api/v1/probe/client", headers=forged)
    assert stranger.json()["client"] == "10.0.0.2"


def test_an_ipv6_client_counts_by_its_64_block(environment):
    seen = TestClient(app_with_probe(), client=("2001:db8:1:2:aaaa::1", 4000)).get("/api/v1/probe/client")
    assert seen.json()["client"] == "2001:db8:1:2::/64"


def test_a_malformed_rate_limit_is_refused_at_start(environment):
    environment(rate_tracking_client="lots")
    with pytest.raises(ValueError, match="COUNT/SECONDS"):
        get_settings()
