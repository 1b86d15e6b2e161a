"""The web client driven as people use it, in headless Chromium: a clerk diarises a scanned
Hindi letter and marks it; an officer opens it and opens a file with it, notes, drafts and sends
the file up three levels; the top officer approves the draft; the citizen's page shows the
letter's status; a supervisor sees the file in the reports. On every screen axe-core finds no
serious or critical violation, and screenshots in Hindi and English at desktop and phone widths
go to log/tests/screens/. Speed is measured and written to log/tests/screens/figures.json."""
from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import quote

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from services.directory import load
from services.directory.demo import holder_email
from tests.browser.conftest import DESKTOP, PHONE, api_token, figure, screens_dir, timed
from tests.support import scans as fixtures
from tests.support.demo import demo, every_item
from tests.support.pki import OFFICER2_TOKEN, OFFICER_PIN, OFFICER_TOKEN, register_certificate
from tests.support.system import REPO, wait_until
from tests.support.webhook_receiver import Receiver

pytestmark = [pytest.mark.live, pytest.mark.browser]
TODAY = datetime.now(timezone(timedelta(hours=5, minutes=30))).date()
CLERK, SO, US, DS, JS, SECY = ("DAKCLK1-GAD", "SO(EST)-GAD", "US(EST)-GAD", "DS(EST)-GAD", "JS(GAD)", "SECY(GAD)")
AXE = Axe()
USABLE_MS = 1000  # a screen is usable within this after navigation, on the demo data


def check_screen(page, name: str, screen: str, languages: tuple[str, ...] = ("en", "hi")) -> None:
    """axe-core on the screen as drawn; then screenshots in each language, desktop and phone.
    Switching the language redraws the screen from the server, so a state that is not in the
    address (the acknowledgement after diarising) is taken in the language it was reached in."""
    settled = "!document.querySelector('[aria-busy=true]')"  # parts drawn after the screen is usable
    page.wait_for_function(settled)
    results = AXE.run(page, options={"resultTypes": ["violations"], "runOnly": ["wcag2a", "wcag2aa", "wcag21a",
                                                                                "wcag21aa", "best-practice"]})
    bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in results.response["violations"]
           if v["impact"] in ("serious", "critical")]
    assert bad == [], f"{name}: {bad}"
    folder = screens_dir()
    for language in languages:
        if page.evaluate("document.documentElement.lang") != language:
            page.evaluate("delete document.body.dataset.ready")
            page.locator("header button.lang").click()
            page.wait_for_function(f"document.body.dataset.ready === '{screen}'")
            page.wait_for_function(settled)
        for width, size in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(size)
            page.screenshot(path=str(folder / f"{name}-{language}-{width}.png"), full_page=width == "desktop")
        page.set_viewport_size(DESKTOP)
    if page.evaluate("document.documentElement.lang") == "en":
        return
    page.evaluate("delete document.body.dataset.ready")
    page.locator("header button.lang").click()
    page.wait_for_function(f"document.body.dataset.ready === '{screen}'")


def sign_in(page, post_code: str, first_screen: str) -> float:
    page.get_by_label("Government e-mail").fill(holder_email(post_code))
    page.get_by_label("Password").fill(load.DEMO_PASSWORD)
    page.get_by_label("Post to act as (optional)").fill(post_code)
    return timed(page, lambda: page.get_by_role("button", name="Sign in").click(), first_screen)


def sign_out(page) -> None:
    page.evaluate("delete document.body.dataset.ready")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_function("document.body.dataset.ready === 'signin'")


def pick_post(page, label: str, typed: str, code: str) -> None:
    box = page.get_by_role("combobox", name=label)
    box.fill(typed)
    page.get_by_role("option", name=re.compile(re.escape(code))).first.wait_for()
    page.get_by_role("option", name=re.compile(re.escape(code))).first.click()
    expect_chip = page.locator(".chip", has_text=code)
    expect_chip.wait_for()


def new_file_opened(page, web, post_code: str, subject: str) -> dict:
    """A file `post_code` opens through the API (subject head 1); whoever holds the post signs in
    and opens its screen. Returns the file."""
    made = httpx.post(f"{web}/api/v1/files", headers={**api_token(web, post_code), "Idempotency-Key": uuid.uuid4().hex},
                      json={"subject_head": "1", "subject": subject})
    assert made.status_code == 201, made.text
    page.goto("/")
    page.wait_for_function("document.body.dataset.ready === 'signin'")
    sign_in(page, post_code, "inbox")
    timed(page, lambda: page.goto(f"/#/files/{made.json()['id']}"), "file")
    return made.json()


def open_in_inbox(page, text: str, tab: str = "Receipts") -> None:
    """On the inbox screen: waits for the item whose link says `text`."""
    if tab != "Receipts":
        page.get_by_role("tab", name=tab).click()
        page.get_by_role("status").filter(has_text=re.compile(r"\d+ items?")).wait_for()
    page.get_by_role("link", name=text).first.wait_for()


@pytest.fixture(scope="module")
def subject_head(web):
    """The establishment section's office has subject head 1 (its office admin adds it)."""
    office = next(p["office_code"] for p in demo("posts") if p["code"] == SO)
    admin = next(p["code"] for p in demo("posts")
                 if "office_admin" in p["roles"] and p["office_code"].startswith("GAD"))
    made = httpx.post(f"{web}/api/v1/offices/{office}/subject-heads", headers=api_token(web, admin),
                      json={"code": "1", "title": "General"})
    assert made.status_code == 201, made.text


def run_signer(command: list[str], access: str, softhsm, label: str) -> subprocess.CompletedProcess:
    """The command a signing page shows, run as on the officer's PC (the token's label given),
    with the token the page shows and the PIN typed."""
    args = command[3:]
    args[args.index("--token-label") + 1] = label
    env = {**os.environ, **softhsm.env(), "PYTHONPATH": str(REPO), "EOFFICE_ACCESS_TOKEN": access}
    return subprocess.run([sys.executable, "-m", "eoffice.signer", *args, "--pin-stdin"], input=OFFICER_PIN + "\n",
                          capture_output=True, text=True, timeout=120, cwd=REPO, env=env)


def register_own_certificate(page, pki, softhsm, label: str, token: str, screen: str) -> None:
    """Registers certificate `label` on the register form: the page asks the officer to prove they
    hold its key and shows the signer program's command for it; run with the token that holds the
    key, the registration goes through and the page draws `screen` again."""
    page.get_by_label(re.compile(r"^Certificate \(PEM")).fill(pki.cert_pem(label).decode())
    page.get_by_role("button", name="Register my certificate").click()
    page.get_by_text("you prove that you hold its key").wait_for()
    command = shlex.split(page.locator("code.command").inner_text())
    assert command[:3] == ["python", "-m", "eoffice.signer"], command
    page.evaluate("delete document.body.dataset.ready")
    proved = run_signer(command, page.locator("pre .secret").inner_text(), softhsm, token)
    assert proved.returncode == 0 and "Proving you hold the key" in proved.stderr, proved.stderr
    page.wait_for_function(f"document.body.dataset.ready === {screen!r}", timeout=30000)


def sign_note_with_own_token(page, web, pki, softhsm) -> None:
    """On the file screen, the officer signs their last green note with the certificate on their
    own USB token: registers the certificate (the first time), has the signature prepared, and
    runs the command the page shows, as on their PC: without the token it ends with status 3,
    which the page explains; with it, the page notices the signature and shows its check. The
    token the page hands the program is not the session's: it reaches nothing but this request."""
    timed(page, lambda: page.get_by_role("link", name="Sign with my USB token").click(), "sign")
    register_own_certificate(page, pki, softhsm, "officer", OFFICER_TOKEN, "sign")
    page.get_by_role("button", name="Prepare the signature").click()
    page.get_by_label("The token's label (shown by its utility)").fill(OFFICER_TOKEN)
    command = shlex.split(page.locator("code.command").inner_text())
    assert command[:3] == ["python", "-m", "eoffice.signer"], command
    assert command[command.index("--token-label") + 1] == OFFICER_TOKEN
    access = page.locator("pre .secret").inner_text()
    assert access != page.evaluate("JSON.parse(sessionStorage.getItem('eoffice.session')).access_token")
    assert httpx.get(f"{web}/api/v1/inbox", headers={"Authorization": f"Bearer {access}"}).status_code == 403

    def run(label: str) -> subprocess.CompletedProcess:
        return run_signer(command, access, softhsm, label)
    absent = run("no-such-token")
    assert absent.returncode == 3, absent.stderr
    assert "not connected" in page.locator("#exit-3").inner_text()
    check_screen(page, "sign", "sign")  # the prepared request survives the language's redraw
    signed = run(OFFICER_TOKEN)
    assert signed.returncode == 0, signed.stderr
    page.get_by_role("link", name="Verify the signature").wait_for(timeout=15000)
    timed(page, lambda: page.get_by_role("link", name="Verify the signature").click(), "verify")
    assert page.locator("dl.facts").get_attribute("data-valid") == "true"
    facts = page.locator("dl.facts").inner_text()
    assert "ANIL KUMAR VERMA" in facts and DS in facts and "No: exactly as signed" in facts, facts
    assert "e-Office Test CCA India 2022" in page.locator("ol.chain").inner_text()
    check_screen(page, "verify-note", "verify")


def sign_letter_with_own_token_then_esign(page, web, pki, softhsm) -> None:
    def addressee():
        page.get_by_label("Addressee").fill("रामलाल वर्मा")
        page.get_by_label("Address", exact=True).fill("ग्राम बख्शी का तालाब, लखनऊ")
    timed(page, lambda: page.get_by_role("link", name="Sign and issue as a letter").click(), "sign-letter")
    page.get_by_role("radio", name=re.compile("^My own DSC")).check()
    register_own_certificate(page, pki, softhsm, "officer2", OFFICER2_TOKEN, "sign-letter")
    assert page.get_by_role("radio", name=re.compile("^My own DSC")).is_checked()
    addressee()
    timed(page, lambda: page.get_by_role("button", name="Prepare the signature").click(), "sign-letter")
    number = re.search(r"D-\S+/\d{4}/\S+", page.get_by_text("is reserved for this letter").inner_text()).group(0)
    command = shlex.split(page.locator("code.command").inner_text())
    absent = run_signer(command, page.locator("pre .secret").inner_text(), softhsm, "no-such-token")
    assert absent.returncode == 3 and f"Signing letter {number}" in absent.stderr, absent.stderr
    assert "not connected" in page.locator("#exit-3").inner_text()
    check_screen(page, "sign-letter", "sign-letter")
    page.get_by_text("Give up this signature").first.click()
    page.get_by_label(re.compile("^Why")).fill("टोकन उपलब्ध नहीं; ई-साइन से")
    timed(page, lambda: page.get_by_role("button", name="Give up this signature").click(), "sign-letter")
    page.get_by_text(f"number {number} is marked cancelled").wait_for()

    page.get_by_role("radio", name=re.compile("^Aadhaar eSign")).check()
    addressee()
    timed(page, lambda: page.get_by_role("button", name="Prepare the signature").click(), "sign-letter")
    page.get_by_role("button", name="Continue to Aadhaar eSign").click()
    page.get_by_role("button", name="Refuse (OTP wrong)").click()
    page.wait_for_function("document.body.dataset.ready === 'sign-letter'", timeout=60000)
    assert "ESP-944" in page.get_by_role("alert").filter(has_text="did not sign").inner_text()
    page.get_by_role("button", name="Continue to Aadhaar eSign").click()
    page.get_by_role("button", name="Sign (OTP accepted)").click()
    page.wait_for_function("document.body.dataset.ready === 'sign-letter'", timeout=60000)
    issued = re.search(r"Letter (D-\S+/\d{4}/\S+) is issued", page.locator("main").inner_text())
    assert issued and issued.group(1) != number, page.locator("main").inner_text()
    office = number.rsplit("/", 1)[1]
    # The dispatch register of the file's office, as its section officer reads it.
    register = httpx.get(f"{web}/api/v1/offices/{office}/dispatch-register", headers=api_token(web, SO),
                         params={"year": number.split("/")[1]}).json()
    states = {e["letter_number"]: (e["state"], e["reason"]) for e in register}
    assert states[number][0] == "cancelled" and "ई-साइन" in states[number][1], states
    assert states[issued.group(1)][0] == "issued", states


