"""Entry points of the dak service: diarising receipts with gap-free diary numbers, moving
them between posts, closing, correcting, the inbox of a post, and the public status a sender
sees. Every step that changes something takes an idempotency key and emits its event through
the outbox. Reading the scans' text is the OCR worker's job (`services.dak.ocr_worker`)."""
from __future__ import annotations

from datetime import UTC, date, datetime

from nameko.rpc import RpcProxy
from nameko.timer import timer

from eoffice.actor import Actor
from eoffice.calendars import DirectoryCalendars, check_asked_due
from eoffice.clock import today
from eoffice.contracts.common import Page, Upload
from eoffice.contracts.dak import TEXT_SUFFIX, UPLOADS
from eoffice.contracts.files import FileClosed, FileReopened
from eoffice.db import Changes, Database
from eoffice.errors import Conflict, InvalidInput, NotCurrentHolder, NotFound
from eoffice.events import Envelope
from eoffice.intake.stored import for_service as stored_intake
from eoffice.messaging import Outbox, first_time, reliable_handler
from eoffice.service import ServiceBase, call_with_timeout, rpc
from eoffice.storage import SWEEP_AFTER, DocumentStore, shared_store, sweep
from eoffice.validation import parse
from services.dak import events, intake, models, receipts, search_view
from services.dak.schemas import Correct, Diarise, InboxQuery, PutInFile, Remarks, ScanRef, Send


def repeated(receipt_id: str) -> dict:
    """What a step answers that had nothing left to do (a physical receipt received already)."""
    return {"receipt_id": receipt_id, "repeated": True}


