"""Entry points of the signing service for issued letters: sign and issue an approved draft, read
the dispatch register, verify an issued letter; and, on files' eoffice.draft.withdrawn.v1, cancel
the signatures prepared for the draft. `SigningService` (service.py) inherits them; they live here
so that letters and notes can grow side by side.

Each entry point parses its input with the contract's model, asks files and the directory what
it needs (outside the transaction), and makes one call: `issuing.issue` in a unit of work with
an idempotency key. Rendering and signing run in eventlet's thread pool (`tpool`), so the
service's event loop keeps answering RPC while a letter is signed."""

from __future__ import annotations

import base64
import hashlib
import uuid
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta

from asn1crypto import pem
from eventlet import tpool
from nameko.rpc import RpcProxy
from nameko.timer import timer
from pyhanko.pdf_utils.misc import PdfError

from eoffice import clock
from eoffice.actor import Actor
from eoffice.contracts.directory import PostHandedOver
from eoffice.contracts.files import DraftWithdrawn
from eoffice.contracts.signing import (
    CancelLetterSignature,
    EsignResponse,
    IssueLetter,
    PrepareLetterSignature,
    SignatureValue,
)
from eoffice.errors import CertificateRefused, InvalidInput, NotFound, Unavailable
from eoffice.events import Envelope
from eoffice.messaging import first_time, reliable_handler
from eoffice.service import call_with_timeout, rpc
from eoffice.settings import get_settings
from eoffice.storage import shared_store
from eoffice.tokens import TokenError
from eoffice.validation import parse
from services.signing import certificates, esign, issuing, keys, letters, models, notes, pades, register
from services.signing import letter_requests as requests
from services.signing.coroutines import run_coroutine
from services.signing.trust import RECENT_VALIDATIONS, Trust


def office_token_signer(office: dict):
    """A pyHanko signer over the document signer of a letter's `office` on the server-side
    PKCS#11 token (`keys.office_signer`: the office's own signer or the nearest one above it,
    EOFFICE_SIGNING_OFFICE_SIGNERS / _OFFICE_CODE, docs/signing.md). NoOfficeSigner (409) naming
    the office when none is set up; Unavailable when its token cannot give the key."""
    settings = get_settings()
    try:
        return keys.office_signer(settings, office, Trust.from_settings(settings).intermediates)
    except TokenError as e:
        raise Unavailable(
            f"the document signer of office {office['code']} cannot be used: {e}; nothing was signed"
        ) from e


