"""Notifying people, against the real directory, dak, files and notify services, RabbitMQ,
PostgreSQL, a gunicorn gateway for the live stream, a real SMTP server on loopback (aiosmtpd,
with STARTTLS and a login) and a small HTTP receiver standing in for the SMS gateway.

The tests work in an office of their own (GAD-NTF: its posts, the people holding them, one
awaiting a posting), which the system admin imports through the API at the start; nothing else
of the demo organisation is read, so what other modules do to it (hand-overs, imports) does not
matter here, and what these tests do (a hand-over, a delegation) touches no one else's posts."""
from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import io
import json
import queue
import socket
import ssl
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from nameko.amqp.publish import Publisher
from nameko.standalone.events import get_event_exchange

from eoffice.clock import IST, today
from eoffice.contracts.signing import Addressee, LetterIssued
from eoffice.events import envelope_for
from eoffice.storage import DocumentStore
from eoffice.workdays import add_working_days
from services.notify.smtp_sink import sink
from tests.support.demo import PASSWORD, auth, demo_gateway, every_item, every_page, held_post, sign_in, working_day
from tests.support.system import free_port, gunicorn_gateway, service_process, wait_until

# Its own test environment (deploy/eoffice isolated).
pytestmark = [pytest.mark.live, pytest.mark.isolated]
OFFICE = "GAD-NTF"
DEALER, SO, US, DS, JS = "RO1(NTF)-GAD", "SO(NTF)-GAD", "US(NTF)-GAD", "DS(NTF)-GAD", "JS(NTF)-GAD"
HANDED_OVER, AWAY, ADMIN = "RO2(NTF)-GAD", "RO3(NTF)-GAD", "EOADM(NTF)-GAD"
AWAY_LONG = "RO4(NTF)-GAD"  # its reader misses more than a page of notifications
HEAD = "11077"
# The office's posts: code, designation, supervisor, roles; each held by one person (below).
POSTS = [
    (JS, "Joint Secretary (Notifications)", "", "officer;supervisor"),
    (DS, "Deputy Secretary (Notifications)", JS, "officer"),
    (US, "Under Secretary (Notifications)", DS, "officer"),
    (SO, "Section Officer (Notifications)", US, "officer"),
    (DEALER, "Review Officer 1 (Notifications)", SO, "section_staff"),
    (HANDED_OVER, "Review Officer 2 (Notifications)", SO, "section_staff"),
    (AWAY, "Review Officer 3 (Notifications)", SO, "section_staff"),
    (ADMIN, "e-Office Administrator (Notifications)", SO, "office_admin"),
    (AWAY_LONG, "Review Officer 4 (Notifications)", SO, "section_staff"),
]
HOLDER = {post: f"NTF{n:03d}" for n, (post, *_) in enumerate(POSTS, start=1)}
NEWCOMER = "NTF099"  # awaiting a posting


def email_of(employee_id: str) -> str:
    return f"{employee_id.lower()}@ntf.gad.example.in"


def holder_email(post: str) -> str:
    """The e-mail of whoever holds the post (as imported)."""
    return email_of(HOLDER[post])


def the_office() -> dict[str, str]:
    """The office's CSV files, for the directory import."""
    posts = "".join(f"{code},{OFFICE},{title},{title},{boss},{roles}\n" for code, title, boss, roles in POSTS)
    people = [*HOLDER.values(), NEWCOMER]
    return {
        "offices": "code,parent_code,level,name_en,name_hi,weekly_off\n"
        f"{OFFICE},GAD,section,Notifications Section,अधिसूचना अनुभाग,SAT;SUN\n",
        "posts": "code,office_code,designation_en,designation_hi,supervisor_code,roles\n" + posts,
        "users": "employee_id,name_en,name_hi,email,mobile\n"
        + "".join(f"{e},Officer {e},अधिकारी {e},{email_of(e)},98{n:08d}\n" for n, e in enumerate(people, 1)),
        "postings": "employee_id,post_code,start_date,end_date,charge\n"
        + "".join(f"{employee},{post},2024-04-01,,regular\n" for post, employee in HOLDER.items()),
    }


