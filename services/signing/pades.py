"""PAdES signatures on PDFs with pyHanko: signing at a chosen baseline level, and verifying a
signed PDF into a report a person can read (who, when by the timestamp, which certificate,
its chain, revoked at signing time or not, the PAdES level, changed since or not).

Levels: B-B (a CMS signature with the signer's certificate), B-T (plus an RFC 3161 signature
timestamp), B-LTA (plus the validation data, certificates, CRLs and OCSP answers, in the
document security store and a document timestamp over it all, so it verifies offline years
later). Records of categories A and B are issued at B-LTA, others at B-T.

The signer (`pyhanko.sign.signers.Signer`) comes from the key interface (`keys.py`): a key
file, a PKCS#11 token or a remote signer; this module does not care which. It never checks
whether the signer may sign: the caller validates the certificate first (pyHanko signs with a
revoked or expired certificate unless told otherwise). Everything here is CPU-bound or waits
on the TSA: run it off the event loop."""

from __future__ import annotations

import hashlib
import io
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from asn1crypto import x509
from pyhanko.pdf_utils.crypt import AuthStatus, StandardSecurityHandler, StandardSecuritySettingsRevision, pdfmac
from pyhanko.pdf_utils.generic import StreamObject
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError, PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.general import NonexistentAttributeError, find_unique_cms_attribute
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko_certvalidator import ValidationContext

from services.signing.coroutines import run_coroutine

Level = Literal["B-B", "B-T", "B-LTA"]
FIELD = "Signature1"


def level_for(record_category: str) -> Level:
    """The level a letter of this record category is issued at: B-LTA for A and B (kept
    permanently), B-T otherwise."""
    return "B-LTA" if record_category in ("A", "B") else "B-T"


def _metadata(*, reason: str, location: str, name: str | None, **more) -> signers.PdfSignatureMetadata:
    """The signature dictionary every letter gets: our field, SHA-256, the PAdES subfilter."""
    return signers.PdfSignatureMetadata(
        field_name=FIELD,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason or None,
        location=location or None,
        name=name,
        **more,
    )


def sign(
    pdf: bytes,
    *,
    signer: signers.Signer,
    level: Level,
    timestamper: timestamps.TimeStamper | None = None,
    validation_context: ValidationContext | None = None,
    reason: str = "",
    location: str = "",
    name: str | None = None,
) -> bytes:
    """Returns `pdf` signed at `level` in an incremental update (the PDF/A revision stays as
    it was). B-T and B-LTA need a `timestamper`; B-LTA also a `validation_context` that can
    fetch (or already holds) the revocation data of the signer's and the TSA's chains."""
    if level != "B-B" and timestamper is None:
        raise ValueError(f"{level} needs a timestamp authority")
    lta = level == "B-LTA"
    meta = _metadata(
        reason=reason,
        location=location,
        name=name,
        embed_validation_info=lta,
        use_pades_lta=lta,
        validation_context=validation_context if lta else None,
    )
    pdf_signer = signers.PdfSigner(meta, signer=signer, timestamper=timestamper if level != "B-B" else None)
    # Strict reading: the PDF is our own renderer's (letters.render), and pyHanko's lenient
    # mode made a B-LTA signature about a fifth slower (deploy/bench/signing.py).
    out = pdf_signer.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), output=io.BytesIO())
    return out.getvalue()


# --- two phases: the key is elsewhere (the officer's token, an eSign ESP) ------------------

RESERVED = 32768  # hex digits kept for the CMS: 16 KB of DER, a 4-certificate chain and a timestamp


@dataclass(frozen=True)
class Prepared:
    """A PDF waiting for its signature: `pdf` has the /Contents hole at [start, end), and
    `digest` (SHA-256 of its byte ranges) is what the CMS's signed attributes must name."""

    pdf: bytes
    digest: bytes
    start: int
    end: int


def prepare(
    pdf: bytes,
    *,
    cert: x509.Certificate | None,
    chain: list[x509.Certificate],
    reason: str = "",
    location: str = "",
    name: str | None = None,
) -> Prepared:
    """The first phase of pyHanko's interrupted signing (`PdfSigner.async_digest_doc_for_signing`):
    the signature field and dictionary are written in an incremental update with a hole for the
    CMS, and the byte ranges digested. Nothing is signed; `finish` fills the hole. `cert` is
    None when it is not known yet (Aadhaar eSign: the ESP issues it)."""

    from asn1crypto import algos
    from pyhanko.sign.signers.pdf_cms import ExternalSigner
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    meta = _metadata(reason=reason, location=location, name=name)
    placeholder = ExternalSigner(
        cert,
        SimpleCertificateStore.from_certs(chain),
        signature_value=bytes(512),
        signature_mechanism=algos.SignedDigestAlgorithm({"algorithm": "sha256_rsa"}) if cert is None else None,
    )
    pdf_signer = signers.PdfSigner(meta, signer=placeholder)
    digest, _, output = run_coroutine(
        pdf_signer.async_digest_doc_for_signing(
            IncrementalPdfFileWriter(io.BytesIO(pdf)),
            bytes_reserved=RESERVED,  # strict: see `sign`
        )
    )
    return Prepared(
        pdf=output.getvalue(),
        digest=digest.document_digest,
        start=digest.reserved_region_start,
        end=digest.reserved_region_end,
    )


