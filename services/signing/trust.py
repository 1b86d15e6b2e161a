"""Trust in a signing certificate: chains to a configured root (CCA India's in production),
not revoked (OCSP, else CRL, fetched from the certificate's own URLs), within its validity
dates, and allowed to sign (non-repudiation or digital signature). pyHanko signs with any
certificate it is handed; nothing here signs, so every path validates here first.

Plain functions over asn1crypto certificates; no nameko, no SQL."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from asn1crypto import pem, x509

from eoffice.errors import CertificateRefused, InvalidInput
from eoffice.settings import Settings
from services.signing.coroutines import run_coroutine

# Either suffices: Indian DSCs for signing carry non-repudiation, some also digital signature.
SIGNING_USAGES = ({"non_repudiation"}, {"digital_signature"})


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Every certificate in PEM (one or more blocks) or DER bytes; raises InvalidInput."""
    try:
        if pem.detect(data):
            return [
                x509.Certificate.load(der) for kind, _, der in pem.unarmor(data, multiple=True) if kind == "CERTIFICATE"
            ]
        cert = x509.Certificate.load(data)
        cert.native  # noqa: B018 (parses the whole structure: asn1crypto is lazy)
        return [cert]
    except (ValueError, TypeError) as e:
        raise InvalidInput(f"not an X.509 certificate in PEM or DER: {e}", field="certificate") from e


def certificate(data: bytes) -> x509.Certificate:
    """The one certificate in `data` (PEM or DER); raises InvalidInput for none or several."""
    certs = load_certificates(data)
    if len(certs) != 1:
        raise InvalidInput(f"expected one certificate, found {len(certs)}", field="certificate")
    return certs[0]


def _from_files(paths: str) -> list[x509.Certificate]:
    found: list[x509.Certificate] = []
    for path in filter(None, (p.strip() for p in paths.split(","))):
        found += load_certificates(Path(path).read_bytes())
    return found


def fingerprint(cert: x509.Certificate) -> str:
    return hashlib.sha256(cert.dump()).hexdigest()


def describe(cert: x509.Certificate) -> dict:
    """What a person reads about a certificate: the holder's name and the Indian DSC subject's
    pseudonym and serialNumber (the hash of the holder's PAN or Aadhaar, never the number),
    the issuer, validity and fingerprint."""
    subject = cert.subject.native
    return {
        "sha256": fingerprint(cert),
        "holder": subject.get("common_name"),
        "pseudonym": subject.get("pseudonym"),
        "serial_number_attribute": subject.get("serial_number"),
        "organisation": subject.get("organization_name"),
        "state": subject.get("state_or_province_name"),
        "subject": cert.subject.human_friendly,
        "issuer": cert.issuer.human_friendly,
        "serial": format(cert.serial_number, "x"),
        "not_before": cert.not_valid_before.isoformat(),
        "not_after": cert.not_valid_after.isoformat(),
        "key_usage": sorted(cert.key_usage_value.native) if cert.key_usage_value else [],
    }


