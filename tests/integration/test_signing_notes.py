"""Signing green notes with an officer's DSC, through the gateway, against the real files,
signing and directory services, the test PKI's OCSP, CRL and TSA on loopback and SoftHSM2
tokens: registering certificates (only with proof that the registrant holds the key, and refusing
bad ones), the two-phase signature with the signer program in a process of its own, and verifying
with our API and `openssl cms`."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import delete, insert, select, update

from eoffice.db import UnitOfWork, make_engine
from services.signing.models import certificate_requests, certificates
from services.signing.trust import certificate, describe
from tests.support.demo import auth, demo_gateway, file_held_by, held_post, sign_in
from tests.support.pki import OFFICER2_TOKEN, OFFICER_PIN, OFFICER_TOKEN, register_certificate
from tests.support.system import REPO, gunicorn_gateway, service_process

pytestmark = pytest.mark.live
OFFICER, OTHER = "SO(EST)-GAD", "US(EST)-GAD"


@pytest.fixture(scope="module")
def system(migrated, pki, softhsm):
    """(in-process gateway client, URL of a real gateway for the signer program)."""
    signing = service_process("signing", env={**pki.signing_env(), **softhsm.service_env()}).start()
    try:
        with demo_gateway(migrated, ("directory", "files")) as client, gunicorn_gateway() as url:
            yield client, url
    finally:
        signing.stop()


@pytest.fixture(scope="module")
def api(system):
    return system[0]


@pytest.fixture(scope="module")
def db(migrated):
    uow = UnitOfWork(make_engine(migrated.database_url, pool_size=1))
    yield uow
    uow.engine.dispose()


def key() -> dict:
    return {"Idempotency-Key": uuid.uuid4().hex}


def upload(api, headers, pem_or_b64: str):
    """The first step of registering: the certificate validated, and a request its key must sign."""
    return api.post("/api/v1/signing/certificates", headers={**headers, **key()}, json={"certificate": pem_or_b64})


def signer(url: str, tokens: dict, request_id: str, *, pin: str, token: str = OFFICER_TOKEN, env: dict) \
        -> subprocess.CompletedProcess:
    """The signer program, as the officer runs it, in a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "eoffice.signer", "--api", url, "--token-label", token, "--pin-stdin", request_id],
        input=pin + "\n", capture_output=True, text=True, timeout=120, cwd=REPO,
        env={**os.environ, **env, "PYTHONPATH": str(REPO), "EOFFICE_ACCESS_TOKEN": tokens["access_token"]})


def registered_to(api, headers) -> list[str]:
    return [c["sha256"] for c in api.get("/api/v1/signing/certificates", headers=headers).json()]


def as_before_the_proof(db, label_der: bytes, user_id: str) -> None:
    """Certificate `label_der` registered to `user_id` as uploads were before proof of possession
    (a row not proven), whatever earlier tests registered."""
    info = describe(certificate(label_der))
    with db.transaction() as session:
        session.execute(delete(certificates).where(certificates.c.sha256 == info["sha256"]))
        session.execute(insert(certificates).values(
            sha256=info["sha256"], user_id=user_id, der=label_der, holder=info["holder"], issuer=info["issuer"],
            not_after=datetime.fromisoformat(info["not_after"]), proven=False))


