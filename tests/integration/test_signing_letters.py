"""Issued letters, against the real files, directory and signing services, PostgreSQL, MinIO, the
test PKI on loopback (CRL, OCSP, RFC 3161 TSA) and the office's SoftHSM2 token: an approved
draft is rendered (PDF/A, Hindi and English, the approved version's document inside as its
enclosure), signed (PAdES B-LTA for category A, B-T for C),
numbered from the dispatch register, locked in the records bucket and added to the file. The
letter verifies with poppler's pdfsig, with `openssl cms -verify` and with our API; one flipped
byte fails all three; the B-LTA letter verifies with the PKI's server stopped. What must be
refused is refused with nothing changed."""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from asn1crypto import pem
from pyhanko.sign import signers
from sqlalchemy import func, select

from eoffice.contracts.signing import IssueLetter
from eoffice.db import UnitOfWork, make_engine
from eoffice.errors import CertificateRefused
from eoffice.settings import get_settings
from eoffice.storage import DocumentStore
from services.signing import issuing, pades
from services.signing.models import dispatch_counters, letters
from services.signing.models import outbox as signing_outbox
from services.signing.trust import Trust
from tests.support import pdfsig as support_pdfsig
from tests.support.demo import _admin_over, auth, demo_gateway, sign_in
from tests.support.pki import signed_pdf
from tests.support.scans import encrypted, pdf_page_of, scanned_pdf_of
from tests.support.system import LOG_DIR, service_process, wait_until

pytestmark = pytest.mark.live
OFFICER, OTHER = "SO(EST)-GAD", "US(EST)-GAD"  # officers of GAD's establishment section
OFFICE, HEAD = "GAD-EST", "LTR"
HINDI = "श्री राम प्रसाद के पेंशन बकाया का भुगतान कर दिया जाएगा।"
ENGLISH = "Your arrears will be paid by 15 March."


@pytest.fixture(scope="module")
def api(migrated, pki, softhsm):
    signing = service_process("signing", env={**pki.signing_env(), **softhsm.service_env()}).start()
    try:
        with demo_gateway(migrated, ("directory", "files")) as client:
            made = client.post(f"/api/v1/offices/{OFFICE}/subject-heads", headers=auth(sign_in(client, _admin_over(
                OFFICE))), json={"code": HEAD, "title": "Letters issued"})
            assert made.status_code == 201, made.text
            wait_until(lambda: client.app.state.rpc.call("signing", "ping"), 60, "signing answering")
            yield client
    finally:
        signing.stop()


@pytest.fixture(scope="module")
def db(migrated):
    uow = UnitOfWork(make_engine(migrated.database_url, pool_size=1))
    yield uow
    uow.engine.dispose()


def post(api, headers, path: str, **body):
    return api.post(f"/api/v1{path}", headers={**headers, "Idempotency-Key": uuid.uuid4().hex}, json=body)


def approved_draft(api, headers, *, record_category: str = "C", approve: bool = True) -> tuple[str, dict]:
    """A file of the officer's with one draft (two versions), approved at version 2."""
    file = post(api, headers, "/files", subject_head=HEAD, subject="Pension arrears of Shri Ram Prasad",
                record_category=record_category)
    assert file.status_code == 201, file.text
    fid = file.json()["id"]
    draft = post(api, headers, f"/files/{fid}/drafts", title="पेंशन बकाया / Pension arrears",
                 body=f"{HINDI}\n\nYour arrears will be paid by 1 March.").json()
    revised = post(api, headers, f"/files/{fid}/drafts/{draft['id']}/versions", version=1,
                   body=f"{HINDI}\n\n{ENGLISH}")
    assert revised.status_code == 201, revised.text
    if approve:
        done = post(api, headers, f"/files/{fid}/drafts/{draft['id']}/approve", version=2)
        assert done.status_code == 200, done.text
    return fid, draft


def issue(api, headers, fid: str, draft: dict, version: int = 2):
    return post(api, headers, f"/files/{fid}/drafts/{draft['id']}/issue", version=version,
                addressees=[{"name": "Shri Ram Prasad", "address": "Aliganj, Lucknow", "email": "rp@example.in"}])


