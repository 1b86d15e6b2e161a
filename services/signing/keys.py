"""One interface for the three places a signing key lives (docs/signing.md, "Where the key lives").

Every signature we make is a CMS SignedData whose signer signs the DER of its *signed
attributes* (which hold the digest of the document: a note's canonical bytes, or a PDF's byte
ranges). So the whole difference between the paths is who turns those bytes into a signature
value, and when:

- `KeyPath.OFFICER_TOKEN` (a): the officer's USB token, on the officer's PC. Two phases: the
  server builds the signed attributes (`signed_attributes`) and keeps them; the signer program
  (`python -m eoffice.signer`) signs them on the token with a PIN asked locally; the server
  checks the value against the certificate (`eoffice.tokens.signature_matches`) and builds the
  CMS (`assemble`). The PIN never reaches the server.
- `KeyPath.OFFICE_TOKEN` (b): an office's document-signer key on the server's PKCS#11 token
  (an HSM; SoftHSM2 in tests): one phase, `office_signer(settings, office)` is a pyHanko `Signer`
  over the key of the letter's office (or of the nearest office above it that has one).
- `KeyPath.ESIGN` (c): Aadhaar eSign: the ESP signs the document digest and returns a whole
  PKCS#7 (services/signing/esign.py); there is no raw key on our side at all.

A pyHanko `Signer` never validates its certificate: callers validate it first
(`services.signing.trust.Trust.validate`), at every signing.
"""

from __future__ import annotations

from enum import StrEnum

from asn1crypto import cms, x509

from eoffice.errors import NoOfficeSigner, Unavailable
from eoffice.settings import OfficeSigner, Settings
from eoffice.tokens import TokenKey

DIGEST = "sha256"


class KeyPath(StrEnum):
    OFFICER_TOKEN = "officer_token"
    OFFICE_TOKEN = "office_token"
    ESIGN = "esign"


def _store(chain: list[x509.Certificate]):
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    return SimpleCertificateStore.from_certs(chain)


def external_signer(cert: x509.Certificate, chain: list[x509.Certificate], signature: bytes | None = None):
    """pyHanko's ExternalSigner for `cert` (chain embedded), with a fixed signature value
    (None: a placeholder, for preparing the signed attributes)."""
    from pyhanko.sign.signers.pdf_cms import ExternalSigner

    return ExternalSigner(cert, _store(chain), signature_value=signature or 512)


async def signed_attributes(
    cert: x509.Certificate, chain: list[x509.Certificate], digest: bytes, *, pdf: bool = False
) -> cms.CMSAttributes:
    """The CAdES signed attributes over a document `digest` (SHA-256): their DER (`.dump()`)
    is what the key signs. `pdf=True` for a PAdES signature (pyHanko's PDF attribute set)."""
    return await external_signer(cert, chain).signed_attrs(digest, DIGEST, use_pades=True, is_pdf_sig=pdf)


async def assemble(
    cert: x509.Certificate,
    chain: list[x509.Certificate],
    attributes: cms.CMSAttributes,
    *,
    signature: bytes,
    timestamper=None,
) -> cms.ContentInfo:
    """The detached CMS SignedData with `signature` over `attributes`, a signature timestamp
    from `timestamper` (pyHanko TimeStamper) when given. Does not check the signature: the
    caller has (`eoffice.tokens.signature_matches`)."""
    return await external_signer(cert, chain, signature).async_sign_prescribed_attributes(
        DIGEST, attributes, timestamper=timestamper
    )


def timestamper(settings: Settings):
    """pyHanko's RFC 3161 client for EOFFICE_SIGNING_TSA_URL (None when unset)."""
    if not settings.signing_tsa_url:
        return None
    return timestamper_at(settings.signing_tsa_url, timeout=settings.signing_fetch_timeout)


def timestamper_at(url: str, *, timeout: float = 10.0):
    """pyHanko's RFC 3161 client for the TSA at `url`; a TSA that does not answer raises
    Unavailable (503, retry), not pyHanko's error (a 500)."""
    from pyhanko.sign.timestamps import HTTPTimeStamper
    from pyhanko.sign.timestamps.common_utils import TimestampRequestError

    class Timestamper(HTTPTimeStamper):
        async def async_request_tsa_response(self, req):
            try:
                return await super().async_request_tsa_response(req)
            except TimestampRequestError as e:
                raise Unavailable(
                    f"the timestamp authority ({self.url}) did not answer: {e.__cause__ or e}; nothing was signed"
                ) from e

    return Timestamper(url, timeout=int(timeout))


def office_signer_of(settings: Settings, office: dict) -> tuple[str, OfficeSigner]:
    """The document signer of a letter of `office` (the directory's office: `code`, `path`):
    the office's own or, failing that, the nearest office's above it along its path; returns
    (that office's code, its signer). Raises NoOfficeSigner naming the office when none is set up."""
    signers = settings.office_signers()
    for code in reversed(office["path"].split("/")):
        if code in signers:
            return code, signers[code]
    unnamed = (
        " (EOFFICE_SIGNING_OFFICE_TOKEN is set, but EOFFICE_SIGNING_OFFICE_CODE does not say whose signer it is)"
        if settings.signing_office_token and not settings.signing_office_code
        else ""
    )
    raise NoOfficeSigner(
        f"no document signer is set up for office {office['code']} ({office.get('name_en') or office['code']}) "
        f"nor any office above it{unnamed}: its letters cannot be issued with the office's key; nothing was "
        "issued. An administrator sets one up (EOFFICE_SIGNING_OFFICE_SIGNERS, docs/signing.md), or sign with "
        "your own DSC",
        office=office["code"],
    )


def office_key(settings: Settings, signer: OfficeSigner) -> TokenKey:
    """An office document signer's key on the server-side token (path b)."""
    return TokenKey(
        module=settings.signing_pkcs11_module, token_label=signer.token, key_label=signer.key_label, pin=signer.pin
    )


class KeySigner:
    """A pyHanko `Signer` whose signature values come from a `TokenKey` (built lazily so that
    importing this module does not import pyHanko's signer stack)."""

    def __new__(cls, key: TokenKey, cert: x509.Certificate, chain: list[x509.Certificate]):
        from pyhanko.sign.signers.pdf_cms import Signer

        class _KeySigner(Signer):
            async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run=False) -> bytes:
                if dry_run:
                    return bytes(512)
                return key.sign(data, digest_algorithm, cert=cert)

        return _KeySigner(signing_cert=cert, cert_registry=_store(chain))


def office_signer(settings: Settings, office: dict, chain: list[x509.Certificate] | None = None):
    """A pyHanko `Signer` for the document signer of `office` (`office_signer_of`: NoOfficeSigner
    when there is none) on the server-side token (path b): its certificate is the one on the
    token (TokenError when the token cannot give it). Validate `signer.signing_cert` before signing."""
    _, found = office_signer_of(settings, office)
    key = office_key(settings, found)
    _, cert = key.certificate()
    return KeySigner(key, cert, [cert, *(chain or [])])