def finish(
    prepared: Prepared,
    cms_der: bytes,
    *,
    level: Level,
    timestamper: timestamps.TimeStamper | None = None,
    validation_context: ValidationContext | None = None,
) -> bytes:
    """The second phase: puts `cms_der` (a CMS whose signed attributes name `prepared.digest`,
    with its signature timestamp for B-T) in the hole (`PdfTBSDocument.finish_signing`); for
    B-LTA then adds the validation data of the signature and its timestamp to the DSS and a
    document timestamp (`validation_context` fetches what is missing). Returns the signed PDF."""
    from pyhanko.sign.signers.pdf_byterange import PreparedByteRangeDigest
    from pyhanko.sign.signers.pdf_signer import PdfTBSDocument
    from pyhanko.sign.validation import add_validation_info

    output = io.BytesIO(prepared.pdf)
    digest = PreparedByteRangeDigest(
        document_digest=prepared.digest,
        reserved_region_start=prepared.start,
        reserved_region_end=prepared.end,
    )
    PdfTBSDocument.finish_signing(output, digest, cms_der)
    if level != "B-LTA":
        return output.getvalue()
    if timestamper is None or validation_context is None:
        raise ValueError("B-LTA needs a timestamp authority and a validation context")
    signature = _signatures(PdfFileReader(io.BytesIO(output.getvalue())))[0]
    with_dss = add_validation_info(signature, validation_context, output=io.BytesIO())
    stamped = signers.PdfTimeStamper(timestamper).timestamp_pdf(
        IncrementalPdfFileWriter(with_dss), "sha256", validation_context, output=io.BytesIO()
    )
    return stamped.getvalue()


# --- verifying ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Signed:
    """The parts of a signed PDF that independent tools check: the CMS SignedData (DER) and
    the bytes it signs (the file minus the /Contents hole, from the /ByteRange)."""

    cms: bytes
    signed_bytes: bytes
    byte_range: tuple[int, ...]


def signed_parts(pdf: bytes) -> Signed:
    """Returns the first (non-timestamp) signature's CMS and the bytes it covers; raises
    ValueError if the PDF has none, PasswordProtected if it does not open without a password."""
    signature = _signatures(opened(pdf))[0]
    byte_range = tuple(int(v) for v in signature.byte_range)
    pairs = zip(byte_range[::2], byte_range[1::2], strict=True)
    covered = b"".join(pdf[start : start + length] for start, length in pairs)
    return Signed(cms=signature.pkcs7_content, signed_bytes=covered, byte_range=byte_range)


LEGACY_RESERVED = 0xFFFFE0C0  # the bits of /P that PDF 1.7 reserves (must be 1), bit 13 aside (now ISO 32004's)
LEGACY = {
    StandardSecuritySettingsRevision.RC4_BASIC,
    StandardSecuritySettingsRevision.RC4_EXTENDED,
    StandardSecuritySettingsRevision.RC4_OR_AES128,
}


class PasswordProtected(ValueError):
    """The PDF is encrypted so that it opens only with a password or a certificate's key: its
    signatures (their fields, the signed revision) cannot be read without it."""


