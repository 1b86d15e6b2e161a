"""Signing a green note: a detached CAdES signature, with a signed RFC 3161 timestamp, over the
note's canonical bytes (services/files/notesheet.py: `canonical`), kept byte for byte beside
the signature so that `openssl cms -verify -binary -content note.json` checks it.

Two phases (keys.py, path a): `prepare` validates the certificate and returns the DER of the
signed attributes the officer's token signs; `finish` checks the returned signature value
against the certificate, validates the certificate again, and builds the CMS. `verify` says
who signed, when (the timestamp), with which certificate, whether it chains to a trust root
and whether it was revoked at signing time. No nameko, no SQL."""

from __future__ import annotations

import hashlib
from datetime import datetime

from asn1crypto import cms, x509

from eoffice.errors import CertificateRefused, InvalidInput
from eoffice.tokens import signature_matches
from services.signing import keys
from services.signing.coroutines import run_coroutine
from services.signing.trust import RecentValidations, Trust, describe


def prepare(trust: Trust, cert: x509.Certificate, content: bytes, *, recent: RecentValidations | None = None) -> bytes:
    """Validates `cert` now, or takes `recent`'s answer (CertificateRefused), and returns the
    DER of the CAdES signed attributes over `content`'s SHA-256: what the key signs."""
    chain = (recent or RecentValidations(ttl=0)).validate(trust, cert)
    digest = hashlib.sha256(content).digest()
    return run_coroutine(keys.signed_attributes(cert, chain, digest)).dump()


def finish(
    trust: Trust,
    cert: x509.Certificate,
    *,
    attributes: bytes,
    signature: bytes,
    timestamper,
    recent: RecentValidations | None = None,
) -> bytes:
    """The detached CMS (DER) with `signature` over `attributes`, timestamped. Raises
    CertificateRefused: mismatched-key when the value is not `cert`'s key's signature of those
    attributes, or whatever `Trust.validate` finds now (revoked since `prepare`...; with
    `recent`, its answer of the last `ttl` seconds stands)."""
    check_value(cert, attributes=attributes, signature=signature)
    chain = (recent or RecentValidations(ttl=0)).validate(trust, cert)
    attrs = cms.CMSAttributes.load(attributes)
    return run_coroutine(keys.assemble(cert, chain, attrs, signature=signature, timestamper=timestamper)).dump()


def check_value(cert: x509.Certificate, *, attributes: bytes, signature: bytes) -> None:
    """Raises CertificateRefused (mismatched-key) unless `signature` is `cert`'s key's signature
    of `attributes`: the proof that whoever made it holds that key."""
    if not signature_matches(cert, attributes, signature, digest_algorithm=keys.DIGEST):
        raise CertificateRefused(
            f"the signature is not made by the key of the certificate of {describe(cert)['holder']}: the token's "
            "key does not match the certificate (or the value is corrupt)",
            reason="mismatched-key",
        )


def timestamp_of(cms_der: bytes) -> datetime | None:
    """The time in the signature's RFC 3161 timestamp token, if it has one (not checked here)."""
    info = cms.ContentInfo.load(cms_der)["content"]["signer_infos"][0]
    for attr in info["unsigned_attrs"] or []:
        if attr["type"].native == "signature_time_stamp_token":
            tst = attr["values"][0]["content"]["encap_content_info"]["content"].parsed
            return tst["gen_time"].native
    return None


def verify(trust: Trust, content: bytes, cms_der: bytes, *, online: bool = True) -> dict:
    """Checks a detached CMS signature over `content`: returns {valid, intact, trusted, revoked,
    revoked_at_signing_time, timestamped_at, signer {holder, pseudonym, ...}, chain, problems}.
    `valid` is the whole verdict: intact content, a good signature, a trusted chain, a good
    timestamp and not revoked at the time of signing. Raises InvalidInput for bytes that are
    not a CMS SignedData."""
    from pyhanko.sign.validation.generic_cms import async_validate_detached_cms

    try:
        info = cms.ContentInfo.load(cms_der)
        signed_data = info["content"]
        signed_data.native  # noqa: B018 (asn1crypto parses lazily: fail here, not later)
    except (ValueError, TypeError) as e:
        raise InvalidInput(f"not a CMS signature: {e}", field="signature") from e
    if info["content_type"].native != "signed_data":
        raise InvalidInput("not a CMS SignedData", field="signature")
    if len(signed_data["signer_infos"]) != 1:
        raise InvalidInput("a note's signature has exactly one signer", field="signature")
    context = trust.context(online=online)
    try:
        stamped = timestamp_of(cms_der)
        status = run_coroutine(async_validate_detached_cms(content, signed_data, signer_validation_context=context))
    except Exception as e:  # noqa: BLE001 (bytes from anyone: a malformed CMS may fail anywhere inside)
        raise InvalidInput(f"the signature cannot be verified: {type(e).__name__}: {e}", field="signature") from e
    problems = []
    if not status.intact:
        problems.append("the content is not what was signed (changed since)")
    if not status.valid:
        problems.append("the signature value is not valid")
    trusted = status.validation_path is not None and status.trust_problem_indic is None
    if not trusted:
        problems.append(f"the certificate does not validate to a trust root ({status.trust_problem_indic})")
    details = status.revocation_details
    revoked_since = details.revocation_date if details else None
    revoked_at_signing = bool(details) and (stamped is None or revoked_since <= stamped)
    if revoked_at_signing:
        problems.append(f"the certificate was revoked at signing time (since {revoked_since})")
    ts_ok = (
        status.timestamp_validity is not None and status.timestamp_validity.valid and status.timestamp_validity.intact
    )
    if not ts_ok:
        problems.append("no valid signature timestamp")
    chain = [describe(c)["subject"] for c in (status.validation_path or [])]
    return {
        "valid": not problems,
        "intact": status.intact,
        "signature_valid": status.valid,
        "trusted": trusted,
        "revoked": bool(details),
        "revoked_since": revoked_since.isoformat() if revoked_since else None,
        "revoked_at_signing_time": revoked_at_signing,
        "timestamped_at": stamped.isoformat() if stamped else None,
        "timestamp_valid": ts_ok,
        "signer": describe(status.signing_cert),
        "chain": list(reversed(chain)),
        "content_sha256": hashlib.sha256(content).hexdigest(),
        "problems": problems,
    }