def test_a_hindi_letter_goes_from_the_clerk_through_three_levels_to_approval(page, web, subject_head, pki, softhsm):
    speed: dict[str, float] = {}
    page.goto("/")
    page.wait_for_function("document.body.dataset.ready === 'signin'")
    check_screen(page, "signin", "signin")

    # The clerk diarises a scanned Hindi letter, keyboard first, and marks it.
    speed["sign_in"] = sign_in(page, CLERK, "diarise")  # reported; argon2 is slow on purpose
    timed(page, lambda: page.goto("/#/inbox"), "inbox")
    speed["diarise"] = timed(page, lambda: page.goto("/#/diarise"), "diarise")
    check_screen(page, "diarise", "diarise")
    page.get_by_label("Sender's name").focus()
    page.keyboard.press("Alt+2")  # scanned letter
    # Two documents: the letter (Hindi) and an enclosure (English).
    png = fixtures.as_bytes(fixtures.letter_image(fixtures.HINDI_LETTER), "PNG")
    enclosure = fixtures.as_bytes(fixtures.letter_image(fixtures.ENGLISH_LETTER), "PNG")
    page.set_input_files("input[name=scans]",
                         files=[{"name": "namantaran.png", "mimeType": "image/png", "buffer": png},
                                {"name": "enclosure.png", "mimeType": "image/png", "buffer": enclosure}])
    page.locator(".preview img").nth(1).wait_for()
    page.get_by_label("Sender's name").fill("रामलाल वर्मा")
    page.get_by_label("Subject").fill("भूमि नामांतरण हेतु आवेदन")
    page.get_by_label("Letter number").fill("RL/2026/17")
    # Dates are typed day first, as written in India, whatever the browser's locale.
    dated = page.get_by_label("Letter dated")
    assert dated.get_attribute("placeholder") == "DD/MM/YYYY" and dated.get_attribute("inputmode") == "numeric"
    hint = page.locator(f"#{dated.get_attribute('aria-describedby').split()[0]}")
    assert "day/month/year" in hint.inner_text().lower()
    assert page.get_by_label("Received on").input_value() == TODAY.strftime("%d/%m/%Y")
    letter_date = TODAY - timedelta(days=40)
    dated.fill(f"{letter_date.day}/{letter_date.month}/{letter_date.year}")
    page.get_by_label("Sender's name").focus()
    page.keyboard.press("Control+Enter")
    ack = page.locator(".ack")
    ack.wait_for()
    diary = ack.locator(".diary").inner_text()
    tracking = ack.locator(".tracking").inner_text()
    assert re.fullmatch(r"\d+/\d{4}/GAD-CR", diary), diary
    pick_post(page, "Mark to", "अनुभाग अधिकारी (अधिष्ठान", SO)
    check_screen(page, "acknowledgement", "diarise", languages=("en",))
    page.get_by_role("button", name="Mark", exact=True).click()
    page.get_by_text(f"Marked to: {SO}").wait_for()
    # It is in the clerk's sent list until the section officer opens it (pull back from there).
    timed(page, lambda: page.goto("/#/inbox"), "inbox")
    page.get_by_role("tab", name="Sent").click()
    page.get_by_role("link", name=diary).wait_for()
    check_screen(page, "sent", "inbox")
    sign_out(page)

    # The section officer is notified of it, and opens it from the inbox: scan and its text
    # side by side.
    sign_in(page, SO, "inbox")

    def notified():
        page.evaluate("delete document.body.dataset.ready")
        page.goto("/#/notifications") if "notifications" not in page.url else page.reload()
        page.wait_for_function("document.body.dataset.ready === 'notifications'")
        return page.get_by_role("link", name=diary).count() > 0
    wait_until(notified, 30, "the marking notified", interval=1)
    check_screen(page, "notifications", "notifications")
    page.get_by_role("button", name="Mark all read").click()
    page.get_by_text("0 unread").wait_for()
    expect(page.locator("#unread-badge")).to_have_count(0)  # the menu's count follows
    # ... and sets what reaches them, from the notifications screen: quiet hours need both ends.
    timed(page, lambda: page.get_by_role("link", name="Notification preferences").click(), "preferences")
    page.get_by_role("checkbox", name="something is pulled back").uncheck()
    page.get_by_role("checkbox", name="SMS").check()
    page.get_by_label("Quiet hours from").fill("20:00")
    page.get_by_role("button", name="Save", exact=True).click()
    page.locator(".form-problem").wait_for()
    page.get_by_label("Quiet hours until").fill("08:00")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_role("status").filter(has_text="Saved.").wait_for()
    prefs = httpx.get(f"{web}/api/v1/notifications/preferences", headers=api_token(web, SO)).json()
    assert "pulled_back" not in prefs["kinds"] and "arrived" in prefs["kinds"], prefs
    assert "sms" in prefs["channels"], prefs
    assert prefs["quiet_from"].startswith("20:00") and prefs["quiet_to"].startswith("08:00"), prefs
    check_screen(page, "preferences", "preferences")
    speed["inbox"] = timed(page, lambda: page.goto("/#/inbox"), "inbox")
    open_in_inbox(page, diary)
    check_screen(page, "inbox", "inbox")
    receipt_link = page.get_by_role("link", name=diary).first
    speed["receipt"] = timed(page, receipt_link.click, "receipt")

    def text_read():
        page.evaluate("delete document.body.dataset.ready")
        page.reload()
        page.wait_for_function("document.body.dataset.ready === 'receipt'")
        return "नामांतरण" in page.locator("pre.ocr").inner_text() if page.locator("pre.ocr").count() else False
    wait_until(text_read, 120, "the scan's text shown", interval=1)
    assert page.locator(".scan img").evaluate("img => img.complete && img.naturalWidth > 0")
    assert page.locator("pre.ocr").get_attribute("lang") == "hi"
    check_screen(page, "receipt", "receipt")
    receipt = httpx.get(f"{web}/api/v1/receipts/{page.url.rsplit('/', 1)[1]}", headers=api_token(web, SO)).json()
    assert receipt["letter_date"] == letter_date.isoformat(), receipt
    # The enclosure too: each document with the text read from it.
    documents = page.get_by_role("navigation", name="Documents of this receipt")
    assert documents.get_by_role("button").count() == 2

    def enclosure_read():
        documents.get_by_role("button", name=re.compile(r"^2\. ")).click()
        page.get_by_role("heading", name="Text read from the scan · Document 2 of 2").wait_for()
        text = page.locator("pre.ocr").inner_text() if page.locator("pre.ocr").count() else ""
        return re.search(r"encroach|Magistrate", text)
    wait_until(enclosure_read, 60, "the enclosure's text shown", interval=1)
    assert documents.get_by_role("button", name=re.compile(r"^2\. ")).get_attribute("aria-current") == "true"
    assert page.locator(".scan img").get_attribute("alt").endswith("enclosure.png")

    # ... opens a file with it, notes, drafts a reply and sends the file up.
    page.get_by_text("Open a file with it").first.click()
    page.get_by_label("Subject head").wait_for()
    page.evaluate("delete document.body.dataset.ready")
    page.get_by_role("button", name="Open a file with it").click()
    page.wait_for_function("document.body.dataset.ready === 'file'")
    file_number = page.locator("h1").inner_text().removeprefix("File ")
    assert re.search(r"/\d{4}-", file_number), file_number
    # The receipt goes in as page 1 when the files service takes dak's event: a moment later.
    def filed():
        if page.get_by_role("button", name="Refer to page 1").count():
            return True
        page.evaluate("delete document.body.dataset.ready")
        page.reload()
        page.wait_for_function("document.body.dataset.ready === 'file'")
    wait_until(filed, 30, "the receipt shown as page 1 of the file", interval=0.5)
    page.get_by_role("button", name="Refer to page 1").click()
    page.get_by_role("textbox", name="Note", exact=True).fill("प्रार्थी का नामांतरण आवेदन विचारार्थ प्रस्तुत है।")
    page.get_by_role("button", name="Add green note (final)").click()
    page.locator(".note.green", has_text="नामांतरण आवेदन").wait_for()
    page.get_by_text("Add draft").first.click()
    page.get_by_label("Title of the draft").fill("नामांतरण आदेश")
    page.get_by_label("Text of the draft").fill("प्रार्थी का नामांतरण स्वीकृत किया जाता है।")
    page.get_by_role("button", name="Add draft").click()
    page.locator(".draft", has_text="नामांतरण आदेश").wait_for()
    check_screen(page, "file", "file")
    speed["track"] = timed(page, lambda: page.get_by_role("link", name="Track").click(), "track")
    check_screen(page, "track", "track")
    page.go_back()
    page.wait_for_function("document.body.dataset.ready === 'file'")
    file_url = page.url

    def send_up(to_post: str, typed: str, due: str | None = None):
        page.get_by_text("Send", exact=True).first.click()
        pick_post(page, "Send", typed, to_post)
        page.get_by_label("Remarks").first.fill("कृपया अवलोकन करें")
        if due:
            page.locator("form[aria-label=Send]").get_by_label("Due date").fill(due)
        page.evaluate("delete document.body.dataset.ready")
        page.locator("form[aria-label=Send] button[type=submit]").click()
        page.wait_for_function("document.body.dataset.ready === 'inbox'")

    us_office = next(p["office_code"] for p in demo("posts") if p["code"] == US)
    due = datetime.fromisoformat(httpx.get(  # a working day of US's office: a due date on a day off is refused
        f"{web}/api/v1/offices/{us_office}/working-days", params={"start": TODAY, "end": TODAY},
        headers=api_token(web, US)).json()["due_in_7_working_days"]).date()
    send_up(US, US, due=due.strftime("%d/%m/%Y"))
    file_id = file_url.rsplit("/", 1)[1]
    assert httpx.get(f"{web}/api/v1/files/{file_id}", headers=api_token(web, US)).json()["due_date"] == due.isoformat()
    sent = httpx.get(f"{web}/api/v1/files/sent", headers=api_token(web, SO)).json()["items"]
    assert file_id in [f["id"] for f in sent] and all(f["holder_post"] != SO for f in sent)
    sign_out(page)

    # The under secretary notes, referring to note 1 by clicking it; the session ends while
    # the note is being written: the note is kept and sent after signing in again.
    sign_in(page, US, "inbox")
    speed["file"] = timed(page, lambda: page.goto(file_url), "file")
    page.get_by_role("button", name="Refer to note 1").click()
    page.get_by_role("textbox", name="Note", exact=True).fill("प्रस्ताव उचित प्रतीत होता है; अनुमोदनार्थ।")
    token = page.evaluate("JSON.parse(sessionStorage.getItem('eoffice.session')).access_token")
    assert httpx.post(f"{web}/api/v1/auth/sign-out", headers={"Authorization": f"Bearer {token}",
                                                              "Idempotency-Key": uuid.uuid4().hex}).status_code == 204
    page.evaluate("delete document.body.dataset.ready")
    page.get_by_role("button", name="Add green note (final)").click()
    page.wait_for_function("document.body.dataset.ready === 'signin'")
    assert "unsaved work is kept" in page.locator("main").inner_text()
    page.get_by_label("Password").fill(load.DEMO_PASSWORD)
    page.get_by_label("Post to act as (optional)").fill(US)
    page.evaluate("delete document.body.dataset.ready")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_function("document.body.dataset.ready === 'file'")
    kept = page.locator(".note.green", has_text="अनुमोदनार्थ")
    kept.wait_for()
    assert "Note #1" in kept.inner_text() or "#1" in kept.locator(".refs").inner_text()
    send_up(DS, DS)
    sign_out(page)

    # The deputy secretary revises the draft: the difference between versions is visible.
    sign_in(page, DS, "inbox")
    timed(page, lambda: page.goto(file_url), "file")
    page.get_by_text("Save a new version").first.click()
    page.locator("form.revise textarea").fill("प्रार्थी का भूमि नामांतरण नियमानुसार स्वीकृत किया जाता है।")
    page.evaluate("delete document.body.dataset.ready")
    page.locator("form.revise button[type=submit]").click()
    page.wait_for_function("document.body.dataset.ready === 'file'")
    assert "भूमि" in page.locator(".diff ins").first.inner_text() or page.locator(".diff ins").count() > 0
    page.get_by_role("textbox", name="Note", exact=True).fill("मसौदा संशोधित; अनुमोदनार्थ प्रस्तुत।")
    page.get_by_role("button", name="Add green note (final)").click()
    page.locator(".note.green", has_text="मसौदा संशोधित").wait_for()
    sign_note_with_own_token(page, web, pki, softhsm)
    timed(page, lambda: page.goto(file_url), "file")
    assert page.get_by_role("link", name="Signed: verify the signature").count() == 1
    send_up(JS, "संयुक्त सचिव, सामान्य")
    sign_out(page)

    # The joint secretary, three levels up, approves the draft.
    sign_in(page, JS, "inbox")
    timed(page, lambda: page.goto(file_url), "file")
    page.evaluate("delete document.body.dataset.ready")
    page.get_by_role("button", name="Approve this version").click()
    page.wait_for_function("document.body.dataset.ready === 'file'")
    page.get_by_text(f"Approved by {JS}").wait_for()
    # ... and signs it as a letter to the citizen: first with their own DSC, whose USB token is
    # not plugged in (the page says what the signer program's status 3 means), so they give
    # that signature up (its number is cancelled in the dispatch register) and sign with Aadhaar
    # eSign instead: the provider refuses once (a wrong OTP), then signs.
    sign_letter_with_own_token_then_esign(page, web, pki, softhsm)
    timed(page, lambda: page.get_by_role("link", name="Back to the file").click(), "file")
    letter = page.locator(".letters li").first
    letter.wait_for()
    assert "नामांतरण आदेश" in letter.inner_text() and "signed by" in letter.inner_text()
    def letter_filed():  # the files service adds the signed PDF to the correspondence from the event
        if page.locator(".items li", has_text="नामांतरण आदेश").get_by_role("button", name="Download").count():
            return True
        page.evaluate("delete document.body.dataset.ready")
        page.reload()
        page.wait_for_function("document.body.dataset.ready === 'file'")
    wait_until(letter_filed, 30, "the issued letter in the correspondence", interval=0.5)
    with page.expect_download() as download:
        page.locator(".items li", has_text="नामांतरण आदेश").get_by_role("button", name="Download").click()
    assert open(download.value.path(), "rb").read(5) == b"%PDF-"
    check_screen(page, "file-issued", "file")
    # Anyone who may see the file checks the letter's signature: who, when, the chain, unchanged.
    verify = page.locator(".letters li").first.get_by_role("link", name=re.compile("^Verify"))
    timed(page, verify.click, "verify")
    assert "No: exactly as signed" in page.locator("dl.facts").inner_text()
    assert page.locator("ol.chain li").count() >= 2
    check_screen(page, "verify-letter", "verify")
    timed(page, lambda: page.goto(file_url), "file")
    track = httpx.get(f"{web}/api/v1/files/{file_id}/track", headers=api_token(web, JS)).json()
    assert [s["post"] for s in track["stays"]] == [SO, US, DS, JS]
    sign_out(page)

    # The citizen's page, without signing in.
    speed["public"] = timed(page, lambda: page.goto(f"/track?code={tracking}"), "public")
    assert page.locator("[data-status]").get_attribute("data-status") == "under_process"
    check_screen(page, "public", "public")

    # The supervisor sees the file pending with the joint secretary in the reports.
    page.goto("/")
    page.wait_for_function("document.body.dataset.ready === 'signin'")
    sign_in(page, SECY, "inbox")
    speed["reports"] = timed(page, lambda: page.goto("/#/reports"), "reports")
    assert page.locator("svg.chart").count() >= 1
    assert page.get_by_role("link", name=JS).count() >= 1
    check_screen(page, "reports", "reports")
    page.get_by_role("link", name=JS).first.focus()  # the chart's bar, drilled into by keyboard
    page.keyboard.press("Enter")
    page.get_by_role("heading", name=re.compile(re.escape(f"Overdue files · {JS}"))).wait_for()

    # Search finds the letter by a Hindi word of its subject, highlighted.
    def found():
        timed(page, lambda: page.goto(f"/#/search?q={quote('नामांतरण')}&r={time.monotonic()}"), "search")
        return any(page.get_by_role("link", name=number).count() for number in (diary, file_number))
    wait_until(found, 30, "the letter found by search", interval=1)
    assert page.locator(".hits mark").count() > 0
    check_screen(page, "search", "search")
    # ... narrowed to the days around it, typed day first; an impossible date is named at its
    # field. (From yesterday: the search index dates a file by its UTC time.)
    since = TODAY - timedelta(days=1)
    page.get_by_label("From date").fill(since.strftime("%d/%m/%Y"))
    page.get_by_label("To date").fill("31/02/2026")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_label("To date")).to_have_attribute("aria-invalid", "true")
    assert page.evaluate("document.activeElement.name") == "date_to"
    expect(page.locator(f"#{page.get_by_label('To date').get_attribute('id')}-err")).to_have_text(
        "There is no such date as 31/02/2026")
    page.get_by_label("To date").fill(TODAY.strftime("%d/%m/%Y"))
    timed(page, lambda: page.get_by_role("button", name="Search", exact=True).click(), "search")
    assert f"date_from={since.isoformat()}" in page.url and f"date_to={TODAY.isoformat()}" in page.url
    assert any(page.get_by_role("link", name=number, exact=True).count() for number in (diary, file_number))
    sign_out(page)

    # The letter went by hand, so it is dispatched (rule 6): the file goes back to the section
    # officer who opened it, who closes it (rule 5); the citizen then sees the letter disposed.
    sign_in(page, JS, "inbox")
    timed(page, lambda: page.goto(file_url), "file")
    send_up(SO, SO)
    sign_out(page)
    sign_in(page, SO, "inbox")
    timed(page, lambda: page.goto(file_url), "file")
    closing = page.locator("form[aria-label=Close]")
    closing.get_by_label("Remarks").fill("आदेश प्रेषित; पत्रावली बंद।")
    closing.locator("button[type=submit]").click()
    wait_until(lambda: httpx.get(f"{web}/api/v1/files/{file_id}", headers=api_token(web, SO)).json()["status"]
               == "closed", 30, "the file closed", interval=0.5)
    sign_out(page)

    def disposed():
        page.goto(f"/track?code={tracking}")
        page.locator("[data-status]").wait_for()
        return page.locator("[data-status]").get_attribute("data-status") == "disposed"
    wait_until(disposed, 30, "the citizen's page saying disposed", interval=2)  # rate-limited

    figure("screen_ready_ms", {k: round(v) for k, v in speed.items()})
    slow = {k: v for k, v in speed.items() if v > USABLE_MS and k != "sign_in"}
    assert not slow, f"screens usable later than {USABLE_MS} ms after navigation: {slow}"