def opened(pdf: bytes) -> PdfFileReader:
    """The PDF read leniently by pyHanko; an encrypted one (a signed PDF may be: the signature
    goes in an incremental update encrypted as the file is) is decrypted with the empty user
    password, as a viewer opens a PDF that is only restricted by an owner password. One that
    needs a password to open, or a certificate (the public-key security handler, or one pyHanko
    does not know), raises PasswordProtected.

    A PDF MAC (ISO 32004: /KDFSalt in the encryption dictionary, /AuthCode in the trailer) is
    checked when the file carries one; a mismatch is a PdfReadError. pyHanko also demands one
    whenever bit 13 of /P is clear, but that bit was reserved before ISO 32004 and encrypting
    tools leave it clear (pypdf told to permit nothing writes /P 0, and the intake accepts such
    files): those are opened without one; what a signature covers, its own digest checks. With
    RC4 or AES-128 such a /P cannot be opened at all (pyHanko sets the reserved bits before it
    derives the key): a PdfReadError saying so, not PasswordProtected."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    if reader.encrypt_dict is None:
        return reader
    try:
        handler = reader.security_handler
    except PdfReadError:  # an encryption pyHanko does not know
        handler = None
    if not isinstance(handler, StandardSecurityHandler):
        raise PasswordProtected(
            "the PDF is encrypted for a certificate's key (or in a way not known here): it does not open without "
            "that key, so its signature cannot be read or checked"
        )
    id1 = reader.document_id[0] if "/ID" in reader.trailer else None  # legacy encryption needs it (else PdfReadError)
    if handler.authenticate("", id1=id1).status == AuthStatus.FAILED:
        raw = int(reader.encrypt_dict.get("/P", -1)) & 0xFFFFFFFF
        if handler.revision in LEGACY and raw | LEGACY_RESERVED != raw:
            # pyHanko derives an RC4 or AES-128 key from /P with these bits set, as PDF 1.7 requires
            # them: from a /P without them (pypdf writes one) it derives a wrong key
            raise PdfReadError(
                "its encryption (RC4 or AES-128) has a permissions entry (/P) without the bits PDF 1.7 requires "
                "set, which the signature checker cannot decrypt: its signature cannot be read or checked here"
            )
        raise PasswordProtected(
            "the PDF is password protected: it does not open without a password, so its signature cannot be "
            "read or checked; ask the sender for the signed PDF without a password to open it"
        )
    if "/AuthCode" in reader.trailer or "/KDFSalt" in reader.encrypt_dict:
        try:
            pdfmac.validate_pdf_mac(reader)
        except pdfmac.PdfMacValidationError as e:
            raise PdfReadError(f"its integrity code (PDF MAC) does not match: {e.failure_message}") from None
    return reader


def _signatures(reader: PdfFileReader) -> list[EmbeddedPdfSignature]:
    found = [s for s in reader.embedded_signatures if s.sig_object.get("/Type") != "/DocTimeStamp"]
    if not found:
        raise ValueError("the PDF carries no signature")
    return found


def _timestamp_time(signature: EmbeddedPdfSignature) -> datetime | None:
    """The time in the signature's RFC 3161 timestamp token (not yet checked), or None."""
    try:
        token = find_unique_cms_attribute(signature.signer_info["unsigned_attrs"], "signature_time_stamp_token")
    except (NonexistentAttributeError, KeyError):
        return None
    return token["content"]["encap_content_info"]["content"].parsed["gen_time"].native


def _name(cert: x509.Certificate) -> dict:
    """The fields of a certificate a person reads: holder, pseudonym and hashed serial number
    (Indian DSCs), issuer, serial, validity and fingerprint."""
    subject = cert.subject.native
    return {
        "holder": subject.get("common_name"),
        "pseudonym": subject.get("pseudonym"),
        "serial_number_attribute": subject.get("serial_number"),
        "organisation": subject.get("organization_name"),
        "issuer": cert.issuer.native.get("common_name"),
        "serial": format(cert.serial_number, "x"),
        "valid_from": cert["tbs_certificate"]["validity"]["not_before"].native,
        "valid_to": cert["tbs_certificate"]["validity"]["not_after"].native,
        "sha256": hashlib.sha256(cert.dump()).hexdigest(),
    }