SMTP_LOGIN = ("eoffice", "mail-secret")


def _certificate(directory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 (the SMTP server's STARTTLS), as PEM files."""
    import ipaddress
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "smtp.crt", directory / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


class SmsReceiver(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        SmsReceiver.received.append({k: v[0] for k, v in parse_qs(body).items()})
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'{"status": "queued"}')

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def mail(tmp_path_factory):
    directory = tmp_path_factory.mktemp("mail")
    cert, key = _certificate(directory)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    port = free_port()
    controller, store = sink(directory / "box", port=port, tls=tls, login=SMTP_LOGIN)
    yield {"port": port, "store": store, "ca": cert}
    controller.stop()


@pytest.fixture(scope="module")
def sms():
    server = ThreadingHTTPServer(("127.0.0.1", 0), SmsReceiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/send"
    server.shutdown()


@pytest.fixture(scope="module")
def api(migrated, mail, sms):
    env = {"EOFFICE_SMTP_HOST": "127.0.0.1", "EOFFICE_SMTP_PORT": str(mail["port"]), "EOFFICE_SMTP_STARTTLS": "true",
           "EOFFICE_SMTP_CA_FILE": mail["ca"], "EOFFICE_SMTP_USERNAME": SMTP_LOGIN[0],
           "EOFFICE_SMTP_PASSWORD": SMTP_LOGIN[1], "EOFFICE_SMTP_FROM": "eoffice@gad.example.in",
           "EOFFICE_SMS_URL": sms, "EOFFICE_SMS_TEMPLATE_IDS": json.dumps({"arrived": "1107160000000000001"}),
           "EOFFICE_NOTIFY_DAILY": "false",  # the daily job runs when the tests ask
           "EOFFICE_PUBLIC_URL": "https://eoffice.up.example.in/"}
    notify = service_process("notify", env=env).start()
    try:
        with demo_gateway(migrated, ("directory", "dak", "files")) as client:
            wait_until(lambda: client.app.state.rpc.call("notify", "ping"), 60, "notify answering")
            admin = auth(sign_in(client, held_post("system_admin", None)))
            imported = client.post("/api/v1/directory/import", headers=admin,
                                   json={"files": the_office(), "initial_password": PASSWORD})
            assert imported.status_code == 200 and imported.json()["rejected"] == [], imported.text
            yield client
    finally:
        notify.stop()


@pytest.fixture(scope="module")
def http_gateway(api):
    with gunicorn_gateway() as url:
        yield url


def key() -> dict:
    return {"Idempotency-Key": uuid.uuid4().hex}


def as_post(api, post: str) -> dict:
    """Signed in as the post's holder (as imported), acting as it."""
    return signed_in(api, HOLDER[post], post)


def signed_in(api, employee_id: str, post: str) -> dict:
    response = api.post("/api/v1/auth/sign-in", json={"email": email_of(employee_id), "password": PASSWORD,
                                                      "post_code": post})
    assert response.status_code == 200, response.text
    return auth(response.json())


def new_file_sent(api, to_post: str, **send) -> dict:
    """A file the dealing hand opens and sends to `to_post`; returns it."""
    return new_files_sent(api, to_post, 1, **send)[0]


def new_files_sent(api, to_post: str, count: int, **send) -> list[dict]:
    """`count` files the dealing hand opens and sends to `to_post`, one after the other; returns them."""
    made = api.post(f"/api/v1/offices/{OFFICE}/subject-heads", headers=as_post(api, ADMIN),
                    json={"code": HEAD, "title": "Notifications"})
    assert made.status_code == 201, made.text
    dealer, files = as_post(api, DEALER), []
    for _ in range(count):
        file = api.post("/api/v1/files", headers={**dealer, **key()},
                        json={"subject_head": HEAD, "subject": "Water supply to ward 7"})
        assert file.status_code == 201, file.text
        moved = api.post(f"/api/v1/files/{file.json()['id']}/send", headers={**dealer, **key()},
                         json={"to_post": to_post, **send})
        assert moved.status_code == 200, moved.text
        files.append(file.json())
    return files


def notifications(api, headers, **query) -> list[dict]:
    answer = api.get("/api/v1/notifications", headers=headers, params=query)
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


def mails_to(mail, address: str) -> list:
    return [m for m in mail["store"].messages() if address in m["X-Envelope-To"]]


class Stream:
    """Reads the live stream in a thread (plain http.client, so that closing shuts the socket
    down at once, as a browser leaving does); `events` holds each (id, data) as it arrives."""

    def __init__(self, url: str, headers: dict, last_event_id: int | None = None, query: str = ""):
        self.events: queue.Queue = queue.Queue()
        self.headers = {**headers, **({"Last-Event-ID": str(last_event_id)} if last_event_id is not None else {})}
        self.opened = threading.Event()
        parts = urlsplit(url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        self.path = f"{parts.path}/notifications/stream" + (f"?{query}" if query else "")
        threading.Thread(target=self._read, daemon=True).start()
        assert self.opened.wait(20), "the stream did not open"

    def _read(self):
        try:
            self.connection.request("GET", self.path, headers=self.headers)
            response = self.connection.getresponse()
            self.status, self.content_type = response.status, response.getheader("content-type", "")
            self.opened.set()
            event: dict = {}
            for raw in response:
                line = raw.decode().rstrip("\r\n")
                if line.startswith("id: "):
                    event["id"] = int(line[4:])
                elif line.startswith("data: "):
                    event["data"] = json.loads(line[6:])
                elif line == "" and "data" in event:
                    self.events.put(event)
                    event = {}
        except (OSError, http.client.HTTPException, ValueError, AttributeError):  # closed by the test
            pass

    def next_about(self, item_id: str, timeout: float = 30) -> dict:
        deadline = dt.datetime.now() + dt.timedelta(seconds=timeout)
        while dt.datetime.now() < deadline:
            try:
                event = self.events.get(timeout=1)
            except queue.Empty:
                continue
            if event["data"]["item_id"] == item_id:
                return event
        raise AssertionError(f"no event about {item_id} within {timeout}s")

    def take(self, count: int, timeout: float = 30) -> list[dict]:
        """The next `count` events, or as many as came within `timeout` seconds."""
        deadline, got = time.monotonic() + timeout, []
        while len(got) < count and (left := deadline - time.monotonic()) > 0:
            with contextlib.suppress(queue.Empty):
                got.append(self.events.get(timeout=left))
        return got

    def close(self):
        with contextlib.suppress(OSError):
            self.connection.sock.shutdown(socket.SHUT_RDWR)
        self.connection.close()


def test_a_file_sent_to_a_post_reaches_its_holder_live_by_email_and_sms_in_hindi(api, http_gateway, mail):
    so = as_post(api, SO)
    prefs = api.put("/api/v1/notifications/preferences", headers=so,
                    json={"language": "hi", "channels": ["in_app", "email", "sms"]})
    assert prefs.status_code == 200, prefs.text
    stream = Stream(http_gateway, so)
    try:
        assert stream.status == 200 and stream.content_type.startswith("text/event-stream")
        file = new_file_sent(api, SO, remarks="please examine")
        event = stream.next_about(file["id"])
    finally:
        stream.close()
    shown = event["data"]
    assert shown["kind"] == "arrived" and shown["post_code"] == SO and event["id"] == shown["id"]
    assert shown["text"] == f"फ़ाइल {file['file_number']} {DEALER} से {SO} पर प्राप्त हुई।"

    # The e-mail, through STARTTLS and a login, in Hindi, to whoever holds the post.
    address = holder_email(SO)
    got = wait_until(lambda: mails_to(mail, address), 30, "the e-mail to the holder")
    assert len(got) == 1
    assert got[0]["Subject"].startswith("ई-ऑफिस:") and file["file_number"] in got[0]["Subject"]
    assert "प्राप्त हुई" in got[0].get_content()
    assert f"खोलें: https://eoffice.up.example.in/#/files/{file['id']}" in got[0].get_content()  # a link to it
    # The SMS, with the template ID registered for its text.
    sms = wait_until(lambda: [m for m in SmsReceiver.received if file["file_number"] in m["message"]], 30, "the SMS")
    assert sms[0]["template_id"] == "1107160000000000001" and sms[0]["message"] == shown["text"]

    # Listed, unread; resumed from the id before it the stream sends it again; marked read.
    listed = notifications(api, so, unread=True)
    assert [n["id"] for n in listed if n["item_id"] == file["id"]] == [shown["id"]]
    page = api.get("/api/v1/notifications", headers=so, params={"limit": 1}).json()
    assert page["unread"] >= 1 and page["unread_more"] is False  # the count, and that it did not stop at its cap
    again = Stream(http_gateway, so, last_event_id=shown["id"] - 1)
    try:
        assert again.next_about(file["id"], timeout=15)["id"] == shown["id"]
    finally:
        again.close()
    marked = api.post("/api/v1/notifications/read", headers=so, json={"ids": [shown["id"]]})
    assert marked.status_code == 200 and marked.json()["marked"] == 1
    assert shown["id"] not in [n["id"] for n in notifications(api, so, unread=True)]
    # Someone else's post does not see it.
    assert shown["id"] not in [n["id"] for n in notifications(api, as_post(api, DS))]


def test_texts_come_in_the_language_the_screen_asks_for_whatever_the_preference(api, http_gateway):
    """A reader who prefers Hindi with the screen switched to English: the list and the live
    stream asked with lang=en say what happened in English, a stream resumed from an id too;
    without lang, Hindi as the preference says. A language that is neither is refused naming lang."""
    so = as_post(api, SO)
    prefs = api.put("/api/v1/notifications/preferences", headers=so, json={"language": "hi"})
    assert prefs.status_code == 200, prefs.text
    stream = Stream(http_gateway, so, query="lang=en")
    try:
        file = new_file_sent(api, SO)
        event = stream.next_about(file["id"])
    finally:
        stream.close()
    english = f"File {file['file_number']} has arrived at {SO} from {DEALER}."
    hindi = f"फ़ाइल {file['file_number']} {DEALER} से {SO} पर प्राप्त हुई।"
    assert event["data"]["text"] == english
    assert {n["id"]: n["text"] for n in notifications(api, so, lang="en")}[event["id"]] == english
    assert {n["id"]: n["text"] for n in notifications(api, so)}[event["id"]] == hindi
    again = Stream(http_gateway, so, last_event_id=event["id"] - 1, query="lang=en")
    try:
        assert again.next_about(file["id"], timeout=15)["data"]["text"] == english
    finally:
        again.close()
    for path in ("/api/v1/notifications", "/api/v1/notifications/stream"):
        refused = api.get(path, headers=so, params={"lang": "fr"})
        assert refused.status_code == 422, (path, refused.text)
        assert [e["field"] for e in refused.json()["errors"]] == ["query.lang"], (path, refused.text)


def test_a_digest_reader_gets_one_email_a_day(api, mail):
    us = as_post(api, US)
    assert api.put("/api/v1/notifications/preferences", headers=us,
                   json={"language": "en", "digest": True}).status_code == 200
    files = [new_file_sent(api, US) for _ in range(2)]
    wait_until(lambda: {f["id"] for f in files} <= {n["item_id"] for n in notifications(api, us)}, 30,
               "both notifications listed")
    address = holder_email(US)
    assert mails_to(mail, address) == []  # nothing sent one by one
    for _ in range(2):
        api.app.state.rpc.call("notify", "run_daily", today().isoformat())
    got = mails_to(mail, address)
    assert len(got) == 1, [m["Subject"] for m in got]
    assert got[0]["Subject"].startswith("e-Office: ") and all(f["file_number"] in got[0].get_content() for f in files)


def test_an_overdue_file_is_reminded_then_escalated_each_once(api):
    due = working_day(api, DS, today())  # today, unless the office is off today: a due date is a working day
    file = new_file_sent(api, DS, due_date=due.isoformat())
    ds, rpc = as_post(api, DS), api.app.state.rpc
    wait_until(lambda: file["id"] in {n["item_id"] for n in notifications(api, ds)}, 30, "the arrival listed")
    calendar = rpc.call("directory", "calendars_of_posts", [DS])[DS]
    off, holidays = frozenset(calendar["weekly_off"]), frozenset(dt.date.fromisoformat(d) for d in calendar["holidays"])
    first = add_working_days(due, 1, weekly_off=off, holidays=holidays)
    supervisor = rpc.call("directory", "supervisors_of", DS)[0]

    def kinds(post: str) -> list[str]:
        return sorted(n["kind"] for n in notifications(api, as_post(api, post)) if n["item_id"] == file["id"])

    rpc.call("notify", "run_daily", first.isoformat())
    rpc.call("notify", "run_daily", first.isoformat())
    assert kinds(DS) == ["arrived", "overdue"]
    assert "escalated" not in kinds(supervisor)
    later = add_working_days(first, 3, weekly_off=off, holidays=holidays)  # EOFFICE_NOTIFY_ESCALATE_AFTER
    rpc.call("notify", "run_daily", add_working_days(first, 2, weekly_off=off, holidays=holidays).isoformat())
    assert "escalated" not in kinds(supervisor)
    for _ in range(2):
        rpc.call("notify", "run_daily", later.isoformat())
    assert kinds(supervisor).count("escalated") == 1
    assert kinds(DS) == ["arrived", "overdue"]
    escalation = next(n for n in notifications(api, as_post(api, supervisor))
                      if n["item_id"] == file["id"] and n["kind"] == "escalated")
    assert escalation["detail"]["holder_post"] == DS and DS in escalation["text"]


def test_an_issued_letter_is_emailed_with_its_signed_pdf_and_recorded_dispatched(api, mail, settings):
    file = new_file_sent(api, SO)
    wait_until(lambda: file["id"] in {n["item_id"] for n in notifications(api, as_post(api, SO))}, 30,
               "the file at SO")  # as it would be long before a letter is issued from it
    pdf = b"%PDF-1.7\n% a signed letter stands in here\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
    stored = DocumentStore(settings).put(io.BytesIO(pdf), content_type="application/pdf",
                                         retain_until=dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
    letter = LetterIssued(
        letter_id=str(uuid.uuid4()), letter_number="D-7/2026/GAD-NTF", office_code=OFFICE, file_id=file["id"],
        file_number=file["file_number"], draft_id=1, version=1, title="Water supply to ward 7",
        addressees=[Addressee(name="Collector, Lucknow", email="collector@lucknow.example.in"),
                    Addressee(name="Ward councillor", address="Ward 7, Lucknow")],
        object_name=stored.name, record_version=stored.version_id, sha256=stored.sha256, size=len(pdf), pages=1,
        level="B-T", signer_user="E1", signer_post=SO, signer_name="Signer", issued_at=dt.datetime.now(dt.UTC))
    envelope = envelope_for("signing", letter, subject=file["id"]).model_dump(mode="json")
    del envelope["data"]["enclosure"]  # as signing raised it before it named enclosures: it still reads
    exchange = get_event_exchange("signing", {})
    publisher = Publisher(settings.amqp_uri, use_confirms=True)
    publisher.publish(envelope, exchange=exchange, routing_key=letter.event_type, declare=[exchange])

    got = wait_until(lambda: mails_to(mail, "collector@lucknow.example.in"), 30, "the letter e-mailed")
    (attachment,) = list(got[0].iter_attachments())
    assert attachment.get_content_type() == "application/pdf" and attachment.get_content() == pdf
    assert attachment.get_filename() == "D-7-2026-GAD-NTF.pdf" and "D-7/2026/GAD-NTF" in got[0]["Subject"]
    text = got[0].get_body(("plain",)).get_content()
    assert "Please find attached letter D-7/2026/GAD-NTF of GAD-NTF, signed digitally." in text, text
    assert "enclosure" not in text.lower() and "संलग्नक," not in text, text  # it has none
    rpc = api.app.state.rpc
    (recorded,) = wait_until(lambda: [d for d in rpc.call("notify", "letter_dispatches", file["id"])
                                      if d["dispatched_at"]], 30, "the dispatch recorded")
    assert [(a["name"], a["status"]) for a in recorded["addressees"]] == [
        ("Collector, Lucknow", "sent"), ("Ward councillor", "by_hand")]
    # The post holding the file is told, in its holder's language (Hindi, chosen above).
    issued = [n for n in notifications(api, as_post(api, SO)) if n["item_id"] == file["id"] and n["kind"] == "issued"]
    assert len(issued) == 1 and "D-7/2026/GAD-NTF" in issued[0]["text"] and "जारी" in issued[0]["text"]
    # The same event delivered again dispatches nothing twice.
    publisher.publish(envelope, exchange=exchange, routing_key=letter.event_type, declare=[exchange])
    time.sleep(3)
    assert len(mails_to(mail, "collector@lucknow.example.in")) == 1
    assert len([n for n in notifications(api, as_post(api, SO)) if n["kind"] == "issued"
                and n["item_id"] == file["id"]]) == 1

    # A letter issued from a version with a document carries it inside its signed PDF (one
    # attachment still): the e-mail names it and says where it is, in Hindi and English.
    enclosed = letter.model_copy(update={
        "letter_id": str(uuid.uuid4()), "letter_number": "D-8/2026/GAD-NTF", "draft_id": 2,
        "addressees": [Addressee(name="SDM, Sadar", email="sdm@lucknow.example.in")],
        "enclosure": "अनुलग्नक-क Annexure A.pdf"})
    publisher.publish(envelope_for("signing", enclosed, subject=file["id"]).model_dump(mode="json"),
                      exchange=exchange, routing_key=letter.event_type, declare=[exchange])
    (got,) = wait_until(lambda: mails_to(mail, "sdm@lucknow.example.in"), 30, "the letter with an enclosure e-mailed")
    (attachment,) = list(got.iter_attachments())
    assert attachment.get_filename() == "D-8-2026-GAD-NTF.pdf" and attachment.get_content() == pdf
    text = got.get_body(("plain",)).get_content()
    assert 'Its enclosure, "अनुलग्नक-क Annexure A.pdf", is inside the PDF: open the PDF\'s attachments.' in text, text
    assert ('इसका संलग्नक, "अनुलग्नक-क Annexure A.pdf", इसी पीडीएफ़ के भीतर है: पीडीएफ़ की संलग्न फ़ाइलें '
            '(अटैचमेंट) खोलें।') in text, text


def test_a_hand_over_moves_what_waits_for_the_old_holder_to_the_new_one(api, mail):
    post = HANDED_OVER
    old_email = holder_email(post)
    # The old holder's quiet hours hold their e-mail back for now.
    now = dt.datetime.now(IST)
    quiet = {"quiet_from": (now - dt.timedelta(hours=1)).strftime("%H:%M"),
             "quiet_to": (now + dt.timedelta(hours=2)).strftime("%H:%M"), "language": "en"}
    assert api.put("/api/v1/notifications/preferences", headers=as_post(api, post), json=quiet).status_code == 200
    file = new_file_sent(api, post)
    wait_until(lambda: file["id"] in {n["item_id"] for n in notifications(api, as_post(api, post))}, 30,
               "the arrival listed")
    assert mails_to(mail, old_email) == []

    newcomer = {"employee_id": NEWCOMER, "email": email_of(NEWCOMER)}  # awaiting a posting
    handed = api.post(f"/api/v1/posts/{post}/hand-over", headers={**as_post(api, ADMIN), **key()},
                      json={"employee_id": newcomer["employee_id"], "start_date": today().isoformat()})
    assert handed.status_code == 200, handed.text
    got = wait_until(lambda: mails_to(mail, newcomer["email"]), 30, "the e-mail moved to the new holder")
    assert file["file_number"] in got[0]["Subject"] and got[0]["Subject"].startswith("ई-ऑफिस")  # their language
    signed_in = api.post("/api/v1/auth/sign-in", json={"email": newcomer["email"], "password": PASSWORD,
                                                       "post_code": post})
    assert signed_in.status_code == 200, signed_in.text
    unread = notifications(api, auth(signed_in.json()), unread=True)
    assert file["id"] in {n["item_id"] for n in unread}
    time.sleep(2)
    assert mails_to(mail, old_email) == []


def test_whoever_acts_for_a_post_by_delegation_is_told_too(api, mail):
    away = AWAY
    # A file reaches the post first: notify now remembers who holds it (services/notify/audience.py).
    before = new_file_sent(api, away)
    wait_until(lambda: [m for m in mails_to(mail, holder_email(away)) if before["file_number"] in m["Subject"]], 30,
               "the holder's e-mail")
    assert not [m for m in mails_to(mail, holder_email(DEALER)) if before["file_number"] in m["Subject"]]
    delegated = api.post("/api/v1/delegations", headers={**as_post(api, ADMIN), **key()},
                         json={"from_post": away, "to_post": DEALER, "start_date": today().isoformat(),
                               "end_date": (today() + dt.timedelta(days=3)).isoformat(), "reason": "on leave"})
    assert delegated.status_code == 201, delegated.text
    file = new_file_sent(api, away)
    delegate = wait_until(lambda: [m for m in mails_to(mail, holder_email(DEALER))
                                   if file["file_number"] in m["Subject"]], 30, "the delegate's e-mail")
    assert away in delegate[0].get_content()
    assert [m for m in mails_to(mail, holder_email(away)) if file["file_number"] in m["Subject"]]
    # The delegate sees it in the app too, acting as their own post.
    assert file["id"] in {n["item_id"] for n in notifications(api, as_post(api, DEALER))}


def test_many_open_streams_hold_no_thread_and_each_gets_its_notification(api, http_gateway):
    # More streams than the gateway's worker threads (anyio's 40 per process) and RPC proxies
    # (16): were a stream to hold either while it waits, the call below would wait or fail.
    us = as_post(api, US)
    with ThreadPoolExecutor(10) as pool:
        streams = list(pool.map(lambda _: Stream(http_gateway, us), range(60)))
    try:
        started = time.monotonic()
        listed = httpx.get(f"{http_gateway}/notifications", headers=us, timeout=10)
        assert listed.status_code == 200 and time.monotonic() - started < 3
        file = new_file_sent(api, US)
        for stream in streams:
            assert stream.next_about(file["id"])["data"]["kind"] == "arrived"
    finally:
        for stream in streams:
            stream.close()


def test_a_stream_resumed_after_more_than_a_page_was_missed_sends_every_one_in_order_once(api, http_gateway):
    """Nothing lost: a reader whose stream dropped while 230 notifications came (more than the
    200 a catch-up page holds) gets every one of them when it resumes with Last-Event-ID, oldest
    first, each once, and then the next new one live."""
    reader = as_post(api, AWAY_LONG)
    assert api.put("/api/v1/notifications/preferences", headers=reader,
                   json={"language": "en", "channels": ["in_app"]}).status_code == 200
    stream = Stream(http_gateway, reader)
    try:
        last_seen = stream.next_about(new_file_sent(api, AWAY_LONG)["id"])["id"]
    finally:
        stream.close()  # the network drops

    files = new_files_sent(api, AWAY_LONG, 230)

    def listed_since() -> list[dict] | None:
        shown = [n for n in every_item(api, "/api/v1/notifications", reader, limit=200) if n["id"] > last_seen]
        return shown if len(shown) >= len(files) else None

    missed = wait_until(listed_since, 60, "the 230 notifications listed")
    assert sorted(n["item_id"] for n in missed) == sorted(f["id"] for f in files)

    again = Stream(http_gateway, reader, last_event_id=last_seen)
    try:
        caught_up = again.take(len(missed), timeout=60)
        new = new_file_sent(api, AWAY_LONG)
        live = again.take(1)
        more = again.take(1, timeout=3)
    finally:
        again.close()
    assert [e["id"] for e in caught_up] == sorted(n["id"] for n in missed)  # every one, oldest first, once
    assert all(e["data"]["kind"] == "arrived" and e["data"]["post_code"] == AWAY_LONG for e in caught_up)
    assert [e["data"]["item_id"] for e in live] == [new["id"]] and live[0]["id"] > caught_up[-1]["id"]
    assert more == []  # nothing sent twice


def test_a_level_a_file_went_past_is_told_and_may_read_it(api, mail):
    """Levels (DOMAIN.md): the dealing hand sends a file straight to US, past SO, its direct
    supervisor. SO is told (`skipped`: in the app, by e-mail, in their language), holds nothing,
    and may read the file; US is told it arrived, as ever. Unticking the kind hides them."""
    so = as_post(api, SO)
    assert api.put("/api/v1/notifications/preferences", headers=so,
                   json={"language": "en", "channels": ["in_app", "email"]}).status_code == 200
    file = new_file_sent(api, US, remarks="urgent")
    number = file["file_number"]
    told = wait_until(lambda: [n for n in notifications(api, so) if n["item_id"] == file["id"]], 30, "SO told")
    assert [(n["kind"], n["post_code"], n["text"]) for n in told] == [
        ("skipped", SO, f"File {number} went past {SO} from {DEALER} to {US}.")]
    assert told[0]["detail"] == {"from_post": DEALER, "to_post": US, "remarks": "urgent"}
    us = as_post(api, US)
    assert [n["kind"] for n in wait_until(lambda: [n for n in notifications(api, us) if n["item_id"] == file["id"]],
                                          30, "US told")] == ["arrived"]
    mailed = wait_until(lambda: [m for m in mails_to(mail, holder_email(SO)) if number in m["Subject"]], 30, "mail")
    assert mailed[0]["Subject"] == f"e-Office: File {number} went past {SO} from {DEALER} to {US}."
    seen = api.get(f"/api/v1/files/{file['id']}", headers=so)
    assert seen.status_code == 200 and seen.json()["holder_post"] == US, seen.text
    assert seen.json()["movements"][-1]["skipped"] == [SO]

    kinds = [k for k in api.get("/api/v1/notifications/preferences", headers=so).json()["kinds"] if k != "skipped"]
    assert api.put("/api/v1/notifications/preferences", headers=so,
                   json={"language": "en", "kinds": kinds}).status_code == 200
    assert file["id"] not in {n["item_id"] for n in notifications(api, so)}


def test_the_list_pages_by_cursor_each_notification_once_and_the_old_before_still_works(api):
    """GET /notifications pages like every list: `cursor` in, `{items, next_cursor}` out (null on
    the last page), each page with the unread count; `before` (an id), how it paged until then,
    still works for one release."""
    so = as_post(api, SO)
    files = [new_file_sent(api, SO) for _ in range(5)]
    mine = {f["id"] for f in files}
    wait_until(lambda: mine <= {n["item_id"] for n in notifications(api, so, limit=200)}, 30, "SO told of all five")
    pages = every_page(api, "/api/v1/notifications", so, limit=2)
    walked = [n["id"] for page in pages for n in page["items"]]
    assert len(pages) >= 3 and all(len(page["items"]) == 2 for page in pages[:-1])
    assert pages[-1]["next_cursor"] is None and all(page["next_cursor"] for page in pages[:-1])
    assert all(isinstance(page["unread"], int) for page in pages)
    assert walked == sorted(set(walked), reverse=True)  # newest first, each once
    assert walked == [n["id"] for n in notifications(api, so, limit=200)]  # and every one of them
    assert mine <= {n["item_id"] for page in pages for n in page["items"]}

    # The deprecated `before`: the notifications older than that id, as the cursor gives them.
    old = api.get("/api/v1/notifications", headers=so, params={"limit": 2, "before": walked[1]})
    assert old.status_code == 200, old.text
    assert [n["id"] for n in old.json()["items"]] == walked[2:4] == [n["id"] for n in pages[1]["items"]]
    assert old.json()["next_cursor"] == pages[1]["next_cursor"]  # and it goes on by cursor

    for bad in ("not a cursor!", "YWJj", "OTk5OTk5OTk5OTk5OTk5OTk5OTk5"):  # not base64; "abc"; a number past bigint
        refused = api.get("/api/v1/notifications", headers=so, params={"cursor": bad})
        assert refused.status_code == 422 and refused.json()["field"] == "cursor", (bad, refused.text)
    both = api.get("/api/v1/notifications", headers=so, params={"cursor": pages[0]["next_cursor"], "before": 5})
    assert both.status_code == 422 and both.json()["field"] == "before", both.text
