"""The dak OCR worker: reads the text of each newly diarised receipt's documents.

A nameko service of its own (`dak_ocr`), started with one worker so that it takes one
document at a time off its durable queue and never competes with the RPC services for the
event loop: the reading itself runs in tesseract and poppler subprocesses. It stores the text
beside the original (`<object>.txt`; the original is never changed), marks the scan done and
emits eoffice.receipt.scan-read.v1 from dak's outbox. While it reads, the receipt shows how far it
has gone: when the attempt began and the pages read so far (a PDF's or TIFF's pages are read in
batches, each counted as it is done). A failure is retried after the
EOFFICE_RETRY_DELAYS; after the last attempt the scan is marked failed, with the error, and
eoffice.receipt.scan-unreadable.v1 reports it. A scan in which tesseract finds no text at all (a
blank page, print too faint or small, handwriting) is reported so at once, as failed with NO_TEXT:
reading it again would find nothing either. The receipt itself never waits for any of this."""

from __future__ import annotations

import io
import logging
import shutil
import tempfile
from pathlib import Path

from sqlalchemy import case, func, select, update

from eoffice.contracts.dak import OCR_QUEUE, OCR_SERVICE, TEXT_SUFFIX
from eoffice.db import Database
from eoffice.events import Envelope
from eoffice.intake import attachments
from eoffice.messaging import Outbox, reliable_handler
from eoffice.service import ServiceBase
from eoffice.settings import get_settings
from eoffice.storage import DocumentStore, shared_store
from services.dak import events, models, ocr, receipts
from services.dak.models import scans

log = logging.getLogger(__name__)
SERVICE, QUEUE = OCR_SERVICE, OCR_QUEUE  # in the contract: the gateway's readiness watches the queue
NO_TEXT = (
    "no text could be read from it (a blank page, print too faint or small, or handwriting): "
    "read the scan itself, or scan the paper again"
)


def read_document(store: DocumentStore, scan: dict, progress: ocr.Progress = None) -> ocr.Reading:
    """Returns the text of one stored document: an e-mail's body, a PDF's own text layer, or
    what tesseract reads in Hindi and English (telling `progress` the pages read so far)."""
    with tempfile.TemporaryDirectory(prefix="eoffice-ocr-") as folder:
        path = Path(folder) / "document"
        with store.open(scan["object_name"], sha256=scan["sha256"]) as source, open(path, "wb") as target:
            shutil.copyfileobj(source, target)
        if scan["content_type"] == "message/rfc822":
            with open(path, "rb") as message:
                summary, _ = attachments(message, scan["filename"], max_bytes=scan["size"])
            return ocr.Reading(text=summary.body_text, pages=0, method="email")
        return ocr.read_text(path, scan["content_type"], processes=get_settings().ocr_processes, progress=progress)