def letter_pdf(api, headers, fid: str, letter: dict) -> bytes:
    """The signed PDF as the file's correspondence gives it back (added from the event)."""
    item = wait_until(lambda: next((c for c in api.get(f"/api/v1/files/{fid}", headers=headers).json()[
        "correspondence"] if c["kind"] == "letter" and c["title"].startswith(letter["letter_number"] + ":")), None), 30,
                      "the letter in the file's correspondence")
    got = api.get(f"/api/v1/files/{fid}/correspondence/{item['id']}/document", headers=headers)
    assert got.status_code == 200, got.text
    assert hashlib.sha256(got.content).hexdigest() == letter["sha256"]
    return got.content


def issued_event(db, letter: dict) -> dict:
    """What signing raised for the letter (eoffice.letter.issued.v1's data, from its outbox):
    what files and notify act on."""
    with db.transaction() as session:
        return session.execute(select(signing_outbox.c.envelope).where(
            signing_outbox.c.type == "eoffice.letter.issued.v1",
            signing_outbox.c.envelope["data"]["letter_id"].astext == letter["id"])).scalar_one()["data"]


def nss_with_crls(folder: Path, pki) -> Path:
    """An NSS database of pdfsig's own: the root trusted, the intermediates, and a CRL of each
    issuer imported (Debian's pdfsig reports 'Unknown issue' for a CRL-bearing certificate
    otherwise; with -no-ocsp it then checks the CRLs it holds)."""
    folder.mkdir()
    db = f"sql:{folder}"
    subprocess.run(["certutil", "-N", "-d", db, "--empty-password"], check=True, capture_output=True)
    m = pki.material
    subprocess.run(["certutil", "-A", "-d", db, "-n", "root", "-t", "CT,C,C", "-i", str(m.cert_path("root"))],
                   check=True, capture_output=True)
    for label in ("ca", "subca"):
        subprocess.run(["certutil", "-A", "-d", db, "-n", label, "-t", ",,", "-i", str(m.cert_path(label))],
                       check=True, capture_output=True)
    for issuer in ("root", "ca", "subca"):
        crl = folder / f"{issuer}.crl"
        crl.write_bytes(importable_crl(pki, issuer))
        subprocess.run(["crlutil", "-I", "-d", db, "-i", str(crl)], check=True, capture_output=True)
    return folder


def importable_crl(pki, issuer: str) -> bytes:
    """The issuer's CRL as its server serves it, re-issued by the same issuer key without the
    critical Issuing Distribution Point extension that certomancer always adds and NSS refuses
    to import (SEC_ERROR_CRL_UNKNOWN_CRITICAL_EXTENSION); same times, same revoked serials."""
    import urllib3
    from cryptography import x509 as cx509
    from cryptography.hazmat.primitives import hashes, serialization

    m = pki.material
    served = cx509.load_der_x509_crl(urllib3.request("GET", m.crl_url(issuer)).data)
    cert = cx509.load_pem_x509_certificate(m.cert_path(issuer).read_bytes())
    key = serialization.load_pem_private_key(m.key_path(issuer).read_bytes(), password=None)
    builder = (cx509.CertificateRevocationListBuilder().issuer_name(cert.subject)
               .last_update(served.last_update_utc).next_update(served.next_update_utc)
               .add_extension(cx509.AuthorityKeyIdentifier.from_issuer_public_key(cert.public_key()), critical=False)
               .add_extension(served.extensions.get_extension_for_class(cx509.CRLNumber).value, critical=False))
    for revoked in served:
        builder = builder.add_revoked_certificate(revoked)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def pdfsig(nss: Path, pdf: Path) -> str:
    """pdfsig with tests/support/pdfsig.py's shim for Debian's poppler 22.12 (it misreads a
    stale NSS error after a successful chain validation as "Unknown issue")."""
    return support_pdfsig.pdfsig(nss, pdf, fix=support_pdfsig.shim(nss.parent / "pdfsig-fix"))


