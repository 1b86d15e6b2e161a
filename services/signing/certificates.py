"""Officers' DSC certificates: registered to the user who proves they hold the certificate's key,
and looked up at every signing. Persistence on the signing schema's `certificates` and
`certificate_requests` tables.

A certificate is public (it is inside every PDF it signs), so uploading one proves nothing.
Registering is two-phase, like signing a note (services/signing/keys.py, path a): the upload is
validated and answered with a registration request whose signed attributes cover a challenge
naming the user, the certificate and an expiry (`challenge`); the signer program signs them on
the token and only a value made by the certificate's key registers it (`register`). Rows from
before this proof existed (`proven` false) go to the first user who proves possession."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import UTC, datetime

from asn1crypto import pem, x509
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from eoffice.errors import CertificateRefused, Conflict, InvalidInput, NotFound
from services.signing import keys, request_rows
from services.signing.models import certificate_requests, certificates
from services.signing.trust import certificate, describe

PENDING, REGISTERED = "pending", "registered"
PURPOSE = "register-certificate"


def parse_upload(text: str) -> x509.Certificate:
    """The certificate in an upload: PEM text, or base64 of the DER; raises InvalidInput."""
    data = text.strip().encode()
    if not data.startswith(b"-----BEGIN"):
        try:
            data = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError) as e:
            raise InvalidInput("the certificate is neither PEM nor base64 DER", field="certificate") from e
    return certificate(data)


def _row(session: Session, sha256: str) -> dict | None:
    query = select(certificates).where(certificates.c.sha256 == sha256).with_for_update()
    row = session.execute(query).mappings().first()
    return dict(row) if row else None


def _refuse_proven_elsewhere(row: dict | None, user_id: str) -> None:
    if row is not None and row["user_id"] != user_id and row["proven"]:
        raise Conflict("this certificate is registered to another user, who proved they hold its key")


def already_registered(session: Session, *, user_id: str, sha256: str) -> dict | None:
    """The user's registration of certificate `sha256` if it is theirs with proof of possession
    (registering it again changes nothing); None if they must prove possession first (it is
    not registered, or registered without proof, to them or to another user). Raises Conflict
    when another user proved they hold its key."""
    row = _row(session, sha256)
    _refuse_proven_elsewhere(row, user_id)
    if row is not None and row["user_id"] == user_id and row["proven"]:
        return public(row)
    return None


def challenge(*, request_id: str, user_id: str, sha256: str, expires_at: datetime) -> bytes:
    """The statement the certificate's key signs to register it: sorted-key JSON naming the
    request, the user, the certificate's SHA-256 and when the request expires."""
    statement = {
        "purpose": PURPOSE,
        "request": request_id,
        "user_id": user_id,
        "certificate_sha256": sha256,
        "expires_at": expires_at.astimezone(UTC).isoformat(timespec="seconds"),
    }
    return json.dumps(statement, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def add_request(session: Session, *, row: dict) -> dict:
    """Keeps a registration request (pending) and returns it."""
    return request_rows.add(session, certificate_requests, row=row, state=PENDING)


def find_request(session: Session, request_id: str) -> dict | None:
    return request_rows.find(session, certificate_requests, request_id)


def own_request(session: Session, *, user_id: str, request_id: str, lock: bool = False) -> dict:
    """The user's registration request; NotFound for anybody else's."""
    return request_rows.own(session, certificate_requests, user_id=user_id, request_id=request_id, lock=lock)


def refuse_expired(row: dict) -> None:
    """Conflict when a pending registration request is past its expiry."""
    if row["state"] == PENDING and row["expires_at"] < datetime.now(UTC):
        raise Conflict(
            "this registration request has expired: upload the certificate again (POST /api/v1/signing/certificates)"
        )


def register(session: Session, *, user_id: str, request: dict) -> tuple[dict, bool]:
    """Registers the certificate of `request` to `user_id`, whose key's signature of the
    request the caller has checked (`notes.check_value`); returns (row, new). Marks the request
    registered. Takes over a row registered without proof (to anyone); Conflict when another
    user proved possession meanwhile."""
    cert = x509.Certificate.load(request["der"])
    info = describe(cert)
    row = _row(session, info["sha256"])
    _refuse_proven_elsewhere(row, user_id)
    now = datetime.now(UTC)
    session.execute(
        update(certificate_requests)
        .where(certificate_requests.c.id == request["id"])
        .values(state=REGISTERED, registered_at=now)
    )
    if row is not None and row["user_id"] == user_id:
        if not row["proven"]:
            session.execute(update(certificates).where(certificates.c.sha256 == row["sha256"]).values(proven=True))
        return public({**row, "proven": True}), False
    values = {
        "user_id": user_id,
        "der": cert.dump(),
        "holder": info["holder"],
        "pseudonym": info["pseudonym"],
        "serial_number_attribute": info["serial_number_attribute"],
        "issuer": info["issuer"],
        "not_after": datetime.fromisoformat(info["not_after"]),
        "registered_at": now,
        "proven": True,
    }
    if row is None:
        statement = insert(certificates).values(sha256=info["sha256"], **values)
    else:  # registered without proof by someone who may not hold the key: the prover takes it
        statement = update(certificates).where(certificates.c.sha256 == info["sha256"]).values(**values)
    row = session.execute(statement.returning(*certificates.c)).mappings().one()
    return public(dict(row)), True


def request_out(row: dict) -> dict:
    """A registration request as the signer program and the web client read it (the shape of a
    note's signature request, `kind` "certificate"): `to_be_signed` is the DER of the signed
    attributes over `challenge`."""
    return {
        "id": row["id"],
        "kind": "certificate",
        "file_id": None,
        "file_number": None,
        "seq": None,
        "state": row["state"],
        "key_path": keys.KeyPath.OFFICER_TOKEN,
        "certificate_sha256": row["certificate_sha256"],
        "certificate": pem.armor("CERTIFICATE", row["der"]).decode(),
        "challenge": row["content"].decode(),
        "content_sha256": hashlib.sha256(row["content"]).hexdigest(),
        "to_be_signed": base64.b64encode(row["attributes"]).decode(),
        "digest_algorithm": keys.DIGEST,
        "esign_request": None,
        "esp_url": None,
        "expires_at": row["expires_at"],
        "signature_id": None,
    }


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


def unregister(session: Session, *, user_id: str, sha256: str) -> dict:
    """Removes the user's registration of certificate `sha256` and returns it as it was: it signs
    nothing more for them (a request prepared with it is refused at completion, unregistered).
    Signatures it made keep it inside them. NotFound when it is not registered to the user."""
    statement = (
        delete(certificates)
        .where(certificates.c.sha256 == sha256, certificates.c.user_id == user_id)
        .returning(*certificates.c)
    )
    row = session.execute(statement).mappings().first()
    if row is None:
        raise NotFound(f"certificate {sha256[:16]}... is not registered to you")
    return public(dict(row))


def of_user(session: Session, user_id: str) -> list[dict]:
    """The user's registered certificates, oldest first."""
    rows = session.execute(
        select(certificates).where(certificates.c.user_id == user_id).order_by(certificates.c.registered_at)
    ).mappings()
    return [public(dict(r)) for r in rows]


def public(row: dict) -> dict:
    """A registered certificate as the API shows it (with the subject's details and its PEM)."""
    cert = x509.Certificate.load(row["der"])
    return {
        **describe(cert),
        "user_id": row["user_id"],
        "registered_at": row["registered_at"],
        "proven": row["proven"],
        "pem": pem.armor("CERTIFICATE", row["der"]).decode(),
    }