def test_a_registration_request_signed_too_late_registers_nothing(api, db, pki):
    owner = auth(sign_in(api, OTHER))
    sha = hashlib.sha256(pki.cert_der("officer2")).hexdigest()
    with db.transaction() as session:
        session.execute(delete(certificates).where(certificates.c.sha256 == sha))
    asked = upload(api, owner, pki.cert_pem("officer2").decode())
    assert asked.status_code == 202, asked.text
    with db.transaction() as session:  # the officer did not sign it in time
        session.execute(update(certificate_requests).where(certificate_requests.c.id == asked.json()["id"])
                        .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    late = api.post(f"/api/v1/signing/requests/{asked.json()['id']}/signature", headers={**owner, **key()},
                    json={"signature": pki.sign("officer2", asked.json())})
    assert late.status_code == 409 and "expired" in late.json()["detail"], late.text
    assert sha not in registered_to(api, owner)


def test_someone_elses_certificate_is_registered_only_by_the_holder_of_its_key(system, db, pki, softhsm):
    api, url = system
    thief, owner_tokens = auth(sign_in(api, OFFICER)), sign_in(api, OTHER)
    owner = auth(owner_tokens)
    sha = hashlib.sha256(pki.cert_der("officer2")).hexdigest()
    # Before proof of possession existed, the thief registered the owner's (public) certificate.
    thief_id = api.get("/api/v1/auth/me", headers=thief).json()["employee_id"]
    as_before_the_proof(db, pki.cert_der("officer2"), thief_id)

    # Uploading it now only asks for proof: a challenge naming the uploader and the certificate.
    asked = upload(api, thief, pki.cert_pem("officer2").decode())
    assert asked.status_code == 202, asked.text
    request = asked.json()
    assert request["kind"] == "certificate" and request["certificate_sha256"] == sha and request["to_be_signed"]
    statement = json.loads(request["challenge"])
    assert (statement["purpose"], statement["user_id"], statement["certificate_sha256"]) == (
        "register-certificate", thief_id, sha), statement
    assert datetime.fromisoformat(statement["expires_at"]) <= datetime.now(UTC) + timedelta(minutes=16), statement
    # The thief's own key, or any other bytes, are no proof: refused, and nothing changes.
    for value in (pki.sign("officer", request), base64.b64encode(os.urandom(256)).decode()):
        refused = api.post(f"/api/v1/signing/requests/{request['id']}/signature", headers={**thief, **key()},
                           json={"signature": value})
        assert refused.status_code == 422 and refused.json()["reason"] == "mismatched-key", refused.text
    with db.transaction() as session:
        assert session.execute(select(certificates.c.proven).where(certificates.c.sha256 == sha)).scalar() is False
    assert sha not in registered_to(api, owner)

    # The owner, with the token that holds the key, takes it: the signer program signs the request.
    mine = upload(api, owner, pki.cert_pem("officer2").decode())
    assert mine.status_code == 202, mine.text
    proved = signer(url, owner_tokens, mine.json()["id"], pin=OFFICER_PIN, token=OFFICER2_TOKEN, env=softhsm.env())
    assert proved.returncode == 0, proved.stderr
    assert "Proving you hold the key of certificate " + sha in proved.stderr, proved.stderr
    assert sha in registered_to(api, owner) and sha not in registered_to(api, thief)
    assert [c["proven"] for c in api.get("/api/v1/signing/certificates", headers=owner).json()
            if c["sha256"] == sha] == [True]
    # Once proven, it is the owner's: another upload is a 409, the owner's own again a no-op 201.
    assert upload(api, thief, pki.cert_pem("officer2").decode()).status_code == 409
    again = upload(api, owner, base64.b64encode(pki.cert_der("officer2")).decode())
    assert again.status_code == 201 and again.json()["sha256"] == sha, again.text


def test_certificates_are_validated_before_they_are_registered(api, pki):
    officer = auth(sign_in(api, OFFICER))
    made = register_certificate(api, officer, pki, "officer")
    assert made.status_code == 201, made.text
    shown = made.json()
    assert shown["holder"] == "ANIL KUMAR VERMA"
    assert shown["pseudonym"] == "7a1c0f5e2b9d4e6f8a3b1c2d3e4f5061"
    assert shown["serial_number_attribute"].startswith("3e7c2a9f")
    assert shown["sha256"] == hashlib.sha256(pki.cert_der("officer")).hexdigest()
    # The same upload again (as DER this time) is the same registration, nothing new.
    again = upload(api, officer, base64.b64encode(pki.cert_der("officer")).decode())
    assert again.status_code == 201 and again.json()["sha256"] == shown["sha256"]
    mine = api.get("/api/v1/signing/certificates", headers=officer).json()
    assert [c["sha256"] for c in mine] == [shown["sha256"]]

    for label, reason, words in (("officer-revoked", "revoked", "revoked"), ("officer-expired", "expired", "expired"),
                                 ("officer-wrong-usage", "wrong-usage", "not for signing"),
                                 ("root", "wrong-usage", "not for signing")):
        refused = upload(api, officer, pki.cert_pem(label).decode())
        assert refused.status_code == 422, (label, refused.text)
        assert refused.json()["reason"] == reason and words in refused.json()["detail"], refused.json()
    assert len(api.get("/api/v1/signing/certificates", headers=officer).json()) == 1

    # Somebody else's certificate stays theirs.
    other = auth(sign_in(api, OTHER))
    assert register_certificate(api, other, pki, "officer2").status_code == 201
    assert upload(api, officer, pki.cert_pem("officer2").decode()).status_code == 409


@pytest.fixture(scope="module")
def file_id(api):
    return file_held_by(api, auth(sign_in(api, OFFICER)), OFFICER)


def test_a_note_signed_on_the_officers_token_verifies_everywhere_and_nothing_else_signs(system, pki, softhsm,
                                                                                       tmp_path, file_id):
    api, url = system
    tokens = sign_in(api, OFFICER)
    officer = auth(tokens)
    assert register_certificate(api, officer, pki, "officer").status_code == 201
    officer_cert = hashlib.sha256(pki.cert_der("officer")).hexdigest()
    note = api.post(f"/api/v1/files/{file_id}/notes", headers={**officer, **key()},
                    json={"body": "अनुमोदित। Approved as proposed at p.1.", "green": True})
    assert note.status_code == 201, note.text
    seq = note.json()["seq"]

    def prepare(headers, cert=officer_cert):
        return api.post(f"/api/v1/files/{file_id}/notes/{seq}/signature-requests", headers={**headers, **key()},
                        json={"certificate_sha256": cert})

    def unsigned():
        assert api.get(f"/api/v1/files/{file_id}/notes/{seq}/signature", headers=officer).status_code == 404
        checked = api.get(f"/api/v1/files/{file_id}/verify", headers=officer).json()
        assert checked["intact"] and checked["signatures"] == [], checked

    # Refused, nothing changed: a certificate not registered to the signer, a signer who does
    # not hold the file.
    other = auth(sign_in(api, OTHER))
    assert register_certificate(api, other, pki, "officer2").status_code == 201
    wrong = prepare(officer, hashlib.sha256(pki.cert_der("officer2")).hexdigest())
    assert wrong.status_code == 422 and wrong.json()["reason"] == "unregistered", wrong.text
    not_holder = prepare(other, hashlib.sha256(pki.cert_der("officer2")).hexdigest())
    assert not_holder.status_code in (403, 404), not_holder.text
    unsigned()

    prepared = prepare(officer)
    assert prepared.status_code == 201, prepared.text
    request_id = prepared.json()["id"]

    # The signer program: a wrong PIN, an absent token, a token whose key is not the
    # certificate's: each a clear error, nothing signed.
    wrong_pin = signer(url, tokens, request_id, pin="9999", env=softhsm.env())
    assert wrong_pin.returncode == 4 and "PIN" in wrong_pin.stderr, wrong_pin.stderr
    absent = signer(url, tokens, request_id, pin=OFFICER_PIN, token="no-such-token", env=softhsm.env())
    assert absent.returncode == 3 and "not connected" in absent.stderr, absent.stderr
    softhsm.add_token("mismatched", "1111", [("officer", pki.key_path("officer2"), pki.material.cert_path("officer"))])
    mismatched = signer(url, tokens, request_id, pin="1111", token="mismatched", env=softhsm.env())
    assert mismatched.returncode == 5 and "does not match" in mismatched.stderr, mismatched.stderr
    # ... and the server checks the value itself.
    forged = api.post(f"/api/v1/signing/requests/{request_id}/signature", headers={**officer, **key()},
                      json={"signature": base64.b64encode(os.urandom(256)).decode()})
    assert forged.status_code == 422 and forged.json()["reason"] == "mismatched-key", forged.text
    unsigned()

    # With the PKI away (OCSP, CRL and the timestamp authority) nothing is signed, and the officer
    # is told which part did not answer: the revocation check (when the validation made at
    # `prepare` is older than 30 s) or the timestamp authority (a 503: try again).
    pki.server.stop()
    try:
        offline = signer(url, tokens, request_id, pin=OFFICER_PIN, env=softhsm.env())
    finally:
        pki.server.start()
    assert offline.returncode == 6, offline.stderr
    assert "timestamp authority" in offline.stderr or "revocation status" in offline.stderr, offline.stderr
    unsigned()

    signed = signer(url, tokens, request_id, pin=OFFICER_PIN, env=softhsm.env())
    assert signed.returncode == 0, signed.stderr

    shown = api.get(f"/api/v1/files/{file_id}/notes/{seq}/signature", headers=officer)
    assert shown.status_code == 200, shown.text
    body = shown.json()
    report = body["verification"]
    assert report["valid"] and report["trusted"] and report["intact"] and not report["revoked"], report
    assert report["signer"]["holder"] == "ANIL KUMAR VERMA" and report["signer"]["sha256"] == officer_cert
    assert report["timestamped_at"] and report["timestamp_valid"]
    assert "e-Office Test CCA India 2022" in report["chain"][-1]
    content, cms = base64.b64decode(body["content"]), base64.b64decode(body["cms"])
    assert hashlib.sha256(content).hexdigest() == body["content_sha256"]
    assert "अनुमोदित".encode() in content  # the note's canonical bytes, exactly

    checked = api.get(f"/api/v1/files/{file_id}/verify", headers=officer).json()
    assert checked["intact"], checked
    assert [(s["seq"], s["signature_sha256"]) for s in checked["signatures"]] == [
        (seq, hashlib.sha256(cms).hexdigest())]
    # A second signature of the same note is refused.
    assert prepare(officer).status_code == 409

    # openssl, knowing nothing of e-Office, verifies it against the canonical bytes; one flipped
    # byte fails it, and our verify API.
    (tmp_path / "note.json").write_bytes(content)
    (tmp_path / "note.p7s").write_bytes(cms)
    flipped = bytearray(content)
    flipped[10] ^= 0x01
    (tmp_path / "flipped.json").write_bytes(bytes(flipped))

    def openssl(data: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(tmp_path / "note.p7s"),
             "-content", str(tmp_path / data), "-CAfile", str(pki.material.roots_path),
             "-certfile", str(pki.material.intermediates_path), "-purpose", "any", "-out", os.devnull],
            capture_output=True, text=True)
    assert openssl("note.json").returncode == 0, openssl("note.json").stderr
    assert openssl("flipped.json").returncode != 0

    def ours(data: bytes) -> dict:
        answer = api.post("/api/v1/signing/verify", headers=officer,
                          json={"content": base64.b64encode(data).decode(),
                                "signature": base64.b64encode(cms).decode()})
        assert answer.status_code == 200, answer.text
        return answer.json()
    assert ours(content)["valid"]
    bad = ours(bytes(flipped))
    assert not bad["valid"] and not bad["intact"], bad