@dataclass(frozen=True)
class Trust:
    """The configured trust roots and intermediates."""

    roots: list[x509.Certificate]
    intermediates: list[x509.Certificate]
    fetch_timeout: float = 10.0

    @classmethod
    def from_settings(cls, settings: Settings) -> Trust:
        return cls(
            _from_files(settings.signing_trust_roots),
            _from_files(settings.signing_intermediates),
            settings.signing_fetch_timeout,
        )

    def context(self, *, moment: datetime | None = None, online: bool = True, crls=(), ocsps=(), extra_certs=()):
        """A pyhanko-certvalidator ValidationContext over these roots: revocation information
        required for every certificate below a root, fetched from its URLs when `online`."""
        from pyhanko_certvalidator import ValidationContext
        from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend

        kwargs = {}
        if online:
            # requests, not aiohttp: under eventlet its sockets are green and nothing is left
            # open after the call.
            kwargs["fetcher_backend"] = RequestsFetcherBackend(per_request_timeout=self.fetch_timeout)
        return ValidationContext(
            trust_roots=self.roots,
            other_certs=[*self.intermediates, *extra_certs],
            moment=moment,
            allow_fetching=online,
            revocation_mode="require",
            crls=list(crls),
            ocsps=list(ocsps),
            **kwargs,
        )

    def validate(
        self, cert: x509.Certificate, *, moment: datetime | None = None, context=None
    ) -> list[x509.Certificate]:
        """Validates `cert` for signing now (or at `moment`), fetching OCSP/CRL; returns its
        chain, leaf first. Raises CertificateRefused whose `reason` names the failed check.
        `context` (from `context()`): validate in it, so that what it fetched is there for the
        signature that follows (a B-LTA signature embeds the same OCSP/CRL answers)."""
        from pyhanko_certvalidator import CertificateValidator, errors

        if not self.roots:
            raise CertificateRefused(
                "no trust roots are configured (EOFFICE_SIGNING_TRUST_ROOTS): no certificate can be accepted",
                reason="no-trust-roots",
            )
        validator = CertificateValidator(cert, validation_context=context or self.context(moment=moment))
        who = describe(cert)["holder"] or cert.subject.human_friendly
        try:
            path = run_coroutine(validator.async_validate_path())
            _check_usage(cert)
        except errors.RevokedError as e:
            raise CertificateRefused(f"the certificate of {who} is revoked: {e}", reason="revoked") from e
        except errors.ExpiredError as e:
            raise CertificateRefused(f"the certificate of {who} has expired: {e}", reason="expired") from e
        except errors.NotYetValidError as e:
            raise CertificateRefused(f"the certificate of {who} is not valid yet: {e}", reason="not-yet-valid") from e
        except errors.InsufficientRevinfoError as e:
            raise CertificateRefused(
                f"the revocation status of {who}'s certificate could not be checked (OCSP and CRL): {e}",
                reason="revocation-unknown",
            ) from e
        except errors.PathBuildingError as e:
            raise CertificateRefused(
                f"the certificate of {who} does not chain to a trusted root (CCA India's in production): {e}",
                reason="untrusted",
            ) from e
        except _WrongUsage as e:
            raise CertificateRefused(
                f"the certificate of {who} is not for signing: its key usage is "
                f"{', '.join(describe(cert)['key_usage']) or 'missing'}, signing needs non-repudiation "
                "or digital signature",
                reason="wrong-usage",
            ) from e
        except (errors.PathValidationError, errors.ValidationError) as e:
            raise CertificateRefused(f"the certificate of {who} is not valid: {e}", reason="invalid") from e
        except Exception as e:  # noqa: BLE001 (an uploaded certificate can break the validator in any way)
            raise CertificateRefused(
                f"the certificate of {who} cannot be validated: {type(e).__name__}: {e}", reason="invalid"
            ) from e
        return list(reversed(list(path)))


class RecentValidations:
    """Certificates that passed `Trust.validate` in the last `ttl` seconds, with their chains.
    A server token signs letter after letter with one certificate, and an officer's note is
    validated when its signature is prepared and again when the token's value comes back:
    validating each time (an OCSP round trip and a path check) costs more than the signature
    itself, so an answer stands for `ttl` seconds (revocation status at most that old, well
    inside an OCSP answer's own validity). A refusal is never remembered: a refused
    certificate is asked about again. One per process (`RECENT_VALIDATIONS`)."""

    def __init__(self, ttl: float = 30.0):
        self.ttl = ttl
        self._passed: dict[str, tuple[float, list[x509.Certificate]]] = {}
        self._contexts: dict[tuple[str, ...], list[tuple[float, object]]] = {}  # trust roots -> [(until, context)]

    @contextmanager
    def lent_context(self, trust: Trust) -> Iterator:
        """A validation context of `trust` (`Trust.context`, online) for one signing at a time,
        kept `ttl` seconds: the OCSP and CRL answers it fetched (the signer's and the TSA's
        chains) serve the B-LTA letters signed in that time instead of being fetched for each,
        as pyHanko's own signing loop does with one context. Never lent to two signings at once
        (pyHanko's caches are not made for that); its validation time is its creation's."""
        key, now = tuple(fingerprint(root) for root in trust.roots), time.monotonic()
        free = [(until, context) for until, context in self._contexts.get(key, []) if until > now]
        until, context = free.pop() if free else (now + self.ttl, trust.context(online=True))
        self._contexts[key] = free
        try:
            yield context
        finally:
            if until > time.monotonic():
                self._contexts.setdefault(key, []).append((until, context))

    def validate(self, trust: Trust, cert: x509.Certificate, *, context=None) -> list[x509.Certificate]:
        """`cert`'s chain, leaf first, as `Trust.validate` returned it within `ttl` seconds, or
        validated now. Raises CertificateRefused. `context`: see `Trust.validate`."""
        key, now = fingerprint(cert), time.monotonic()
        until, chain = self._passed.get(key, (0.0, []))
        if until > now:
            return chain
        chain = trust.validate(cert, context=context)
        self._passed = {k: v for k, v in self._passed.items() if v[0] > now}  # forget the stale
        self._passed[key] = (now + self.ttl, chain)
        return chain


RECENT_VALIDATIONS = RecentValidations(ttl=30.0)


class _WrongUsage(Exception):
    pass


def _check_usage(cert: x509.Certificate) -> None:
    usage = cert.key_usage_value
    granted = set(usage.native) if usage else set()
    if not any(needed <= granted for needed in SIGNING_USAGES):
        raise _WrongUsage()
