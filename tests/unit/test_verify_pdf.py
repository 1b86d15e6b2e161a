"""Verifying encrypted PDFs without infrastructure (services/signing/pades.py): a signed PDF that
is encrypted but opens without a password (restricted by an owner password only, as the intake
now accepts them) reports as the same PDF signed unencrypted does; an encrypted one with no
signature says it carries none; one that needs a password to open, or a certificate's key, is
refused with the reason, never read as if it had no signature; a PDF MAC is checked when there is
one; legacy encryption whose /P pyHanko cannot use is named as such. The test PKI's files are made
here (eoffice/tools/pki.py), its server is not run: nothing is fetched (online=False)."""
from __future__ import annotations

import io

import pytest
from asn1crypto import cms, pem, x509
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import PdfFileWriter, copy_into_new_writer

from eoffice.tools import pki as pki_tool
from services.signing import pades
from tests.support.pki import signed_pdf
from tests.support.scans import encrypted, pdf_page_of

OWNER = "owner-secret"
OFFICER = "ANIL KUMAR VERMA"  # the `officer` certificate's holder


@pytest.fixture(scope="module")
def material(tmp_path_factory):
    return pki_tool.prepare(tmp_path_factory.mktemp("pki"), "http://127.0.0.1:9")  # nothing answers there


def cert(path) -> x509.Certificate:
    return x509.Certificate.load(pem.unarmor(path.read_bytes())[2])


def page(*, user: str | None = "", algorithm: str = "AES-256", reserved_bits: bool = True) -> bytes:
    """A one-page PDF, encrypted unless `user` is None: `user` is the password it opens with ("":
    opens without one), restricted by an owner password (/P as Acrobat writes it, or with
    `reserved_bits` False as pypdf does: tests/support/scans.py)."""
    pdf = pdf_page_of(595, 842)
    return pdf if user is None else encrypted(pdf, user_password=user, algorithm=algorithm,
                                              reserved_bits=reserved_bits)


def signed(material, pdf: bytes, *, password: str | None = "") -> bytes:
    return signed_pdf(material, "officer", pdf, password=password)


def verify(material, pdf: bytes) -> dict:
    return pades.verify(pdf, trust_roots=[cert(material.cert_path("root"))], online=False,
                        other_certs=[cert(material.cert_path("ca")), cert(material.cert_path("subca"))])


@pytest.mark.parametrize("algorithm", ["AES-256", "AES-128", "RC4-128"])
def test_a_signed_pdf_that_opens_without_a_password_reports_as_the_plain_one(material, algorithm):
    plain = verify(material, signed(material, page(user=None), password=None))
    encrypted_pdf = signed(material, page(algorithm=algorithm))
    assert b"/Encrypt" in encrypted_pdf
    encrypted = verify(material, encrypted_pdf)
    assert encrypted["intact"] and not encrypted["changed_since"] and encrypted["covers_whole_file"], encrypted
    assert encrypted["signer"]["holder"] == OFFICER and encrypted["level"] == "B-B"
    # offline and without revocation data the chain is not trusted: the same answer as unencrypted
    same = ("valid", "intact", "trusted", "revoked", "level", "changed_since", "covers_whole_file", "summary")
    assert {k: encrypted[k] for k in same} == {k: plain[k] for k in same}
    # what openssl checks (docs/signing.md): the CMS and the bytes it signs, read from the encrypted file
    parts = pades.signed_parts(encrypted_pdf)
    assert parts.byte_range[0] == 0 and sum(parts.byte_range[1::2]) == len(parts.signed_bytes)
    assert parts.byte_range[2] + parts.byte_range[3] == len(encrypted_pdf)


@pytest.mark.parametrize(("algorithm", "reserved_bits"), [("AES-256", True), ("AES-256", False), ("AES-128", True),
                                                         ("RC4-128", True)])
def test_an_encrypted_pdf_without_a_signature_says_it_has_none(material, algorithm, reserved_bits):
    """Also AES-256 with /P's bit 13 clear and no PDF MAC (pyHanko's own decrypt fails it)."""
    pdf = page(algorithm=algorithm, reserved_bits=reserved_bits)
    assert verify(material, pdf) == {"valid": False, "problem": "the PDF carries no signature"}