class LetterEntrypoints:
    """Mixed into SigningService: needs its `db`, `outbox`, `idempotency_keys`, `command` and `changes`."""

    files = RpcProxy("files")
    directory = RpcProxy("directory")

    @rpc
    def issue_letter(  # noqa: PLR0917 (an RPC entrypoint: the gateway calls it positionally)
        self,
        actor: dict,
        file_id: str,
        draft_id: int,
        request: dict,
        idempotency_key: str,
    ) -> dict:
        """Signs the approved version of a draft of a file the actor holds and issues it as a
        letter: see `issuing.issue`. Refused, with nothing changed: a draft not approved or a
        stale version (409), a file the actor does not hold (404/403), a second signature of
        the version (409), no document signer set up for the draft's office nor any office above
        it (409 no-office-signer), a certificate that fails validation (422 certificate-refused).
        The letter is signed by its office's signer (`office_token_signer`). Safe to retry with
        the same key. Emits eoffice.letter.issued.v1."""
        actor_model, request_model = Actor.model_validate(actor), parse(IssueLetter, request)
        draft, office, name, designation = self._to_issue(
            actor_model, file_id=file_id, draft_id=draft_id, version=request_model.version
        )
        settings = get_settings()
        signatory = issuing.Signatory(
            user_id=actor_model.user_id,
            post_id=actor_model.acting_post(),
            name=name,
            designation=designation,
            key_path=request_model.key,
            signer=tpool.execute(office_token_signer, office),
        )
        row = self.command(
            "issue_letter",
            actor=actor_model,
            key=idempotency_key,
            request=[file_id, int(draft_id), request_model],
            step=lambda changes: issuing.issue(
                changes,
                draft=draft,
                request=request_model,
                office=office,
                signatory=signatory,
                trust=Trust.from_settings(settings),
                tsa_url=settings.signing_tsa_url,
                store=shared_store(),
                offload=tpool.execute,
                recent=RECENT_VALIDATIONS,
            ),
        )
        return _public(row)

    # --- signed with the officer's own key: two phases (letter_requests.py) -------------------

    @rpc
    def prepare_letter_signature(  # noqa: PLR0917 (an RPC entrypoint: the gateway calls it positionally)
        self,
        actor: dict,
        file_id: str,
        draft_id: int,
        request: dict,
        idempotency_key: str,
    ) -> dict:
        """Prepares the signature of a draft's approved version with the actor's own key: the
        letter is rendered with the actor's name and designation (and the version's document as
        its enclosure, `issuing.enclosure_of`), its dispatch number reserved
        (committed: see letter_requests.py), the PDF signature prepared with a hole for the CMS.
        Returns the request the signer program (token) or the ESP (eSign) works on. Refused,
        with nothing changed: a draft not approved or a stale version (409), a file the actor
        does not hold, a second signature of the version or one already prepared (409), an
        unregistered, revoked, expired or wrong-usage certificate (422 certificate-refused)."""
        actor_model, body = Actor.model_validate(actor), parse(PrepareLetterSignature, request)
        draft, office, name, designation = self._to_issue(
            actor_model, file_id=file_id, draft_id=draft_id, version=body.version
        )
        settings = get_settings()
        trust = Trust.from_settings(settings)
        cert, chain = None, list(trust.intermediates)
        if body.key == keys.KeyPath.OFFICER_TOKEN:
            if not body.certificate_sha256:
                raise InvalidInput("name the registered certificate to sign with", field="certificate_sha256")
            with self.db.transaction() as session:
                cert = certificates.registered(session, user_id=actor_model.user_id, sha256=body.certificate_sha256)
            chain = trust.validate(cert)  # CertificateRefused: revoked, expired, wrong usage, untrusted
        request_id, level = str(uuid.uuid4()), pades.level_for(draft["record_category"])
        enclosure = issuing.enclosure_of(draft, shared_store())

        def step(changes):
            session = changes.session
            requests.expire(session)
            register.refuse_second_signature(session, draft_id=draft["draft_id"], version=draft["version"])
            requests.refuse_pending(session, draft_id=draft["draft_id"], version=draft["version"])
            issued_on = clock.today()
            serial = register.next_serial(session, office_code=draft["office_code"], year=issued_on.year)
            number = register.letter_number(serial=serial, year=issued_on.year, office_code=draft["office_code"])
            letter = issuing.letter_of(
                draft,
                office=office,
                number=number,
                issued_on=issued_on,
                signer_name=name,
                signer_designation=designation,
                addressees=body.addressees,
                enclosure=enclosure,
            )
            prepared = tpool.execute(
                lambda: pades.prepare(
                    letters.render(letter),
                    cert=cert,
                    chain=chain,
                    name=name,
                    reason=f"Issued as letter {number}",
                    location=letter.letterhead.name_en,
                )
            )
            if cert is not None:
                attributes = run_coroutine(keys.signed_attributes(cert, chain, prepared.digest, pdf=True)).dump()
            else:
                attributes = esign.request_xml(
                    asp_id=settings.signing_esign_asp_id or "EOFFICE",
                    txn=request_id,
                    digest=prepared.digest,
                    doc_info=f"letter {number}",
                    response_url=settings.signing_esign_response_url,
                ).encode()
            row = requests.add(
                session,
                row={
                    "id": request_id,
                    "user_id": actor_model.user_id,
                    "post_id": actor_model.acting_post(),
                    "key_path": body.key,
                    "certificate_sha256": body.certificate_sha256 or "",
                    "file_id": draft["file_id"],
                    "draft_id": draft["draft_id"],
                    "version": draft["version"],
                    "office_code": draft["office_code"],
                    "year": issued_on.year,
                    "serial": serial,
                    "letter_number": number,
                    "letter": {
                        "file_number": draft["file_number"],
                        "title": draft["title"],
                        "record_category": draft["record_category"],
                        "signer_name": name,
                        "signer_designation": designation,
                        "level": level,
                        "addressees": [a.model_dump(mode="json") for a in body.addressees],
                    },
                    "prepared_pdf": prepared.pdf,
                    "document_digest": prepared.digest,
                    "reserved_start": prepared.start,
                    "reserved_end": prepared.end,
                    "attributes": attributes,
                    "expires_at": datetime.now(UTC) + timedelta(seconds=settings.signing_request_ttl),
                },
            )
            return _letter_request_out(row, cert, esp_url=settings.signing_esign_url)

        return self.command(
            "prepare_letter_signature",
            actor=actor_model,
            key=idempotency_key,
            request=[file_id, int(draft_id), body],
            step=step,
        )

    def letter_signature_request(self, actor: Actor, row: dict) -> dict:
        """A prepared letter signature of the actor's, as the signer program reads it."""
        cert = None
        if row["key_path"] == keys.KeyPath.OFFICER_TOKEN:
            with self.db.transaction() as session:
                cert = certificates.registered(session, user_id=actor.user_id, sha256=row["certificate_sha256"])
        return _letter_request_out(row, cert, esp_url=get_settings().signing_esign_url)

    def complete_letter_signature(self, actor: Actor, row: dict, body: SignatureValue, *, idempotency_key: str) -> dict:
        """The signer program's value for a prepared letter (via `complete_signature`): checked
        against the registered certificate (422 mismatched-key), the certificate validated again
        (422), the draft version still the approved one (409); then the CMS is timestamped and
        embedded, B-LTA data added, the PDF stored and the letter issued. Nothing changes when
        anything is refused. Emits eoffice.letter.issued.v1."""
        if row["state"] == requests.ISSUED:
            return self._issued(row)
        requests.refuse_closed(row)
        if row["key_path"] != keys.KeyPath.OFFICER_TOKEN:
            raise InvalidInput(f"this request is for {row['key_path']}: hand in the ESP's answer", field="signature")
        try:
            signature = base64.b64decode(body.signature, validate=True)
        except ValueError:
            raise InvalidInput("signature is not base64", field="signature") from None
        settings = get_settings()
        trust = Trust.from_settings(settings)
        with self.db.transaction() as session:
            cert = certificates.registered(session, user_id=actor.user_id, sha256=row["certificate_sha256"])
        self._still_approved(actor, row)
        cms_der = notes.finish(
            trust,
            cert,
            attributes=row["attributes"],
            signature=signature,
            timestamper=keys.timestamper(settings),
            recent=RECENT_VALIDATIONS,
        )
        return self._issue_prepared(
            actor,
            row,
            cms_der,
            certificate_sha256=row["certificate_sha256"],
            trust=trust,
            key=idempotency_key,
            request=[row["id"], hashlib.sha256(signature).hexdigest()],
        )

    def complete_letter_esign(self, actor: Actor, row: dict, body: EsignResponse, *, idempotency_key: str) -> dict:
        """The ESP's answer for a prepared letter (via `complete_esign`): its PKCS#7 must sign
        exactly the prepared PDF's digest with a certificate that validates now; then as
        `complete_letter_signature`. Emits eoffice.letter.issued.v1."""
        if row["state"] == requests.ISSUED:
            return self._issued(row)
        requests.refuse_closed(row)
        if row["key_path"] != keys.KeyPath.ESIGN:
            raise InvalidInput(f"this request is for {row['key_path']}, not eSign", field="response")
        settings = get_settings()
        trust = Trust.from_settings(settings)
        result = esign.parse_response(body.response, txn=row["id"])
        trust.validate(result.certificate)
        if not _signs_digest(result.cms, result.certificate, row["document_digest"]):
            raise CertificateRefused(
                "the ESP's signature does not sign this letter's digest with its certificate", reason="mismatched-key"
            )
        self._still_approved(actor, row)
        cms_der = esign.add_signature_timestamp(result.cms, keys.timestamper(settings))
        return self._issue_prepared(
            actor,
            row,
            cms_der,
            certificate_sha256=hashlib.sha256(result.certificate.dump()).hexdigest(),
            trust=trust,
            key=idempotency_key,
            request=[row["id"], hashlib.sha256(result.cms).hexdigest()],
        )

    def _still_approved(self, actor: Actor, row: dict) -> None:
        """Conflict (from files) unless the version is still the approved one and held by the actor."""
        call_with_timeout(
            self.files.draft_for_issue, actor.model_dump(mode="json"), row["file_id"], row["draft_id"], row["version"]
        )

    def _issued(self, row: dict) -> dict:
        with self.db.transaction() as session:
            return _public(register.get(session, row["letter_id"]))

    def _issue_prepared(
        self, actor: Actor, row: dict, cms_der: bytes, *, certificate_sha256: str, trust: Trust, key: str, request: list
    ) -> dict:
        """Embeds `cms_der` in the prepared PDF (B-LTA: validation data and a document timestamp
        too), stores it and issues the letter under the reserved number."""
        level = row["letter"]["level"]
        prepared = pades.Prepared(
            pdf=row["prepared_pdf"], digest=row["document_digest"], start=row["reserved_start"], end=row["reserved_end"]
        )
        timestamper = keys.timestamper(get_settings())
        with RECENT_VALIDATIONS.lent_context(trust) if level == "B-LTA" else nullcontext() as context:
            signed = tpool.execute(
                lambda: pades.finish(
                    prepared, cms_der, level=level, timestamper=timestamper, validation_context=context
                )
            )

        def step(changes):
            current = requests.own(changes.session, user_id=actor.user_id, request_id=row["id"], lock=True)
            if current["state"] == requests.ISSUED:
                return _public(register.get(changes.session, current["letter_id"]))
            requests.refuse_closed(current)
            register.refuse_second_signature(changes.session, draft_id=row["draft_id"], version=row["version"])
            entry = {
                **{
                    k: row["letter"][k]
                    for k in (
                        "file_number",
                        "title",
                        "record_category",
                        "signer_name",
                        "signer_designation",
                        "level",
                        "addressees",
                    )
                },
                **{
                    k: row[k]
                    for k in (
                        "letter_number",
                        "office_code",
                        "year",
                        "serial",
                        "file_id",
                        "draft_id",
                        "version",
                        "key_path",
                    )
                },
                "signer_user": row["user_id"],
                "signer_post": row["post_id"],
                "certificate_sha256": certificate_sha256,
            }
            issued = issuing.keep(changes, entry=entry, signed=signed, store=shared_store())
            requests.mark_issued(changes.session, request_id=row["id"], letter_id=issued["id"])
            return _public(issued)

        return self.command("complete_letter_signature", actor=actor, key=key, request=request, step=step)

    @rpc
    def cancel_letter_signature(self, actor: dict, request_id: str, request: dict, idempotency_key: str) -> dict:  # noqa: PLR0917
        """Gives up a prepared letter signature of the actor's: its reserved number is recorded in
        the dispatch register as cancelled with `reason`. 409 once the letter is issued. Safe to retry."""
        actor_model, body = Actor.model_validate(actor), parse(CancelLetterSignature, request)

        def step(changes):
            row = requests.own(changes.session, user_id=actor_model.user_id, request_id=request_id, lock=True)
            return _register_entry_of(requests.cancel(changes.session, row=row, reason=body.reason))

        return self.command(
            "cancel_letter_signature", actor=actor_model, key=idempotency_key, request=[request_id, body], step=step
        )

    @rpc
    def dispatch_register(self, actor: dict, office_code: str, year: int) -> list[dict]:
        """An office's dispatch register for a year (letter_requests.entries): issued, reserved
        and cancelled numbers, with no gap. For the office's own staff, and the system admin."""
        actor_model = Actor.model_validate(actor)
        if actor_model.office_id != office_code and not actor_model.has_role("system_admin"):
            raise NotFound(f"no dispatch register of {office_code} for you")
        with self.changes() as changes:
            requests.expire(changes.session)
            return requests.entries(changes.session, office_code=office_code, year=int(year))

    @reliable_handler("files", DraftWithdrawn.event_type)
    def draft_withdrawn(self, envelope: Envelope) -> None:
        """A draft withdrawn will not be issued: every letter signature prepared for it and still
        pending is cancelled at once (`letter_requests.cancel_of_draft`, as expiry cancels one),
        its number recorded in the dispatch register as cancelled with "draft withdrawn: <the
        remarks>"; handing in its signature afterwards is refused (409). Once per event."""
        event = envelope.payload(DraftWithdrawn)
        with self.changes() as changes:
            if first_time(changes.session, models.inbox, event_id=envelope.id, handler="signing.draft_withdrawn"):
                requests.cancel_of_draft(
                    changes.session,
                    file_id=event.file_id,
                    draft_id=event.draft_id,
                    reason=f"draft withdrawn: {event.remarks}",
                )

    @reliable_handler("directory", PostHandedOver.event_type)
    def post_handed_over(self, envelope: Envelope) -> None:
        """A post handed over: every letter signature its previous holders prepared for it and
        still pending is cancelled at once (`letter_requests.cancel_of_holders`), its number
        recorded in the dispatch register as cancelled with "post handed over to <employee id>",
        so that the new holder may prepare the same version. Once per event."""
        event = envelope.payload(PostHandedOver)
        with self.changes() as changes:
            if event.previous_holders and first_time(
                changes.session, models.inbox, event_id=envelope.id, handler="signing.post_handed_over"
            ):
                requests.cancel_of_holders(
                    changes.session,
                    post_id=event.post_code,
                    user_ids=event.previous_holders,
                    reason=f"post handed over to {event.employee_id}",
                )

    @timer(interval=60)
    def expire_letter_requests(self) -> None:
        """Records expired letter requests' numbers as cancelled (also done at every prepare and
        register read, so the register never waits for this timer)."""
        with self.changes() as changes:
            requests.expire(changes.session)

    def _to_issue(self, actor: Actor, *, file_id: str, draft_id: int, version: int) -> tuple[dict, dict, str, str]:
        """What issuing needs from files and the directory: (the draft version, if the actor may
        issue it: files refuses otherwise; the office; the signer's name and designation, Hindi
        and English). Unavailable without a timestamp authority."""
        if not get_settings().signing_tsa_url:
            raise Unavailable("no timestamp authority is configured (EOFFICE_SIGNING_TSA_URL)")
        asked = actor.model_dump(mode="json")
        draft = call_with_timeout(self.files.draft_for_issue, asked, file_id, int(draft_id), version)
        who = call_with_timeout(self.directory.whoami, asked)
        post = call_with_timeout(self.directory.get_post, asked, actor.acting_post())
        office = call_with_timeout(self.directory.get_office, asked, draft["office_code"])
        name = _both(who.get("name_hi"), who["name_en"])
        return draft, office, name, _both(post.get("designation_hi"), post["designation_en"])

    @rpc
    def letters_of_file(self, actor: dict, file_id: str) -> list[dict]:
        """The letters issued from a file's drafts, for those who may see the file."""
        actor = Actor.model_validate(actor).model_dump(mode="json")
        call_with_timeout(self.files.track, actor, file_id)  # NotFound unless the actor may see it
        with self.db.transaction() as session:
            return [_public(r) for r in register.of_file(session, file_id)]

    @rpc
    def verify_letter(self, actor: dict, letter_id: str, online: bool = True) -> dict:
        """Verifies an issued letter as stored (its locked record): who signed, when, chain,
        revocation at signing time, PAdES level, changed since. `online=False` fetches nothing."""
        actor = Actor.model_validate(actor).model_dump(mode="json")
        with self.db.transaction() as session:
            row = register.get(session, letter_id)
        call_with_timeout(self.files.track, actor, row["file_id"])  # NotFound unless the actor may see the file
        pdf = shared_store().read(
            row["object_name"], sha256=row["sha256"], version_id=row["record_version"], locked=True
        )
        return {"letter": _public(row), **verify_pdf_bytes(pdf, online=online)}

    @rpc
    def verify_pdf(self, document: str, online: bool = True) -> dict:
        """Verifies a signed PDF given as base64 (anyone may: a letter's addressee checks what
        they received). The report as `pades.verify`, plus whether it is a letter of ours."""
        try:
            pdf = base64.b64decode(document, validate=True)
        except ValueError:
            raise InvalidInput("document is not base64", field="document") from None
        report = verify_pdf_bytes(pdf, online=online)
        with self.db.transaction() as session:
            found = register.by_sha256(session, hashlib.sha256(pdf).hexdigest())
        return {
            **report,
            "issued_letter": {k: found[k] for k in ("letter_number", "office_code", "issued_at")} if found else None,
        }


