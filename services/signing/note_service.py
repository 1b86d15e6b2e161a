"""Entry points of the signing service for certificates and signed notes. `SigningService`
(service.py) inherits them.

Validation (chain, OCSP/CRL over the network) runs before the unit of work opens, so no
transaction waits on a responder; each change is one `command` with an idempotency key.
Signing a note is two-phase (services/signing/keys.py, path a): `prepare_note_signature`
gives the signed attributes to the signer program, `complete_signature` takes its value.
Registering a certificate is two-phase the same way, as proof of possession of its key:
`register_certificate` answers a registration request, `complete_signature` takes its value."""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from asn1crypto import pem, x509
from nameko.rpc import RpcProxy
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from eoffice.actor import Actor
from eoffice.contracts.signing import (
    CertificateRegistered,
    CertificateUnregistered,
    EsignResponse,
    NoteSigned,
    RegisterCertificate,
    SignatureValue,
    SignNote,
    VerifySignature,
)
from eoffice.errors import CertificateRefused, Conflict, InvalidInput, NotFound
from eoffice.service import call_with_timeout, rpc
from eoffice.settings import get_settings
from eoffice.validation import parse
from services.signing import certificates, esign, keys, letter_requests, notes, request_rows
from services.signing.models import note_signatures, signature_requests
from services.signing.trust import RECENT_VALIDATIONS, Trust


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str, field: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError as e:
        raise InvalidInput(f"{field} is not base64", field=field) from e