def test_a_note_signed_with_aadhaar_esign_through_the_stand_in_esp(api, pki, file_id):
    from services.signing.esign import StandinEsp
    from services.signing.trust import load_certificates

    officer = auth(sign_in(api, OFFICER))
    note = api.post(f"/api/v1/files/{file_id}/notes", headers={**officer, **key()},
                    json={"body": "Signed with eSign.", "green": True})
    assert note.status_code == 201, note.text
    seq = note.json()["seq"]
    prepared = api.post(f"/api/v1/files/{file_id}/notes/{seq}/signature-requests", headers={**officer, **key()},
                        json={"key": "esign"})
    assert prepared.status_code == 201, prepared.text
    request = prepared.json()
    assert request["esign_request"].startswith("<Esign ") and request["to_be_signed"] is None
    esp = StandinEsp(key_path=str(pki.key_path("esign-officer")),
                     cert_path=str(pki.material.cert_path("esign-officer")),
                     chain=load_certificates(pki.material.intermediates_path.read_bytes()))

    # The person was not authenticated at the ESP: a clear refusal, nothing recorded.
    refused = api.post(f"/api/v1/signing/requests/{request['id']}/esign-response", headers={**officer, **key()},
                       json={"response": esp.refuse(request["esign_request"])})
    assert refused.status_code == 422 and "ESP-944" in refused.json()["detail"], refused.text
    assert api.get(f"/api/v1/files/{file_id}/notes/{seq}/signature", headers=officer).status_code == 404

    done = api.post(f"/api/v1/signing/requests/{request['id']}/esign-response", headers={**officer, **key()},
                    json={"response": esp.answer(request["esign_request"])})
    assert done.status_code == 201, done.text
    shown = api.get(f"/api/v1/files/{file_id}/notes/{seq}/signature", headers=officer).json()
    report = shown["verification"]
    assert report["valid"] and report["timestamp_valid"] and shown["key_path"] == "esign", report
    assert report["signer"]["pseudonym"] == "c0ffee00c0ffee00c0ffee00c0ffee00"
    assert api.get(f"/api/v1/files/{file_id}/verify", headers=officer).json()["intact"]


