"""Stand-ins for the signing and notify services in tests that need a letter issued from a draft,
or dispatched, without a PKI, a token or an SMTP server: the events exactly as those services
publish them (eoffice.letter.issued.v1, eoffice.letter.dispatched.v1)."""
from __future__ import annotations

import datetime as dt
import io
import uuid

from nameko.amqp.publish import Publisher
from nameko.standalone.events import get_event_exchange

from eoffice.contracts.notifications import DispatchedTo, LetterDispatched
from eoffice.contracts.signing import Addressee, LetterIssued
from eoffice.events import EventPayload, envelope_for
from eoffice.storage import DocumentStore

PDF = b"%PDF-1.7\n% a signed letter stands in here\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def publish(settings, emitter: str, payload: EventPayload, subject: str, *,
            time: dt.datetime | None = None) -> str:
    """Publishes `payload` as `emitter` does (at `time`, default now); returns the event's id."""
    exchange, envelope = get_event_exchange(emitter, {}), envelope_for(emitter, payload, subject=subject)
    if time is not None:
        envelope = envelope.model_copy(update={"time": time})
    Publisher(settings.amqp_uri, use_confirms=True).publish(
        envelope.model_dump(mode="json"), exchange=exchange, routing_key=payload.event_type, declare=[exchange])
    return envelope.id


def issue(settings, file: dict, *, draft_id: int, version: int, signer_post: str,
          addressees: list[Addressee] | None = None) -> LetterIssued:
    """Publishes, as signing does, that the draft's `version` was signed and issued (its PDF,
    a stand-in, stored locked as signing stores it, for notify to e-mail)."""
    stored = DocumentStore(settings).put(io.BytesIO(PDF), content_type="application/pdf",
                                         retain_until=dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
    letter = LetterIssued(
        letter_id=str(uuid.uuid4()), letter_number=f"D-{uuid.uuid4().hex[:6]}/2026/{file['office_code']}",
        office_code=file["office_code"], file_id=file["id"], file_number=file["file_number"], draft_id=draft_id,
        version=version, title="Reply", addressees=addressees or [Addressee(name="Shri Ram Prasad")],
        object_name=stored.name, record_version=stored.version_id, sha256=stored.sha256, size=len(PDF), pages=1,
        level="B-T", signer_user="E1", signer_post=signer_post, signer_name="Signer",
        issued_at=dt.datetime.now(dt.UTC))
    publish(settings, "signing", letter, file["id"])
    return letter


def dispatch(settings, letter: LetterIssued) -> None:
    """Publishes, as notify does, that the letter went to its addressees (by hand here)."""
    publish(settings, "notify", LetterDispatched(
        letter_id=letter.letter_id, letter_number=letter.letter_number, file_id=letter.file_id,
        file_number=letter.file_number, addressees=[DispatchedTo(name=a.name, status="by_hand")
                                                    for a in letter.addressees],
        dispatched_at=dt.datetime.now(dt.UTC)), letter.file_id)