def test_bad_input_is_shown_at_the_field_in_the_users_language(page, web):
    page.goto("/")
    page.wait_for_function("document.body.dataset.ready === 'signin'")
    page.locator("header button.lang").click()
    page.wait_for_function("document.documentElement.lang === 'hi'")
    page.get_by_label("सरकारी ई-मेल").fill(holder_email("DAKCLK2-GAD"))
    page.get_by_label("पासवर्ड").fill(load.DEMO_PASSWORD)
    page.get_by_role("button", name="साइन इन करें").click()
    page.wait_for_function("document.body.dataset.ready === 'diarise'")
    # An e-mail (Alt+3) hides the letter's fields: the focus goes to the file asked for; back to
    # paper (Alt+1), the mode chosen before comes back.
    page.get_by_label("माध्यम").select_option("hand")
    page.get_by_label("प्रेषक का नाम").focus()
    page.keyboard.press("Alt+3")
    assert page.evaluate("document.activeElement.name") == "email"
    expect(page.get_by_label("प्रेषक का नाम")).to_be_hidden()  # read from the e-mail: not asked
    # No file chosen is said at the file's field, before anything is sent; a file that is no
    # e-mail is named there too, with why.
    page.keyboard.press("Control+Enter")
    eml = page.get_by_label("ई-मेल (.eml फ़ाइल)")
    expect(eml).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#{eml.get_attribute('id')}-err")).to_have_text("यह प्रविष्टि आवश्यक है")
    eml.set_input_files(files=[{"name": "patra.eml", "mimeType": "message/rfc822", "buffer": b"not a mail"}])
    page.get_by_role("button", name="डायरी करें").click()
    refused = page.locator(f"#{eml.get_attribute('id')}-err")
    expect(refused).to_contain_text("patra.eml is not an e-mail", timeout=30000)  # dak's intake reads it first
    page.keyboard.press("Alt+1")
    assert page.get_by_label("माध्यम").input_value() == "hand"
    assert page.evaluate("document.activeElement.name") == "sender_name"
    page.get_by_label("प्रेषक का नाम").fill("सीता देवी")
    page.get_by_label("विषय").fill("पेंशन संबंधी")
    # A date that does not exist is refused here, in Hindi, before anything is sent.
    received = page.get_by_label("प्राप्ति तिथि")
    assert received.get_attribute("placeholder") == "दिन/माह/वर्ष"
    message = page.locator(f"#{received.get_attribute('id')}-err")
    received.fill("31/02/2026")
    page.get_by_role("button", name="डायरी करें").click()
    expect(message).to_have_text("31/02/2026 जैसी कोई तिथि नहीं होती")
    assert received.get_attribute("aria-invalid") == "true"
    assert page.evaluate("document.activeElement.name") == "received_date"
    # One the server refuses (after today) is shown at its field too, with the others.
    received.fill((TODAY + timedelta(days=1)).strftime("%d/%m/%Y"))
    page.get_by_label("प्रेषक का मोबाइल").fill("12345")
    page.get_by_role("button", name="डायरी करें").click()
    expect(message).to_contain_text("आज के बाद")
    assert received.get_attribute("aria-invalid") == "true"
    mobile = page.get_by_label("प्रेषक का मोबाइल")
    assert mobile.get_attribute("aria-invalid") == "true"
    expect(page.locator(f"#{mobile.get_attribute('id')}-err")).to_have_text(re.compile("^मान्य मोबाइल नंबर नहीं है"))
    assert page.evaluate("document.activeElement.name") == "received_date"  # the first bad field, in reading order
    assert page.locator(".form-problem").inner_text().startswith("कुछ प्रविष्टियाँ मान्य नहीं")
    page.screenshot(path=str(screens_dir() / "bad-input-hi-desktop.png"), full_page=True)
    # Corrected, it is diarised: the acknowledgement in Hindi.
    page.get_by_label("प्राप्ति तिथि").fill(TODAY.strftime("%d/%m/%Y"))
    page.get_by_label("प्रेषक का मोबाइल").fill("9876543210")
    page.get_by_role("button", name="डायरी करें").click()
    page.locator(".ack .tracking").wait_for()
    assert page.locator("#ack-h").inner_text() == "पावती"
    check_screen(page, "acknowledgement", "diarise", languages=("hi",))



def test_a_note_left_unsaved_is_not_shown_to_the_next_person(page, web, subject_head):
    """On a shared PC: a dealing hand writes a note, does not save it, sends the file on by typing
    the post's code and pressing Enter at once, and signs out. The next person, who now holds
    the file, finds the Note box empty; a note sent empty is named at the Note box."""
    sender, receiver = "ASO1(EST)-GAD", "ASO2(EST)-GAD"
    made = new_file_opened(page, web, sender, "अवकाश नियमावली पर विचार")
    note = page.get_by_role("textbox", name="Note", exact=True)
    note.fill("निजी टिप्पणी, अभी सहेजी नहीं गई")
    page.get_by_text("Send", exact=True).first.click()
    send = page.locator("form[aria-label=Send]")
    picker = send.get_by_role("combobox", name="Send")
    # Text that names no post is not sent as "": the picker asks for a post from its list.
    picker.fill("no such post")
    picker.press("Enter")
    expect(send.locator(".picker .field-error")).to_have_text(re.compile("^Choose a post from the list"))
    # A code typed in full is that post, even before the list shows; the focus stays on the page.
    picker.fill(receiver)
    picker.press("Enter")
    expect(send.locator(".chip", has_text=receiver)).to_have_count(1)
    assert page.evaluate("document.activeElement !== document.body && !!document.activeElement.offsetParent")
    send.get_by_label("Remarks").fill("अवलोकनार्थ")
    timed(page, lambda: send.locator("button[type=submit]").click(), "inbox")
    sign_out(page)

    sign_in(page, receiver, "inbox")
    timed(page, lambda: page.goto(f"/#/files/{made['id']}"), "file")
    expect(note).to_have_value("")
    # The API names the note's field "body.body": its message is at the Note box.
    page.get_by_role("button", name="Add green note (final)").click()
    expect(note).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#{note.get_attribute('id')}-err")).to_have_text("This field is required")


def test_a_refused_search_or_a_failure_keeps_the_screen_and_says_why(page, web):
    """What the server refuses or fails at is said where it happened, in the user's language,
    and the screen stays usable: the search form with the wrong date named, the inbox with a
    way to try again, a screen that cannot be shown with the translated reason."""
    page.goto("/")
    page.wait_for_function("document.body.dataset.ready === 'signin'")
    sign_in(page, "RO3(EST)-GAD", "inbox")
    # The Sent tab has no filters and shows nothing in their place; a reload keeps the tab.
    page.get_by_role("tab", name="Sent").click()
    count = page.locator(".inbox-body p.count")
    expect(count).to_have_text(re.compile(r"^\d+ items?$"))
    assert "null" not in page.locator("form.filters").inner_text()
    timed(page, page.reload, "inbox")
    expect(page.get_by_role("tab", name="Sent")).to_have_attribute("aria-selected", "true")
    # The inbox's service not answering: said in place, and tried again.
    page.route("**/api/v1/inbox*", lambda r: r.fulfill(status=503, content_type="application/problem+json", body=(
        '{"type": "urn:eoffice:problem:unavailable", "title": "Service unavailable", "status": 503}')))
    page.get_by_role("tab", name="Receipts").click()
    expect(page.get_by_role("alert")).to_contain_text("The service is not answering")
    page.unroute("**/api/v1/inbox*")
    page.get_by_role("button", name="Try again").click()
    expect(count).to_have_text(re.compile(r"^\d+ items?$"))

    # Dates the wrong way round: the search form stays, the "To date" is named.
    timed(page, lambda: page.goto("/#/search"), "search")
    page.get_by_label("Words, a diary or file number").fill("पेंशन")
    page.get_by_label("From date").fill("10/01/2026")
    page.get_by_label("To date").fill("01/01/2026")
    timed(page, lambda: page.get_by_role("button", name="Search", exact=True).click(), "search")
    to_date = page.get_by_label("To date")
    expect(to_date).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#{to_date.get_attribute('id')}-err")).to_have_text("Cannot be before the start date")
    assert page.get_by_label("From date").input_value() == "10/01/2026"
    # Nothing found: no facet is shown without its counts.
    timed(page, lambda: page.goto("/#/search?q=qzxjvwk"), "search")
    expect(page.get_by_role("heading", name="0 found")).to_have_count(1)
    expect(page.get_by_role("complementary", name="Narrow down")).to_have_count(0)

    # A screen that cannot be shown says why in Hindi, with the server's words after.
    page.locator("header button.lang").click()
    page.wait_for_function("document.documentElement.lang === 'hi'")
    timed(page, lambda: page.goto(f"/#/files/{uuid.uuid4()}"), "file")
    expect(page.get_by_role("heading", level=1)).to_have_text("कुछ गड़बड़ हुई")
    expect(page.get_by_role("alert")).to_contain_text(re.compile("^नहीं मिला।"))
    expect(page.get_by_role("button", name="फिर प्रयास करें")).to_have_count(1)