DAMAGED = (ValueError, KeyError, TypeError, IndexError)


def verify_pdf_bytes(pdf: bytes, *, online: bool) -> dict:
    """`pades.verify` against the configured trust roots, off the event loop. An encrypted PDF is
    verified as it opens without a password; one that needs a password is refused (422 at
    `document`), as is one pyHanko cannot read."""
    trust = Trust.from_settings(get_settings())
    if not pdf.startswith(b"%PDF"):
        raise InvalidInput("not a PDF", field="document")
    try:
        return tpool.execute(
            lambda: pades.verify(pdf, trust_roots=trust.roots, other_certs=trust.intermediates, online=online)
        )
    except pades.PasswordProtected as exc:  # it opens only with a password: nothing to check without it
        raise InvalidInput(str(exc), field="document") from None
    except PdfError as exc:  # not a PDF pyHanko can read: the sender's problem, not ours
        raise InvalidInput(f"the PDF cannot be read: {exc}", field="document") from None
    except DAMAGED:  # what pyHanko's and asn1crypto's parsers raise on a damaged file beyond PdfError
        raise InvalidInput("the PDF cannot be read: it is damaged or incomplete", field="document") from None


def _signs_digest(cms_der: bytes, cert, digest: bytes) -> bool:
    """Whether a detached CMS (an ESP's PKCS#7) is a valid signature by `cert` whose signed
    attributes name `digest` as the message digest."""
    from asn1crypto import cms
    from pyhanko.sign.general import find_unique_cms_attribute

    from eoffice.tokens import signature_matches

    try:
        signer = cms.ContentInfo.load(cms_der)["content"]["signer_infos"][0]
        named = find_unique_cms_attribute(signer["signed_attrs"], "message_digest").native
        attrs = signer["signed_attrs"].untag().dump(force=True)
        attrs = b"\x31" + attrs[1:]  # signed over as a SET OF, not as the [0] IMPLICIT tag
        return named == digest and signature_matches(cert, attrs, signer["signature"].native)
    except (ValueError, KeyError, TypeError):
        return False