OFFICE_SIGNS = """
import asyncio, sys
from eoffice.settings import Settings
from eoffice.tokens import TokenError
from services.signing import keys
from services.signing.trust import Trust
settings = Settings()
trust = Trust.from_settings(settings)
try:
    signer = keys.office_signer(settings, {"code": "LKO-EST", "path": "UP/DIST-LKO/LKO-EST"}, trust.intermediates)
except TokenError as e:
    print(e.reason, e, file=sys.stderr)
    sys.exit(4)
trust.validate(signer.signing_cert)
signed = asyncio.run(signer.async_sign_general_data(open(sys.argv[1], "rb").read(), "sha256",
                                                    timestamper=keys.timestamper(settings)))
open(sys.argv[2], "wb").write(signed.dump())
"""


def test_the_office_token_signs_on_the_server(pki, softhsm, tmp_path):
    (tmp_path / "dispatch.txt").write_bytes("प्रेषण रजिस्टर / dispatch register".encode())

    def office(pin: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-c", OFFICE_SIGNS, str(tmp_path / "dispatch.txt"), str(tmp_path / "dispatch.p7s")],
            capture_output=True, text=True, timeout=120, cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO), **pki.signing_env(), **softhsm.service_env(),
                 "EOFFICE_SIGNING_OFFICE_PIN": pin})
    wrong = office("0000")
    assert wrong.returncode == 4 and "wrong-pin" in wrong.stderr, wrong.stderr
    done = office(softhsm.tokens["eoffice-office"])
    assert done.returncode == 0, done.stderr
    verified = subprocess.run(
        ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(tmp_path / "dispatch.p7s"),
         "-content", str(tmp_path / "dispatch.txt"), "-CAfile", str(pki.material.roots_path),
         "-certfile", str(pki.material.intermediates_path), "-purpose", "any", "-out", os.devnull],
        capture_output=True, text=True)
    assert verified.returncode == 0, verified.stderr