def openssl_verify(tmp: Path, pdf: bytes, pki) -> subprocess.CompletedProcess:
    parts = pades.signed_parts(pdf)
    (tmp / "sig.der").write_bytes(parts.cms)
    (tmp / "signed.bin").write_bytes(parts.signed_bytes)
    return subprocess.run(
        ["openssl", "cms", "-verify", "-inform", "DER", "-in", str(tmp / "sig.der"), "-content",
         str(tmp / "signed.bin"), "-binary", "-CAfile", str(pki.material.roots_path), "-certfile",
         str(pki.material.intermediates_path), "-purpose", "any", "-out", "/dev/null"],
        capture_output=True, text=True)


def flipped(pdf: bytes) -> bytes:
    """The PDF with one byte changed inside the signed part (in a stream, so it still parses)."""
    parts = pades.signed_parts(pdf)
    at = pdf.index(b"stream", parts.byte_range[1] // 2) + 40
    assert at < parts.byte_range[1]
    return pdf[:at] + bytes([pdf[at] ^ 0x01]) + pdf[at + 1:]


def test_an_issued_letter_verifies_everywhere_and_a_flipped_byte_nowhere(api, db, pki, tmp_path):
    officer = auth(sign_in(api, OFFICER))
    fid, draft = approved_draft(api, officer, record_category="A")
    issued = issue(api, officer, fid, draft)
    assert issued.status_code == 201, issued.text
    letter = issued.json()
    assert letter["level"] == "B-LTA" and letter["version"] == 2 and letter["record_version"]
    assert letter["letter_number"].startswith("D-") and letter["letter_number"].endswith(f"/{OFFICE}")
    pdf = letter_pdf(api, officer, fid, letter)
    (tmp_path / "letter.pdf").write_bytes(pdf)
    # what notify dispatches from: the event carries the addressees and the locked PDF's name and hash
    event = issued_event(db, letter)
    assert event["enclosure"] is None  # the approved version came without a document
    assert event["letter_number"] == letter["letter_number"] and event["sha256"] == letter["sha256"]
    assert event["addressees"][0]["email"] == "rp@example.in" and event["object_name"] == letter["object_name"]
    assert event["record_version"] == letter["record_version"] and event["office_code"] == OFFICE

    # poppler's pdfsig, with its own NSS database holding the root and the CRLs
    nss = nss_with_crls(tmp_path / "nss", pki)
    report = pdfsig(nss, tmp_path / "letter.pdf")
    first = report.split("Signature #2")[0]
    # the signature over the byte ranges, and the chain to the root with the CRLs
    assert "Signature Validation: Signature is Valid." in first and "DISPATCH SECTION" in first, report
    assert "Certificate Validation: Certificate is Trusted." in first, report
    # openssl on the CMS and the bytes it covers
    checked = openssl_verify(tmp_path, pdf, pki)
    assert checked.returncode == 0 and "Verification successful" in checked.stderr, checked.stderr
    # our API: the stored letter, and the PDF as an addressee would upload it
    ours = api.get(f"/api/v1/letters/{letter['id']}/verify", headers=officer).json()
    assert ours["valid"] and ours["intact"] and ours["trusted"] and not ours["revoked"], ours
    assert ours["level"] == "B-LTA" and not ours["changed_since"] and ours["timestamped"]
    assert ours["signer"]["holder"] == "DISPATCH SECTION GENERAL ADMINISTRATION DEPARTMENT"  # GAD-EST is in GAD
    assert ours["chain"][-1] == "e-Office Test CCA India 2022" and len(ours["chain"]) == 4
    uploaded = api.post("/api/v1/letters/verify", headers=officer,
                        files={"document": ("letter.pdf", pdf, "application/pdf")}).json()
    assert uploaded["valid"] and uploaded["issued_letter"]["letter_number"] == letter["letter_number"]

    # one flipped byte: all three say no
    bad = flipped(pdf)
    (tmp_path / "bad.pdf").write_bytes(bad)
    report = pdfsig(nss, tmp_path / "bad.pdf").split("Signature #2")[0]
    assert "Signature Validation: Digest Mismatch." in report and "Signature is Valid" not in report, report
    assert openssl_verify(tmp_path, bad, pki).returncode != 0
    refused = api.post("/api/v1/letters/verify", headers=officer,
                       files={"document": ("bad.pdf", bad, "application/pdf")}).json()
    assert not refused["valid"] and not refused["intact"] and refused["issued_letter"] is None

    # archived: verifies with the TSA, OCSP and CRL server stopped, from what the PDF carries
    pki.server.stop()
    try:
        offline = api.get(f"/api/v1/letters/{letter['id']}/verify", headers=officer,
                          params={"online": "false"}).json()
        assert offline["valid"] and offline["trusted"] and not offline["revoked"], offline
        assert offline["level"] == "B-LTA" and offline["signed_at"] == ours["signed_at"]
        tampered_offline = api.post("/api/v1/letters/verify", headers=officer, params={"online": "false"},
                                    files={"document": ("bad.pdf", bad, "application/pdf")}).json()
        assert not tampered_offline["valid"]
    finally:
        pki.server.start()


def verify_upload(api, headers, pdf: bytes, name: str):
    return api.post("/api/v1/letters/verify", headers=headers, files={"document": (name, pdf, "application/pdf")})


def test_encrypted_pdfs_verify_or_are_refused_saying_why(api, pki, tmp_path):
    """A signed PDF that is encrypted but opens without a password (restricted by an owner
    password, as the intake accepts them) verifies as any other; one with no signature says so;
    one that needs a password, signed or not, is a 422 at `document` saying it is password
    protected, never 'no signature' and never a 500."""
    officer = auth(sign_in(api, OFFICER))
    restricted = encrypted(pdf_page_of(595, 842), reserved_bits=True)
    signed = signed_pdf(pki.material, "officer", restricted, password="", timestamped=True)
    assert b"/Encrypt" in signed
    answer = verify_upload(api, officer, signed, "restricted-signed.pdf")
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["valid"] and report["intact"] and report["trusted"] and not report["revoked"], report
    assert report["timestamped"] and report["timestamp_valid"] and report["level"] == "B-T", report
    assert report["signer"]["holder"] == "ANIL KUMAR VERMA" and not report["changed_since"], report
    assert report["covers_whole_file"] and report["issued_letter"] is None
    checked = openssl_verify(tmp_path, signed, pki)  # the CMS and the bytes it signs, read from the encrypted file
    assert checked.returncode == 0 and "Verification successful" in checked.stderr, checked.stderr
    at = signed.index(b"595")  # the page's width, in the signed revision (no streams here to flip a byte in)
    assert at < pades.signed_parts(signed).byte_range[1]
    tampered = verify_upload(api, officer, signed[:at] + b"596" + signed[at + 3:], "tampered.pdf").json()
    assert not tampered["valid"] and not tampered["intact"], tampered

    unsigned = verify_upload(api, officer, restricted, "restricted.pdf")
    assert unsigned.status_code == 200, unsigned.text
    assert unsigned.json() == {"valid": False, "problem": "the PDF carries no signature", "issued_letter": None}

    locked = encrypted(pdf_page_of(595, 842), user_password="open-sesame", reserved_bits=True)
    for name, pdf in (("locked.pdf", locked),
                      ("locked-signed.pdf", signed_pdf(pki.material, "officer", locked, password="open-sesame"))):
        refused = verify_upload(api, officer, pdf, name)
        assert refused.status_code == 422 and refused.json()["field"] == "document", refused.text
        assert "password protected: it does not open without a password" in refused.json()["detail"], refused.text

    # RC4 with /P as pypdf writes it (the reserved bits clear): pyHanko cannot decrypt it, and says so
    odd = verify_upload(api, officer, encrypted(pdf_page_of(595, 842), algorithm="RC4-128"), "rc4.pdf")
    assert odd.status_code == 422 and odd.json()["field"] == "document", odd.text
    assert "permissions entry (/P)" in odd.json()["detail"], odd.text


def upload_version(api, headers, fid: str, *, body: str, document: tuple[str, bytes], draft: dict | None = None,
                   version: int = 0):
    """A draft started with `document` (name, PDF bytes), or, given `draft`, revised with it."""
    path, data = (f"/files/{fid}/drafts/upload", {"title": "Reply with its annexure", "body": body}) if draft is None \
        else (f"/files/{fid}/drafts/{draft['id']}/versions/upload", {"body": body, "version": str(version)})
    made = api.post(f"/api/v1{path}", headers={**headers, "Idempotency-Key": uuid.uuid4().hex}, data=data,
                    files={"document": (document[0], document[1], "application/pdf")})
    assert made.status_code == 201, made.text
    return made.json()


def detached(tmp: Path, pdf: bytes) -> dict[str, bytes]:
    """The files embedded in a PDF as poppler's pdfdetach saves them (what a reader offline gets)."""
    tmp.mkdir()
    (tmp / "letter.pdf").write_bytes(pdf)
    (tmp / "out").mkdir()
    subprocess.run(["pdfdetach", "-saveall", "-o", str(tmp / "out"), str(tmp / "letter.pdf")], check=True,
                   capture_output=True)
    return {p.name: p.read_bytes() for p in (tmp / "out").iterdir()}


def test_a_draft_uploaded_with_an_encrypted_pdf_is_issued_from_its_text(api, tmp_path):
    """No route signs an uploaded PDF: a letter is rendered from the approved version's text.
    A draft whose document is a restricted (encrypted) PDF is approved and issued as any other:
    the letter is not encrypted, carries the document unchanged as its enclosure and verifies;
    the draft's document stays as it was uploaded."""
    officer = auth(sign_in(api, OFFICER))
    file = post(api, officer, "/files", subject_head=HEAD, subject="Reply with a restricted enclosure",
                record_category="C")
    assert file.status_code == 201, file.text
    fid, document = file.json()["id"], encrypted(pdf_page_of(595, 842))
    draft = upload_version(api, officer, fid, body=ENGLISH, document=("enclosure.pdf", document))
    assert post(api, officer, f"/files/{fid}/drafts/{draft['id']}/approve", version=1).status_code == 200
    issued = issue(api, officer, fid, draft, version=1)
    assert issued.status_code == 201, issued.text
    pdf = letter_pdf(api, officer, fid, issued.json())
    assert pades.opened(pdf).encrypt_dict is None
    assert detached(tmp_path / "letter", pdf) == {"enclosure.pdf": document}
    text = subprocess.run(["pdftotext", str(tmp_path / "letter" / "letter.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert ENGLISH in text and issued.json()["letter_number"] in text
    ours = api.get(f"/api/v1/letters/{issued.json()['id']}/verify", headers=officer).json()
    assert ours["valid"] and ours["intact"] and ours["trusted"], ours
    kept = api.get(f"/api/v1/files/{fid}/drafts/{draft['id']}/versions/1/document", headers=officer)
    assert kept.status_code == 200 and kept.content == document, kept.text


def test_the_approved_versions_document_goes_with_the_letter_as_its_enclosure(api, db, tmp_path):
    """What the officer read and approved with the draft goes with the letter: the document
    uploaded with the approved version is embedded in the signed PDF (a PDF/A-3 associated file,
    named as uploaded) and printed as its enclosure, and the signature covers it: the letter
    verifies, online and from what it carries, and lists it; the issued event names it (for the
    dispatch e-mail). An earlier version's document is not carried; a version approved without a
    document is issued without an enclosure."""
    officer = auth(sign_in(api, OFFICER))
    file = post(api, officer, "/files", subject_head=HEAD, subject="Reply with its annexure", record_category="A")
    assert file.status_code == 201, file.text
    fid = file.json()["id"]
    first, second = pdf_page_of(595, 842), pdf_page_of(842, 595)  # two different documents
    name = "अनुलग्नक-क Annexure A.pdf"
    draft = upload_version(api, officer, fid, body=ENGLISH, document=("annexure-draft.pdf", first))
    upload_version(api, officer, fid, body=f"{HINDI}\n\n{ENGLISH}", document=(name, second), draft=draft, version=1)
    assert post(api, officer, f"/files/{fid}/drafts/{draft['id']}/approve", version=2).status_code == 200
    issued = issue(api, officer, fid, draft, version=2)
    assert issued.status_code == 201, issued.text
    letter = issued.json()
    pdf = letter_pdf(api, officer, fid, letter)

    carried = {"name": name, "content_type": "application/pdf", "relationship": "Supplement", "size": len(second),
               "sha256": hashlib.sha256(second).hexdigest()}
    for online in ("true", "false"):
        checked = api.post("/api/v1/letters/verify", headers=officer, params={"online": online},
                           files={"document": ("letter.pdf", pdf, "application/pdf")})
        assert checked.status_code == 200, checked.text
        report = checked.json()
        assert report["valid"] and report["intact"] and report["level"] == "B-LTA", report
        assert report["issued_letter"]["letter_number"] == letter["letter_number"]
        assert report["enclosures"] == [carried], report["enclosures"]
    assert api.get(f"/api/v1/letters/{letter['id']}/verify", headers=officer).json()["enclosures"] == [carried]
    assert issued_event(db, letter)["enclosure"] == name  # notify's e-mail names it
    saved = detached(tmp_path / "letter", pdf)  # as a reader offline gets it: the approved version's document
    assert {n: hashlib.sha256(b).hexdigest() for n, b in saved.items()} == {name: carried["sha256"]}
    text = subprocess.run(["pdftotext", str(tmp_path / "letter" / "letter.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert f"संलग्नक / Enclosure: {name}" in text.splitlines(), text
    if VERAPDF.exists():  # still PDF/A-3a with the file inside
        conformance = subprocess.run([str(VERAPDF), "--flavour", "3a", "--format", "text",
                                      str(tmp_path / "letter" / "letter.pdf")], capture_output=True, text=True,
                                     timeout=180)
        assert conformance.stdout.startswith("PASS "), conformance.stdout + conformance.stderr
    # the enclosure is signed: a byte changed inside it and the letter no longer verifies
    at = pdf.index(b"/Type /EmbeddedFile")
    at = pdf.index(b"stream", at) + 20
    assert at < pades.signed_parts(pdf).byte_range[1]
    tampered = verify_upload(api, officer, pdf[:at] + bytes([pdf[at] ^ 0x01]) + pdf[at + 1:], "tampered.pdf").json()
    assert not tampered["valid"] and not tampered["intact"], tampered
    assert tampered["enclosures"][0]["sha256"] != carried["sha256"], tampered["enclosures"]

    # version 1 came with a document, version 2 (approved) without: no enclosure
    draft = upload_version(api, officer, fid, body=ENGLISH, document=("annexure-draft.pdf", first))
    revised = post(api, officer, f"/files/{fid}/drafts/{draft['id']}/versions", version=1, body=f"{ENGLISH} Revised.")
    assert revised.status_code == 201, revised.text
    assert post(api, officer, f"/files/{fid}/drafts/{draft['id']}/approve", version=2).status_code == 200
    plain = issue(api, officer, fid, draft, version=2)
    assert plain.status_code == 201, plain.text
    pdf = letter_pdf(api, officer, fid, plain.json())
    report = verify_upload(api, officer, pdf, "letter.pdf").json()
    assert report["valid"] and report["enclosures"] == [], report
    assert detached(tmp_path / "plain", pdf) == {}
    assert issued_event(db, plain.json())["enclosure"] is None
    text = subprocess.run(["pdftotext", str(tmp_path / "plain" / "letter.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "Enclosure" not in text and f"{ENGLISH} Revised." in text, text


def test_a_letter_with_the_largest_enclosure_verifies_as_its_addressee_uploads_it(api):
    """A draft's document may be as large as any uploaded document (EOFFICE_MAX_SCAN_BYTES); the
    letter issued with it is larger still, and its addressee can verify it through
    `POST /letters/verify` as received. A PDF larger than any letter is refused at `document`,
    saying how large one may be."""
    officer = auth(sign_in(api, OFFICER))
    file = post(api, officer, "/files", subject_head=HEAD, subject="Reply with a long annexure", record_category="C")
    assert file.status_code == 201, file.text
    fid, largest = file.json()["id"], get_settings().max_scan_bytes
    document = scanned_pdf_of(largest - 4096)
    assert largest - 4096 <= len(document) <= largest
    draft = upload_version(api, officer, fid, body=ENGLISH, document=("annexure.pdf", document))
    assert post(api, officer, f"/files/{fid}/drafts/{draft['id']}/approve", version=1).status_code == 200
    issued = issue(api, officer, fid, draft, version=1)
    assert issued.status_code == 201, issued.text
    pdf = letter_pdf(api, officer, fid, issued.json())
    assert len(pdf) > largest  # the letter is its enclosure and more

    answer = verify_upload(api, officer, pdf, "letter.pdf")
    assert answer.status_code == 200, answer.text[:500]
    report = answer.json()
    assert report["valid"] and report["intact"] and report["trusted"] and report["level"] == "B-T", report
    assert report["issued_letter"]["letter_number"] == issued.json()["letter_number"]
    assert [(e["name"], e["size"], e["sha256"]) for e in report["enclosures"]] == [
        ("annexure.pdf", len(document), hashlib.sha256(document).hexdigest())]

    padded = pdf + b"\n" * (largest + 4 * 1024 * 1024 + 1 - len(pdf))  # one byte over what any letter may be
    refused = verify_upload(api, officer, padded, "padded.pdf")
    assert refused.status_code == 422 and refused.json()["field"] == "document", refused.text
    assert f"at most {largest + 4 * 1024 * 1024} bytes" in refused.json()["detail"], refused.text


@pytest.fixture(scope="module")
def plain_letter(api, tmp_path_factory) -> tuple[dict, Path]:
    """A letter of a category C file (B-T), as the file gives it back, saved to a file."""
    officer = auth(sign_in(api, OFFICER))
    fid, draft = approved_draft(api, officer)
    letter = issue(api, officer, fid, draft).json()
    path = tmp_path_factory.mktemp("letter") / "letter.pdf"
    path.write_bytes(letter_pdf(api, officer, fid, letter))
    return letter, path


def test_the_letter_reads_right(plain_letter, tmp_path):
    letter, path = plain_letter
    assert letter["level"] == "B-T", letter  # category C
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    lines = [line.strip() for line in text.splitlines()]
    assert ENGLISH in lines  # English extracts exactly
    assert letter["letter_number"] in text and "Shri Ram Prasad" in text
    # Hindi: each line carries its own text as /ActualText, so pdftotext gives it back as typed
    assert HINDI in lines, text
    assert "अधिष्ठान अनुभाग, सामान्य प्रशासन विभाग" in text

    # PDF/A-3 level A (tagged) as the document says of itself, every font embedded
    from pyhanko.pdf_utils.reader import PdfFileReader
    reader = PdfFileReader(path.open("rb"), strict=False)
    xmp = reader.root["/Metadata"].data
    # (pyHanko rewrites the XMP when it signs, keeping the identification as attributes)
    assert re.search(rb'pdfaid:part(="|>)3', xmp) and re.search(rb'pdfaid:conformance(="|>)A', xmp), xmp
    assert "/StructTreeRoot" in reader.root and reader.root["/MarkInfo"]["/Marked"]
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    assert all(" yes " in line for line in fonts.splitlines()[2:]), fonts

    # the first page as an image, kept for a person to look at
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-r", "110", "-png", "-f", "1", "-l", "1", "-singlefile", str(path),
                    str(tmp_path / "page")], check=True)
    shutil.copy(tmp_path / "page.png", LOG_DIR / "signing-letter-page1.png")
    assert (LOG_DIR / "signing-letter-page1.png").stat().st_size > 10_000


VERAPDF = Path(os.environ.get("EOFFICE_HOME", "/var/lib/eoffice")) / "bin" / "verapdf"


@pytest.mark.skipif(not VERAPDF.exists(), reason="veraPDF is not installed (deploy/lib/verapdf.sh: install_verapdf)")
def test_the_signed_letter_passes_verapdf(plain_letter):
    _, path = plain_letter
    checked = subprocess.run([str(VERAPDF), "--flavour", "3a", "--format", "text", str(path)], capture_output=True,
                             text=True, timeout=180)
    assert checked.stdout.startswith("PASS ") and checked.stdout.split()[-1] == "3a", checked.stdout + checked.stderr


def count(db, table, **where) -> int:
    with db.transaction() as session:
        query = select(func.count()).select_from(table)
        for column, value in where.items():
            query = query.where(table.c[column] == value)
        return session.execute(query).scalar_one()


def last_serial(db, office: str = OFFICE) -> int:
    """The last number the office's dispatch register gave (any year)."""
    with db.transaction() as session:
        return session.execute(select(func.coalesce(func.max(dispatch_counters.c.last_serial), 0))
                               .where(dispatch_counters.c.office_code == office)).scalar_one()


def test_what_is_refused_changes_nothing_and_numbers_have_no_gap(api, db):
    officer = auth(sign_in(api, OFFICER))
    fid, draft = approved_draft(api, officer, approve=False)
    before = last_serial(db)

    not_approved = issue(api, officer, fid, draft)
    assert not_approved.status_code == 409 and "not approved" in not_approved.json()["detail"], not_approved.text
    assert post(api, officer, f"/files/{fid}/drafts/{draft['id']}/approve", version=2).status_code == 200
    stale = issue(api, officer, fid, draft, version=1)
    assert stale.status_code == 409 and "not the approved one" in stale.json()["detail"], stale.text
    stranger = issue(api, auth(sign_in(api, OTHER)), fid, draft)
    assert stranger.status_code in (403, 404), stranger.text
    assert last_serial(db) == before and count(db, letters, file_id=fid) == 0

    first = issue(api, officer, fid, draft)
    assert first.status_code == 201, first.text
    again = issue(api, officer, fid, draft)  # a new request (new key) for the same version
    assert again.status_code == 409 and first.json()["letter_number"] in again.json()["detail"], again.text
    assert count(db, letters, file_id=fid) == 1 and last_serial(db) == before + 1

    # the next letter of the office takes the next number: no gap for the refusals
    fid2, draft2 = approved_draft(api, officer)
    second = issue(api, officer, fid2, draft2).json()
    assert second["letter_number"] == f"D-{before + 2}/{first.json()['letter_number'].split('/')[1]}/{OFFICE}"
    assert first.json()["letter_number"] == f"D-{before + 1}/{second['letter_number'].split('/')[1]}/{OFFICE}"


@pytest.mark.parametrize(("label", "reason"), [("officer-revoked", "revoked"), ("officer-expired", "expired"),
                                                ("officer-wrong-usage", "wrong-usage")])
def test_a_certificate_that_fails_validation_signs_nothing(api, db, migrated, pki, label, reason):
    """The issue flow itself (services/signing/issuing.py) with a signer holding a refused
    certificate: CertificateRefused, no number taken, no letter, nothing raised."""
    officer = auth(sign_in(api, OFFICER))
    fid, draft = approved_draft(api, officer)
    file = api.get(f"/api/v1/files/{fid}", headers=officer).json()
    asked = {"file_id": fid, "file_number": file["file_number"], "office_code": OFFICE, "record_category": "C",
             "draft_id": draft["id"], "version": 2, "title": draft["title"], "body": ENGLISH}
    m = pki.material
    trust = Trust(roots=[_cert(m.cert_path("root"))], intermediates=[_cert(m.cert_path("ca")),
                                                                      _cert(m.cert_path("subca"))])
    signer = signers.SimpleSigner.load(str(m.key_path(label)), str(m.cert_path(label)))
    before, events = last_serial(db), []
    with pytest.raises(CertificateRefused) as refused:
        with db.changes(lambda session, payload, subject: events.append(payload)) as changes:
            issuing.issue(changes, draft=asked, request=IssueLetter(version=2), office={"name_en": "x"},
                          signatory=issuing.Signatory(user_id="u", post_id=OFFICER, name="n", designation="d",
                                                      key_path="office_token", signer=signer),
                          trust=trust, tsa_url=m.tsa_url, store=DocumentStore(migrated))
    assert refused.value.fields["reason"] == reason
    assert last_serial(db) == before and count(db, letters, file_id=fid) == 0 and events == []


def _cert(path: Path):
    from asn1crypto import x509
    data = path.read_bytes()
    return x509.Certificate.load(pem.unarmor(data)[2] if pem.detect(data) else data)