class DakService(DirectoryCalendars, ServiceBase):
    name = "dak"
    db = Database()
    outbox = Outbox(models.outbox)
    idempotency_keys = models.idempotency_keys
    directory = RpcProxy("directory")
    files = RpcProxy("files")
    peers = ("directory", "files")

    def _emit(self, changes: Changes, event: type[events.ReceiptStep], step: dict) -> dict:
        """Raises `event` for a step's movement; returns the step."""
        changes.raise_event(event.model_validate(step), subject=step["receipt_id"])
        return step

    @rpc
    def diarise(self, actor: dict, letter: dict, idempotency_key: str, scans: list[dict] | None = None) -> dict:  # noqa: PLR0917  (an RPC entrypoint: the gateway calls it positionally)
        """Diarises a letter in the actor's office; the actor's post holds it. Dak clerks only.
        An electronic receipt comes with its uploads (`Upload`s the gateway stored), checked
        here (`eoffice.intake`) before a diary number is taken: a refused one answers
        InvalidInput naming the file, and every upload of the request is removed. A retry
        with the same key returns the same receipt (the same documents by content: where the
        retry's upload was stored does not count). Emits eoffice.receipt.diarised.v1."""
        actor, letter = Actor.model_validate(actor), parse(Diarise, letter)
        uploads = [parse(Upload, scan) for scan in scans or []]
        receipts.require_diarist(actor)
        return intake.diarised_with_scans(stored_intake(), uploads, lambda documents: self._diarise(
            actor, letter=letter, documents=documents, idempotency_key=idempotency_key))

    @rpc
    def diarise_email(self, actor: dict, given: dict, idempotency_key: str, email: dict) -> dict:  # noqa: PLR0917  (an RPC entrypoint: the gateway calls it positionally)
        """Diarises an e-mail the gateway stored (an `Upload`): its sender, subject and date
        fill the receipt's fields, under those `given`; it and its attachments (each checked
        as a scan) are the receipt's documents. Refusals as `diarise`."""
        actor, upload = Actor.model_validate(actor), parse(Upload, email)
        receipts.require_diarist(actor)
        return intake.diarised_from_email(stored_intake(), upload, given=given, diarise=lambda letter, documents: (
            self._diarise(actor, letter=letter, documents=documents, idempotency_key=idempotency_key)))

    def _diarise(self, actor: Actor, *, letter: Diarise, documents: list[ScanRef], idempotency_key: str) -> dict:
        def step(changes):
            row = receipts.diarise(changes.session, actor, letter=letter, documents=documents)
            changes.raise_event(events.ReceiptDiarised(
                receipt_id=row["id"], diary_number=row["diary_number"], office_code=row["office_code"],
                holder_post=row["holder_post"], physical=row["physical"], scans=len(documents),
                security_grading=letter.security_grading),
                subject=row["id"])
            return {**row, "scans": receipts.documents(changes.session, row["id"]) if documents else []}
        return self.command("diarise", actor=actor, key=idempotency_key, request=[letter, documents], step=step)

    def _reads_file(self, actor: Actor):
        """Whether the actor may read a file (files answers): a receipt in it is read with it."""
        return lambda file_id: call_with_timeout(self.files.readable, actor.model_dump(mode="json"), file_id)

    def _holds_file(self, actor: Actor):
        """Raises unless the actor's post holds the file and it is open: who may change a
        receipt put in it (NotCurrentHolder naming the file's holder, or Conflict)."""
        def check(file_id: str) -> None:
            try:
                call_with_timeout(self.files.attachable, actor.model_dump(mode="json"), file_id)
            except (NotCurrentHolder, Conflict) as exc:
                raise type(exc)(f"the receipt is in a file and moves with it: {exc.detail}") from None
        return check

    def _due_dates(self, actor: Actor, request: Send) -> dict[str, date]:
        """Each recipient's due date: the one asked for (a working day of every recipient's
        office: `require_due`), or 7 working days by the calendar of the recipient's office. An
        unknown post, or one beyond the actor's reach, is refused, naming the field."""
        check_asked_due(request.due_date)
        due = {}
        for field, post in [("to_post", request.to_post), *(("copy_to", p) for p in request.copy_to)]:
            self.require_reachable(actor, post, field=field)
            self.require_due(post, request.due_date)
            try:
                due[post] = self.due_date(post, today())  # by the calendar kept here (eoffice.calendars)
            except NotFound:
                raise InvalidInput(f"no post {post}", field=field) from None
            due[post] = request.due_date or due[post]
        return due

    @rpc
    def send(self, actor: dict, receipt_id: str, request: dict, idempotency_key: str) -> dict:  # noqa: PLR0917  (an RPC entrypoint: the gateway calls it positionally)
        """Sends a receipt the actor's post holds to a post, with copies for `copy_to`, with
        remarks, priority and due date. Emits eoffice.receipt.sent.v1, and
        eoffice.receipt.diarised.v1 for each copy."""
        actor, request = Actor.model_validate(actor), parse(Send, request)
        due = self._due_dates(actor, request)

        def step(changes):
            sent = receipts.send(changes.session, actor=actor, receipt_id=receipt_id, request=request, due=due)
            for copy in sent["copies"]:
                changes.raise_event(events.ReceiptDiarised(
                    receipt_id=copy["receipt_id"], diary_number=copy["diary_number"], office_code=actor.office_id,
                    holder_post=copy["to_post"], physical=False, copy_of=receipt_id), subject=copy["receipt_id"])
            return self._emit(changes, events.ReceiptSent, {
                **sent, "copies": [c["receipt_id"] for c in sent["copies"]]}) | {"copies": sent["copies"]}
        return self.command("send", actor=actor, key=idempotency_key, request=[receipt_id, request], step=step)

    @rpc
    def open_receipt(self, actor: dict, receipt_id: str) -> dict:
        """Returns a receipt with its movements, documents and corrections; opening by the
        holding post marks it opened, after which it cannot be pulled back."""
        actor = Actor.model_validate(actor)
        with self.changes() as changes:
            row, opened = receipts.open_receipt(changes.session, actor, receipt_id, reads_file=self._reads_file(actor))
            if opened:
                self._emit(changes, events.ReceiptOpened, opened)
            return {**row, "corrections": receipts.corrections_of(changes.session, receipt_id)}

    @rpc
    def receive(self, actor: dict, receipt_id: str, idempotency_key: str) -> dict:
        """The holding post confirms a physical receipt reached it (rule 3)."""
        actor = Actor.model_validate(actor)

        def step(changes):
            received = receipts.receive(changes.session, actor, receipt_id)
            return self._emit(changes, events.ReceiptReceived, received) if received else repeated(receipt_id)
        return self.command("receive", actor=actor, key=idempotency_key, request=[receipt_id], step=step)

    @rpc
    def pull_back(self, actor: dict, receipt_id: str, idempotency_key: str) -> dict:
        """Takes back a receipt the actor's post sent, until the recipient opens it."""
        actor = Actor.model_validate(actor)
        return self.command("pull_back", actor=actor, key=idempotency_key, request=[receipt_id], step=lambda changes:
                            self._emit(changes, events.ReceiptPulledBack,
                                       receipts.pull_back(changes.session, actor, receipt_id)))

    @rpc
    def put_in_file(self, actor: dict, receipt_id: str, request: dict, idempotency_key: str) -> dict:  # noqa: PLR0917  (an RPC entrypoint: the gateway calls it positionally)
        """Puts a receipt in a file; the files service takes it from the event."""
        actor, request = Actor.model_validate(actor), parse(PutInFile, request)
        with self.db.transaction() as session:  # a receipt the actor may not see is not found, whatever the file
            receipts.visible(session, actor, receipt_id=receipt_id)
        try:  # the actor's post must hold the file, and it must be open
            file = call_with_timeout(self.files.attachable, actor.model_dump(mode="json"), request.file_id)
        except NotFound:  # or not visible to the actor: the same answer, naming nothing of it
            raise NotFound(f"no file {request.file_id}", field="file_id") from None
        except (NotCurrentHolder, Conflict) as exc:
            raise InvalidInput(f"file {request.file_id}: {exc.detail}", field="file_id") from None
        return self.command("put_in_file", actor=actor, key=idempotency_key, request=[receipt_id, request],
                            step=lambda changes: self._emit(changes, events.ReceiptPutInFile, receipts.put_in_file(
                                changes.session, actor, receipt_id=receipt_id, file=file, remarks=request.remarks)))

    @rpc
    def receipt_to_file(self, actor: dict, receipt_id: str) -> dict:
        """The receipt, if the actor may put it in a file now: what `put_in_file` asks of the
        receipt (`receipts.held`: their post holds it, it is open, received if physical).
        Raises as put_in_file would: NotFound (no such receipt, or one the actor may not see),
        NotCurrentHolder (another post holds it), Conflict (closed, in a file, physical and not
        received). Changes nothing: the gateway asks before it opens a file for the receipt."""
        actor = Actor.model_validate(actor)
        with self.db.transaction() as session:
            row = receipts.held(session, actor=actor, receipt_id=receipt_id)
            return {"receipt_id": row["id"], "diary_number": row["diary_number"]}

    @rpc
    def close(self, actor: dict, receipt_id: str, request: dict, idempotency_key: str) -> dict:  # noqa: PLR0917  (an RPC entrypoint: the gateway calls it positionally)
        actor, request = Actor.model_validate(actor), parse(Remarks, request)
        return self.command("close", actor=actor, key=idempotency_key, request=[receipt_id, request],
                            step=lambda changes: self._emit(changes, events.ReceiptClosed, receipts.close(
                                changes.session, actor, receipt_id=receipt_id, remarks=request.remarks)))

    @rpc
    def reopen(self, actor: dict, receipt_id: str, request: dict, idempotency_key: str) -> dict:  # noqa: PLR0917  (an RPC entrypoint: the gateway calls it positionally)
        actor, request = Actor.model_validate(actor), parse(Remarks, request)
        return self.command("reopen", actor=actor, key=idempotency_key, request=[receipt_id, request],
                            step=lambda changes: self._emit(changes, events.ReceiptReopened, receipts.reopen(
                                changes.session, actor, receipt_id=receipt_id, remarks=request.remarks)))

    @reliable_handler("files", FileClosed.event_type)
    def file_closed(self, envelope: Envelope) -> None:
        """The receipts in a closed file count as disposed for their senders. Once per event."""
        self._file_closed(envelope, FileClosed, handler="dak.file_closed", closed=True)

    @reliable_handler("files", FileReopened.event_type)
    def file_reopened(self, envelope: Envelope) -> None:
        """The receipts in a reopened file are under process again. Once per event."""
        self._file_closed(envelope, FileReopened, handler="dak.file_reopened", closed=False)

    def _file_closed(self, envelope: Envelope, event: type[FileClosed | FileReopened], *, handler: str,
                     closed: bool) -> None:
        file_id = envelope.payload(event).file_id
        with self.db.transaction() as session:
            if first_time(session, models.inbox, event_id=envelope.id, handler=handler):
                receipts.mark_file_closed(session, file_id, closed=closed, as_of=envelope.time)

    @rpc
    def correct(self, actor: dict, receipt_id: str, request: dict, idempotency_key: str) -> dict:  # noqa: PLR0917  (an RPC entrypoint: the gateway calls it positionally)
        """Corrects metadata as the holder; each change is logged with old and new values."""
        actor, request = Actor.model_validate(actor), parse(Correct, request)

        def step(changes):
            row, made, opened = receipts.correct(changes.session, actor, receipt_id=receipt_id, request=request,
                                                 reads_file=self._reads_file(actor),
                                                 holds_file=self._holds_file(actor))
            if opened:
                self._emit(changes, events.ReceiptOpened, opened)
            if made:
                self._emit(changes, events.ReceiptCorrected, {
                    "receipt_id": receipt_id, "diary_number": row["diary_number"], "by_user": actor.user_id,
                    "from_post": actor.post_id, "remarks": request.reason, "fields": [c["field"] for c in made]})
            return {**row, "corrections": made}
        return self.command("correct", actor=actor, key=idempotency_key, request=[receipt_id, request], step=step)

    @rpc
    def inbox(self, actor: dict, query: dict | None = None) -> dict:
        """Open receipts pending with the actor's post (and posts delegated to it), filtered."""
        actor, query = Actor.model_validate(actor), parse(InboxQuery, query or {})
        with self.db.transaction() as session:
            return receipts.inbox(session, actor, query=query, today=today())

    @rpc
    def sent(self, actor: dict, page: dict | None = None) -> dict:
        """Open receipts the actor's post sent that others hold now, a page at a time. Reads only."""
        actor, at = Actor.model_validate(actor), parse(Page, page or {})
        with self.db.transaction() as session:
            return receipts.sent(session, actor, page=at)

    @rpc
    def acknowledgement(self, actor: dict, receipt_id: str) -> dict:
        """What the sender is given: diary number, date and the public tracking code."""
        actor = Actor.model_validate(actor)
        with self.db.transaction() as session:
            row, _ = receipts.visible(session, actor, receipt_id=receipt_id, reads_file=self._reads_file(actor))
            return {k: row[k] for k in ("diary_number", "tracking_code", "received_date", "diarised_at",
                                        "subject", "sender_name", "sender_email", "office_code")}

    @rpc
    def track(self, tracking_code: str) -> dict:
        """The coarse status for a tracking code (public: no actor, reveals nothing else)."""
        with self.db.transaction() as session:
            return receipts.public_status(session, tracking_code)

    @rpc
    def scan(self, actor: dict, receipt_id: str, position: int) -> dict:
        """One document of a receipt the actor may see, to be streamed from the store."""
        actor = Actor.model_validate(actor)
        with self.db.transaction() as session:
            receipts.visible(session, actor, receipt_id=receipt_id, reads_file=self._reads_file(actor))
            found = [s for s in receipts.documents(session, receipt_id) if s["position"] == position]
            if not found:
                raise NotFound(f"receipt {receipt_id} has no document {position}")
            return found[0]

    @rpc
    def search_records(
        self, ids: list[str] | None = None, after: str = "", limit: int = 100, *, in_files: list[str] | None = None
    ) -> list[dict]:
        """Receipts as the search service indexes them (`services.dak.search_view.records`): the
        given `ids`, or the `limit` after id `after`; and those put in the files `in_files`.
        Internal: the gateway never calls it."""
        with self.db.transaction() as session:
            return search_view.records(
                session, shared_store(), ids=ids, after=after, limit=min(limit, 500), in_files=in_files
            )

    @timer(interval=3600)
    def sweep(self) -> None:
        sweep_uploads(shared_store(), self.db, datetime.now(UTC) - SWEEP_AFTER)


def sweep_uploads(store: DocumentStore, db, cutoff: datetime) -> list[str]:
    """Removes receipt uploads (and the text read from them) that no receipt holds, written
    before `cutoff`. Returns the names removed."""
    def unheld(names: list[str]) -> set[str]:
        with db.transaction() as session:
            return set(receipts.unreferenced(session, names))
    return sweep(store, UPLOADS, cutoff=cutoff, unheld=unheld, owner_of=lambda name: name.removesuffix(TEXT_SUFFIX))