def test_verify_names_a_signature_made_with_a_revoked_certificate(api, pki):
    # Made outside e-Office (which refuses to sign with it): the key of a certificate revoked
    # since 2025-06-01, timestamped now.
    import asyncio

    from pyhanko.sign.signers.pdf_cms import SimpleSigner
    from pyhanko.sign.timestamps import HTTPTimeStamper

    content = "नोट / note".encode()
    signer = SimpleSigner.load(str(pki.key_path("officer-revoked")), str(pki.material.cert_path("officer-revoked")))
    cms = asyncio.run(signer.async_sign_general_data(content, "sha256", use_cades=True,
                                                     timestamper=HTTPTimeStamper(pki.material.tsa_url))).dump()
    answer = api.post("/api/v1/signing/verify", headers=auth(sign_in(api, OFFICER)),
                      json={"content": base64.b64encode(content).decode(), "signature": base64.b64encode(cms).decode()})
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["intact"] and report["signature_valid"] and report["timestamp_valid"], report
    assert report["revoked"] and report["revoked_at_signing_time"] and not report["valid"], report
    assert report["revoked_since"].startswith("2025-06-01") and report["signer"]["holder"] == "RAKESH SINGH"


def test_certificates_checked_at_once_in_one_signing_process_each_get_their_own_answer(system, pki):
    """Checking a certificate waits on the OCSP responder inside pyHanko's coroutines. Several
    at once in the one signing process each get their own answer: none fails for another's
    event loop (asyncio.run in a green thread refused the second: a 500)."""
    _, url = system
    posts = [held_post("section_staff", district, last=last) for district in ("DIST-LKO", "DIST-SPR")
             for last in (False, True)]
    with httpx.Client(base_url=url.removesuffix("/api/v1"), timeout=60) as client:
        tokens = [auth(sign_in(client, post)) for post in posts]
        start = threading.Barrier(len(tokens))

        def check(headers: dict) -> httpx.Response:
            start.wait()
            return upload(client, headers, pki.cert_pem("officer-revoked").decode())

        with ThreadPoolExecutor(len(tokens)) as pool:
            answers = list(pool.map(check, tokens))
    assert [(a.status_code, a.json().get("reason")) for a in answers] == [(422, "revoked")] * len(tokens), \
        [a.text for a in answers if a.status_code != 422]