def test_a_screen_left_while_it_waits_for_the_server_is_not_drawn_over_the_next(page, web):
    """A search still waiting for its answer when the user opens another screen: the answer,
    when it comes, is dropped; the screen the user went to stays, and its error is said."""
    page.goto("/")
    page.wait_for_function("document.body.dataset.ready === 'signin'")
    sign_in(page, "RO3(EST)-GAD", "inbox")
    held = hold(page, "**/api/v1/search?*")
    page.goto("/#/search?q=qzxjvwk")
    until(page, lambda: held, "the search asked for")
    timed(page, lambda: page.goto(f"/#/files/{uuid.uuid4()}"), "file")
    expect(page.get_by_role("heading", level=1)).to_have_text("Something went wrong")
    with page.expect_response("**/api/v1/search?*"):
        held[0].continue_()
    settle(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Something went wrong")
    expect(page.get_by_role("alert")).to_contain_text(re.compile("^Not found."))
    assert page.evaluate("document.body.dataset.ready") == "file"
    assert page.locator("main").count() == 1


def test_suggestions_for_words_changed_meanwhile_are_not_shown(page, web, subject_head):
    """Suggestions come as the words are typed; the answer for words already changed, come late,
    does not replace the suggestions for the words in the box."""
    word = f"zq{uuid.uuid4().hex[:8]}"
    new_file_opened(page, web, SO, f"पेंशन प्रकरण {word}")
    headers = api_token(web, SO)
    wait_until(lambda: httpx.get(f"{web}/api/v1/search/suggestions", params={"q": word}, headers=headers).json(),
               timeout=30, what="the new file is suggested")
    timed(page, lambda: page.goto("/#/search"), "search")
    words = page.get_by_label("Words, a diary or file number")
    suggested = page.get_by_role("list", name="Suggestions").get_by_role("listitem")
    words.fill(word)
    expect(suggested.first).to_contain_text(word)
    held = hold(page, "**/api/v1/search/suggestions?*")
    words.fill(f"{word} ")
    until(page, lambda: held, "the suggestions asked for")
    with page.expect_response("**/api/v1/search/suggestions?*"):
        words.fill("qzxjvwk")
    expect(suggested).to_have_count(0)
    with page.expect_response("**/api/v1/search/suggestions?*"):
        held[0].continue_()
    settle(page)
    expect(suggested).to_have_count(0)


def test_an_inbox_of_500_items_is_quick_and_scrolls_without_stutter(page, web):
    clerk = "DAKCLK3-GAD"
    headers = api_token(web, clerk)
    with httpx.Client(base_url=f"{web}/api/v1", headers=headers, timeout=30) as api:
        have = 0
        cursor = None
        while True:
            got = api.get("/inbox", params={"limit": 200, **({"cursor": cursor} if cursor else {})}).json()
            have += len(got["items"])
            cursor = got["next_cursor"]
            if not cursor:
                break
        for n in range(have, 500):
            made = api.post("/receipts", headers={"Idempotency-Key": uuid.uuid4().hex}, json={
                "subject": f"पेंशन प्रकरण संख्या {n}", "sender_name": "मोहन लाल", "received_date": TODAY.isoformat(),
                "mode": "post"})
            assert made.status_code == 201, made.text
    page.goto("/")
    page.wait_for_function("document.body.dataset.ready === 'signin'")
    sign_in(page, clerk, "diarise")
    ms = timed(page, lambda: page.goto("/#/inbox"), "inbox")
    rows = page.locator("table.list tbody tr").count()
    assert rows >= 500
    frames = page.evaluate("""() => new Promise(done => {
        const times = []; let last = performance.now(); const end = document.body.scrollHeight;
        function step(now) {
          times.push(now - last); last = now;
          window.scrollBy(0, 120);
          if (window.scrollY + innerHeight < end - 10 && times.length < 600) requestAnimationFrame(step);
          else done(times.slice(1));
        }
        requestAnimationFrame(step);
    })""")
    frames.sort()
    p95 = frames[int(len(frames) * 0.95)]
    figure("inbox_500", {"rows": rows, "ready_ms": round(ms), "frames": len(frames),
                         "frame_p50_ms": round(frames[len(frames) // 2], 1), "frame_p95_ms": round(p95, 1),
                         "frame_max_ms": round(frames[-1], 1)})
    # 500 rows arrive in three pages of 200 and are drawn at once: allowed twice a screen's second.
    assert ms < 2 * USABLE_MS, ms
    # Smooth: most frames at the display's 60 Hz, and 95 % within four frame intervals even on
    # two cores shared with the services (frame times come in steps of 16.7 ms).
    assert frames[len(frames) // 2] <= 17.5 and p95 <= 67, frames[-20:]

    # Search shows 20 of them at a time; "Load more" adds the next 20 and takes the focus there.
    def indexed():
        timed(page, lambda: page.goto(f"/#/search?q={quote('प्रकरण')}&r={time.monotonic()}"), "search")
        return page.locator(".hits li").count() == 20 and page.get_by_role("button", name="Load more").count()
    wait_until(indexed, 30, "more than 20 found", interval=1)
    page.get_by_role("button", name="Load more").click()
    expect(page.locator(".hits li")).to_have_count(40)
    assert page.locator(".hits li").nth(20).evaluate("li => li.contains(document.activeElement)")


def test_the_notifications_screen_shows_a_hundred_and_load_more_brings_the_rest(page, web):
    """130 letters marked to a post: its notifications screen shows the newest 100, and "Load
    more" (following the answer's cursor) adds the other 30, each once, the focus on the first.
    A live notification arriving on an unread count stopped at its cap leaves the menu's badge at
    "1,000+"."""
    reader = "SO(RTI)-GAD"
    headers = api_token(web, reader)
    clerk = api_token(web, "DAKCLK2-GAD")

    def marked(api, n: int) -> None:
        made = api.post("/receipts", headers={**clerk, "Idempotency-Key": uuid.uuid4().hex}, json={
            "subject": f"सूचना का अधिकार आवेदन {n}", "sender_name": "मोहन लाल", "received_date": TODAY.isoformat(),
            "mode": "post"})
        assert made.status_code == 201, made.text
        sent = api.post(f"/receipts/{made.json()['id']}/send", json={"to_post": reader},
                        headers={**clerk, "Idempotency-Key": uuid.uuid4().hex})
        assert sent.status_code == 200, sent.text

    with httpx.Client(base_url=f"{web}/api/v1", timeout=30) as api:
        for n in range(len(every_item(api, "/notifications", headers, limit=200)), 130):
            marked(api, n)
        wait_until(lambda: len(every_item(api, "/notifications", headers, limit=200)) >= 130, 60, "130 notified")
        total = len(every_item(api, "/notifications", headers, limit=200))

    def capped(route):  # the shell's first count as the API gives it past its cap
        response = route.fetch()
        route.fulfill(response=response, json={**response.json(), "unread": 1000, "unread_more": True})
    page.route(re.compile(r"/api/v1/notifications\?limit=1$"), capped)
    page.goto("/")
    page.wait_for_function("document.body.dataset.ready === 'signin'")
    sign_in(page, reader, "inbox")
    badge = page.locator("#unread-badge")
    expect(badge).to_have_text("1,000+")
    with httpx.Client(base_url=f"{web}/api/v1", timeout=30) as api:
        marked(api, total)
    total += 1
    expect(page.locator("#live-news")).to_contain_text("New notification", timeout=30000)
    expect(badge).to_have_text("1,000+")
    timed(page, lambda: page.goto("/#/notifications"), "notifications")
    items = page.locator("ol.notifications > li")
    expect(items).to_have_count(100)
    page.get_by_role("button", name="Load more").click()
    expect(items).to_have_count(min(total, 200))
    assert items.nth(100).evaluate("li => li.contains(document.activeElement)")
    links = items.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href') + ' ' + a.textContent)")
    assert len(set(links)) == len(links)  # each once
    if total <= 200:
        expect(page.get_by_role("button", name="Load more")).to_have_count(0)  # that was the last page
    sign_out(page)


def subscribe_a_portal(page, web) -> None:
    """The system admin registers a portal (bad input shown at its fields, then the secret once);
    the portal answers 500, so its delivery ends in the dead letters, which the admin replays once
    the portal works again; then rotates the secret."""
    receiver = Receiver().start()
    try:
        receiver.behaviour["/portal"] = "500"
        timed(page, lambda: page.get_by_role("link", name="Portal subscriptions").click(), "subscriptions")
        page.get_by_label(re.compile("^Portal name")).fill("राजस्व पोर्टल")
        page.get_by_label(re.compile("^Webhook URL")).fill("ftp://portal.example.gov.in/eoffice")
        page.get_by_label(re.compile("^Event types")).fill("file sent")
        page.get_by_role("button", name="Register a portal").click()
        expect(page.get_by_label(re.compile("^Webhook URL"))).to_have_attribute("aria-invalid", "true")
        expect(page.get_by_label(re.compile("^Event types"))).to_have_attribute("aria-invalid", "true")
        assert page.evaluate("document.activeElement.name") == "url"
        page.get_by_label(re.compile("^Webhook URL")).fill(receiver.url("/portal"))
        page.get_by_label(re.compile("^Event types")).fill("eoffice.receipt.diarised.v1")
        timed(page, lambda: page.get_by_role("button", name="Register a portal").click(), "subscriptions")
        secret = page.locator("code.secret").inner_text()
        assert secret.startswith("whsec_")
        clerk = {**api_token(web, "DAKCLK3-GAD"), "Idempotency-Key": uuid.uuid4().hex}
        made = httpx.post(f"{web}/api/v1/receipts", headers=clerk, json={
            "subject": "पोर्टल हेतु पत्र", "sender_name": "मोहन लाल", "received_date": TODAY.isoformat(), "mode": "post"})
        assert made.status_code == 201, made.text

        def dead_lettered():
            timed(page, page.reload, "subscriptions")
            return page.get_by_role("table", name="Dead letters").locator("tbody tr").count() == 1
        wait_until(dead_lettered, 30, "the delivery dead-lettered", interval=1)
        assert "500" in page.get_by_role("table", name="Delivery log").locator("tbody").inner_text()
        check_screen(page, "subscription", "subscriptions")
        receiver.behaviour["/portal"] = "ok"
        timed(page, lambda: page.get_by_role("button", name="Replay all dead letters").click(), "subscriptions")
        page.get_by_text("Sent again: 1.").wait_for()
        wait_until(lambda: receiver.received.get("/portal"), 20, "the replayed event delivered")

        def replayed():
            timed(page, page.reload, "subscriptions")
            return page.get_by_text("No dead letters.").count() == 1
        wait_until(replayed, 20, "the dead letters gone", interval=1)
        page.get_by_role("button", name="Rotate the secret").click()
        expect(page.locator("code.secret")).not_to_have_text(secret)
        assert page.locator("code.secret").inner_text().startswith("whsec_")
        timed(page, lambda: page.get_by_role("link", name="Portal subscriptions").click(), "subscriptions")
        page.get_by_role("link", name="राजस्व पोर्टल").wait_for()
        check_screen(page, "subscriptions", "subscriptions")
    finally:
        receiver.stop()


def test_admins_import_the_organisation_and_set_up_numbering(page, web, tmp_path):
    # The system admin imports a posts file with one bad row: the report names the row and why.
    page.goto("/")
    page.wait_for_function("document.body.dataset.ready === 'signin'")
    sign_in(page, "SYSADM-GAD-IT", "inbox")
    speed = timed(page, lambda: page.goto("/#/admin"), "admin")
    posts = tmp_path / "posts.csv"
    posts.write_text("code,office_code,designation_en,designation_hi,supervisor_code,roles\n"
                     "XX(TEST)-GAD,NO-SUCH-OFFICE,Test post,परीक्षण पद,,section_staff\n")
    page.set_input_files("input[name=posts]", str(posts))
    page.get_by_role("button", name="Import", exact=True).click()
    report = page.get_by_role("heading", name="Import report")
    report.wait_for()
    rejected = page.locator("table", has_text="Reason").locator("tbody tr")
    assert rejected.count() == 1 and "posts" in rejected.inner_text() and "2" in rejected.inner_text()
    # The import ran as a job: its progress bar ends full, its status said so.
    expect(page.get_by_role("progressbar", name="Import progress")).to_have_attribute("aria-valuetext", "1 of 1 rows")
    expect(page.get_by_role("status").filter(has_text="Import done.")).to_have_count(1)
    # ... and sets a category's time limit; a bad number is shown at its field.
    page.get_by_label(re.compile("^Category")).fill("rti")
    page.get_by_label(re.compile("^Working days")).fill("0")
    page.get_by_role("button", name="Set", exact=True).click()
    expect(page.get_by_label(re.compile("^Working days"))).to_have_attribute("aria-invalid", "true")
    page.get_by_label(re.compile("^Working days")).fill("30")
    page.get_by_role("button", name="Set", exact=True).click()
    page.get_by_text("Saved.").wait_for()
    check_screen(page, "admin", "admin", languages=("en",))
    subscribe_a_portal(page, web)
    sign_out(page)

    # The office admin adds a subject head.
    sign_in(page, "EOADM-GAD", "inbox")
    timed(page, lambda: page.goto("/#/admin"), "admin")
    page.get_by_label("Office", exact=True).select_option("GAD-ADM")
    page.get_by_label(re.compile("^Code")).fill("9")
    page.get_by_label(re.compile("^Title")).fill("अभिलेख एवं विविध")
    page.get_by_role("button", name="Add", exact=True).click()
    page.locator("ul.plain li", has_text="अभिलेख एवं विविध").wait_for()
    check_screen(page, "admin-office", "admin")
    figure("admin_ready_ms", round(speed))
    assert speed < USABLE_MS


def test_an_officer_unregisters_the_certificate_of_a_lost_token(page, web, pki):
    """On the preferences screen an officer sees their registered certificates and unregisters the
    one whose token is lost, after confirming: the screen no longer lists it and it signs nothing
    more for them (the API lists it no more)."""
    headers = api_token(web, JS)  # the holder of officer2's token in the test above
    with httpx.Client(base_url=web) as client:
        assert register_certificate(client, headers, pki, "officer2").status_code == 201
    sha = hashlib.sha256(pki.cert_der("officer2")).hexdigest()
    page.goto("/")
    page.wait_for_function("document.body.dataset.ready === 'signin'")
    sign_in(page, JS, "inbox")
    timed(page, lambda: page.goto("/#/notifications/preferences"), "preferences")
    listed = page.locator(f"li[data-sha256='{sha}']")
    expect(listed).to_have_count(1)
    check_screen(page, "preferences", "preferences")
    page.once("dialog", lambda dialog: dialog.dismiss())  # changed their mind: nothing happens
    listed.get_by_role("button", name="Unregister").click()
    assert sha in [c["sha256"] for c in httpx.get(f"{web}/api/v1/signing/certificates", headers=headers).json()]
    page.once("dialog", lambda dialog: dialog.accept())
    page.evaluate("delete document.body.dataset.ready")
    listed.get_by_role("button", name="Unregister").click()
    page.wait_for_function("document.body.dataset.ready === 'preferences'")
    expect(listed).to_have_count(0)
    assert sha not in [c["sha256"] for c in httpx.get(f"{web}/api/v1/signing/certificates", headers=headers).json()]


def test_a_draft_that_will_not_be_issued_is_withdrawn_saying_why(page, web, subject_head):
    """On the file screen the holder withdraws a draft: without a reason the form says so at its
    field; with one, the draft shows as withdrawn by their post, with the reason, and can no
    longer be approved. The file then goes straight up past a level: its tracking screen lists the
    movement with the post it went past."""
    headers = api_token(web, SO)
    fid = new_file_opened(page, web, SO, "Seniority list of assistants")["id"]
    draft = httpx.post(f"{web}/api/v1/files/{fid}/drafts", headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
                       json={"title": "Draft circular", "body": "The provisional seniority list is enclosed."})
    assert draft.status_code == 201, draft.text
    timed(page, lambda: page.reload(), "file")  # the draft added meanwhile
    card = page.locator("article.draft", has_text="Draft circular")
    card.get_by_text("Withdraw this draft", exact=True).first.click()
    form = card.locator("form[aria-label='Withdraw this draft']")
    form.get_by_role("button", name="Withdraw this draft").click()
    why = form.get_by_label("Why it is withdrawn")
    expect(why).to_have_attribute("aria-invalid", "true")
    why.fill("A revised circular will be put up.")
    page.evaluate("delete document.body.dataset.ready")
    form.get_by_role("button", name="Withdraw this draft").click()
    page.wait_for_function("document.body.dataset.ready === 'file'")
    expect(card.get_by_text(f"Withdrawn by {SO}")).to_be_visible()
    expect(card).to_contain_text("A revised circular will be put up.")
    expect(card.get_by_role("button", name="Approve this version")).to_have_count(0)
    shown = httpx.get(f"{web}/api/v1/files/{fid}", headers=headers).json()["drafts"]
    assert [(d["status"], d["withdrawn_remarks"]) for d in shown] == [
        ("withdrawn", "A revised circular will be put up.")]

    # Sent straight to the deputy secretary, past the under secretary: the file's movements say so.
    sent = httpx.post(f"{web}/api/v1/files/{fid}/send", headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
                      json={"to_post": DS, "remarks": "Urgent: for orders"})
    assert sent.status_code == 200 and sent.json()["skipped"] == [US], sent.text
    timed(page, lambda: page.goto(f"/#/files/{fid}/track"), "track")
    moved = page.locator("ol.movements li", has_text=DS)
    expect(moved).to_contain_text(f"Went past {US} (informed)")
    expect(moved).to_contain_text("Urgent: for orders")


def test_a_file_sent_past_four_levels_goes_and_the_screens_say_so(page, web, subject_head):
    """A dealing hand sends a file from its screen to the Special Secretary, its fifth level up
    (SO, US, DS and JS passed over): it goes (the rule of at most four levels to a decision is a
    'should'), the inbox screen after it warns that it has passed through five levels, and the
    file's screen and movements show the level."""
    dealer, splsecy = "RO1(EST)-GAD", "SPLSECY(GAD)"
    fid = new_file_opened(page, web, dealer, "Recruitment rules for stenographers")["id"]
    page.get_by_text("Send", exact=True).first.click()
    pick_post(page, "Send", splsecy, splsecy)
    page.evaluate("delete document.body.dataset.ready")
    page.locator("form[aria-label=Send] button[type=submit]").click()
    page.wait_for_function("document.body.dataset.ready === 'inbox'")
    expect(page.locator(".notice.warn")).to_contain_text(
        "The file has now passed through 5 levels towards a decision; the rule is at most four.")
    shown = httpx.get(f"{web}/api/v1/files/{fid}", headers=api_token(web, dealer)).json()
    assert (shown["holder_post"], shown["levels_to_decision"]) == (splsecy, 5)
    timed(page, lambda: page.goto(f"/#/files/{fid}"), "file")
    expect(page.locator(".levels.over")).to_have_text("Levels to a decision: 5")
    timed(page, lambda: page.goto(f"/#/files/{fid}/track"), "track")
    expect(page.locator("ol.movements li", has_text=splsecy)).to_contain_text(
        "Level 5 towards a decision: past the four the rule allows")


def test_linked_files_are_listed_unlinked_and_sent_with_the_main_file(page, web, subject_head):
    """On a file's screen the holder sees the files linked to it (they move with it) and the ones
    it refers to; unlinks one; the send form says which files go with it, and they do: each is
    with the recipient afterwards, the one unlinked stays. A linked file's screen names its main
    file and offers no send of its own."""
    dealer = "RO1(EST)-GAD"
    headers = api_token(web, dealer)

    def made(subject: str) -> dict:
        answer = httpx.post(f"{web}/api/v1/files", headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
                            json={"subject_head": "1", "subject": subject})
        assert answer.status_code == 201, answer.text
        return answer.json()

    along, dropped = made("Service book of Shri Hari Om"), made("Leave account of Shri Hari Om")
    main_file = made("Promotion of Shri Hari Om")
    for other in (along, dropped):
        linked = httpx.post(f"{web}/api/v1/files/{main_file['id']}/links",
                            headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
                            json={"other_file_id": other["id"], "kind": "link"})
        assert linked.status_code == 201, linked.text
    page.goto("/")
    page.wait_for_function("document.body.dataset.ready === 'signin'")
    sign_in(page, dealer, "inbox")
    timed(page, lambda: page.goto(f"/#/files/{main_file['id']}"), "file")
    section = page.locator("section.links")
    expect(section.locator("li")).to_have_count(2)
    expect(section.locator("li", has_text=along["file_number"])).to_contain_text("linked: moves with this file")
    check_screen(page, "file-linked", "file")

    page.evaluate("delete document.body.dataset.ready")
    section.locator(f"form[aria-label='Unlink file {dropped['file_number']}']").get_by_role(
        "button", name="Unlink").click()
    page.wait_for_function("document.body.dataset.ready === 'file'")
    expect(section.locator("li")).to_have_count(1)

    page.get_by_text("Send", exact=True).first.click()
    expect(page.locator("form[aria-label=Send] .moves-along")).to_have_text(
        f"These linked files go with it: {along['file_number']}")
    pick_post(page, "Send", SO, SO)
    page.evaluate("delete document.body.dataset.ready")
    page.locator("form[aria-label=Send] button[type=submit]").click()
    page.wait_for_function("document.body.dataset.ready === 'inbox'")
    holders = {f["id"]: httpx.get(f"{web}/api/v1/files/{f['id']}/track", headers=headers).json()["holder_post"]
               for f in (main_file, along, dropped)}
    assert holders == {main_file["id"]: SO, along["id"]: SO, dropped["id"]: dealer}

    timed(page, lambda: page.goto(f"/#/files/{along['id']}"), "file")
    expect(page.locator("section.links .notice")).to_contain_text(f"linked to file {main_file['file_number']}")
    expect(page.get_by_role("button", name="Pull back")).to_have_count(0)


def test_a_paper_letter_is_received_first_and_a_file_pulled_back_only_until_opened(page, web, subject_head):
    """A paper letter marked to the section officer offers only "The paper has reached me" until
    they say so; then it is sent on or put in a file (a due date in the past refused at its field,
    in words). The file sent up can be pulled back from its screen until the recipient opens it;
    after that no Pull back is offered."""
    clerk = api_token(web, CLERK)
    made = httpx.post(f"{web}/api/v1/receipts", headers={**clerk, "Idempotency-Key": uuid.uuid4().hex}, json={
        "subject": "राशन कार्ड हेतु आवेदन", "sender_name": "कमला देवी", "received_date": TODAY.isoformat(), "mode": "post",
        "physical": True})
    assert made.status_code == 201, made.text
    receipt = made.json()
    marked = httpx.post(f"{web}/api/v1/receipts/{receipt['id']}/send",
                        headers={**clerk, "Idempotency-Key": uuid.uuid4().hex}, json={"to_post": SO})
    assert marked.status_code == 200, marked.text
    page.goto("/")
    page.wait_for_function("document.body.dataset.ready === 'signin'")
    sign_in(page, SO, "inbox")
    timed(page, lambda: page.goto(f"/#/receipts/{receipt['id']}"), "receipt")
    expect(page.get_by_text("This came on paper")).to_be_visible()
    expect(page.get_by_text("Open a file with it")).to_have_count(0)
    timed(page, lambda: page.get_by_role("button", name="The paper has reached me").click(), "receipt")
    send = page.locator("form[aria-label=Send]")
    send.get_by_label("Due date").fill("01/01/2020")
    pick_post(page, "Send", US, US)
    send.locator("button[type=submit]").click()
    due = send.get_by_label("Due date")
    expect(page.locator(f"#{due.get_attribute('id')}-err")).to_have_text("Cannot be before today")
    page.get_by_text("Open a file with it").first.click()
    page.evaluate("delete document.body.dataset.ready")
    page.get_by_role("button", name="Open a file with it").click()
    page.wait_for_function("document.body.dataset.ready === 'file'")
    fid = page.url.rsplit("/", 1)[1]

    page.get_by_text("Send", exact=True).first.click()
    pick_post(page, "Send", US, US)
    page.evaluate("delete document.body.dataset.ready")
    page.locator("form[aria-label=Send] button[type=submit]").click()
    page.wait_for_function("document.body.dataset.ready === 'inbox'")
    timed(page, lambda: page.goto(f"/#/files/{fid}"), "file")
    timed(page, lambda: page.get_by_role("button", name="Pull back").click(), "file")
    expect(page.locator(".file-head")).to_contain_text(f"With: {SO}")
    page.get_by_text("Send", exact=True).first.click()
    pick_post(page, "Send", US, US)
    page.evaluate("delete document.body.dataset.ready")
    page.locator("form[aria-label=Send] button[type=submit]").click()
    page.wait_for_function("document.body.dataset.ready === 'inbox'")
    assert httpx.get(f"{web}/api/v1/files/{fid}", headers=api_token(web, US)).json()["opened"]  # US opens it
    timed(page, lambda: page.goto(f"/#/files/{fid}"), "file")
    expect(page.locator(".file-head")).to_contain_text(f"With: {US}")
    expect(page.get_by_role("button", name="Pull back")).to_have_count(0)


def reload_until(page, screen: str, shown) -> None:
    """Reloads `screen` until `shown()` (what a service adds from an event, a moment later)."""
    def there():
        if shown():
            return True
        page.evaluate("delete document.body.dataset.ready")
        page.reload()
        page.wait_for_function(f"document.body.dataset.ready === '{screen}'")
    wait_until(there, 30, f"on the {screen} screen", interval=0.5)


def test_documents_are_added_to_a_file_and_a_receipt_put_in_a_file_already_open(page, web, subject_head):
    """The holder of a file adds a paper document (its pages counted by hand) and uploads one: the
    correspondence lists each with its pages, a file that is no document is refused at the file's
    field, and the uploaded one downloads as uploaded. The file's send form says it goes to one
    post. A receipt held by the same post is put in that file from the receipt's screen: the
    receipt says which file it is in, and the file's correspondence lists it. On a phone (375 px)
    the inbox's rows are stacked, so Due and Priority show without scrolling sideways."""
    clerk = api_token(web, CLERK)
    letters = []
    for subject in ("सेवा अभिलेख की प्रति हेतु अनुरोध", "वरिष्ठता सूची पर आपत्ति: श्री हरि ओम, सहायक अनुभाग अधिकारी"):
        made = httpx.post(f"{web}/api/v1/receipts", headers={**clerk, "Idempotency-Key": uuid.uuid4().hex}, json={
            "subject": subject, "sender_name": "हरि ओम", "received_date": TODAY.isoformat(), "mode": "post"})
        assert made.status_code == 201, made.text
        sent = httpx.post(f"{web}/api/v1/receipts/{made.json()['id']}/send", json={"to_post": SO, "priority": "urgent"},
                          headers={**clerk, "Idempotency-Key": uuid.uuid4().hex})
        assert sent.status_code == 200, sent.text
        received = httpx.post(f"{web}/api/v1/receipts/{made.json()['id']}/receive",
                              headers={**api_token(web, SO), "Idempotency-Key": uuid.uuid4().hex})
        assert received.status_code == 200, received.text
        letters.append(made.json())
    file = new_file_opened(page, web, SO, "Service record of Shri Hari Om")
    fid, headers = file["id"], api_token(web, SO)

    page.get_by_text("Send", exact=True).first.click()
    expect(page.locator("form[aria-label=Send] .hint").first).to_have_text(
        "Type a designation or marking code, in Hindi or English; the file goes to the one post chosen.")

    page.get_by_text("Add a document", exact=True).click()
    form = page.locator("form[aria-label='Add a document']")
    form.get_by_label("Title of the document").fill("Service book, part I")
    form.get_by_label("Number of pages").fill("3")
    timed(page, lambda: form.get_by_role("button", name="Add to the correspondence").click(), "file")
    paper = page.locator(".items li", has_text="Service book, part I")
    expect(paper).to_contain_text("Pages 1–3")
    expect(paper.get_by_role("button", name="Download")).to_have_count(0)  # nothing to download: it is on paper

    page.get_by_text("Add a document", exact=True).click()
    form.get_by_label("Title of the document").fill("Reply of the department")
    form.get_by_label("A file to upload (PDF, JPEG, PNG or TIFF)").check()
    chosen = form.get_by_label("The document (PDF, JPEG, PNG or TIFF)")
    chosen.set_input_files(files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a document"}])
    form.get_by_role("button", name="Add to the correspondence").click()
    expect(page.locator(f"#{chosen.get_attribute('id')}-err")).to_contain_text("notes.txt is a text file")
    expect(chosen).to_have_attribute("aria-invalid", "true")
    assert len(httpx.get(f"{web}/api/v1/files/{fid}", headers=headers).json()["correspondence"]) == 1
    pdf = fixtures.pdf_of_images([fixtures.letter_image(fixtures.ENGLISH_LETTER)] * 2)
    chosen.set_input_files(files=[{"name": "reply.pdf", "mimeType": "application/pdf", "buffer": pdf}])
    timed(page, lambda: form.get_by_role("button", name="Add to the correspondence").click(), "file")
    uploaded = page.locator(".items li", has_text="Reply of the department")
    expect(uploaded).to_contain_text("Pages 4–5")
    with page.expect_download() as download:
        uploaded.get_by_role("button", name="Download").click()
    assert open(download.value.path(), "rb").read() == pdf and download.value.suggested_filename == "reply.pdf"
    check_screen(page, "file-documents", "file", languages=("en",))

    # The first letter goes into this file, from its own screen.
    timed(page, lambda: page.goto(f"/#/receipts/{letters[0]['id']}"), "receipt")
    page.get_by_text("Put it in a file already open", exact=True).click()
    put = page.locator("form[aria-label='Put it in a file already open']")
    put.get_by_label("File (one your post holds)").select_option(fid)
    timed(page, lambda: put.get_by_role("button", name="Put it in this file").click(), "receipt")
    expect(page.locator(".in-file")).to_have_text(f"In file {file['file_number']}")
    expect(page.locator("dl.facts")).to_contain_text("In a file")
    timed(page, lambda: page.locator(".in-file a").click(), "file")
    reload_until(page, "file", lambda: page.locator(".items li", has_text=letters[0]["subject"]).count())
    expect(page.locator(".items li", has_text=letters[0]["subject"])).to_contain_text("Pages 6–6")
    shown = httpx.get(f"{web}/api/v1/files/{fid}", headers=headers).json()["correspondence"]
    assert [(c["title"], c["first_page"], c["last_page"]) for c in shown][:2] == [
        ("Service book, part I", 1, 3), ("Reply of the department", 4, 5)]
    assert shown[2]["receipt_id"] == letters[0]["id"]

    # The second stays in the inbox: on a phone its row is stacked, nothing hidden off to the side.
    page.set_viewport_size({"width": 375, "height": 800})
    timed(page, lambda: page.goto("/#/inbox"), "inbox")
    row = page.locator("table.list tbody tr", has_text=letters[1]["diary_number"])
    for column, text in (("Due", None), ("Priority", "Urgent")):
        cell = row.locator(f"td[data-label='{column}']")
        box = cell.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 375, (column, box)
        if text:
            expect(cell).to_contain_text(text)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(screens_dir() / "inbox-stacked-en-phone375.png"))
    assert page.locator(".table-wrap").evaluate("w => w.scrollWidth <= w.clientWidth")
    page.set_viewport_size(DESKTOP)  # the desktop keeps its table: heads shown, a row a line
    expect(page.locator("table.list thead th").first).to_be_visible()
    assert row.locator("td").first.evaluate("td => getComputedStyle(td).display") == "table-cell"


def test_signing_with_the_offices_key_shows_it_is_under_way(page, web, subject_head):
    """Signing and issuing with the office's key takes a second or two: meanwhile the button says
    so and is disabled (the form busy), so it is not clicked twice; then the letter is issued."""
    headers = api_token(web, SO)
    made = httpx.post(f"{web}/api/v1/files", headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
                      json={"subject_head": "1", "subject": "Leave of Shri Hari Om"})
    assert made.status_code == 201, made.text
    fid = made.json()["id"]
    draft = httpx.post(f"{web}/api/v1/files/{fid}/drafts", headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
                       json={"title": "Leave sanctioned", "body": "Earned leave of 10 days is sanctioned."}).json()
    approved = httpx.post(f"{web}/api/v1/files/{fid}/drafts/{draft['id']}/approve", json={"version": 1},
                          headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
    assert approved.status_code == 200, approved.text
    page.goto("/")
    page.wait_for_function("document.body.dataset.ready === 'signin'")
    sign_in(page, SO, "inbox")
    timed(page, lambda: page.goto(f"/#/files/{fid}/drafts/{draft['id']}/sign"), "sign-letter")
    page.get_by_label("The office's key on the server (a dispatch stamp with your name)").check()
    page.get_by_label("Addressee").fill("Shri Hari Om")
    held = []  # the issue request, held until the busy state is seen
    page.route(f"**/api/v1/files/{fid}/drafts/{draft['id']}/issue", lambda route: held.append(route))
    form = page.locator("form[aria-label='Sign and issue as a letter']")
    form.get_by_role("button", name="Sign and issue as a letter").click()
    button = form.locator("button[type=submit]")
    expect(button).to_be_disabled()
    expect(button).to_have_text("Signing and issuing…")
    expect(form).to_have_attribute("aria-busy", "true")
    for _ in range(100):  # the route's handler runs while Playwright waits on the page
        if held:
            break
        page.wait_for_timeout(100)
    page.evaluate("delete document.body.dataset.ready")
    held[0].continue_()
    page.wait_for_function("document.body.dataset.ready === 'file'")
    expect(page.locator(".notice").first).to_contain_text(re.compile(r"Letter \S+ is issued"))


FLAG_PUC = "Flag as the paper under consideration (PUC)"
UNFLAG_PUC = "No longer the paper under consideration (remove the PUC flag)"


def test_the_holder_flags_the_paper_under_consideration_moves_the_tag_and_takes_it_off(page, web, subject_head):
    """The holder of a file flags a document of its correspondence as the paper under
    consideration (PUC): the tag is on it, and flagging another moves the tag there (one PUC at a
    time). The PUC itself offers no flag but the flag's removal: once it has been dealt with, the
    holder takes the flag off and no item is the PUC. Once the file is sent on, neither is offered."""
    file = new_file_opened(page, web, SO, "Pension case of Smt. Kamla Devi")
    fid, headers = file["id"], api_token(web, SO)
    for title, pages in (("Pension papers", 4), ("Reply of the treasury", 2)):
        added = httpx.post(f"{web}/api/v1/files/{fid}/documents", json={"title": title, "pages": pages},
                           headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
        assert added.status_code < 300, added.text
    timed(page, lambda: page.reload(), "file")
    papers = page.locator(".items > li", has_text="Pension papers")
    reply = page.locator(".items > li", has_text="Reply of the treasury")

    def puc(item):
        return item.locator(".tag", has_text=re.compile("^PUC$"))

    def pucs_in_the_api():
        shown = httpx.get(f"{web}/api/v1/files/{fid}", headers=headers).json()["correspondence"]
        return [(c["title"], c["puc"]) for c in shown]
    expect(puc(papers)).to_have_count(0)
    expect(puc(reply)).to_have_count(0)
    expect(page.get_by_role("button", name=UNFLAG_PUC)).to_have_count(0)  # no PUC yet
    timed(page, lambda: reply.get_by_role("button", name=FLAG_PUC).click(), "file")
    expect(puc(reply)).to_have_count(1)
    expect(puc(papers)).to_have_count(0)
    expect(reply.get_by_role("button", name=FLAG_PUC)).to_have_count(0)  # it is the PUC already
    timed(page, lambda: papers.get_by_role("button", name=FLAG_PUC).click(), "file")
    expect(puc(papers)).to_have_count(1)
    expect(puc(reply)).to_have_count(0)
    assert pucs_in_the_api() == [("Pension papers", True), ("Reply of the treasury", False)]
    expect(papers.get_by_role("button", name=UNFLAG_PUC)).to_have_count(1)  # offered on the PUC only
    expect(reply.get_by_role("button", name=UNFLAG_PUC)).to_have_count(0)
    check_screen(page, "file-puc", "file", languages=("en",))

    # Dealt with: the flag comes off, no other item is flagged, and each can be flagged again.
    timed(page, lambda: papers.get_by_role("button", name=UNFLAG_PUC).click(), "file")
    expect(page.locator(".items .tag", has_text=re.compile("^PUC$"))).to_have_count(0)
    expect(page.get_by_role("button", name=UNFLAG_PUC)).to_have_count(0)
    expect(papers.get_by_role("button", name=FLAG_PUC)).to_have_count(1)
    expect(reply.get_by_role("button", name=FLAG_PUC)).to_have_count(1)
    assert pucs_in_the_api() == [("Pension papers", False), ("Reply of the treasury", False)]

    timed(page, lambda: reply.get_by_role("button", name=FLAG_PUC).click(), "file")  # a PUC for the next post
    expect(puc(reply)).to_have_count(1)
    sent = httpx.post(f"{web}/api/v1/files/{fid}/send", headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
                      json={"to_post": US})
    assert sent.status_code == 200, sent.text
    timed(page, lambda: page.reload(), "file")
    expect(puc(reply)).to_have_count(1)
    expect(page.get_by_role("button", name=FLAG_PUC)).to_have_count(0)  # no longer the holder
    expect(page.get_by_role("button", name=UNFLAG_PUC)).to_have_count(0)


def test_an_email_receipt_shows_the_message_not_a_blank_frame(page, web):
    """A receipt that came as an e-mail: its first document, the message itself, shows who sent
    it, the subject, the date and its attachment, with the .eml to download under its own name,
    and the message's text beside it, not an empty frame. The attachment still shows in a frame."""
    message = fixtures.eml("Encroachment near the village pond", "Sunita Devi <sunita.devi@example.in>",
                           "Please see the attached complaint about the encroachment.",
                           [("complaint.pdf", "application/pdf", fixtures.pdf_page_of(595, 842))])
    clerk = {**api_token(web, CLERK), "Idempotency-Key": uuid.uuid4().hex}
    made = httpx.post(f"{web}/api/v1/receipts/email", headers=clerk,
                      files={"email": ("complaint.eml", message, "message/rfc822")})
    assert made.status_code == 201, made.text
    page.goto("/")
    page.wait_for_function("document.body.dataset.ready === 'signin'")
    sign_in(page, CLERK, "diarise")
    timed(page, lambda: page.goto(f"/#/receipts/{made.json()['id']}"), "receipt")
    reload_until(page, "receipt", lambda: page.locator("pre.ocr").count())  # the body, read a moment later
    expect(page.locator("#scan-h")).to_have_text("E-mail message · Document 1 of 2")
    expect(page.locator(".scans iframe")).to_have_count(0)
    shown = page.locator(".email-message")
    for text in ("Sunita Devi <sunita.devi@example.in>", "Encroachment near the village pond", "14/11/2023",
                 "1 (listed above as a document of this receipt)"):
        expect(shown).to_contain_text(text)
    expect(page.locator("#ocr-h")).to_have_text("Text of the message · Document 1 of 2")
    expect(page.locator("pre.ocr")).to_contain_text("Please see the attached complaint")
    with page.expect_download() as download:
        shown.get_by_role("button", name="Download the message (complaint.eml)").click()
    assert open(download.value.path(), "rb").read() == message and download.value.suggested_filename == "complaint.eml"
    check_screen(page, "receipt-email", "receipt", languages=("en",))
    page.get_by_role("button", name=re.compile("complaint.pdf")).click()
    expect(page.locator("#scan-h")).to_have_text("Scan · Document 2 of 2")
    expect(page.locator(".scans iframe")).to_have_count(1)


def test_the_sent_tab_lists_what_was_sent_last_first(page, web, subject_head):
    """What a post sent is listed the one sent last first: the file just sent from its screen
    heads the Sent tab's files, before those sent earlier; receipts sent one after another come
    newest first too."""
    so, clerk = api_token(web, SO), api_token(web, CLERK)
    run = uuid.uuid4().hex[:6]

    def step(path: str, headers: dict, body: dict | None = None) -> dict:
        answer = httpx.post(f"{web}/api/v1{path}", headers={**headers, "Idempotency-Key": uuid.uuid4().hex}, json=body)
        assert answer.status_code < 300, answer.text
        return answer.json()
    letters = []
    for n in range(3):
        letter = step("/receipts", clerk, {"subject": f"Sent order {run} letter {n}", "sender_name": "Ram Prakash",
                                           "received_date": TODAY.isoformat(), "mode": "post"})
        step(f"/receipts/{letter['id']}/send", clerk, {"to_post": SO})
        step(f"/receipts/{letter['id']}/receive", so)
        letters.append(letter)
    for letter in (letters[1], letters[0], letters[2]):
        step(f"/receipts/{letter['id']}/send", so, {"to_post": US})
    files = [step("/files", so, {"subject_head": "1", "subject": f"Sent order {run} file {n}"}) for n in range(3)]
    for file in (files[2], files[0], files[1]):
        step(f"/files/{file['id']}/send", so, {"to_post": US})
    last = new_file_opened(page, web, SO, f"Sent order {run} file 3")
    page.get_by_text("Send", exact=True).first.click()
    pick_post(page, "Send", US, US)
    page.evaluate("delete document.body.dataset.ready")
    page.locator("form[aria-label=Send] button[type=submit]").click()
    page.wait_for_function("document.body.dataset.ready === 'inbox'")
    open_in_inbox(page, last["file_number"], tab="Sent")

    def listed(section: str, numbers: list[str]) -> list[str]:
        links = page.locator(f"section[aria-label={section}] tbody tr td:first-child a").all_inner_texts()
        return [n for n in links if n in numbers]
    expect(page.locator("section[aria-label=Files] tbody tr").first).to_contain_text(last["file_number"])
    assert listed("Files", [f["file_number"] for f in [*files, last]]) == [
        last["file_number"], files[1]["file_number"], files[0]["file_number"], files[2]["file_number"]]
    assert listed("Receipts", [r["diary_number"] for r in letters]) == [
        letters[2]["diary_number"], letters[0]["diary_number"], letters[1]["diary_number"]]


def test_notification_texts_follow_the_language_of_the_screen(page, web):
    """A reader whose preference (for e-mail and SMS) is Hindi reads the notifications screen in
    English: the texts are in English; switched to Hindi, in Hindi; and switched back, a live
    notification is announced in English."""
    reader, clerk = "SO(IT)-GAD", api_token(web, "DAKCLK2-GAD")
    headers = api_token(web, reader)
    prefs = httpx.put(f"{web}/api/v1/notifications/preferences", headers=headers, json={"language": "hi"})
    assert prefs.status_code == 200, prefs.text

    def marked(subject: str) -> dict:
        made = httpx.post(f"{web}/api/v1/receipts", headers={**clerk, "Idempotency-Key": uuid.uuid4().hex}, json={
            "subject": subject, "sender_name": "Mohan Lal", "received_date": TODAY.isoformat(), "mode": "post"})
        assert made.status_code == 201, made.text
        sent = httpx.post(f"{web}/api/v1/receipts/{made.json()['id']}/send", json={"to_post": reader},
                          headers={**clerk, "Idempotency-Key": uuid.uuid4().hex})
        assert sent.status_code == 200, sent.text
        return made.json()
    first = marked("Server room air conditioning")
    wait_until(lambda: any(n["item_id"] == first["id"] for n in httpx.get(
        f"{web}/api/v1/notifications", headers=headers).json()["items"]), 30, "the reader notified")
    page.goto("/")
    page.wait_for_function("document.body.dataset.ready === 'signin'")
    sign_in(page, reader, "inbox")
    timed(page, lambda: page.goto("/#/notifications"), "notifications")
    item = page.locator("ol.notifications > li", has_text=first["diary_number"])
    expect(item).to_contain_text(f"Receipt {first['diary_number']} has arrived at {reader} from DAKCLK2-GAD.")
    timed(page, lambda: page.locator("header button.lang").click(), "notifications")
    expect(item).to_contain_text(f"प्राप्ति {first['diary_number']} DAKCLK2-GAD से {reader} पर प्राप्त हुई।")
    timed(page, lambda: page.locator("header button.lang").click(), "notifications")
    page.wait_for_timeout(500)  # the stream, read again in English
    second = marked("Printer cartridges for the section")
    expect(page.locator("#live-news")).to_have_text(
        f"New notification: Receipt {second['diary_number']} has arrived at {reader} from DAKCLK2-GAD.", timeout=30000)


def test_a_live_notification_committed_out_of_id_order_is_counted(page, web):
    """Notification ids are taken as notifications are made, but committed in any order: one with
    a smaller id can reach the stream after a greater one. The menu's badge counts both at once,
    not only when the notifications screen is opened; and the stream is read from the newest id
    the first count saw, so nothing made in between is missed."""
    reader = "US(IT)-GAD"
    headers = api_token(web, reader)
    assert httpx.post(f"{web}/api/v1/notifications/read", headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
                      json={}).status_code == 200
    newest = next(iter(httpx.get(f"{web}/api/v1/notifications", headers=headers, params={"limit": 1})
                       .json()["items"]), {"id": 0})["id"]

    def event(n: int, text: str) -> str:
        shown = {"id": n, "post_code": reader, "kind": "arrived", "item_type": "file", "item_id": str(uuid.uuid4()),
                 "number": f"GAD/IT/{n}", "text": text, "detail": {}, "read_at": None, "read_by": None,
                 "created_at": datetime.now(UTC).isoformat()}
        return f"id: {n}\nevent: notification\ndata: {json.dumps(shown)}\n\n"
    asked_from = []

    def stream(route):  # the first stream: the greater id committed first, the smaller one after it
        if asked_from:
            route.fallback()
            return
        asked_from.append(route.request.headers.get("last-event-id"))
        body = "retry: 2000\n\n" + event(newest + 2, "Committed first") + event(newest + 1, "Committed late")
        route.fulfill(status=200, headers={"content-type": "text/event-stream"}, body=body)
    page.route(re.compile(r"/api/v1/notifications/stream"), stream)
    page.goto("/")
    page.wait_for_function("document.body.dataset.ready === 'signin'")
    sign_in(page, reader, "inbox")
    expect(page.locator("#live-news")).to_have_text("New notification: Committed late")
    expect(page.locator("#unread-badge")).to_have_text("2")
    assert asked_from == [str(newest)]


# --- answers that come after the user has moved on -------------------------------------------------
# Each test below holds a request with page.route, does what a user does meanwhile, then lets the
# request go: what the screen shows is what the user asked for last.

def hold(page, url, count: int = 1) -> list:
    """The next `count` requests to `url` (a glob or regex) wait until the test lets each go
    (`continue_()`); the ones after them pass."""
    held: list = []
    page.route(url, lambda route: held.append(route) if len(held) < count else route.fallback())
    return held


def until(page, done, what: str, timeout_ms: int = 15000) -> None:
    """Waits for `done()`, letting Playwright hear from the browser meanwhile (route handlers run then)."""
    for _ in range(timeout_ms // 50):
        if done():
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"waited {timeout_ms} ms for {what}")


def settle(page, ms: int = 300) -> None:
    """Time for an answer just let go to be drawn, if it were to be."""
    page.evaluate(f"new Promise((done) => setTimeout(done, {ms}))")


def test_the_subject_heads_shown_are_those_of_the_office_chosen_last(page, web, subject_head):
    """The office admin chooses an office, then another before the first one's subject heads have
    come: the heads shown are the second office's, not the first's come late."""
    admin = api_token(web, "EOADM-GAD")
    title = f"Establishment matters {uuid.uuid4().hex[:6]}"
    heads_of_est = f"{web}/api/v1/offices/GAD-EST/subject-heads"
    made = httpx.post(heads_of_est, headers={**admin, "Idempotency-Key": uuid.uuid4().hex},
                      json={"code": f"T{uuid.uuid4().hex[:8]}", "title": title})
    assert made.status_code == 201, made.text
    theirs = httpx.get(f"{web}/api/v1/offices/GAD-CR/subject-heads", headers=admin).json()
    page.goto("/")
    page.wait_for_function("document.body.dataset.ready === 'signin'")
    sign_in(page, "EOADM-GAD", "inbox")
    timed(page, lambda: page.goto("/#/admin"), "admin")
    held = hold(page, "**/api/v1/offices/GAD-EST/subject-heads")
    office = page.get_by_label("Office", exact=True)
    office.select_option("GAD-EST")
    until(page, lambda: held, "the heads of GAD-EST asked for")
    with page.expect_response("**/api/v1/offices/GAD-CR/subject-heads"):
        office.select_option("GAD-CR")
    heads = page.locator("section[aria-labelledby=sh-h]")
    expect(heads.locator("ul.plain li")).to_have_count(len(theirs))
    with page.expect_response("**/api/v1/offices/GAD-EST/subject-heads"):
        held[0].continue_()
    settle(page)
    expect(heads.locator("ul.plain li")).to_have_count(len(theirs))
    expect(heads).not_to_contain_text(title)


def open_receipt_of_three_documents(page, web):
    """An e-mail receipt with two PDFs attached (three documents: the message and the two), opened
    by its clerk; its documents' heading."""
    message = fixtures.eml("Blocked drain along the district road", "Ram Kumar <ram.kumar@example.in>",
                           "Photographs of the blocked drain are attached.",
                           [("drain-north.pdf", "application/pdf", fixtures.pdf_page_of(595, 842)),
                            ("drain-south.pdf", "application/pdf", fixtures.pdf_page_of(842, 595))])
    clerk = {**api_token(web, CLERK), "Idempotency-Key": uuid.uuid4().hex}
    made = httpx.post(f"{web}/api/v1/receipts/email", headers=clerk,
                      files={"email": ("drain.eml", message, "message/rfc822")})
    assert made.status_code == 201, made.text
    rid = made.json()["id"]
    page.goto("/")
    page.wait_for_function("document.body.dataset.ready === 'signin'")
    sign_in(page, CLERK, "diarise")
    timed(page, lambda: page.goto(f"/#/receipts/{rid}"), "receipt")
    heading = page.locator("#scan-h")
    expect(heading).to_have_text("E-mail message · Document 1 of 3")
    return rid, heading


def test_a_scan_being_read_says_so_and_its_text_comes_without_a_reload(page, web):
    """A receipt opened while its long scan is still being read says where the reading stands
    (waiting, or being read with the pages read so far) and asks again by itself: once read, its
    text takes the notice's place, with no reload of the page."""
    page.goto("/")
    page.wait_for_function("document.body.dataset.ready === 'signin'")
    sign_in(page, CLERK, "diarise")
    dense = fixtures.letter_image(fixtures.ENGLISH_LETTER * 5, page_mm=(210, 297))  # an A4 page of 30 lines
    letter = {"subject": "Encroachment on the village pond", "sender_name": "Ram Kumar", "mode": "post",
              "received_date": TODAY.isoformat()}
    made = httpx.post(f"{web}/api/v1/receipts/electronic", headers={**api_token(web, CLERK), "Idempotency-Key":
                      uuid.uuid4().hex}, data={"letter": json.dumps(letter)},
                      files=[("scans", ("long.pdf", fixtures.pdf_of_images([dense] * 24), "application/pdf"))],
                      timeout=120)
    assert made.status_code == 201, made.text
    timed(page, lambda: page.goto(f"/#/receipts/{made.json()['id']}"), "receipt")
    page.evaluate("window.sameDocument = true")  # gone if the page were loaded again
    reading = page.locator("section[aria-labelledby='ocr-h'] [role='status']")
    expect(reading).to_have_text(re.compile(
        r"^(Waiting for its text to be read\.|Its text is being read: \d+ of 24 pages so far\.)$"))
    expect(page.locator("pre.ocr")).to_contain_text("encroachment", timeout=180_000)
    expect(reading).to_have_count(0)
    assert page.evaluate("window.sameDocument") is True


def test_the_document_of_a_receipt_chosen_last_is_the_one_shown(page, web):
    """A receipt of three documents: the clerk chooses the second, then the third before the
    second has come. The third is shown; the second, come late, does not replace it."""
    rid, heading = open_receipt_of_three_documents(page, web)
    second, third = (hold(page, re.compile(rf"/api/v1/receipts/{rid}/scans/{n}(/text)?$"), 2) for n in (2, 3))
    page.get_by_role("button", name=re.compile("drain-north.pdf")).click()
    until(page, lambda: len(second) == 2, "the second document asked for")
    page.get_by_role("button", name=re.compile("drain-south.pdf")).click()
    until(page, lambda: len(third) == 2, "the third document asked for")
    with page.expect_response(re.compile(r"/scans/2/text$")):
        for route in second:
            route.continue_()
    settle(page)
    expect(heading).to_have_text("E-mail message · Document 1 of 3")  # the second is no longer wanted
    with page.expect_response(re.compile(r"/scans/3/text$")):
        for route in third:
            route.continue_()
    expect(heading).to_have_text("Scan · Document 3 of 3")
    settle(page)
    expect(heading).to_have_text("Scan · Document 3 of 3")


def test_a_document_no_longer_shown_is_let_go_from_the_browsers_memory(page, web):
    """A clerk's page stays open all day, and each document shown is a copy held in the browser's
    memory (an object URL) until it is let go. One replaced by another document of the receipt,
    one come too late to be shown, and the last one shown once the clerk goes to another screen,
    are let go: the page holds only the document it shows, then none."""
    page.add_init_script("""(() => {
        const held = window.heldDocuments = new Set();
        const [make, free] = [URL.createObjectURL, URL.revokeObjectURL];
        URL.createObjectURL = (blob) => { const url = make(blob); held.add(url); return url; };
        URL.revokeObjectURL = (url) => { held.delete(url); free(url); };
    })()""")
    rid, heading = open_receipt_of_three_documents(page, web)
    held = lambda: page.evaluate("[...window.heldDocuments]")  # noqa: E731
    shown = lambda: page.locator(".scan iframe").get_attribute("src")  # noqa: E731
    page.get_by_role("button", name=re.compile("drain-north.pdf")).click()
    expect(heading).to_have_text("Scan · Document 2 of 3")
    second = shown()
    assert held() == [second]
    late = hold(page, re.compile(rf"/api/v1/receipts/{rid}/scans/3$"))
    page.get_by_role("button", name=re.compile("drain-south.pdf")).click()
    until(page, lambda: len(late) == 1, "the third document asked for")
    page.get_by_role("button", name=re.compile("drain-north.pdf")).click()  # the second again, meanwhile
    expect(page.locator(".scan iframe")).not_to_have_attribute("src", second)
    with page.expect_response(re.compile(r"/scans/3$")):
        late[0].continue_()
    settle(page)
    expect(heading).to_have_text("Scan · Document 2 of 3")
    assert held() == [shown()], "documents no longer shown are still held"
    page.goto("/#/inbox")
    page.wait_for_function("document.body.dataset.ready === 'inbox'")
    assert held() == [], "the document shown last is still held after its screen was left"


def test_diarise_pressed_again_before_the_acknowledgement_diarises_the_letter_once(page, web):
    """The clerk presses Diarise again while the acknowledgement is on its way (the form still
    shown): the letter is diarised once, the second press answered with the same receipt."""
    page.goto("/")
    page.wait_for_function("document.body.dataset.ready === 'signin'")
    sign_in(page, CLERK, "diarise")
    page.get_by_label(re.compile("^Sender's name")).fill("श्याम लाल")
    page.get_by_label(re.compile("^Subject")).fill(f"अभिलेख कक्ष की छत की मरम्मत {uuid.uuid4().hex[:6]}")
    held = hold(page, "**/api/v1/receipts/*/acknowledgement")
    diarise = page.get_by_role("button", name="Diarise", exact=True)
    made = lambda r: r.request.method == "POST" and r.url.endswith("/api/v1/receipts")  # noqa: E731
    with page.expect_response(made) as first:
        diarise.click()
    until(page, lambda: held, "the acknowledgement asked for")
    with page.expect_response(made) as again:
        diarise.click()
    held[0].continue_()
    receipt = first.value.json()
    expect(page.locator("h2.done")).to_have_text(f"Diarised: {receipt['diary_number']}")
    assert again.value.json()["id"] == receipt["id"]


def test_a_note_sent_again_before_the_file_is_drawn_again_is_added_once(page, web, subject_head):
    """The holder presses "Add green note" again while the file is being drawn again after the
    first press (the note still in the box): the notesheet gets the note once."""
    made = new_file_opened(page, web, SO, "Rest house booking rules")
    fid, text = made["id"], f"अनुमोदनार्थ प्रस्तुत {uuid.uuid4().hex[:6]}"
    page.get_by_role("textbox", name="Note", exact=True).fill(text)
    held = hold(page, re.compile(rf"/api/v1/files/{fid}$"))
    green = page.get_by_role("button", name="Add green note (final)")
    sent = lambda r: r.request.method == "POST" and r.url.endswith(f"/api/v1/files/{fid}/notes")  # noqa: E731
    with page.expect_response(sent):
        green.click()
    until(page, lambda: held, "the file asked for again")
    with page.expect_response(sent):
        green.click()
    held[0].continue_()
    page.wait_for_function("document.body.dataset.ready === 'file'")
    settle(page)
    expect(page.locator(".note.green", has_text=text)).to_have_count(1)
    notes = httpx.get(f"{web}/api/v1/files/{fid}", headers=api_token(web, SO)).json()["notes"]
    assert [n["body"] for n in notes].count(text) == 1


def test_import_pressed_twice_at_once_starts_one_import(page, web, tmp_path):
    """Import pressed twice in a row (the second while the files are still being read): one
    import job is started, its report shown."""
    page.goto("/")
    page.wait_for_function("document.body.dataset.ready === 'signin'")
    sign_in(page, "SYSADM-GAD-IT", "inbox")
    timed(page, lambda: page.goto("/#/admin"), "admin")
    posts = tmp_path / "posts.csv"
    posts.write_text("code,office_code,designation_en,designation_hi,supervisor_code,roles\n"
                     "XX(TEST)-GAD,NO-SUCH-OFFICE,Test post,परीक्षण पद,,section_staff\n")
    page.set_input_files("input[name=posts]", str(posts))
    started: list = []
    page.on("request", lambda r: started.append(r.url) if r.method == "POST" and "/import-jobs" in r.url else None)
    page.locator("form[aria-labelledby=imp-h]").evaluate("form => { form.requestSubmit(); form.requestSubmit(); }")
    page.get_by_role("heading", name="Import report").wait_for()
    settle(page)
    assert len(started) == 1


def test_an_import_is_followed_only_while_its_screen_is_shown(page, web, tmp_path):
    """An import under way is followed on the admin screen; once the admin goes elsewhere its
    progress is asked for no more (the test answers for the job: it stays running)."""
    job = {"id": "job-under-way", "state": "running", "stages": [{"file": "posts", "rows_total": 10, "rows_done": 3}]}
    asked: list = []

    def jobs(route):
        asked.append(route.request.method)
        route.fulfill(status=202 if route.request.method == "POST" else 200, json=job)
    page.route(re.compile(r"/api/v1/directory/import-jobs"), jobs)
    page.goto("/")
    page.wait_for_function("document.body.dataset.ready === 'signin'")
    sign_in(page, "SYSADM-GAD-IT", "inbox")
    timed(page, lambda: page.goto("/#/admin"), "admin")
    posts = tmp_path / "posts.csv"
    posts.write_text("code,office_code,designation_en,designation_hi,supervisor_code,roles\n")
    page.set_input_files("input[name=posts]", str(posts))
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_role("progressbar", name="Import progress")).to_have_attribute("aria-valuetext", "3 of 10 rows")
    until(page, lambda: asked.count("GET") >= 2, "the job followed")
    timed(page, lambda: page.goto("/#/search"), "search")
    followed = asked.count("GET")
    settle(page, 1600)  # three times the import's poll
    assert asked.count("GET") <= followed + 1  # at most the one on its way as the screen was left


def test_a_filter_changed_while_a_live_notification_redraws_the_inbox_stays(page, web):
    """A letter is marked to the reader while their inbox is open: its live notification draws the
    inbox's lists again. While they are asked for, the reader ticks "Unread only": the tick stays
    and the list shown is the unread one, not the list asked for before the tick."""
    reader = "RO3(EST)-GAD"
    clerk = api_token(web, CLERK)
    page.goto("/")
    page.wait_for_function("document.body.dataset.ready === 'signin'")
    with page.expect_response(re.compile(r"/api/v1/notifications\?limit=1$")):  # the count the stream follows
        sign_in(page, reader, "inbox")
    held = hold(page, re.compile(r"/api/v1/inbox\?"))
    with httpx.Client(base_url=f"{web}/api/v1", timeout=30) as api:
        made = api.post("/receipts", headers={**clerk, "Idempotency-Key": uuid.uuid4().hex}, json={
            "subject": "अधिष्ठान संबंधी पत्र", "sender_name": "मोहन लाल", "received_date": TODAY.isoformat(),
            "mode": "post"})
        assert made.status_code == 201, made.text
        sent = api.post(f"/receipts/{made.json()['id']}/send", json={"to_post": reader},
                        headers={**clerk, "Idempotency-Key": uuid.uuid4().hex})
        assert sent.status_code == 200, sent.text
    until(page, lambda: held, "the inbox asked for again")
    unread = page.get_by_label("Unread only")
    with page.expect_response(re.compile(r"/api/v1/inbox\?unread=true")):
        unread.check()
    with page.expect_response(lambda r: r.url == held[0].request.url):
        held[0].continue_()
    settle(page)
    expect(unread).to_be_checked()
    expect(page.locator(".inbox-body tbody tr:not(.unread)")).to_have_count(0)


def test_a_tracking_code_put_right_shows_the_answer_for_the_code_in_the_box(page, web):
    """On the citizen's page a mistyped code is checked, then the right one before the first
    answer has come: the right one's status is shown, no "not found" come late at the field."""
    clerk = api_token(web, CLERK)
    made = httpx.post(f"{web}/api/v1/receipts", headers={**clerk, "Idempotency-Key": uuid.uuid4().hex}, json={
        "subject": "Copy of the land record", "sender_name": "Geeta Devi", "received_date": TODAY.isoformat(),
        "mode": "post"})
    assert made.status_code == 201, made.text
    ack = httpx.get(f"{web}/api/v1/receipts/{made.json()['id']}/acknowledgement", headers=clerk)
    code = ack.json()["tracking_code"]
    wrong = "0" * len(code)
    page.goto("/track")
    page.wait_for_function("document.body.dataset.ready === 'public'")
    box = page.get_by_label(re.compile("^Tracking code"))
    check = page.get_by_role("button", name="Check status")
    held = hold(page, f"**/api/v1/public/receipts/{wrong}")
    box.fill(wrong)
    check.click()
    until(page, lambda: held, "the mistyped code asked for")
    box.fill(code)
    with page.expect_response(f"**/api/v1/public/receipts/{code}"):
        check.click()
    status = page.locator("p.status")
    expect(status).to_have_count(1)
    with page.expect_response(f"**/api/v1/public/receipts/{wrong}"):
        held[0].continue_()
    settle(page)
    expect(status).to_have_count(1)
    expect(box).not_to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("alert")).to_have_count(0)


def test_a_certificate_registered_does_not_redraw_the_screen_gone_to_since(page, web, pki):
    """Once a certificate's registration is proved (its key signs the registration request, as the
    signer program does with the token), the screen it was asked from is drawn again a moment
    later; an officer who has gone to another screen meanwhile (and typed there) keeps it as it is."""
    officer = "US(IT)-GAD"
    headers = api_token(web, officer)
    page.goto("/")
    page.wait_for_function("document.body.dataset.ready === 'signin'")
    sign_in(page, officer, "inbox")
    timed(page, lambda: page.goto("/#/notifications/preferences"), "preferences")
    page.get_by_label(re.compile(r"^Certificate \(PEM")).fill(pki.cert_pem("officer3").decode())
    with page.expect_response(re.compile(r"/api/v1/signing/certificates$")) as asked:
        page.get_by_role("button", name="Register my certificate").click()
    assert asked.value.status == 202, asked.value.text()
    request = asked.value.json()
    proved = httpx.post(f"{web}/api/v1/signing/requests/{request['id']}/signature",
                        headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
                        json={"signature": pki.sign("officer3", request)})
    assert proved.status_code == 201, proved.text
    try:
        expect(page.get_by_text("Your certificate is registered")).to_be_visible(timeout=15_000)
        timed(page, lambda: page.goto("/#/search"), "search")
        words = page.get_by_label("Words, a diary or file number")
        words.fill("पेंशन नियमावली")
        settle(page, 2500)  # past the moment the registration's screen is drawn again
        expect(words).to_have_value("पेंशन नियमावली")
        assert page.evaluate("document.body.dataset.ready") == "search"
    finally:  # free for the next run: a certificate is registered to one user
        sha = hashlib.sha256(pki.cert_der("officer3")).hexdigest()
        gone = httpx.delete(f"{web}/api/v1/signing/certificates/{sha}",
                            headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
        assert gone.status_code in (200, 204), gone.text


def test_the_post_chosen_last_to_act_as_is_the_one_acted_as(page, web):
    """Someone holding two posts goes through the "Act as" list (the arrow keys choose each post in
    turn): the post chosen last is the one acted as, not the one whose answer came after it."""
    regular, additional = "SO(ACC)-GAD", "SO(RTI)-GAD"  # one person's posts: the second an additional charge
    page.goto("/")
    page.wait_for_function("document.body.dataset.ready === 'signin'")
    sign_in(page, regular, "inbox")
    held = hold(page, "**/api/v1/auth/act-as")
    act_as = page.locator("#act-as")
    act_as.select_option(additional)
    until(page, lambda: held, "acting as the additional post asked for")
    timed(page, lambda: act_as.select_option(regular), "inbox")
    with page.expect_response("**/api/v1/auth/act-as"):
        held[0].continue_()
    settle(page, 1000)  # time for the session to be changed and the inbox drawn again, if they were to be
    expect(act_as).to_have_value(regular)
    assert page.evaluate("JSON.parse(sessionStorage.getItem('eoffice.session')).acting_as") == regular


def test_the_post_switched_to_has_its_own_notifications_counted_and_announced(page, web):
    """Notifications are a post's. Someone holding two posts switches from one to the other: the
    menu's count is the new post's, a letter marked to it is announced and counted, and one marked
    to the post left is neither (the stream is read again as the new post)."""
    regular, additional = "SO(ACC)-GAD", "SO(RTI)-GAD"  # one person's posts: the second an additional charge
    clerk = api_token(web, "DAKCLK3-GAD")
    readers = {post: api_token(web, post) for post in (regular, additional)}

    def unread(post: str) -> int:
        return httpx.get(f"{web}/api/v1/notifications?limit=1", headers=readers[post]).json()["unread"]

    def marked(post: str, subject: str) -> str:
        made = httpx.post(f"{web}/api/v1/receipts", headers={**clerk, "Idempotency-Key": uuid.uuid4().hex}, json={
            "subject": subject, "sender_name": "Mohan Lal", "received_date": TODAY.isoformat(), "mode": "post"})
        assert made.status_code == 201, made.text
        sent = httpx.post(f"{web}/api/v1/receipts/{made.json()['id']}/send", json={"to_post": post},
                          headers={**clerk, "Idempotency-Key": uuid.uuid4().hex})
        assert sent.status_code == 200, sent.text
        number = made.json()["diary_number"]
        wait_until(lambda: any(n["number"] == number for n in httpx.get(
            f"{web}/api/v1/notifications", headers=readers[post]).json()["items"]), 30, f"{post} notified")
        return number

    before = unread(additional)
    marked(additional, "RTI application awaiting reply")
    assert unread(additional) == before + 1
    page.goto("/")
    page.wait_for_function("document.body.dataset.ready === 'signin'")
    sign_in(page, regular, "inbox")
    page.wait_for_timeout(1000)  # the first count, the stream read as the regular post
    timed(page, lambda: page.locator("#act-as").select_option(additional), "inbox")
    expect(page.locator("#unread-badge")).to_have_text(f" {unread(additional)}")
    page.wait_for_timeout(1000)  # the stream, read again as the additional post
    left = marked(regular, "Pay bill of the accounts section")
    number = marked(additional, "Second RTI application")
    expect(page.locator("#live-news")).to_contain_text(f"Receipt {number} has arrived at {additional}", timeout=30000)
    expect(page.locator("#unread-badge")).to_have_text(f" {unread(additional)}")
    assert left not in page.locator("#live-news").inner_text()
    page.get_by_role("link", name=number).wait_for()  # the inbox drawn again with it


def test_wide_tables_scroll_in_their_own_box_on_a_phone(page, web):
    """On a phone (390 px) the system admin's list of portal subscriptions is wider than the
    screen: it scrolls sideways within its own box, named and reached by the keyboard, and the
    page itself does not (nothing is cut off at the right edge)."""
    admin = {**api_token(web, "SYSADM-GAD-IT"), "Idempotency-Key": uuid.uuid4().hex}
    made = httpx.post(f"{web}/api/v1/subscriptions", headers=admin, json={
        "name": "Jan Sunwai grievance portal", "delivery": "amqp",
        "event_types": ["eoffice.receipt.diarised.v1", "eoffice.file.sent.v1"]})
    assert made.status_code == 201, made.text
    page.set_viewport_size(PHONE)
    page.goto("/")
    page.wait_for_function("document.body.dataset.ready === 'signin'")
    sign_in(page, "SYSADM-GAD-IT", "inbox")
    timed(page, lambda: page.goto("/#/subscriptions"), "subscriptions")
    page.get_by_role("link", name="Jan Sunwai grievance portal").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    box = page.get_by_role("region", name="Portal subscriptions")
    assert box.evaluate("(el) => el.scrollWidth > el.clientWidth && el.tabIndex === 0")  # it scrolls, by keyboard too


def test_a_sign_in_with_nothing_typed_says_each_field_is_required(page, web):
    """Sign in pressed with the boxes empty: the e-mail and the password each say they are required
    (not that the e-mail is too short), in Hindi too, and the focus is on the e-mail; an e-mail
    typed too short is still said to be too short."""
    page.goto("/")
    page.wait_for_function("document.body.dataset.ready === 'signin'")
    email, password = page.get_by_label("Government e-mail"), page.get_by_label("Password")

    def said(box) -> str:
        return page.locator(f"#{box.get_attribute('id')}-err").inner_text()
    page.get_by_role("button", name="Sign in").click()
    expect(email).to_have_attribute("aria-invalid", "true")
    assert (said(email), said(password)) == ("This field is required", "This field is required")
    expect(email).to_be_focused()
    timed(page, lambda: page.locator("header button.lang").click(), "signin")
    email, password = page.get_by_label("सरकारी ई-मेल"), page.get_by_label("पासवर्ड")
    page.get_by_role("button", name="साइन इन").click()
    expect(email).to_have_attribute("aria-invalid", "true")
    assert said(email) == said(password) == "यह प्रविष्टि आवश्यक है"
    email.fill("ab")
    page.get_by_role("button", name="साइन इन").click()
    expect(page.locator(f"#{email.get_attribute('id')}-err")).to_contain_text("3")
    assert said(email) != "यह प्रविष्टि आवश्यक है"


def test_the_acknowledgement_marks_a_hindi_subject_as_hindi(page, web):
    """A paper letter with a Hindi subject diarised on an English screen: the acknowledgement
    shows the subject marked as Hindi, so a screen reader reads it in a Hindi voice (and the
    printed slip uses the Devanagari font)."""
    page.goto("/")
    page.wait_for_function("document.body.dataset.ready === 'signin'")
    sign_in(page, CLERK, "diarise")
    page.get_by_label("Sender's name").fill("मोहन लाल")
    page.get_by_label("Subject").fill("वेतन निर्धारण हेतु प्रार्थना पत्र")
    page.get_by_role("button", name="Diarise", exact=True).click()
    subject = page.locator(".ack dd", has_text="वेतन निर्धारण हेतु प्रार्थना पत्र")
    expect(subject).to_have_attribute("lang", "hi")
