"""Entry points of the files service: open files, write the notesheet, keep correspondence and
drafts for approval, move files between posts, and track where each one is and how long each
holder kept it. Every change takes an idempotency key and emits its event through the outbox
in the same transaction; receipts arrive in files from dak's put-in-file events."""
from __future__ import annotations

import base64
from datetime import UTC, date, datetime
from typing import Any

from nameko.rpc import RpcProxy
from nameko.timer import timer

from eoffice import workdays
from eoffice.actor import Actor
from eoffice.calendars import DirectoryCalendars
from eoffice.clock import IST, today
from eoffice.contracts.common import Page
from eoffice.contracts.dak import ReceiptPutInFile
from eoffice.contracts.files import UPLOADS, FileWithdrawn
from eoffice.contracts.notifications import LetterDispatched
from eoffice.contracts.signing import LetterIssued
from eoffice.db import Changes, Database
from eoffice.errors import Forbidden, InvalidInput, NotFound
from eoffice.events import Envelope
from eoffice.faults import crash_point
from eoffice.idempotency import scope_of
from eoffice.intake.stored import for_service as stored_intake
from eoffice.messaging import Outbox, first_time, reliable_handler
from eoffice.service import ServiceBase, call_with_timeout, rpc
from eoffice.storage import SWEEP_AFTER, DocumentStore, shared_store, sweep
from eoffice.validation import parse
from services.files import casefile, events, intake, models, notesheet, reports, search_view
from services.files.schemas import (
    CategoryLimit,
    CreateFile,
    Document,
    Draft,
    EditNote,
    FilesQuery,
    Flag,
    Link,
    Note,
    Remarks,
    Revise,
    Scheme,
    SendFile,
    SubjectHead,
    Version,
    Withdrawal,
)


def repeated(file_id: str) -> dict:
    """What a step answers that had nothing left to do (a physical file received already)."""
    return {"file_id": file_id, "repeated": True}


