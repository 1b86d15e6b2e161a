"""The web client in headless Chromium (Debian's package, driven by Playwright for Python; never
`playwright install`) against a real gunicorn gateway over the real services, with the demo
organisation loaded. One browser for the whole session; each test gets a fresh context (its
own storage), with CSP bypassed only so that axe-core can be injected."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import httpx
import pytest

from services.directory import load
from services.directory.demo import holder_email
from services.signing.esign import StandinEsp
from tests.support.esp import EspPages
from tests.support.system import LOG_DIR, gunicorn_gateway, service_process, wait_until

SCREENS = LOG_DIR / "screens"
DESKTOP, PHONE = {"width": 1280, "height": 800}, {"width": 390, "height": 844}
FIGURES: dict[str, object] = {}
NOTIFY_ENV = {"EOFFICE_WEBHOOK_ALLOW_LOOPBACK": "true", "EOFFICE_WEBHOOK_RETRY_BASE": "0.2",
              "EOFFICE_WEBHOOK_RETRY_CAP": "1", "EOFFICE_WEBHOOK_RETRY_FOR": "4", "EOFFICE_WEBHOOK_TIMEOUT": "5"}


@pytest.fixture(scope="package")
def esp(request):
    """The stand-in eSign provider's pages (tests/support/esp.py), signing with the test PKI's
    eSign key; None when EOFFICE_WEB_URL names a system started elsewhere."""
    if os.environ.get("EOFFICE_WEB_URL"):
        yield None
        return
    pki = request.getfixturevalue("pki")
    pages = EspPages(StandinEsp(key_path=str(pki.key_path("esign-officer")),
                                cert_path=str(pki.material.cert_path("esign-officer")), chain=[])).start()
    yield pages
    pages.stop()


@pytest.fixture(scope="package")
def web(request, esp):
    """The gateway's root URL (http://127.0.0.1:PORT) over directory, dak, its OCR worker, files,
    notify, search and signing, stopped when the browser tests are done: services of the same
    names left running would take later tests' messages (they share the test vhost).
    EOFFICE_WEB_URL names one already running (with the demo loaded) instead, to change the client
    and run the tests again without waiting for the services to start."""
    if os.environ.get("EOFFICE_WEB_URL"):
        yield os.environ["EOFFICE_WEB_URL"]
        return
    request.getfixturevalue("migrated")
    pki, softhsm = request.getfixturevalue("pki"), request.getfixturevalue("softhsm")
    assert load.load(load.DEMO, load.DEMO_PASSWORD).rejected == []
    names = ("directory", "dak", "dak_ocr", "files", "search")
    services = [service_process(name).start() for name in names]
    # Portal deliveries to a loopback receiver, given up after seconds rather than days, so the
    # admin's subscriptions screen shows dead letters within the test.
    services.append(service_process("notify", env=NOTIFY_ENV).start())
    # Signing with the office's key on the test token, timestamps and revocation from the test PKI.
    # Aadhaar eSign through the stand-in provider's pages: the signing service names it in each
    # request, the gateway lets the page's form go there (its CSP).
    esign = {"EOFFICE_SIGNING_ESIGN_URL": esp.url}
    services.append(service_process("signing", env={**pki.signing_env(), **softhsm.service_env(), **esign}).start())
    try:
        with gunicorn_gateway(esign) as url:
            esp.gateway = url.removesuffix("/api/v1")
            wait_until(lambda: httpx.post(f"{url}/auth/sign-in", json={"email": "a@b.in", "password": "x"})
                       .status_code == 401, 60, "the directory answering")
            yield url.removesuffix("/api/v1")
    finally:
        for service in services:
            service.stop()


@pytest.fixture(scope="session", autouse=True)
def figures_file():
    """Writes the speed figures the tests measured to log/tests/screens/figures.json at the end
    (and clears the failure pictures of an earlier run at the start)."""
    for stale in SCREENS.glob("FAILED-*.png"):
        stale.unlink()
    yield
    if FIGURES:
        SCREENS.mkdir(parents=True, exist_ok=True)
        (SCREENS / "figures.json").write_text(json.dumps(FIGURES, indent=2, ensure_ascii=False))


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=os.environ.get("EOFFICE_CHROMIUM", "/usr/bin/chromium"))
        yield chromium
        chromium.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if call.when == "call":
        item.failed_call = outcome.get_result().failed


@pytest.fixture
def page(request, browser, web):
    context = browser.new_context(base_url=web, viewport=DESKTOP, bypass_csp=True, locale="en-IN",
                                  timezone_id="Asia/Kolkata")
    context.set_default_timeout(15000)
    tab = context.new_page()
    yield tab
    if getattr(request.node, "failed_call", False):  # what the browser showed when the test failed
        tab.screenshot(path=str(screens_dir() / f"FAILED-{request.node.name}.png"), full_page=True)
    context.close()


def api_token(web: str, post_code: str) -> dict:
    """Authorization headers of a fresh API session for whoever holds `post_code`."""
    response = httpx.post(f"{web}/api/v1/auth/sign-in", json={"email": holder_email(post_code),
                                                              "password": load.DEMO_PASSWORD, "post_code": post_code})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def timed(page, action, screen: str) -> float:
    """Runs `action` (a navigation or click) and returns the milliseconds until `screen` is drawn."""
    page.evaluate("delete document.body.dataset.ready")
    started = time.perf_counter()
    action()
    page.wait_for_function(f"document.body.dataset.ready === {json.dumps(screen)}")
    return (time.perf_counter() - started) * 1000


def figure(name: str, value) -> None:
    FIGURES[name] = value


def screens_dir() -> Path:
    SCREENS.mkdir(parents=True, exist_ok=True)
    return SCREENS
