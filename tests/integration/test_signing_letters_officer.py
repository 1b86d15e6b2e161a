"""Letters signed with the officer's own key, against the real services, PostgreSQL, MinIO, the
test PKI on loopback and SoftHSM2 tokens: the officer's USB token through the signer program in
a process of its own (two phases: the server renders, reserves the dispatch number and prepares
the PDF signature; the program signs on the token; the server embeds, timestamps, adds the B-LTA
data and issues), and Aadhaar eSign through the stand-in ESP. A reserved number whose request is
cancelled, expires or whose draft is withdrawn is in the dispatch register as cancelled, with the
reason: no silent gap."""
from __future__ import annotations

import base64
import hashlib
import subprocess
import time
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from nameko.amqp.publish import Publisher
from nameko.standalone.events import get_event_exchange
from sqlalchemy import delete, func, insert, select, update

from eoffice.contracts.files import DraftWithdrawn
from eoffice.settings import get_settings
from services.files.models import outbox as files_outbox
from services.signing.esign import StandinEsp
from services.signing.models import certificates, inbox, letter_requests
from services.signing.trust import certificate, describe
from tests.integration.test_signing_letters import (
    HEAD,
    OFFICE,
    OFFICER,
    approved_draft,
    issued_event,
    letter_pdf,
    nss_with_crls,
    openssl_verify,
    pdfsig,
    upload_version,
)
from tests.integration.test_signing_notes import (
    db,  # noqa: F401 (the fixture: the test database's unit of work)
    signer,
)
from tests.support.demo import PASSWORD, _admin_over, auth, demo, demo_gateway, sign_in
from tests.support.pki import OFFICER_PIN, register_certificate
from tests.support.scans import pdf_page_of
from tests.support.system import gunicorn_gateway, queue_empty, service_process, wait_until

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def system(migrated, pki, softhsm):
    """(in-process gateway client, URL of a real gateway for the signer program)."""
    signing = service_process("signing", env={**pki.signing_env(), **softhsm.service_env()}).start()
    try:
        with demo_gateway(migrated, ("directory", "files")) as client, gunicorn_gateway() as url:
            made = client.post(f"/api/v1/offices/{OFFICE}/subject-heads", headers=auth(sign_in(client, _admin_over(
                OFFICE))), json={"code": HEAD, "title": "Letters issued"})
            assert made.status_code in (201, 409), made.text
            wait_until(lambda: client.app.state.rpc.call("signing", "ping"), 60, "signing answering")
            yield client, url
    finally:
        signing.stop()


def key() -> dict:
    return {"Idempotency-Key": uuid.uuid4().hex}


def prepare(api, headers, fid: str, draft: dict, version: int = 2, **body):
    return api.post(f"/api/v1/files/{fid}/drafts/{draft['id']}/signature-requests", headers={**headers, **key()},
                    json={"version": version, "addressees": [{"name": "Shri Ram Prasad", "address": "Lucknow"}],
                          **body})


def register_of(api, headers, office: str = OFFICE) -> list[dict]:
    got = api.get(f"/api/v1/offices/{office}/dispatch-register", headers=headers,
                  params={"year": datetime.now(UTC).year})
    assert got.status_code == 200, got.text
    return got.json()


def sha(pki, label: str) -> str:
    return hashlib.sha256(pki.cert_der(label)).hexdigest()