def verify(
    pdf: bytes,
    *,
    trust_roots: Iterable[x509.Certificate],
    online: bool = True,
    other_certs: Iterable[x509.Certificate] = (),
) -> dict:
    """Returns a report on the PDF's signature. With `online=False` nothing is fetched: the
    chain and revocation status come from what the PDF carries (its DSS, the CMS), judged at
    the time of its signature timestamp; a B-LTA letter verifies so years later, network off.

    The report: `valid` (intact, trusted, not revoked, not changed beyond adding validation
    data and timestamps), `intact` (the signed bytes hash to what was signed), `trusted`,
    `revoked` (at signing time), `signed_at` (from the timestamp; the signer's own claim
    only if there is none, and then `timestamped` is false), `signer` (certificate fields),
    `chain` (holders from the signer to the root), `level`, `changed_since` (the file was
    changed after signing in a way a signature does not allow), `covers_whole_file`, `enclosures`
    (the files the signed revision carries as the document's associated files, a letter's
    enclosure: see `enclosures`). An encrypted
    PDF is verified as it opens with the empty user password (`opened`); one that needs a
    password raises PasswordProtected. A malformed signature (its CMS) is `valid` false with the
    `problem`; a PDF too damaged to read raises pyHanko's PdfError, or whatever its parser does."""
    roots = list(trust_roots)
    reader = opened(pdf)
    try:
        signature = _signatures(reader)[0]
    except ValueError:
        return {"valid": False, "problem": "the PDF carries no signature"}
    doc_timestamps = [s for s in reader.embedded_signatures if s.sig_object.get("/Type") == "/DocTimeStamp"]
    dss = DocumentSecurityStore.read_dss(reader) if "/DSS" in reader.root else None
    moment = _timestamp_time(signature)
    stamped = moment is not None

    def context() -> ValidationContext:
        kwargs: dict = {"trust_roots": roots, "other_certs": list(other_certs)}
        if online:
            kwargs |= {"allow_fetching": True, "revocation_mode": "hard-fail"}
        else:
            # Offline: only what the PDF carries, judged at the time of signing (the
            # local-only revocation rule: no fetching, and revocation data must be there).
            kwargs |= {
                "allow_fetching": False,
                "revocation_mode": "hard-fail",
                "retroactive_revinfo": True,
                "crls": [],
                "ocsps": [],
            }
            if moment:
                kwargs["moment"] = moment
        return dss.as_validation_context(kwargs) if dss else ValidationContext(**kwargs)

    try:
        status = validate_pdf_signature(signature, context(), context())
    except SignatureValidationError as e:  # the CMS itself is malformed: a signature that is no signature
        return {"valid": False, "problem": f"the signature is malformed: {e.failure_message}"}
    chain = list(status.validation_path) if status.validation_path is not None else []
    archive_ok = all(validate_pdf_timestamp(ts, context()).valid for ts in doc_timestamps)
    level = "B-B"
    if stamped:
        level = "B-T"
        if dss and (dss.crls or dss.ocsps):
            level = "B-LT"
            if doc_timestamps:
                level = "B-LTA"
    changed = (
        not status.intact
        or status.coverage is None
        or status.modification_level is None
        or (status.modification_level.name not in ("NONE", "LTA_UPDATES"))
    )
    return {
        "valid": bool(
            status.intact and status.valid and status.trusted and not status.revoked and not changed and archive_ok
        ),
        "intact": status.intact,
        "trusted": status.trusted,
        "revoked": status.revoked,
        "timestamped": stamped,
        "timestamp_valid": bool(
            status.timestamp_validity and status.timestamp_validity.valid and status.timestamp_validity.trusted
        )
        if stamped
        else None,
        "signed_at": moment or status.signer_reported_dt,
        "signer": _name(status.signing_cert),
        "chain": [c.subject.native.get("common_name") for c in reversed(chain)],
        "level": level,
        "archive_timestamps": len(doc_timestamps),
        "archive_timestamps_valid": archive_ok,
        "changed_since": changed,
        "covers_whole_file": status.coverage is not None and status.coverage.name == "ENTIRE_FILE",
        "enclosures": enclosures(reader.get_historical_root(signature.signed_revision)),
        "summary": status.summary(),
    }


def enclosures(root) -> list[dict]:
    """The files associated with the whole document in a PDF catalogue (`root`: its /AF, as
    PDF/A-3 lists them; an issued letter's enclosure is one): for each its name (/UF, else /F),
    content type (the embedded file's /Subtype), relationship, size and the SHA-256 of its
    bytes (both None when the bytes cannot be decoded: the file is damaged). An entry that
    embeds nothing is left out."""
    found = []
    for spec, stream in _associated(root):
        subtype = stream.get("/Subtype")
        try:
            data: bytes | None = stream.data
        except (zlib.error, PdfError, ValueError):  # a damaged stream: the signature check says so too
            data = None
        found.append(
            {
                "name": _file_name(spec),
                "content_type": str(subtype)[1:] if subtype else None,
                "relationship": str(spec.get("/AFRelationship", "/Unspecified"))[1:],
                "size": None if data is None else len(data),
                "sha256": None if data is None else hashlib.sha256(data).hexdigest(),
            }
        )
    return found


def enclosure_names(root) -> list[str]:
    """The names of the files `enclosures` lists, without decoding their bytes (cheap however
    large they are)."""
    return [_file_name(spec) for spec, _ in _associated(root)]


def _associated(root) -> list[tuple[dict, StreamObject]]:
    """Each associated file of the catalogue's /AF that embeds a stream: its file specification
    and the embedded file's stream (not decoded)."""
    found = []
    associated = root.get("/AF")
    for ref in associated if isinstance(associated, list) else ():  # another tool's PDF may hold anything
        spec = ref.get_object()
        files = spec.get("/EF") if isinstance(spec, dict) else None
        stream = files.get("/F") if isinstance(files, dict) else None
        stream = stream.get_object() if stream is not None else None
        if isinstance(stream, StreamObject):
            found.append((spec, stream))
    return found


def _file_name(spec: dict) -> str:
    return str(spec.get("/UF") or spec.get("/F") or "")
