"""Entry points of the dak service: diarising receipts with gap-free diary numbers, sending
them to posts, and the inbox of a post. (Scans, OCR, acknowledgements, pull back, closing and
corrections come with the rest of the dak issue.)"""
from __future__ import annotations

from nameko.exceptions import RemoteError
from nameko.rpc import RpcProxy, rpc

from eoffice.actor import Actor
from eoffice.db import Database
from eoffice.errors import Forbidden, InvalidInput
from eoffice.messaging import Outbox, first_call
from eoffice.service import ServiceBase, call_with_timeout
from eoffice.validation import parse
from services.dak import events, models, receipts
from services.dak.schemas import Diarise, Send
from services.directory.schemas import Page


class DakService(ServiceBase):
    name = "dak"
    db = Database()
    outbox = Outbox(models.outbox)
    directory = RpcProxy("directory")
    peers = ("directory",)

    @rpc
    def diarise(self, actor: dict, letter: dict, idempotency_key: str) -> dict:
        """Diarises a letter in the actor's office; the actor's post holds it. Dak clerks only.
        A retry with the same key returns the same receipt. Emits eoffice.receipt.diarised.v1."""
        actor, letter = Actor.model_validate(actor), parse(Diarise, letter)
        if not actor.has_role("dak_clerk"):
            raise Forbidden("only a dak clerk diarises")
        with self.db.transaction() as session:
            if not first_call(session, models.inbox, idempotency_key, "dak.diarise"):
                return receipts.by_idempotency_key(session, idempotency_key)
            row = receipts.diarise(session, actor, letter, idempotency_key)
            self.outbox.add(session, events.ReceiptDiarised(
                receipt_id=row["id"], diary_number=row["diary_number"], office_code=row["office_code"],
                holder_post=row["holder_post"], physical=row["physical"]), subject=row["id"])
            return row

    @rpc
    def send(self, actor: dict, receipt_id: str, request: dict, idempotency_key: str) -> dict:
        """Sends a receipt the actor's post holds to another post. Emits eoffice.receipt.sent.v1."""
        actor, request = Actor.model_validate(actor), parse(Send, request)
        try:
            call_with_timeout(self.directory.holders_of, request.to_post)
        except RemoteError as exc:
            if exc.exc_type == "NotFound":
                raise InvalidInput(f"no post {request.to_post}", field="to_post") from None
            raise
        with self.db.transaction() as session:
            if not first_call(session, models.inbox, idempotency_key, "dak.send"):
                return {"receipt_id": receipt_id, "to_post": request.to_post, "repeated": True}
            movement = receipts.send(session, actor, receipt_id, request.to_post, request.remarks)
            self.outbox.add(session, events.ReceiptSent(
                receipt_id=receipt_id, diary_number=movement["diary_number"], from_post=movement["from_post"],
                to_post=request.to_post), subject=receipt_id)
            return movement

    @rpc
    def open_receipt(self, actor: dict, receipt_id: str) -> dict:
        """Returns a receipt and its movements; opening by the holding post marks it opened
        (received, for a physical receipt), after which it cannot be pulled back."""
        actor = Actor.model_validate(actor)
        with self.db.transaction() as session:
            return receipts.open_receipt(session, actor, receipt_id)

    @rpc
    def pull_back(self, actor: dict, receipt_id: str, idempotency_key: str) -> dict:
        """Takes back a receipt the actor's post sent, until the recipient opens it. Emits
        eoffice.receipt.pulled-back.v1."""
        actor = Actor.model_validate(actor)
        with self.db.transaction() as session:
            if not first_call(session, models.inbox, idempotency_key, "dak.pull_back"):
                return {"receipt_id": receipt_id, "to_post": actor.post_id, "repeated": True}
            movement = receipts.pull_back(session, actor, receipt_id)
            self.outbox.add(session, events.ReceiptPulledBack(
                receipt_id=receipt_id, diary_number=movement["diary_number"], from_post=movement["from_post"],
                to_post=movement["to_post"]), subject=receipt_id)
            return movement

    @rpc
    def inbox(self, actor: dict, page: dict | None = None) -> dict:
        """Returns the receipts pending with the actor's post (and posts delegated to it)."""
        actor, page = Actor.model_validate(actor), parse(Page, page or {})
        with self.db.transaction() as session:
            return receipts.inbox(session, actor, page.after, page.limit)