class FilesService(DirectoryCalendars, ServiceBase):
    name = "files"
    db = Database()
    outbox = Outbox(models.outbox)
    idempotency_keys = models.idempotency_keys
    directory = RpcProxy("directory")
    peers = ("directory",)

    # --- helpers ---------------------------------------------------------------------------

    def _ask(self, method: str, *args):
        return call_with_timeout(getattr(self.directory, method), *args)

    def _supervises(self, actor: Actor):
        """Whether the actor, as a supervisor, oversees an office (rule 10)."""
        def check(office_code: str) -> bool:
            return actor.has_role("supervisor") and bool(actor.office_id) and (
                office_code == actor.office_id or self._ask("is_under", office_code, actor.office_id))
        return check

    def _emit(self, changes: Changes, event_type: type[events.FileStep], step: dict, **extra) -> dict:
        """Raises `event_type` for a step's movement (plus `extra` fields); returns the step."""
        changes.raise_event(event_type.model_validate({**step, **extra}), subject=step["file_id"])
        return step

    def _require_admin(self, actor: Actor, office_code: str) -> None:
        self._ask("require_admin", actor.model_dump(mode="json"), office_code, f"office {office_code}")

    def _on_held_file(self, operation: str, *, actor: Actor, file_id: str, key: str, request, step,
                      version: int | None = None, statuses=("open", "parked"), also=(), opens: bool = True):
        """Runs a command (`command`) whose `step(changes, file)` works on a file the actor
        holds (`casefile.held`, locked); `request` is what else says what is asked (ids of
        notes or drafts, the body). Acting on a file it has not opened yet opens it first (rule 4,
        `_opened`), unless `opens` is False (a send moves the file on: no pull back either way)."""
        def held(changes: Changes) -> dict:
            file = casefile.held(changes.session, actor=actor, file_id=file_id, supervises=self._supervises(actor),
                                 version=version, statuses=statuses, also=also)
            if opens:
                self._opened(changes, actor, file)
            return file
        return self.command(operation, actor=actor, key=key, request=[file_id, version, request],
                            step=lambda changes: step(changes, held(changes)))

    def _opened(self, changes: Changes, actor: Actor, file: dict) -> dict | None:
        """The holder looking at or acting on a file it has not opened since it arrived opens it
        (`casefile.open_file`, which updates `file`): its "opened" movement and
        eoffice.file.opened.v1, and from then on the sender cannot pull it back (rule 4). Returns
        the movement, or None if there was nothing to open."""
        step = casefile.open_file(changes.session, actor, file)
        return self._emit(changes, events.FileOpened, step, by_post=actor.post_id) if step else None

    # --- office settings -------------------------------------------------------------------

    @rpc
    def set_scheme(self, actor: dict, office_code: str, scheme: dict) -> dict:
        actor, scheme = Actor.model_validate(actor), parse(Scheme, scheme)
        self._require_admin(actor, office_code)
        with self.db.transaction() as session:
            return casefile.set_scheme(session, office_code, scheme, is_office=self._is_office)

    def _is_office(self, code: str) -> bool:
        try:
            return bool(self._ask("offices_under", code))
        except NotFound:
            return False

    @rpc
    def add_subject_head(self, actor: dict, office_code: str, head: dict) -> dict:
        actor, head = Actor.model_validate(actor), parse(SubjectHead, head)
        self._require_admin(actor, office_code)
        with self.db.transaction() as session:
            return casefile.add_subject_head(session, office_code, head)

    @rpc
    def subject_heads(self, actor: dict, office_code: str) -> list[dict]:
        """The office's subject heads, for those who may see the office (NotFound otherwise)."""
        self._ask("get_office", Actor.model_validate(actor).model_dump(mode="json"), office_code)
        with self.db.transaction() as session:
            return casefile.heads_of(session, office_code)

    @rpc
    def set_category_limit(self, actor: dict, category: str, limit: dict) -> dict:
        actor, limit = Actor.model_validate(actor), parse(CategoryLimit, limit)
        if not actor.has_role("system_admin"):
            raise Forbidden("the system admin sets time limits per category")
        with self.db.transaction() as session:
            return casefile.set_limit(session, category, limit.working_days)

    # --- files -----------------------------------------------------------------------------

    @rpc
    def create(self, actor: dict, request: dict, idempotency_key: str) -> dict:
        """Opens a file in the actor's office, numbered by its scheme; optionally with a
        receipt the actor holds (it arrives through dak's put-in-file event)."""
        actor, request = Actor.model_validate(actor), parse(CreateFile, request)
        return self.command("create", actor=actor, key=idempotency_key, request=request, step=lambda changes:
                            self._created(changes, actor, casefile.create(changes.session, actor, request)))

    def _created(self, changes: Changes, actor: Actor, row: dict) -> dict:
        changes.raise_event(events.FileCreated(
            file_id=row["id"], file_number=row["file_number"], office_code=row["office_code"],
            subject=row["subject"], creator_post=row["creator_post"], by_user=actor.user_id,
            parent_id=row["parent_id"]), subject=row["id"])
        return row

    @rpc
    def opened_with(self, actor: dict, idempotency_key: str) -> dict | None:
        """The file the caller opened with `create` under this key (what `create` answered), or
        None. The gateway asks it when dak refuses a receipt: a retry of a request that opened
        its file already is finished, any other request is refused. Changes nothing."""
        actor = Actor.model_validate(actor)
        with self.db.transaction() as session:
            return casefile.opened_with(session, scope=scope_of(actor, f"{self.name}.create", idempotency_key))

    @rpc
    def withdraw(self, actor: dict, idempotency_key: str, remarks: str) -> dict:
        """Undoes the caller's `create` under this key while nothing was done in the file
        (`casefile.withdraw`): the gateway's step when dak refuses, after all, the receipt the
        file was opened for. The file is deleted, its number given back unless a later one was
        taken, and the key may be used again; emits eoffice.file.withdrawn.v1. Safe to retry:
        nothing left to withdraw answers {"withdrawn": false}. Conflict if the file was worked
        on meanwhile (it stays)."""
        actor = Actor.model_validate(actor)
        with self.changes() as changes:
            step = casefile.withdraw(changes.session, actor, scope=scope_of(actor, f"{self.name}.create",
                                                                               idempotency_key), remarks=remarks)
            if step is None:
                return {"withdrawn": False}
            return {**self._emit(changes, FileWithdrawn, step, by_post=actor.post_id), "withdrawn": True}

    @rpc
    def create_part(self, actor: dict, file_id: str, request: dict, idempotency_key: str) -> dict:
        """Opens a part file of a file (the case proceeds while the main file is elsewhere)."""
        actor, request = Actor.model_validate(actor), parse(Remarks, request)

        def step(changes):
            parent, _ = casefile.visible(changes.session, actor, file_id=file_id, supervises=self._supervises(actor))
            return self._created(changes, actor, casefile.create(changes.session, actor, CreateFile(
                subject_head=parent["subject_head"], subject=parent["subject"], category=parent["category"],
                priority=parent["priority"], record_category=parent["record_category"],
                physical=parent["physical"]), parent=parent))
        return self.command("create_part", actor=actor, key=idempotency_key, request=[file_id, request], step=step)

    @rpc
    def open_file(self, actor: dict, file_id: str) -> dict:
        """The file with its notesheet, correspondence, drafts and movements. Its holder
        opening it marks it opened (it can no longer be pulled back)."""
        actor = Actor.model_validate(actor)
        with self.changes() as changes:
            session = changes.session
            row, moves = casefile.visible(session, actor, file_id=file_id, supervises=self._supervises(actor),
                                          lock=True, with_history=True)
            if step := self._opened(changes, actor, row):  # updates `row`
                moves.append(step)
            return {**row, "movements": moves, "notes": notesheet.green_notes(session, file_id),
                    "my_yellow_notes": notesheet.yellow_notes(session, actor, file_id),
                    "correspondence": casefile.pages_of(session, file_id),
                    "drafts": casefile.drafts_of(session, file_id), "links": casefile.links_of(session, file_id),
                    "linked_to": casefile.main_file(session, row)}

    @rpc
    def attachable(self, actor: dict, file_id: str) -> dict:
        """Whether the actor may put a receipt in this file: the actor's post holds it and it
        is open. Returns the file's number; raises otherwise (dak asks before it moves one).
        Putting a receipt in a received file is the holder acting on it: it opens the file, as
        every holder step does (`_opened`), so its sender no longer pulls it back with the
        receipt in it (rule 4)."""
        actor = Actor.model_validate(actor)
        with self.changes() as changes:
            row = casefile.held(changes.session, actor=actor, file_id=file_id, supervises=self._supervises(actor),
                                statuses=("open",))
            self._opened(changes, actor, row)
            return {"file_id": row["id"], "file_number": row["file_number"]}

    @rpc
    def readable(self, actor: dict, file_id: str) -> bool:
        """Whether the actor may read the file: whoever may read a file reads its correspondence,
        so dak asks this for a receipt put in the file (rule 1: others with rights may read)."""
        actor = Actor.model_validate(actor)
        with self.db.transaction() as session:
            try:
                casefile.visible(session, actor, file_id=file_id, supervises=self._supervises(actor))
            except NotFound:
                return False
            return True

    # --- notesheet -------------------------------------------------------------------------

    @rpc
    def write_note(self, actor: dict, file_id: str, request: dict, idempotency_key: str) -> dict:
        actor, request = Actor.model_validate(actor), parse(Note, request)

        def step(changes, file):
            note = notesheet.write(changes.session, store=shared_store(), actor=actor, file=file, body=request.body,
                                   refs=request.refs, green=request.green,
                                   last_page=casefile.last_page(changes.session, file_id))
            return self._note_added(changes, actor=actor, file=file, note=note) if request.green else note
        return self._on_held_file("write_note", actor=actor, file_id=file_id, key=idempotency_key, request=request,
                                  step=step)

    def _note_added(self, changes: Changes, *, actor: Actor, file: dict, note: dict) -> dict:
        changes.raise_event(events.NoteAdded(file_id=file["id"], file_number=file["file_number"], seq=note["seq"],
                                             hash=note["hash"], by_user=actor.user_id, by_post=actor.post_id),
                            subject=file["id"])
        return note

    @rpc
    def edit_note(self, actor: dict, file_id: str, note_id: int, request: dict, idempotency_key: str) -> dict:
        """Edits the actor's own yellow note. There is no way to edit a green one."""
        actor, request = Actor.model_validate(actor), parse(EditNote, request)
        return self._on_held_file("edit_note", actor=actor, file_id=file_id, key=idempotency_key,
                                  request=[note_id, request], step=lambda changes, file: notesheet.edit_draft(
                                      changes.session, actor=actor, file=file, note_id=note_id, body=request.body,
                                      refs=request.refs, version=request.version,
                                      last_page=casefile.last_page(changes.session, file_id)))

    @rpc
    def discard_note(self, actor: dict, file_id: str, note_id: int, request: dict, idempotency_key: str) -> dict:
        actor, request = Actor.model_validate(actor), parse(Version, request)
        return self._on_held_file("discard_note", actor=actor, file_id=file_id, key=idempotency_key,
                                  request=[note_id, request], step=lambda changes, file: notesheet.discard_draft(
                                      changes.session, actor=actor, file=file, note_id=note_id,
                                      version=request.version))

    @rpc
    def confirm_note(self, actor: dict, file_id: str, note_id: int, request: dict, idempotency_key: str) -> dict:
        actor, request = Actor.model_validate(actor), parse(Version, request)
        return self._on_held_file("confirm_note", actor=actor, file_id=file_id, key=idempotency_key,
                                  request=[note_id, request], step=lambda changes, file: self._note_added(
                                      changes, actor=actor, file=file, note=notesheet.confirm_draft(
                                          changes.session, store=shared_store(), actor=actor, file=file,
                                          note_id=note_id, version=request.version)))

    @rpc
    def green_note(self, actor: dict, file_id: str, seq: int) -> dict:
        """One green note of a file the actor may see (reading it does not open the file)."""
        actor = Actor.model_validate(actor)
        with self.db.transaction() as session:
            row, _ = casefile.visible(session, actor, file_id=file_id, supervises=self._supervises(actor))
            return notesheet.green_note(session, row, seq)

    @rpc
    def verify(self, actor: dict, file_id: str) -> dict:
        """Checks the notesheet's hash chain and every green note against its locked record."""
        actor = Actor.model_validate(actor)
        with self.db.transaction() as session:
            row, _ = casefile.visible(session, actor, file_id=file_id, supervises=self._supervises(actor))
            return {"file_id": file_id, "file_number": row["file_number"],
                    **notesheet.verify(session, shared_store(), row)}

    @rpc
    def note_to_sign(self, actor: dict, file_id: str, seq: int) -> dict:
        """Green note `seq` with its canonical bytes (base64), if the actor may sign it now:
        they hold the file and wrote the note, it is the last one and unsigned
        (`notesheet.to_sign`). Changes nothing."""
        actor = Actor.model_validate(actor)
        with self.db.transaction() as session:
            file = casefile.held(session, actor=actor, file_id=file_id, supervises=self._supervises(actor),
                                 statuses=("open",))
            note = notesheet.to_sign(session, actor=actor, file=file, seq=seq)
            return {"file_id": file_id, "file_number": file["file_number"], "seq": seq, "hash": note["hash"],
                    "canonical": base64.b64encode(note["canonical"]).decode()}

    @rpc
    def sign_note(self, actor: dict, file_id: str, seq: int, request: dict, idempotency_key: str) -> dict:
        """Records a note's signature (request {"cms": base64 DER}, made by the signing service
        over the bytes `note_to_sign` gave) under the same rules; the chain covers it. Answers
        the note with the CMS recorded: a retry with the key (whose CMS may differ, timestamped
        again) gets the first one, which is the one the chain holds."""
        actor = Actor.model_validate(actor)
        cms = base64.b64decode(request["cms"])
        return self._on_held_file("sign_note", actor=actor, file_id=file_id, key=idempotency_key,
                                  request=[seq], statuses=("open",),
                                  step=lambda changes, file: {**notesheet.sign(
                                      changes.session, store=shared_store(), actor=actor, file=file, seq=seq,
                                      cms=cms), "cms": request["cms"]})

    # --- correspondence and drafts ---------------------------------------------------------

    @rpc
    def add_document(self, actor: dict, file_id: str, request: dict, idempotency_key: str) -> dict:
        """Adds a paper document, or an upload checked here first (`eoffice.intake`; refused,
        it is removed), to the correspondence."""
        actor, request = Actor.model_validate(actor), parse(Document, request)
        return intake.recorded_with(stored_intake(), request.document, record=lambda document: self._on_held_file(
            "add_document", actor=actor, file_id=file_id, key=idempotency_key, request=request,
            step=lambda changes, file: self._add_correspondence(
                changes, file, kind="document", title=request.title, by_user=actor.user_id,
                document=document, pages=document.pages if document else request.pages)))

    @rpc
    def flag(self, actor: dict, file_id: str, item_id: int, request: dict, idempotency_key: str) -> dict:
        actor, request = Actor.model_validate(actor), parse(Flag, request)
        return self._on_held_file("flag", actor=actor, file_id=file_id, key=idempotency_key, request=[item_id, request],
                                  step=lambda changes, file: casefile.flag_puc(changes.session, file, item_id=item_id,
                                                                               puc=request.puc))

    @reliable_handler("dak", ReceiptPutInFile.event_type)
    def receipt_put_in_file(self, envelope: Envelope) -> None:
        """A receipt put in a file joins its correspondence: the first as the PUC, later ones
        as fresh receipts (FR I, FR II ...). Once per event."""
        event = envelope.payload(ReceiptPutInFile)
        with self.changes() as changes:
            if not first_time(changes.session, models.inbox, event_id=envelope.id,
                              handler="files.receipt_put_in_file"):
                return
            file = casefile._row(changes.session, event.file_id, lock=True)
            first = casefile.last_page(changes.session, file["id"]) == 0
            self._add_correspondence(changes, file, kind="receipt", receipt_id=event.receipt_id,
                                     title=f"{event.diary_number}: {event.subject}".strip(": "),
                                     pages=max(event.pages, 1), by_user=event.by_user, puc=first)

    @staticmethod
    def _add_correspondence(changes: Changes, file: dict, **item: Any) -> dict:
        """Adds a receipt or document to the file's correspondence (`casefile.add_correspondence`)
        and raises `eoffice.file.correspondence-added.v1`: search indexes a document's title, and
        writes a receipt put in the file again with the file's readers (a send it did not see
        as holding one, as it recorded the receipt, is covered)."""
        row = casefile.add_correspondence(changes.session, file, **item)
        changes.raise_event(events.CorrespondenceAdded(
            file_id=file["id"], file_number=file["file_number"], item_id=row["id"], kind=row["kind"],
            receipt_id=row["receipt_id"], title=row["title"], pages=row["last_page"] - row["first_page"] + 1,
            by_user=row["added_by"]), subject=file["id"])
        return row

    @rpc
    def add_draft(self, actor: dict, file_id: str, request: dict, idempotency_key: str) -> dict:
        actor, request = Actor.model_validate(actor), parse(Draft, request)
        return intake.recorded_with(stored_intake(), request.document, record=lambda document: self._on_held_file(
            "add_draft", actor=actor, file_id=file_id, key=idempotency_key, request=request,
            step=lambda changes, file: self._draft_step(changes, events.DraftSaved, actor, file, casefile.add_draft(
                changes.session, actor, file, title=request.title, body=request.body, document=document))))

    @rpc
    def revise_draft(self, actor: dict, file_id: str, draft_id: int, request: dict, idempotency_key: str) -> dict:
        actor, request = Actor.model_validate(actor), parse(Revise, request)
        return intake.recorded_with(stored_intake(), request.document, record=lambda document: self._on_held_file(
            "revise_draft", actor=actor, file_id=file_id, key=idempotency_key, request=[draft_id, request],
            step=lambda changes, file: self._draft_step(changes, events.DraftSaved, actor, file, casefile.revise_draft(
                changes.session, actor, file, draft_id=draft_id, body=request.body, version=request.version,
                document=document))))

    def _draft_step(self, changes: Changes, event: type[events.DraftStep], actor: Actor, file: dict, draft: dict,
                    **extra: Any) -> dict:
        """Raises `event` (a draft saved, approved or withdrawn) for the draft at its current
        version, by the actor; returns the draft. Saved: search indexes the new text; approved:
        signing takes it from here."""
        changes.raise_event(event(
            file_id=file["id"], file_number=file["file_number"], draft_id=draft["id"],
            version=draft["current_version"], title=draft["title"], by_user=actor.user_id,
            by_post=actor.post_id, **extra), subject=file["id"])
        return draft

    @rpc
    def approve_draft(self, actor: dict, file_id: str, draft_id: int, request: dict, idempotency_key: str) -> dict:
        """Approves a draft's current version; eoffice.draft.approved.v1 hands it to signing."""
        actor, request = Actor.model_validate(actor), parse(Version, request)

        def step(changes, file):
            draft = casefile.approve_draft(changes.session, actor, file, draft_id=draft_id, version=request.version)
            return self._draft_step(changes, events.DraftApproved, actor, file, draft)
        return self._on_held_file("approve_draft", actor=actor, file_id=file_id, key=idempotency_key,
                                  request=[draft_id, request], step=step)

    @rpc
    def withdraw_draft(self, actor: dict, file_id: str, draft_id: int, request: dict, idempotency_key: str) -> dict:
        """Withdraws a draft not issued (`casefile.withdraw_draft`); eoffice.draft.withdrawn.v1."""
        actor, request = Actor.model_validate(actor), parse(Withdrawal, request)

        def step(changes, file):
            draft = casefile.withdraw_draft(changes.session, actor, file, draft_id=draft_id, remarks=request.remarks)
            return self._draft_step(changes, events.DraftWithdrawn, actor, file, draft, remarks=request.remarks)
        return self._on_held_file("withdraw_draft", actor=actor, file_id=file_id, key=idempotency_key,
                                  request=[draft_id, request], step=step)

    @rpc
    def draft_for_issue(self, actor: dict, file_id: str, draft_id: int, version: int) -> dict:
        """The approved draft version the actor may sign and issue (signing asks before it
        signs): NotFound / NotCurrentHolder unless the actor's post holds the file, Conflict
        unless the draft is approved at `version`. Changes nothing."""
        actor = Actor.model_validate(actor)
        with self.db.transaction() as session:
            file = casefile.held(session, actor=actor, file_id=file_id, supervises=self._supervises(actor))
            return casefile.draft_for_issue(session, file, draft_id=int(draft_id), version=int(version))

    @reliable_handler("signing", LetterIssued.event_type)
    def letter_issued(self, envelope: Envelope) -> None:
        """A letter signed and issued from one of a file's drafts joins its correspondence,
        read from its locked record. Once per event."""
        event = envelope.payload(LetterIssued)
        with self.db.transaction() as session:
            if not first_time(session, models.inbox, event_id=envelope.id, handler="files.letter_issued"):
                return
            casefile.add_issued_letter(session, casefile._row(session, event.file_id, lock=True),
                                       letter=event.model_dump(mode="json"))
            casefile.record_letter(session, letter_id=event.letter_id, file_id=event.file_id,
                                   letter_number=event.letter_number, draft_id=event.draft_id,
                                   issued_at=event.issued_at)

    @reliable_handler("notify", LetterDispatched.event_type)
    def letter_dispatched(self, envelope: Envelope) -> None:
        """An issued letter was dispatched: the file may close again (rule 6). Once per event."""
        event = envelope.payload(LetterDispatched)
        with self.db.transaction() as session:
            if first_time(session, models.inbox, event_id=envelope.id, handler="files.letter_dispatched"):
                casefile.record_letter(session, letter_id=event.letter_id, file_id=event.file_id,
                                       letter_number=event.letter_number, dispatched_at=event.dispatched_at)

    @rpc
    def stored_document(self, actor: dict, file_id: str, where: dict) -> dict:
        """An uploaded document of a file the actor may see: `where` is {"item_id"} or
        {"draft_id", "version"}."""
        actor = Actor.model_validate(actor)
        with self.db.transaction() as session:
            row, _ = casefile.visible(session, actor, file_id=file_id, supervises=self._supervises(actor))
            return casefile.stored_document(session, row, **{k: int(v) for k, v in where.items()
                                                            if k in ("item_id", "draft_id", "version")})

    @rpc
    def draft_versions(self, actor: dict, file_id: str, draft_id: int) -> list[dict]:
        actor = Actor.model_validate(actor)
        with self.db.transaction() as session:
            row, _ = casefile.visible(session, actor, file_id=file_id, supervises=self._supervises(actor))
            return casefile.versions_of(session, row, draft_id)

    # --- movement --------------------------------------------------------------------------

    def _due(self, post: str, category_days: int, asked: date | None) -> date:
        if asked:
            self.require_due(post, asked)
            return asked
        try:
            return self.due_date(post, today(), category_days)  # by the calendar kept here
        except NotFound:
            raise InvalidInput(f"no post {post}", field="to_post") from None

    @rpc
    def send(self, actor: dict, file_id: str, request: dict, idempotency_key: str, version: int | None = None) -> dict:
        """Sends a file the actor's post holds to another post (up, or back down the chain). Sent
        up past the holder's direct supervisor, the posts in between are skipped: the movement
        and its event name them, notify tells them, and they may read the file. The file's levels
        to a decision are counted (`eoffice.movement.levels_to_decision`); a send taking it past
        the fourth goes through and answers `warnings` (over_four_levels)."""
        actor, request = Actor.model_validate(actor), parse(SendFile, request)

        def step(changes, file):
            # One transaction: the due dates are counted with the files locked (the calendar and the
            # supervisor chain are kept in this process; only a post not seen for a while costs a
            # directory call). The recipient is checked once the actor may see and holds the file.
            # The files linked to it go with it (one query finds and locks them), each as a send.
            casefile.require_unlinked(changes.session, file, doing="send")
            self.require_reachable(actor, request.to_post, field="to_post")
            skipped = self.skipped_levels(file["holder_post"], request.to_post)
            sent = self._send_one(changes, actor, file, request, skipped=skipped, remarks=request.remarks)
            along = f"moved with file {file['file_number']}" + (f": {request.remarks}" if request.remarks else "")
            moved = [self._send_one(changes, actor, other, request, skipped=skipped, remarks=along)
                     for other in casefile.moving_with(changes.session, actor, file)]
            crash_point("files.send")  # tests kill the service here: the transaction is half done
            for each in (sent, *moved):
                self._emit(changes, events.FileSent, each, by_post=actor.post_id)
            return {**sent, "warnings": [w for each in (sent, *moved) for w in each["warnings"]],
                    "moved_with": [casefile.moved(each) for each in moved]}
        return self._on_held_file("send", actor=actor, file_id=file_id, key=idempotency_key, request=request,
                                  step=step, version=version, also=("category_days",), opens=False)

    def _send_one(self, changes: Changes, actor: Actor, file: dict, request: SendFile, *, skipped: list[str],
                  remarks: str) -> dict:
        """Sends one file (locked, read with its category_days) as `request` asks: its due date by
        its own category's limit unless one is asked, its own levels to a decision."""
        return casefile.send(changes.session, actor=actor, file=file, to_post=request.to_post, remarks=remarks,
                             due_date=self._due(request.to_post, file.pop("category_days"), request.due_date),
                             skipped=skipped, levels=self.levels_to_decision(
                                 casefile.round_post(file), request.to_post, so_far=file["levels_to_decision"]))

    @rpc
    def receive(self, actor: dict, file_id: str, idempotency_key: str) -> dict:
        actor = Actor.model_validate(actor)

        def step(changes):
            received = casefile.receive(changes.session, actor=actor, file_id=file_id,
                                        supervises=self._supervises(actor))
            if received is None:  # a physical file received already
                return repeated(file_id)
            return self._emit(changes, events.FileReceived, received, by_post=actor.post_id)
        return self.command("receive", actor=actor, key=idempotency_key, request=[file_id], step=step)

    @rpc
    def pull_back(self, actor: dict, file_id: str, idempotency_key: str) -> dict:
        actor = Actor.model_validate(actor)

        def step(changes):
            pulled, *moved = casefile.pull_back(changes.session, actor=actor, file_id=file_id,
                                                supervises=self._supervises(actor))
            for each in (pulled, *moved):
                self._emit(changes, events.FilePulledBack, each, by_post=actor.post_id)
            return {**pulled, "moved_with": [casefile.moved(each) for each in moved]}
        return self.command("pull_back", actor=actor, key=idempotency_key, request=[file_id], step=step)

    @rpc
    def park(self, actor: dict, file_id: str, request: dict, idempotency_key: str, parked: bool = True) -> dict:
        actor, request = Actor.model_validate(actor), parse(Remarks, request)
        return self._on_held_file("park" if parked else "unpark", actor=actor, file_id=file_id, key=idempotency_key,
                                  request=request, step=lambda changes, file: self._emit(
                                      changes, events.FileParked if parked else events.FileUnparked,
                                      casefile.park(changes.session, actor, file, parked=parked,
                                                    remarks=request.remarks),
                                      by_post=actor.post_id))

    @rpc
    def close(self, actor: dict, file_id: str, request: dict, idempotency_key: str) -> dict:
        actor, request = Actor.model_validate(actor), parse(Remarks, request)
        return self._on_held_file("close", actor=actor, file_id=file_id, key=idempotency_key, request=request,
                                  step=lambda changes, file: self._emit(changes, events.FileClosed, casefile.close(
                                      changes.session, actor, file, remarks=request.remarks), by_post=actor.post_id))

    @rpc
    def request_reopen(self, actor: dict, file_id: str, request: dict, idempotency_key: str) -> dict:
        actor, request = Actor.model_validate(actor), parse(Remarks, request)
        return self.command("request_reopen", actor=actor, key=idempotency_key, request=[file_id, request],
                            step=lambda changes: self._emit(
                                changes, events.FileReopenRequested, casefile.request_reopen(
                                    changes.session, actor, file_id=file_id, supervises=self._supervises(actor),
                                    remarks=request.remarks),
                                by_post=actor.post_id))

    @rpc
    def approve_reopen(self, actor: dict, file_id: str, request: dict, idempotency_key: str) -> dict:
        actor, request = Actor.model_validate(actor), parse(Remarks, request)
        with self.db.transaction() as session:  # the directory is asked outside the transaction
            asker = casefile._row(session, file_id)["reopen_requested_by"]
        supervisors = self._ask("supervisors_of", asker) if asker else []
        return self.command("approve_reopen", actor=actor, key=idempotency_key, request=[file_id, request],
                            step=lambda changes: self._emit(changes, events.FileReopened, casefile.approve_reopen(
                                changes.session, actor, file_id=file_id, supervisors=supervisors,
                                supervises=self._supervises(actor), remarks=request.remarks), by_post=actor.post_id))

    @rpc
    def link(self, actor: dict, file_id: str, request: dict, idempotency_key: str) -> dict:
        """The holder of a file links another to it (kind link: it moves with the file) or cites
        it (kind reference). Linking acts on both files: each is opened if it was not (`_opened`),
        so a sender can no longer pull either back (with the other's file along). Citing a file
        opens only the file it is cited in."""
        actor, request = Actor.model_validate(actor), parse(Link, request)

        def step(changes, file):
            other, _ = casefile.visible(changes.session, actor, file_id=request.other_file_id,
                                        supervises=self._supervises(actor), lock=True)
            linked = casefile.link(changes.session, actor, file, other=other, kind=request.kind)
            if request.kind == "link":
                self._opened(changes, actor, other)
            return linked
        return self._on_held_file("link", actor=actor, file_id=file_id, key=idempotency_key, request=request,
                                  step=step)

    @rpc
    def unlink(self, actor: dict, file_id: str, other_file_id: str, idempotency_key: str) -> dict:
        """The holder of a file removes its link to (or reference of) another file: a linked file
        moves on its own from then on, and is opened as the file is (`_opened`). The movements
        record who unlinked it."""
        actor = Actor.model_validate(actor)
        return self._on_held_file("unlink", actor=actor, file_id=file_id, key=idempotency_key,
                                  request=other_file_id, step=lambda changes, file: casefile.unlink(
                                      changes.session, actor, file, other_id=other_file_id,
                                      opening=lambda other: self._opened(changes, actor, other)))

    # --- where files are -------------------------------------------------------------------

    @rpc
    def inbox(self, actor: dict, query: dict | None = None) -> dict:
        actor, query = Actor.model_validate(actor), parse(FilesQuery, query or {})
        with self.db.transaction() as session:
            return casefile.inbox(session, actor, query=query, today=today())

    @rpc
    def sent(self, actor: dict, page: dict | None = None) -> dict:
        """Open or parked files the actor's post sent that others hold now, a page at a time."""
        actor, at = Actor.model_validate(actor), parse(Page, page or {})
        with self.db.transaction() as session:
            return casefile.sent(session, actor, page=at)

    @rpc
    def track(self, actor: dict, file_id: str) -> dict:
        """Where the file is, its full path, and how long each holder kept it in working days
        by that holder's office calendar; overdue when the current stay passes the limit."""
        actor = Actor.model_validate(actor)
        with self.db.transaction() as session:
            row, moves = casefile.visible(session, actor, file_id=file_id, supervises=self._supervises(actor),
                                          with_history=True, also=("category_days",))
            limit = row.pop("category_days")
        stays = casefile.holdings(moves)
        calendars = self._ask("calendars_of_posts", [s["post"] for s in stays]) if stays else {}
        now = datetime.now(UTC)
        for stay in stays:
            cal = calendars[stay["post"]]
            end = stay["until"] or now
            stay["office_code"] = cal["office_code"]
            stay["working_days"] = workdays.working_days_between(
                stay["since"].astimezone(IST).date(), end.astimezone(IST).date(),
                weekly_off=frozenset(cal["weekly_off"]),
                holidays=frozenset(date.fromisoformat(d) for d in cal["holidays"]))
            stay["hours"] = round((end - stay["since"]).total_seconds() / 3600, 2)
        current = stays[-1] if stays and stays[-1]["until"] is None and row["status"] != "closed" else None
        return {"file_id": file_id, "file_number": row["file_number"], "status": row["status"],
                "holder_post": row["holder_post"], "limit_working_days": limit,
                "overdue": bool(current and current["working_days"] > limit), "stays": stays, "movements": moves}

    @timer(interval=3600)
    def sweep(self) -> None:
        sweep_uploads(shared_store(), self.db, datetime.now(UTC) - SWEEP_AFTER)

    @rpc
    def report(self, actor: dict, name: str, params: dict | None = None) -> dict:
        """A report over the files of the offices the actor oversees (see `reports.py`)."""
        actor = Actor.model_validate(actor)
        with self.db.transaction() as session:
            return reports.run(session, actor, name=name, params=params or {}, today=today(), ask=self._ask)

    @rpc
    def search_records(self, ids: list[str] | None = None, after: str = "", limit: int = 100) -> list[dict]:
        """Files as the search service indexes them (`services.files.search_view.records`): the
        given `ids`, or the `limit` after id `after`. Internal: the gateway never calls it."""
        with self.db.transaction() as session:
            return search_view.records(session, ids=ids, after=after, limit=min(limit, 500))

    @rpc
    def search_readers(self, ids: list[str]) -> list[dict]:
        """Who may read the files `ids` (`services.files.search_view.readers`): search gives them
        the receipts put in these files. Internal: the gateway never calls it."""
        with self.db.transaction() as session:
            return search_view.readers(session, ids)


def sweep_uploads(store: DocumentStore, db, cutoff: datetime) -> list[str]:
    """Removes documents uploaded to files, written before `cutoff`, that no file holds."""
    def unheld(names: list[str]) -> set[str]:
        with db.transaction() as session:
            return casefile.unreferenced(session, names)
    return sweep(store, UPLOADS, cutoff=cutoff, unheld=unheld)