class NoteEntrypoints:
    """Mixed into SigningService: needs its `db`, `command` and a `files` RpcProxy."""

    files = RpcProxy("files")

    # --- certificates ------------------------------------------------------------------------

    @rpc
    def register_certificate(self, actor: dict, request: dict, idempotency_key: str) -> dict:
        """Validates an uploaded DSC (trust roots, OCSP else CRL, validity, key usage) and, unless
        it is the actor's already (with proof: returned as it is), answers a registration request
        (`kind` "certificate") whose `to_be_signed` the certificate's key must sign to register
        it (`complete_signature`). Refused with 422 certificate-refused (its `reason` says why),
        409 when another user proved they hold its key; nothing is registered here. Safe to retry."""
        actor_model, body = Actor.model_validate(actor), parse(RegisterCertificate, request)
        settings = get_settings()
        cert = certificates.parse_upload(body.certificate)
        sha256 = hashlib.sha256(cert.dump()).hexdigest()
        request_id = str(uuid.uuid4())
        expires_at = datetime.now(UTC) + timedelta(seconds=settings.signing_request_ttl)
        content = certificates.challenge(
            request_id=request_id, user_id=actor_model.user_id, sha256=sha256, expires_at=expires_at
        )
        # Validates the certificate (CertificateRefused) and builds what its key signs, as for a note.
        attributes = notes.prepare(Trust.from_settings(settings), cert, content, recent=RECENT_VALIDATIONS)

        def step(changes):
            done = certificates.already_registered(changes.session, user_id=actor_model.user_id, sha256=sha256)
            if done is not None:
                return done
            row = {
                "id": request_id,
                "user_id": actor_model.user_id,
                "certificate_sha256": sha256,
                "der": cert.dump(),
                "content": content,
                "attributes": attributes,
                "expires_at": expires_at,
            }
            return certificates.request_out(certificates.add_request(changes.session, row=row))

        return self.command("register_certificate", actor=actor_model, key=idempotency_key, request=sha256, step=step)

    def _registration_request(self, actor: Actor, request_id: str) -> dict | None:
        """The actor's certificate registration request `request_id`, if it is one: the signer
        program signs it and hands the value in at the same URLs as a note's."""
        return self._users_request(actor, certificates.find_request, request_id)

    def _complete_registration(self, actor: Actor, row: dict, body: SignatureValue, *, idempotency_key: str) -> dict:
        """The signer program's value for a registration request (via `complete_signature`): only
        a signature by the certificate's key registers it (422 mismatched-key), while the request
        is pending (409 expired) and the certificate still validates (422). Returns the registered
        certificate; handing the value in again answers the same. Nothing changes when refused.
        Emits eoffice.certificate.registered.v1 when the certificate becomes the actor's."""
        signature = _unb64(body.signature, "signature")
        cert = x509.Certificate.load(row["der"])
        certificates.refuse_expired(row)
        notes.check_value(cert, attributes=row["attributes"], signature=signature)
        if row["state"] == certificates.PENDING:
            RECENT_VALIDATIONS.validate(Trust.from_settings(get_settings()), cert)

        def step(changes):
            current = certificates.own_request(changes.session, user_id=actor.user_id, request_id=row["id"], lock=True)
            if current["state"] == certificates.REGISTERED:
                done = certificates.already_registered(
                    changes.session, user_id=actor.user_id, sha256=current["certificate_sha256"]
                )
                if done is None:
                    raise Conflict("this registration request was used already, and the certificate is not yours now")
                return done
            certificates.refuse_expired(current)
            registered, new = certificates.register(changes.session, user_id=actor.user_id, request=current)
            if new:
                changes.raise_event(
                    CertificateRegistered(
                        user_id=actor.user_id,
                        certificate_sha256=registered["sha256"],
                        holder=registered["holder"],
                        issuer=registered["issuer"],
                        not_after=datetime.fromisoformat(registered["not_after"]),
                    ),
                    subject=actor.user_id,
                )
            return registered

        return self.command(
            "complete_registration",
            actor=actor,
            key=idempotency_key,
            request=[row["id"], hashlib.sha256(signature).hexdigest()],
            step=step,
        )

    @rpc
    def my_certificates(self, actor: dict) -> list[dict]:
        actor_model = Actor.model_validate(actor)
        with self.db.transaction() as session:
            return certificates.of_user(session, actor_model.user_id)

    @rpc
    def unregister_certificate(self, actor: dict, sha256: str, idempotency_key: str) -> dict:
        """Unregisters the actor's certificate `sha256` (a token lost, replaced or surrendered) and
        returns it as it was registered: it signs nothing more for them, and a request prepared
        with it is refused when its value comes. What it signed stays valid and verifiable (the
        certificate is inside each signature). 404 when it is not theirs. Emits
        eoffice.certificate.unregistered.v1. Safe to retry."""
        actor_model = Actor.model_validate(actor)
        if not isinstance(sha256, str) or len(sha256) != 64 or set(sha256) - set("0123456789abcdef"):
            raise InvalidInput("not a certificate's SHA-256 (64 lowercase hex digits)", field="sha256")

        def step(changes):
            removed = certificates.unregister(changes.session, user_id=actor_model.user_id, sha256=sha256)
            changes.raise_event(
                CertificateUnregistered(user_id=actor_model.user_id, certificate_sha256=sha256),
                subject=actor_model.user_id,
            )
            return removed

        return self.command("unregister_certificate", actor=actor_model, key=idempotency_key, request=sha256, step=step)

    # --- signing a note ----------------------------------------------------------------------

    @rpc
    def prepare_note_signature(  # noqa: PLR0917 (an RPC entrypoint: called positionally)
        self,
        actor: dict,
        file_id: str,
        seq: int,
        request: dict,
        idempotency_key: str,
    ) -> dict:
        """Starts signing green note `seq`: files checks the actor may sign it (holds the file,
        wrote the note, the last and unsigned), the certificate must be the actor's registered
        one and valid now. Returns the request the signer program works on (`signature_request`)."""
        actor_model, body = Actor.model_validate(actor), parse(SignNote, request)
        settings = get_settings()
        note = call_with_timeout(self.files.note_to_sign, actor, file_id, int(seq))
        content = base64.b64decode(note["canonical"])
        request_id = str(uuid.uuid4())
        cert = None
        if body.key == keys.KeyPath.ESIGN:
            # The ESP issues the certificate; what we keep is the request the browser takes there.
            attributes = esign.request_xml(
                asp_id=settings.signing_esign_asp_id or "EOFFICE",
                txn=request_id,
                digest=hashlib.sha256(content).digest(),
                doc_info=f"note {seq} of {note['file_number']}",
                response_url=settings.signing_esign_response_url,
            ).encode()
        else:
            if not body.certificate_sha256:
                raise InvalidInput("name the registered certificate to sign with", field="certificate_sha256")
            with self.db.transaction() as session:
                cert = certificates.registered(session, user_id=actor_model.user_id, sha256=body.certificate_sha256)
            attributes = notes.prepare(Trust.from_settings(settings), cert, content, recent=RECENT_VALIDATIONS)

        def step(changes):
            row = {
                "id": request_id,
                "user_id": actor_model.user_id,
                "post_id": actor_model.acting_post(),
                "key_path": body.key,
                "certificate_sha256": body.certificate_sha256 or "",
                "file_id": file_id,
                "note_seq": int(seq),
                "content": content,
                "attributes": attributes,
                "expires_at": datetime.now(UTC) + timedelta(seconds=settings.signing_request_ttl),
            }
            changes.session.execute(insert(signature_requests).values(**row))
            return _request_out(row, note["file_number"], cert, esp_url=settings.signing_esign_url)

        return self.command(
            "prepare_note_signature",
            actor=actor_model,
            key=idempotency_key,
            request=[file_id, int(seq), body],
            step=step,
        )

    @rpc
    def signature_request(self, actor: dict, request_id: str) -> dict:
        """A prepared signature of the actor's own, for the signer program."""
        actor_model = Actor.model_validate(actor)
        if letter := self._letter_request(actor_model, request_id):  # a letter's (letter_service.py)
            return self.letter_signature_request(actor_model, letter)
        if registration := self._registration_request(actor_model, request_id):
            return certificates.request_out(registration)
        with self.db.transaction() as session:
            row = _own_request(session, actor_model, request_id)
            cert = (
                None
                if row["key_path"] == keys.KeyPath.ESIGN
                else certificates.registered(session, user_id=actor_model.user_id, sha256=row["certificate_sha256"])
            )
        return _request_out(row, None, cert, esp_url=get_settings().signing_esign_url)

    @rpc
    def complete_signature(self, actor: dict, request_id: str, request: dict, idempotency_key: str) -> dict:  # noqa: PLR0917
        """Takes the signer program's value for a prepared request: checks it against the
        registered certificate (422 mismatched-key), validates the certificate again (422 if
        revoked meanwhile), timestamps the CMS, has files record it on the note, and keeps the
        signature with the exact bytes signed. Nothing changes when anything is refused. Safe
        to retry with the same key. Emits eoffice.note.signed.v1. A letter's request issues the
        letter (letter_service.py); a certificate registration request registers the certificate
        (`_complete_registration`)."""
        actor_model, body = Actor.model_validate(actor), parse(SignatureValue, request)
        if letter := self._letter_request(actor_model, request_id):  # a letter's (letter_service.py)
            return self.complete_letter_signature(actor_model, letter, body, idempotency_key=idempotency_key)
        if registration := self._registration_request(actor_model, request_id):
            return self._complete_registration(actor_model, registration, body, idempotency_key=idempotency_key)
        settings = get_settings()
        signature = _unb64(body.signature, "signature")
        row, done = self._pending(actor_model, request_id, keys.KeyPath.OFFICER_TOKEN)
        if done:
            return done
        with self.db.transaction() as session:
            cert = certificates.registered(session, user_id=actor_model.user_id, sha256=row["certificate_sha256"])
        cms_der = notes.finish(
            Trust.from_settings(settings),
            cert,
            attributes=row["attributes"],
            signature=signature,
            timestamper=keys.timestamper(settings),
            recent=RECENT_VALIDATIONS,
        )
        return self._record(
            actor,
            actor_model,
            row,
            cms_der=cms_der,
            idempotency_key=idempotency_key,
            request=[request_id, hashlib.sha256(signature).hexdigest()],
        )

    @rpc
    def complete_esign(self, actor: dict, request_id: str, request: dict, idempotency_key: str) -> dict:  # noqa: PLR0917
        """Takes the ESP's answer for a prepared eSign request: its PKCS#7 must sign exactly the
        note's bytes and its certificate validate now (422 otherwise); a signature timestamp is
        added and the signature recorded as `complete_signature` does. An ESP error is a 422
        naming the ESP's code. Safe to retry with the same key. Emits eoffice.note.signed.v1."""
        actor_model, body = Actor.model_validate(actor), parse(EsignResponse, request)
        if letter := self._letter_request(actor_model, request_id):  # a letter's (letter_service.py)
            return self.complete_letter_esign(actor_model, letter, body, idempotency_key=idempotency_key)
        settings = get_settings()
        row, done = self._pending(actor_model, request_id, keys.KeyPath.ESIGN)
        if done:
            return done
        result = esign.parse_response(body.response, txn=request_id)
        trust = Trust.from_settings(settings)
        trust.validate(result.certificate)
        report = notes.verify(trust, row["content"], result.cms)
        if (
            not (report["intact"] and report["signature_valid"])
            or report["signer"]["sha256"] != hashlib.sha256(result.certificate.dump()).hexdigest()
        ):
            raise CertificateRefused(
                "the ESP's signature does not sign this note's bytes with its certificate", reason="mismatched-key"
            )
        cms_der = esign.add_signature_timestamp(result.cms, keys.timestamper(settings))
        row = {**row, "certificate_sha256": report["signer"]["sha256"]}
        return self._record(
            actor,
            actor_model,
            row,
            cms_der=cms_der,
            idempotency_key=idempotency_key,
            request=[request_id, hashlib.sha256(result.cms).hexdigest()],
        )

    def _letter_request(self, actor: Actor, request_id: str) -> dict | None:
        """The actor's prepared letter signature `request_id`, if it is one (letter_requests.py):
        the signer program and the ESP answer letters and notes at the same URLs."""
        return self._users_request(actor, letter_requests.find, request_id)

    def _users_request(self, actor: Actor, find: Callable[[Session, str], dict | None], request_id: str) -> dict | None:
        """What `find` finds for `request_id` (None if nothing); NotFound if it is another user's."""
        with self.db.transaction() as session:
            row = find(session, request_id)
        if row is not None and row["user_id"] != actor.user_id:
            raise NotFound(request_rows.NOT_YOURS)
        return row

    def _pending(self, actor: Actor, request_id: str, path: str) -> tuple[dict, dict | None]:
        """The actor's prepared request for key path `path`, and its signature if done already."""
        with self.db.transaction() as session:
            row = _own_request(session, actor, request_id)
            if row["key_path"] != path:
                raise Conflict(f"this request is for {row['key_path']}, not {path}")
            if row["signature_id"]:
                done = (
                    session.execute(select(note_signatures).where(note_signatures.c.id == row["signature_id"]))
                    .mappings()
                    .one()
                )
                return row, _signature_out(dict(done))
            if row["expires_at"] < datetime.now(UTC):
                raise Conflict("this signature request has expired: prepare the signature again")
        return row, None

    def _record(
        self, actor: dict, actor_model: Actor, row: dict, *, cms_der: bytes, idempotency_key: str, request: list
    ) -> dict:
        """Has files record `cms_der` on the note, then keeps it with the exact bytes signed."""
        request_id = row["id"]
        # files records it first (its own key: the request), so a retry finds it recorded there;
        # what files recorded is the signature, even if this retry made another (a new timestamp).
        note = call_with_timeout(
            self.files.sign_note,
            actor,
            row["file_id"],
            row["note_seq"],
            {"cms": _b64(cms_der)},
            f"note-signature-{request_id}",
        )
        cms_der = base64.b64decode(note["cms"])

        def step(changes):
            stamped = notes.timestamp_of(cms_der)
            record = {
                "id": str(uuid.uuid4()),
                "file_id": row["file_id"],
                "note_seq": row["note_seq"],
                "user_id": actor_model.user_id,
                "post_id": row["post_id"],
                "key_path": row["key_path"],
                "certificate_sha256": row["certificate_sha256"],
                "content": row["content"],
                "content_sha256": hashlib.sha256(row["content"]).hexdigest(),
                "cms": cms_der,
                "cms_sha256": hashlib.sha256(cms_der).hexdigest(),
                "timestamped_at": stamped,
            }
            changes.session.execute(insert(note_signatures).values(**record))
            changes.session.execute(
                update(signature_requests)
                .where(signature_requests.c.id == request_id)
                .values(signature_id=record["id"])
            )
            changes.raise_event(
                NoteSigned(
                    signature_id=record["id"],
                    file_id=row["file_id"],
                    file_number=note["file_number"],
                    seq=row["note_seq"],
                    signer_user=actor_model.user_id,
                    signer_post=row["post_id"],
                    certificate_sha256=row["certificate_sha256"],
                    key_path=row["key_path"],
                    timestamped_at=stamped,
                ),
                subject=row["file_id"],
            )
            return _signature_out(record)

        return self.command("complete_signature", actor=actor_model, key=idempotency_key, request=request, step=step)

    # --- verifying ---------------------------------------------------------------------------

    @rpc
    def note_signature(self, actor: dict, file_id: str, seq: int) -> dict:
        """The signature of a note the actor may see, with the exact bytes signed and the CMS
        (base64) and a fresh verification (`notes.verify`)."""
        call_with_timeout(self.files.green_note, actor, file_id, int(seq))  # 404 unless visible
        with self.db.transaction() as session:
            row = (
                session.execute(
                    select(note_signatures).where(
                        note_signatures.c.file_id == file_id, note_signatures.c.note_seq == int(seq)
                    )
                )
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound(f"note {seq} is not signed")
        report = notes.verify(Trust.from_settings(get_settings()), row["content"], row["cms"])
        return {
            **_signature_out(dict(row)),
            "content": _b64(row["content"]),
            "cms": _b64(row["cms"]),
            "verification": report,
        }

    @rpc
    def verify_signature(self, actor: dict, request: dict) -> dict:
        """Verifies any detached CMS signature over the given bytes (`notes.verify`)."""
        Actor.model_validate(actor)
        body = parse(VerifySignature, request)
        return notes.verify(
            Trust.from_settings(get_settings()), _unb64(body.content, "content"), _unb64(body.signature, "signature")
        )


def _own_request(session, actor: Actor, request_id: str) -> dict:
    return request_rows.own(session, signature_requests, user_id=actor.user_id, request_id=request_id)


def _request_out(row: dict, file_number: str | None, cert: x509.Certificate | None, *, esp_url: str) -> dict:
    """A prepared request: for a token, the DER of the signed attributes to sign; for eSign, the
    `<Esign>` request the browser posts to the ESP (`esp_url`)."""
    on_token = cert is not None
    return {
        "id": row["id"],
        "file_id": row["file_id"],
        "file_number": file_number,
        "seq": row["note_seq"],
        "key_path": row["key_path"],
        "certificate_sha256": row["certificate_sha256"] or None,
        "certificate": pem.armor("CERTIFICATE", cert.dump()).decode() if on_token else None,
        "content_sha256": hashlib.sha256(row["content"]).hexdigest(),
        "to_be_signed": _b64(row["attributes"]) if on_token else None,
        "digest_algorithm": keys.DIGEST,
        "esign_request": None if on_token else row["attributes"].decode(),
        "esp_url": None if on_token else esp_url,
        "expires_at": row["expires_at"],
        "signature_id": row.get("signature_id"),
    }


def _signature_out(row: dict) -> dict:
    return {
        "id": row["id"],
        "file_id": row["file_id"],
        "seq": row["note_seq"],
        "signer_user": row["user_id"],
        "signer_post": row["post_id"],
        "key_path": row["key_path"],
        "certificate_sha256": row["certificate_sha256"],
        "content_sha256": row["content_sha256"],
        "cms_sha256": row["cms_sha256"],
        "timestamped_at": row["timestamped_at"],
    }
