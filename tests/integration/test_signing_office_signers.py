"""Each office's letters carry its own dispatch stamp: a letter issued with the office's key is
signed by the document signer of the letter's office, or of the nearest office above it that has
one (a section's by its department's or district's). Against the real files, directory and signing
services, PostgreSQL, MinIO, the test PKI and the offices' SoftHSM2 token. An office with no
signer up its path is refused, naming it, with nothing changed; once its signer is set up the same
request issues the letter under the next number."""
from __future__ import annotations

import hashlib
import io
import json

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy import func, select

from services.signing.models import letters
from services.signing.models import outbox as signing_outbox
from tests.integration.test_signing_letters import (  # noqa: F401 (db: the fixture, the test database's unit of work)
    HEAD,
    approved_draft,
    count,
    db,
    issue,
    last_serial,
    letter_pdf,
)
from tests.support.demo import _admin_over, auth, demo_gateway, sign_in
from tests.support.system import service_process, wait_until

pytestmark = pytest.mark.live
# Lucknow's signer is the one of the single-signer settings (EOFFICE_SIGNING_OFFICE_CODE, from
# softhsm.service_env()); GAD's and Sitapur's are in EOFFICE_SIGNING_OFFICE_SIGNERS. The Revenue
# Department has none here.
SIGNERS = {"GAD": {"key_label": "signer-gad"}, "DIST-SPR": {"key_label": "signer-spr"}}
OFFICERS = {"GAD-EST": "SO(EST)-GAD", "LKO-EST": "DC(EST)-LKO", "SPR-EST": "DC(EST)-SPR", "REV-EST": "SO(EST)-REV"}


def signing_env(pki, softhsm, signers: dict) -> dict[str, str]:
    return {**pki.signing_env(), **softhsm.service_env(), "EOFFICE_SIGNING_OFFICE_SIGNERS": json.dumps(signers)}


@pytest.fixture(scope="module")
def system(migrated, pki, softhsm):
    """(in-process gateway client, the signing service: a test may restart it with other settings)."""
    signing = service_process("signing", env=signing_env(pki, softhsm, SIGNERS)).start()
    try:
        with demo_gateway(migrated, ("directory", "files")) as client:
            for office in OFFICERS:
                made = client.post(f"/api/v1/offices/{office}/subject-heads", headers=auth(sign_in(
                    client, _admin_over(office))), json={"code": HEAD, "title": "Letters issued"})
                assert made.status_code in (201, 409), made.text
            wait_until(lambda: client.app.state.rpc.call("signing", "ping"), 60, "signing answering")
            yield client, signing
    finally:
        signing.stop()


def signer_subject(pdf: bytes) -> dict:
    """The subject of the certificate that signed the letter, as pyHanko reads it from the PDF."""
    signatures = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_regular_signatures
    assert len(signatures) == 1
    return signatures[0].signer_cert.subject.native


def issued_by(api, office: str) -> tuple[dict, dict]:
    """A letter of `office` issued with the office's key: (the letter, its signer's subject)."""
    officer = auth(sign_in(api, OFFICERS[office]))
    fid, draft = approved_draft(api, officer)
    issued = issue(api, officer, fid, draft)
    assert issued.status_code == 201, issued.text
    letter = issued.json()
    assert letter["office_code"] == office and letter["letter_number"].endswith(f"/{office}")
    return letter, signer_subject(letter_pdf(api, officer, fid, letter))


@pytest.mark.parametrize(("office", "label", "unit", "holder"), [
    ("GAD-EST", "signer-gad", "General Administration Department",
     "DISPATCH SECTION GENERAL ADMINISTRATION DEPARTMENT"),
    ("LKO-EST", "office-signer", "Collectorate Lucknow", "DISPATCH SECTION COLLECTORATE LUCKNOW"),
    ("SPR-EST", "signer-spr", "Collectorate Sitapur", "DISPATCH SECTION COLLECTORATE SITAPUR"),
])
def test_a_letter_carries_the_dispatch_stamp_of_its_own_office(system, pki, office, label, unit, holder):
    api, _ = system
    letter, subject = issued_by(api, office)
    assert subject["common_name"] == holder and subject["organizational_unit_name"] == unit, subject
    assert letter["certificate_sha256"] == hashlib.sha256(pki.cert_der(label)).hexdigest()
    verified = api.get(f"/api/v1/letters/{letter['id']}/verify", headers=auth(sign_in(api, OFFICERS[office])))
    assert verified.status_code == 200 and verified.json()["valid"], verified.text
    assert verified.json()["signer"]["holder"] == holder


def events_about(db, file_id: str) -> int:  # noqa: F811
    with db.transaction() as session:
        return session.execute(select(func.count()).select_from(signing_outbox).where(
            signing_outbox.c.envelope["subject"].astext == file_id)).scalar_one()


def test_an_office_without_a_signer_is_refused_and_nothing_changes(system, db, pki, softhsm):  # noqa: F811
    api, signing = system
    officer = auth(sign_in(api, OFFICERS["REV-EST"]))
    fid, draft = approved_draft(api, officer)
    before = last_serial(db, "REV-EST")
    key = "no-signer-" + fid
    asked = {"version": 2, "addressees": [{"name": "Shri Ram Prasad", "address": "Aliganj, Lucknow"}]}

    refused = api.post(f"/api/v1/files/{fid}/drafts/{draft['id']}/issue", headers={**officer, "Idempotency-Key": key},
                       json=asked)
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["type"] == "urn:eoffice:problem:no-office-signer" and problem["office"] == "REV-EST", problem
    assert "no document signer is set up for office REV-EST" in problem["detail"], problem
    # nothing issued, no number taken, nothing told to anyone
    assert count(db, letters, file_id=fid) == 0 and last_serial(db, "REV-EST") == before
    assert events_about(db, fid) == 0
    assert api.get(f"/api/v1/files/{fid}/letters", headers=officer).json() == []
    shown = api.get(f"/api/v1/files/{fid}", headers=officer).json()
    assert not [c for c in shown["correspondence"] if c["kind"] == "letter"]
    assert [d["status"] for d in shown["drafts"] if d["id"] == draft["id"]] == ["approved"], shown["drafts"]

    # the department's signer set up: the same request issues the letter, under the next number
    restart(signing, signing_env(pki, softhsm, {**SIGNERS, "REV": {"key_label": "signer-rev"}}))
    wait_until(lambda: api.app.state.rpc.call("signing", "ping"), 60, "signing answering again")
    issued = api.post(f"/api/v1/files/{fid}/drafts/{draft['id']}/issue", headers={**officer, "Idempotency-Key": key},
                      json=asked)
    assert issued.status_code == 201, issued.text
    letter = issued.json()
    assert letter["letter_number"].startswith(f"D-{before + 1}/") and letter["letter_number"].endswith("/REV-EST")
    assert signer_subject(letter_pdf(api, officer, fid, letter))["common_name"] == "DISPATCH SECTION REVENUE DEPARTMENT"


def restart(signing, env: dict[str, str]) -> None:
    """The signing service (one process or a group) stopped and started again with `env`."""
    signing.stop()
    for process in getattr(signing, "processes", [signing]):
        process.env = {**process.env, **env}
    signing.start()