def _letter_request_out(row: dict, cert, *, esp_url: str) -> dict:
    """A prepared letter signature: for a token, the DER of the signed attributes to sign; for
    eSign, the `<Esign>` request the browser posts to the ESP (`esp_url`)."""
    on_token = cert is not None
    return {
        "id": row["id"],
        "kind": "letter",
        "file_id": row["file_id"],
        "file_number": row["letter"]["file_number"],
        "seq": None,
        "draft_id": row["draft_id"],
        "version": row["version"],
        "letter_number": row["letter_number"],
        "state": row["state"],
        "key_path": row["key_path"],
        "certificate_sha256": row["certificate_sha256"] or None,
        "certificate": pem.armor("CERTIFICATE", cert.dump()).decode() if on_token else None,
        "content_sha256": hashlib.sha256(row["prepared_pdf"]).hexdigest(),
        "document_digest": row["document_digest"].hex(),
        "to_be_signed": base64.b64encode(row["attributes"]).decode() if on_token else None,
        "digest_algorithm": keys.DIGEST,
        "esign_request": None if on_token else row["attributes"].decode(),
        "esp_url": None if on_token else esp_url,
        "expires_at": row["expires_at"],
        "signature_id": row["letter_id"],
    }


def _register_entry_of(row: dict) -> dict:
    return {
        "id": row["id"],
        "letter_number": row["letter_number"],
        "state": row["state"],
        "reason": row["reason"],
    }


def _both(hindi: str | None, english: str) -> str:
    return f"{hindi} ({english})" if hindi and hindi != english else english


def _public(row: dict) -> dict:
    """A register row as callers see it."""
    if row is None:
        raise NotFound("no such letter")
    return {
        k: row[k]
        for k in (
            "id",
            "letter_number",
            "office_code",
            "file_id",
            "file_number",
            "draft_id",
            "version",
            "title",
            "record_category",
            "signer_user",
            "signer_post",
            "signer_name",
            "signer_designation",
            "key_path",
            "certificate_sha256",
            "level",
            "addressees",
            "object_name",
            "sha256",
            "size",
            "pages",
            "record_version",
            "retain_until",
            "issued_at",
        )
    }
