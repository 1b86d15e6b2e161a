"""Officers' DSC certificates: registered (validated, then tied to the user who uploaded it)
and looked up at every signing. Persistence on the signing schema's `certificates` table."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from asn1crypto import x509
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from eoffice.errors import CertificateRefused, Conflict, InvalidInput
from services.signing.models import certificates
from services.signing.trust import certificate, describe


def parse_upload(text: str) -> x509.Certificate:
    """The certificate in an upload: PEM text, or base64 of the DER; raises InvalidInput."""
    data = text.strip().encode()
    if not data.startswith(b"-----BEGIN"):
        try:
            data = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError) as e:
            raise InvalidInput("the certificate is neither PEM nor base64 DER", field="certificate") from e
    return certificate(data)


def register(session: Session, *, user_id: str, cert: x509.Certificate) -> tuple[dict, bool]:
    """Ties a validated certificate to `user_id`; returns (row, new). Registering one's own
    certificate again changes nothing; another user's is refused (Conflict)."""
    info = describe(cert)
    row = (
        session.execute(select(certificates).where(certificates.c.sha256 == info["sha256"]).with_for_update())
        .mappings()
        .first()
    )
    if row is not None:
        if row["user_id"] != user_id:
            raise Conflict("this certificate is registered to another user")
        return public(dict(row)), False
    values = {
        "sha256": info["sha256"],
        "user_id": user_id,
        "der": cert.dump(),
        "holder": info["holder"],
        "pseudonym": info["pseudonym"],
        "serial_number_attribute": info["serial_number_attribute"],
        "issuer": info["issuer"],
        "not_after": datetime.fromisoformat(info["not_after"]),
    }
    row = session.execute(insert(certificates).values(**values).returning(*certificates.c)).mappings().one()
    return public(dict(row)), True


def registered(session: Session, *, user_id: str, sha256: str) -> x509.Certificate:
    """The user's registered certificate `sha256`; CertificateRefused (unregistered) otherwise."""
    row = (
        session.execute(select(certificates).where(certificates.c.sha256 == sha256, certificates.c.user_id == user_id))
        .mappings()
        .first()
    )
    if row is None:
        raise CertificateRefused(
            f"certificate {sha256[:16]}... is not registered to you: register it first "
            "(POST /api/v1/signing/certificates)",
            reason="unregistered",
        )
    return x509.Certificate.load(row["der"])


def of_user(session: Session, user_id: str) -> list[dict]:
    rows = session.execute(
        select(certificates).where(certificates.c.user_id == user_id).order_by(certificates.c.registered_at)
    ).mappings()
    return [public(dict(r)) for r in rows]


def public(row: dict) -> dict:
    """A registered certificate as the API shows it (with the subject's details and its PEM)."""
    from asn1crypto import pem

    cert = x509.Certificate.load(row["der"])
    return {
        **describe(cert),
        "user_id": row["user_id"],
        "registered_at": row["registered_at"],
        "pem": pem.armor("CERTIFICATE", row["der"]).decode(),
    }