def test_a_letter_signed_on_the_officers_token(system, db, pki, softhsm, tmp_path):  # noqa: F811
    api, url = system
    tokens = sign_in(api, OFFICER)
    officer = auth(tokens)
    mine = register_certificate(api, officer, pki, "officer")
    assert mine.status_code == 201, mine.text
    user_id = mine.json()["user_id"]
    fid, draft = approved_draft(api, officer, record_category="A")
    serials_before = len(register_of(api, officer))

    # Refused at prepare, nothing reserved: an unregistered certificate, a stale version, and
    # certificates registered once but revoked, expired or not for signing now.
    unregistered = prepare(api, officer, fid, draft, certificate_sha256=sha(pki, "officer2"))
    assert unregistered.status_code == 422 and unregistered.json()["reason"] == "unregistered", unregistered.text
    stale = prepare(api, officer, fid, draft, version=1, certificate_sha256=sha(pki, "officer"))
    assert stale.status_code == 409, stale.text
    for label, reason in (("officer-revoked", "revoked"), ("officer-expired", "expired"),
                          ("officer-wrong-usage", "wrong-usage")):
        cert = certificate(pki.cert_der(label))
        info = describe(cert)
        with db.transaction() as session:  # as if it had passed when it was registered
            session.execute(insert(certificates).values(
                sha256=info["sha256"], user_id=user_id, der=cert.dump(), holder=info["holder"],
                issuer=info["issuer"], not_after=datetime.fromisoformat(info["not_after"])))
        try:
            refused = prepare(api, officer, fid, draft, certificate_sha256=info["sha256"])
        finally:  # the officer's registrations as they were (other modules count them)
            with db.transaction() as session:
                session.execute(delete(certificates).where(certificates.c.sha256 == info["sha256"]))
        assert refused.status_code == 422 and refused.json()["reason"] == reason, (label, refused.text)
    assert len(register_of(api, officer)) == serials_before

    prepared = prepare(api, officer, fid, draft, certificate_sha256=sha(pki, "officer"))
    assert prepared.status_code == 201, prepared.text
    request = prepared.json()
    assert request["kind"] == "letter" and request["letter_number"].startswith("D-") and request["to_be_signed"]
    reserved = [e for e in register_of(api, officer) if e["letter_number"] == request["letter_number"]]
    assert reserved and reserved[0]["state"] == "reserved", reserved
    second = prepare(api, officer, fid, draft, certificate_sha256=sha(pki, "officer"))
    assert second.status_code == 409 and request["id"] in second.json()["detail"], second.text

    # The signer program: wrong PIN, absent token, a key not the certificate's: clear errors,
    # nothing issued; and the server checks a value itself.
    wrong_pin = signer(url, tokens, request["id"], pin="9999", env=softhsm.env())
    assert wrong_pin.returncode == 4 and "PIN" in wrong_pin.stderr, wrong_pin.stderr
    assert f"Signing letter {request['letter_number']}" in wrong_pin.stderr, wrong_pin.stderr
    absent = signer(url, tokens, request["id"], pin=OFFICER_PIN, token="no-such-token", env=softhsm.env())
    assert absent.returncode == 3, absent.stderr
    softhsm.add_token("mismatched-letter", "1111",
                      [("officer", pki.key_path("officer2"), pki.material.cert_path("officer"))])
    mismatched = signer(url, tokens, request["id"], pin="1111", token="mismatched-letter", env=softhsm.env())
    assert mismatched.returncode == 5 and "does not match" in mismatched.stderr, mismatched.stderr
    forged = api.post(f"/api/v1/signing/requests/{request['id']}/signature", headers={**officer, **key()},
                      json={"signature": base64.b64encode(bytes(256)).decode()})
    assert forged.status_code == 422 and forged.json()["reason"] == "mismatched-key", forged.text
    assert api.get(f"/api/v1/files/{fid}/letters", headers=officer).json() == []

    signed = signer(url, tokens, request["id"], pin=OFFICER_PIN, env=softhsm.env())
    assert signed.returncode == 0, signed.stderr
    letters = api.get(f"/api/v1/files/{fid}/letters", headers=officer).json()
    assert len(letters) == 1, letters
    letter = letters[0]
    assert letter["letter_number"] == request["letter_number"] and letter["key_path"] == "officer_token"
    assert letter["level"] == "B-LTA" and letter["certificate_sha256"] == sha(pki, "officer")
    pdf = letter_pdf(api, officer, fid, letter)

    # The officer's own name and designation are printed; the PDF verifies (ours, openssl, offline).
    (tmp_path / "letter.pdf").write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(tmp_path / "letter.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    english_name = letter["signer_name"].rsplit("(", 1)[-1].rstrip(")")
    assert english_name in text and letter["letter_number"] in text, text
    ours = api.get(f"/api/v1/letters/{letter['id']}/verify", headers=officer).json()
    assert ours["valid"] and ours["level"] == "B-LTA" and ours["signer"]["holder"] == "ANIL KUMAR VERMA", ours
    checked = openssl_verify(tmp_path, pdf, pki)
    assert checked.returncode == 0, checked.stderr
    report = pdfsig(nss_with_crls(tmp_path / "nss", pki), tmp_path / "letter.pdf").split("Signature #2")[0]
    assert "Signature is Valid." in report and "Certificate is Trusted." in report, report
    assert "ANIL KUMAR VERMA" in report, report
    pki.server.stop()
    try:
        offline = api.get(f"/api/v1/letters/{letter['id']}/verify", headers=officer,
                          params={"online": "false"}).json()
    finally:
        pki.server.start()
    assert offline["valid"] and offline["level"] == "B-LTA", offline

    # Handing the value in again is the same letter; a new signature of the version is refused.
    again = signer(url, tokens, request["id"], pin=OFFICER_PIN, env=softhsm.env())
    assert again.returncode == 0 and letter["id"] in again.stdout, again.stderr
    twice = prepare(api, officer, fid, draft, certificate_sha256=sha(pki, "officer"))
    assert twice.status_code == 409 and letter["letter_number"] in twice.json()["detail"], twice.text
    entry = [e for e in register_of(api, officer) if e["letter_number"] == letter["letter_number"]]
    assert entry[0]["state"] == "issued", entry


def test_numbers_of_cancelled_and_expired_requests_are_recorded_not_lost(system, db, pki, softhsm):  # noqa: F811
    api, url = system
    tokens = sign_in(api, OFFICER)
    officer = auth(tokens)
    assert register_certificate(api, officer, pki, "officer").status_code == 201
    fid, draft = approved_draft(api, officer)
    cancelled = prepare(api, officer, fid, draft, certificate_sha256=sha(pki, "officer")).json()
    done = api.post(f"/api/v1/signing/requests/{cancelled['id']}/cancel", headers={**officer, **key()},
                    json={"reason": "wrong addressee"})
    assert done.status_code == 200 and done.json()["state"] == "cancelled", done.text

    expiring = prepare(api, officer, fid, draft, certificate_sha256=sha(pki, "officer")).json()
    with db.transaction() as session:  # the officer never signed it: its time runs out
        session.execute(update(letter_requests).where(letter_requests.c.id == expiring["id"])
                        .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    late = signer(url, tokens, expiring["id"], pin=OFFICER_PIN, env=softhsm.env())
    assert late.returncode == 6 and "expired" in late.stderr, late.stderr

    issued = prepare(api, officer, fid, draft, certificate_sha256=sha(pki, "officer")).json()
    assert signer(url, tokens, issued["id"], pin=OFFICER_PIN, env=softhsm.env()).returncode == 0

    register = register_of(api, officer)
    by_number = {e["letter_number"]: e for e in register}
    assert by_number[cancelled["letter_number"]]["state"] == "cancelled"
    assert "wrong addressee" in by_number[cancelled["letter_number"]]["reason"]
    assert by_number[expiring["letter_number"]]["state"] == "cancelled"
    assert "expired" in by_number[expiring["letter_number"]]["reason"]
    assert by_number[issued["letter_number"]]["state"] == "issued"
    serials = [e["serial"] for e in register]
    assert serials == list(range(1, len(serials) + 1)), register  # every number accounted for

    # the office's own staff read its register, and the system admin (an audit); another office's staff do not
    assert register_of(api, auth(sign_in(api, "SYSADM-GAD-IT"))) == register_of(api, officer)
    other = api.get(f"/api/v1/offices/{OFFICE}/dispatch-register", headers=auth(sign_in(api, "SO(IT)-GAD")),
                    params={"year": datetime.now(UTC).year})
    assert other.status_code == 404, other.text


def test_a_draft_withdrawn_cancels_the_signature_prepared_for_it_at_once(system, db, pki, softhsm):  # noqa: F811
    api, _ = system
    officer = auth(sign_in(api, OFFICER))
    assert register_certificate(api, officer, pki, "officer").status_code == 201
    fid, draft = approved_draft(api, officer)
    prepared = prepare(api, officer, fid, draft, certificate_sha256=sha(pki, "officer"))
    assert prepared.status_code == 201, prepared.text
    request, number = prepared.json(), prepared.json()["letter_number"]
    assert {e["letter_number"]: e["state"] for e in register_of(api, officer)}[number] == "reserved"

    withdrawn = api.post(f"/api/v1/files/{fid}/drafts/{draft['id']}/withdraw", headers={**officer, **key()},
                         json={"remarks": "The arrears were paid; no letter is needed."})
    assert withdrawn.status_code == 200, withdrawn.text

    def state() -> str:
        got = api.get(f"/api/v1/signing/requests/{request['id']}", headers=officer)
        assert got.status_code == 200, got.text
        return got.json()["state"]

    wait_until(lambda: state() == "cancelled", 30, "the withdrawn draft's signature request cancelled")
    entry = {e["letter_number"]: e for e in register_of(api, officer)}[number]
    assert entry["state"] == "cancelled", entry
    assert entry["reason"] == "draft withdrawn: The arrears were paid; no letter is needed.", entry
    # The officer's token value, coming now, is refused as for any cancelled request; nothing is issued.
    late = api.post(f"/api/v1/signing/requests/{request['id']}/signature", headers={**officer, **key()},
                    json={"signature": base64.b64encode(b"\x01" * 256).decode()})
    assert late.status_code == 409, late.text
    assert "cancelled (draft withdrawn: The arrears" in late.json()["detail"], late.text
    assert number in late.json()["detail"] and "dispatch register" in late.json()["detail"], late.text
    assert api.get(f"/api/v1/files/{fid}/letters", headers=officer).json() == []

    # The same event delivered again (as after a crash before the ack) changes nothing.
    with db.transaction() as session:
        before = dict(session.execute(select(letter_requests).where(letter_requests.c.id == request["id"]))
                      .mappings().one())
        envelope = session.execute(select(files_outbox.c.envelope).where(
            files_outbox.c.type == DraftWithdrawn.event_type, files_outbox.c.envelope["subject"].astext == fid)
        ).scalar_one()
    Publisher(get_settings().amqp_uri, use_confirms=True).publish(
        envelope, exchange=get_event_exchange("files", {}), routing_key=DraftWithdrawn.event_type)
    queue = f"evt-files-{DraftWithdrawn.event_type}--signing.draft_withdrawn"
    wait_until(lambda: queue_empty(queue), 20, "the duplicate taken")
    time.sleep(2)  # and handled
    with db.transaction() as session:
        after = dict(session.execute(select(letter_requests).where(letter_requests.c.id == request["id"]))
                     .mappings().one())
        seen = session.execute(select(func.count()).select_from(inbox).where(
            inbox.c.event_id == envelope["id"])).scalar_one()
    assert after == before and seen == 1
    assert {e["letter_number"]: e for e in register_of(api, officer)}[number] == entry


def test_a_letter_signed_with_aadhaar_esign_through_the_stand_in_esp(system, pki):
    api, _ = system
    officer = auth(sign_in(api, OFFICER))
    fid, draft = approved_draft(api, officer)
    prepared = prepare(api, officer, fid, draft, key="esign")
    assert prepared.status_code == 201, prepared.text
    request = prepared.json()
    assert "<Esign" in request["esign_request"] and request["document_digest"] in request["esign_request"]
    esp = StandinEsp(key_path=str(pki.key_path("esign-officer")), cert_path=str(pki.material.cert_path(
        "esign-officer")), chain=[])
    refused = api.post(f"/api/v1/signing/requests/{request['id']}/esign-response", headers={**officer, **key()},
                       json={"response": esp.refuse(request["esign_request"])})
    assert refused.status_code == 422 and "ESP-944" in refused.json()["detail"], refused.text
    answered = api.post(f"/api/v1/signing/requests/{request['id']}/esign-response", headers={**officer, **key()},
                        json={"response": esp.answer(request["esign_request"])})
    assert answered.status_code == 201, answered.text
    letter = answered.json()
    assert letter["key_path"] == "esign" and letter["letter_number"] == request["letter_number"]
    assert letter["certificate_sha256"] == sha(pki, "esign-officer")
    ours = api.get(f"/api/v1/letters/{letter['id']}/verify", headers=officer).json()
    assert ours["valid"] and ours["timestamped"] and ours["level"] == "B-T", ours


def test_a_letter_signed_with_esign_carries_the_approved_versions_document(system, pki, db):  # noqa: F811
    """Signed with the officer's own key (here eSign), the letter prepared for signature carries
    the approved version's document as its enclosure as the office-signed one does: the PDF the
    ESP signs includes it, the issued letter verifies listing it, and the issued event names it
    (for the dispatch e-mail)."""
    api, _ = system
    officer = auth(sign_in(api, OFFICER))
    file = api.post("/api/v1/files", headers={**officer, **key()}, json={
        "subject_head": HEAD, "subject": "Reply with its annexure, eSigned", "record_category": "C"})
    assert file.status_code == 201, file.text
    fid, annexure = file.json()["id"], pdf_page_of(612, 1008)
    draft = upload_version(api, officer, fid, body="Please find the annexure enclosed.",
                           document=("Annexure B.pdf", annexure))
    approved = api.post(f"/api/v1/files/{fid}/drafts/{draft['id']}/approve", headers={**officer, **key()},
                        json={"version": 1})
    assert approved.status_code == 200, approved.text
    prepared = prepare(api, officer, fid, draft, version=1, key="esign")
    assert prepared.status_code == 201, prepared.text
    request = prepared.json()
    esp = StandinEsp(key_path=str(pki.key_path("esign-officer")), cert_path=str(pki.material.cert_path(
        "esign-officer")), chain=[])
    answered = api.post(f"/api/v1/signing/requests/{request['id']}/esign-response", headers={**officer, **key()},
                        json={"response": esp.answer(request["esign_request"])})
    assert answered.status_code == 201, answered.text
    letter = answered.json()
    ours = api.get(f"/api/v1/letters/{letter['id']}/verify", headers=officer).json()
    assert ours["valid"], ours
    assert ours["enclosures"] == [{"name": "Annexure B.pdf", "content_type": "application/pdf",
                                   "relationship": "Supplement", "size": len(annexure),
                                   "sha256": hashlib.sha256(annexure).hexdigest()}], ours["enclosures"]
    assert issued_event(db, letter)["enclosure"] == "Annexure B.pdf"
    pdf = letter_pdf(api, officer, fid, letter)
    uploaded = api.post("/api/v1/letters/verify", headers=officer,
                        files={"document": ("letter.pdf", pdf, "application/pdf")}).json()
    assert uploaded["valid"] and uploaded["enclosures"] == ours["enclosures"], uploaded


def test_a_post_handed_over_cancels_the_signatures_its_old_holder_left_pending(system):
    """Files go to posts, not persons: an officer transferred with a letter prepared for signing
    and not signed leaves it pending. It is cancelled when the post is handed over (the number so
    recorded in the dispatch register), and the new holder prepares the same version at once;
    before, they were refused ("prepared already ... sign it, or cancel it first": a request only
    its maker cancels) until it expired, 15 minutes later."""
    api, _ = system
    post_code, office = "US(EST)-REV", "REV-EST"  # a post no other test signs in as
    made = api.post(f"/api/v1/offices/{office}/subject-heads", headers=auth(sign_in(api, _admin_over(office))),
                    json={"code": HEAD, "title": "Letters issued"})
    assert made.status_code in (201, 409), made.text
    leaving = auth(sign_in(api, post_code))
    fid, draft = approved_draft(api, leaving)
    prepared = prepare(api, leaving, fid, draft, key="esign")
    assert prepared.status_code == 201, prepared.text
    number = prepared.json()["letter_number"]
    colleague = auth(sign_in(api, "SO(EST)-REV"))  # the office's register, read by its own staff
    assert {e["letter_number"]: e["state"] for e in register_of(api, colleague, office)}[number] == "reserved"

    newcomer = [u for u in demo("users") if not any(p["employee_id"] == u["employee_id"] and not p["end_date"]
                                                    for p in demo("postings"))][1]
    today = datetime.now(timezone(timedelta(hours=5, minutes=30))).date()
    handed = api.post(f"/api/v1/posts/{post_code}/hand-over", headers={**auth(sign_in(api, "SYSADM-GAD-IT")), **key()},
                      json={"employee_id": newcomer["employee_id"], "start_date": today.isoformat()})
    assert handed.status_code == 200, handed.text

    def entry() -> dict:
        return {e["letter_number"]: e for e in register_of(api, colleague, office)}[number]
    wait_until(lambda: entry()["state"] == "cancelled", 30, "the old holder's pending signature cancelled")
    assert entry()["reason"] == f"post handed over to {newcomer['employee_id']}", entry()
    signed_in = api.post("/api/v1/auth/sign-in", json={"email": newcomer["email"], "password": PASSWORD,
                                                        "post_code": post_code})
    assert signed_in.status_code == 200, signed_in.text
    again = prepare(api, auth(signed_in.json()), fid, draft, key="esign")
    assert again.status_code == 201, again.text
    assert again.json()["letter_number"] != number