def test_an_unregistered_certificate_signs_nothing_more_and_only_its_owner_unregisters_it(api, pki, file_id):
    officer, other = auth(sign_in(api, OFFICER)), auth(sign_in(api, OTHER))
    assert register_certificate(api, officer, pki, "officer").status_code == 201
    sha = hashlib.sha256(pki.cert_der("officer")).hexdigest()
    note = api.post(f"/api/v1/files/{file_id}/notes", headers={**officer, **key()},
                    json={"body": "Token surrendered on transfer; seen.", "green": True})
    assert note.status_code == 201, note.text

    def prepare():
        return api.post(f"/api/v1/files/{file_id}/notes/{note.json()['seq']}/signature-requests",
                        headers={**officer, **key()}, json={"certificate_sha256": sha})

    prepared = prepare()
    assert prepared.status_code == 201, prepared.text

    # Somebody else's, or no SHA-256 at all: refused, and it stays registered.
    assert api.delete(f"/api/v1/signing/certificates/{sha}", headers={**other, **key()}).status_code == 404
    malformed = api.delete("/api/v1/signing/certificates/not-a-digest", headers={**officer, **key()})
    assert malformed.status_code == 422, malformed.text
    assert sha in registered_to(api, officer)

    retry = key()
    removed = api.delete(f"/api/v1/signing/certificates/{sha}", headers={**officer, **retry})
    assert removed.status_code == 200 and removed.json()["sha256"] == sha, removed.text
    again = api.delete(f"/api/v1/signing/certificates/{sha}", headers={**officer, **retry})
    assert again.status_code == 200 and again.json() == removed.json()  # a retry is answered as the first time
    assert api.delete(f"/api/v1/signing/certificates/{sha}", headers={**officer, **key()}).status_code == 404
    assert sha not in registered_to(api, officer)

    # A request prepared before is refused when its value comes, however right; a new one too.
    late = api.post(f"/api/v1/signing/requests/{prepared.json()['id']}/signature", headers={**officer, **key()},
                    json={"signature": pki.sign("officer", prepared.json())})
    assert late.status_code == 422 and late.json()["reason"] == "unregistered", late.text
    assert api.get(f"/api/v1/files/{file_id}/notes/{note.json()['seq']}/signature", headers=officer).status_code == 404
    refused = prepare()
    assert refused.status_code == 422 and refused.json()["reason"] == "unregistered", refused.text

    # Registered again (with proof of possession, as any registration), it signs again.
    assert register_certificate(api, officer, pki, "officer").status_code == 201
    assert prepare().status_code == 201