@pytest.mark.parametrize("algorithm", ["AES-128", "RC4-128"])
def test_legacy_encryption_with_a_p_pyhanko_cannot_use_is_named_not_called_password_protected(material, algorithm):
    with pytest.raises(PdfReadError, match=r"permissions entry \(/P\) without the bits PDF 1.7 requires"):
        verify(material, page(algorithm=algorithm, reserved_bits=False))


@pytest.mark.parametrize("sign", [False, True], ids=["unsigned", "signed"])
def test_a_pdf_that_needs_a_password_is_refused_not_read_as_unsigned(material, sign):
    pdf = page(user="open-sesame")
    if sign:
        pdf = signed(material, pdf, password="open-sesame")
    with pytest.raises(pades.PasswordProtected, match="password protected: it does not open without a password"):
        verify(material, pdf)
    with pytest.raises(pades.PasswordProtected):
        pades.signed_parts(pdf)


def test_a_pdf_encrypted_for_a_certificate_is_refused(material):
    writer = PdfFileWriter()
    writer.encrypt_pubkey([cert(material.cert_path("officer-wrong-usage"))])  # key encipherment
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(pades.PasswordProtected, match="encrypted for a certificate's key"):
        verify(material, out.getvalue())


def test_a_pdf_mac_is_checked_when_the_file_has_one(material):
    """PDF 2.0 encryption as pyHanko writes it carries a PDF MAC (ISO 32004): it opens, and a
    change to its bytes is named, not reported as a missing signature."""
    writer = copy_into_new_writer(PdfFileReader(io.BytesIO(pdf_page_of(595, 842))))
    writer.encrypt(OWNER, "")
    out = io.BytesIO()
    writer.write(out)
    pdf = out.getvalue()
    assert b"/AuthCode" in pdf
    assert verify(material, pdf) == {"valid": False, "problem": "the PDF carries no signature"}
    at = pdf.index(b"595")  # the page's width
    with pytest.raises(PdfReadError, match=r"integrity code \(PDF MAC\) does not match"):
        verify(material, pdf[:at] + b"596" + pdf[at + 3:])


# --- damaged PDFs: an answer, never a 500 -------------------------------------------------


def test_a_malformed_signature_is_invalid_with_the_reason(material):
    """A CMS whose signed attributes lack the message digest (pyHanko raised, the gateway gave
    a 500) is a signature that is no signature: `valid` false, saying why."""
    pdf = signed(material, page(user=None), password=None)
    parts = pades.signed_parts(pdf)
    content = cms.ContentInfo.load(parts.cms)
    signer = content["content"]["signer_infos"][0]
    kept = [a for a in signer["signed_attrs"] if a["type"].native != "message_digest"]
    signer["signed_attrs"] = cms.CMSAttributes(kept)
    start, end = parts.byte_range[1] + 1, parts.byte_range[2] - 1  # the hex digits of /Contents
    cms_hex = content.dump(force=True).hex().encode().ljust(end - start, b"0")
    report = verify(material, pdf[:start] + cms_hex + pdf[end:])
    assert report == {"valid": False, "problem": "the signature is malformed: Message digest not found in signature, "
                                                 "or multiple message digest attributes present."}


def test_a_pdf_too_damaged_to_read_is_refused_at_its_field(material):
    """A trailer without /Size: pyHanko's parser raises a KeyError, not its PdfError; the
    service answers 422 at `document` (services/signing/letter_service.py: verify_pdf_bytes)."""
    from eoffice.errors import InvalidInput
    from services.signing.letter_service import verify_pdf_bytes

    damaged = signed(material, page(user=None), password=None).replace(b"/Size", b"/Sizf")
    with pytest.raises(InvalidInput) as refused:
        verify_pdf_bytes(damaged, online=False)
    assert refused.value.fields["field"] == "document" and "damaged or incomplete" in str(refused.value)
