"""The signer program's token (POST /signing/requests/{id}/signer-token): the web client hands the
officer's PC a short-lived token good only for one pending signature request, never the
sign-in token. Against the real directory, files and signing services and the test PKI; the
signer program runs in a process of its own against a real gateway, as on the officer's PC."""
from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.test_signing_notes import (
    OFFICER,
    OTHER,
    key,
    signer,
    system,  # noqa: F401 (the fixture: signing, files, two gateways)
)
from tests.support.demo import auth, file_held_by, sign_in
from tests.support.pki import OFFICER_PIN, register_certificate

pytestmark = pytest.mark.live


def green_note(api, headers, file_id: str, body: str) -> int:
    made = api.post(f"/api/v1/files/{file_id}/notes", headers={**headers, **key()}, json={"body": body, "green": True})
    assert made.status_code == 201, made.text
    return made.json()["seq"]


def test_a_signer_token_reaches_only_its_request_and_the_signer_program_signs_with_it(system, pki, softhsm):  # noqa: F811
    api, url = system
    tokens = sign_in(api, OFFICER)
    officer = auth(tokens)
    assert register_certificate(api, officer, pki, "officer").status_code == 201
    file_id = file_held_by(api, officer, OFFICER)
    seq = green_note(api, officer, file_id, "प्रस्ताव अनुमोदित। Approved.")
    prepared = api.post(f"/api/v1/files/{file_id}/notes/{seq}/signature-requests", headers={**officer, **key()},
                        json={"certificate_sha256": hashlib.sha256(pki.cert_der("officer")).hexdigest()})
    assert prepared.status_code == 201, prepared.text
    request_id = prepared.json()["id"]

    minted = api.post(f"/api/v1/signing/requests/{request_id}/signer-token", headers=officer)
    assert minted.status_code == 201, minted.text
    shown = minted.json()
    assert shown["scope"] == f"signing-request:{request_id}" and shown["token"] != tokens["access_token"]
    expires = datetime.fromisoformat(shown["expires_at"])
    assert expires <= datetime.now(UTC) + timedelta(minutes=10, seconds=5)
    assert expires <= datetime.fromisoformat(prepared.json()["expires_at"])
    scoped = {"Authorization": f"Bearer {shown['token']}"}

    # The one request it was made for, as the signer program reads it ...
    assert api.get(f"/api/v1/signing/requests/{request_id}", headers=scoped).status_code == 200
    # ... and nothing else: not the officer's work, not another request, not a fresh token, not
    # a new session (act-as), not giving the request up.
    for method, path, body in (
            ("GET", "/api/v1/inbox", None),
            ("GET", "/api/v1/auth/me", None),
            ("GET", f"/api/v1/files/{file_id}", None),
            ("GET", f"/api/v1/files/{file_id}/notes/{seq}/signature", None),
            ("GET", f"/api/v1/signing/requests/{uuid.uuid4()}", None),
            ("GET", "/api/v1/signing/certificates", None),
            ("POST", f"/api/v1/signing/requests/{request_id}/signer-token", None),
            ("POST", f"/api/v1/signing/requests/{request_id}/cancel", {"reason": "not mine to cancel"}),
            ("POST", "/api/v1/auth/act-as", {"post_code": OFFICER}),
            ("POST", f"/api/v1/files/{file_id}/notes", {"body": "written with a signer token", "green": True})):
        refused = api.request(method, path, headers={**scoped, **key()}, json=body)
        assert refused.status_code == 403, (method, path, refused.text)
        assert refused.json()["type"].endswith("forbidden"), refused.json()

    # Nobody else gets one for this request.
    other = auth(sign_in(api, OTHER))
    assert api.post(f"/api/v1/signing/requests/{request_id}/signer-token", headers=other).status_code in (403, 404)

    # The web client refreshing its session meanwhile does not end it.
    refreshed = api.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    assert api.get(f"/api/v1/signing/requests/{request_id}", headers=scoped).status_code == 200
    after = auth(refreshed.json())  # the web client's new token (the old one is replaced)

    # The signer program, unchanged, signs with it: it fetches the request and hands the value in.
    signed = signer(url, {"access_token": shown["token"]}, request_id, pin=OFFICER_PIN, env=softhsm.env())
    assert signed.returncode == 0, signed.stderr
    assert api.get(f"/api/v1/files/{file_id}/notes/{seq}/signature", headers=after).status_code == 200
    # A signed request gets no more tokens; an Aadhaar eSign request none at all (it is
    # completed in the browser).
    assert api.post(f"/api/v1/signing/requests/{request_id}/signer-token", headers=after).status_code == 409
    esign_seq = green_note(api, after, file_id, "eSign later.")
    esign = api.post(f"/api/v1/files/{file_id}/notes/{esign_seq}/signature-requests", headers={**after, **key()},
                     json={"key": "esign"})
    assert esign.status_code == 201, esign.text
    assert api.post(f"/api/v1/signing/requests/{esign.json()['id']}/signer-token", headers=after).status_code == 409

    # Signing out ends it with the session.
    assert api.post("/api/v1/auth/sign-out", headers={**after, **key()}).status_code == 204
    assert api.get(f"/api/v1/signing/requests/{request_id}", headers=scoped).status_code == 401