class OcrWorker(ServiceBase):
    name = SERVICE
    db = Database()
    outbox = Outbox(models.outbox, service="dak")

    @reliable_handler("dak", events.ReceiptDiarised.event_type)
    def read_scans(self, envelope: Envelope) -> None:
        event = envelope.payload(events.ReceiptDiarised)
        if not event.scans and event.copy_of is None:
            return  # a paper letter: nothing to read (a copy shares its original's documents)
        with self.db.transaction() as session:
            pending = [
                dict(s)
                for s in session.execute(
                    select(scans)
                    .where(scans.c.receipt_id == event.receipt_id, scans.c.ocr_status == "pending")
                    .order_by(scans.c.position)
                ).mappings()
            ]
        store = shared_store()
        for scan in pending:
            if not self._copy_earlier_reading(scan):
                self._read(store, scan)

    def _copy_earlier_reading(self, scan: dict) -> bool:
        """A copy of a receipt shares its documents: if one was read already, reuse that."""
        with self.db.transaction() as session:
            done = (
                session.execute(
                    select(scans)
                    .where(scans.c.object_name == scan["object_name"], scans.c.ocr_status == "done")
                    .limit(1)
                )
                .mappings()
                .first()
            )
            if done:
                session.execute(
                    update(scans)
                    .where(scans.c.id == scan["id"])
                    .values(
                        ocr_status="done",
                        ocr_method=done["ocr_method"],
                        pages_read=done["pages_read"],
                        text_chars=done["text_chars"],
                        text_sha256=done["text_sha256"],
                        read_at=done["read_at"],
                        ocr_error=None,
                    )
                )
            return done is not None

    def _read(self, store: DocumentStore, scan: dict) -> None:
        name = scan["object_name"]
        self._record_progress(name, started=True)
        try:
            reading = read_document(store, scan, progress=lambda pages: self._record_progress(name, pages=pages))
            blank = reading.method == "ocr" and not reading.text.strip()
            text_object = (
                None
                if blank
                else store.put(
                    io.BytesIO(reading.text.encode()), content_type="text/plain; charset=utf-8", name=name + TEXT_SUFFIX
                )
            )
        except Exception as exc:
            self._failed(scan, exc)
            return
        if text_object is None:
            self._attempt_failed(scan, NO_TEXT, attempts_allowed=1)
            return
        with self.db.transaction() as session:
            session.execute(
                update(scans)
                .where(scans.c.object_name == name)
                .values(
                    ocr_status="done",
                    ocr_method=reading.method,
                    pages_read=reading.pages,
                    text_chars=len(reading.text),
                    read_at=func.now(),
                    text_sha256=text_object.sha256,
                    ocr_error=None,
                )
            )
            self.outbox.add(
                session,
                events.ScanRead(
                    receipt_ids=receipts.copies_sharing(session, name),
                    object_name=name,
                    text_object=text_object.name,
                    method=reading.method,
                    pages=reading.pages,
                    chars=len(reading.text),
                ),
                subject=scan["receipt_id"],
            )
        log.info("read %s (%s, %d pages, %d characters)", name, reading.method, reading.pages, len(reading.text))

    def _record_progress(self, name: str, *, started: bool = False, pages: int = 0) -> None:
        """Shows how far the reading of document `name` has gone (with the receipt, while its
        text is pending): at the start of an attempt, its time and no page read; then the pages
        read so far (never fewer than already shown: batches end in any order). Best effort: a
        failure to record it does not stop the reading."""
        values = (
            {"ocr_started_at": func.now(), "pages_read": 0}
            if started
            else {"pages_read": case((scans.c.pages_read < pages, pages), else_=scans.c.pages_read)}
        )
        try:
            with self.db.transaction() as session:
                session.execute(update(scans).where(scans.c.object_name == name).values(**values))
        except Exception:
            log.warning("could not record how far the reading of %s has gone", name, exc_info=True)

    def _failed(self, scan: dict, exc: Exception) -> None:
        """Counts the failed attempt; raises to retry it later, or after the last attempt
        marks the document unreadable and reports it."""
        error = f"{type(exc).__name__}: {exc}"[:2000]
        if not self._attempt_failed(scan, error, attempts_allowed=len(get_settings().retry_delays) + 1):
            raise exc

    def _attempt_failed(self, scan: dict, error: str, *, attempts_allowed: int) -> bool:
        """Counts a failed attempt at reading the document, with its error; at the
        `attempts_allowed`-th marks it failed and reports it (eoffice.receipt.scan-unreadable.v1).
        Returns whether it gave up. The count survives the rollback of a retried attempt."""
        with self.db.transaction() as session:
            attempts = (
                session.execute(
                    update(scans)
                    .where(scans.c.object_name == scan["object_name"])
                    .values(ocr_attempts=scans.c.ocr_attempts + 1, ocr_error=error)
                    .returning(scans.c.ocr_attempts)
                )
                .scalars()
                .first()
                or attempts_allowed
            )
            if attempts >= attempts_allowed:
                session.execute(
                    update(scans).where(scans.c.object_name == scan["object_name"]).values(ocr_status="failed")
                )
                self.outbox.add(
                    session,
                    events.ScanUnreadable(
                        receipt_ids=receipts.copies_sharing(session, scan["object_name"]),
                        object_name=scan["object_name"],
                        attempts=attempts,
                        error=error,
                    ),
                    subject=scan["receipt_id"],
                )
        if attempts >= attempts_allowed:
            log.error("gave up reading %s after %d attempts: %s", scan["object_name"], attempts, error)
            return True
        return False
