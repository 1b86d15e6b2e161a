"""Receipts (dak) over HTTP: diarise, send to a post, the inbox of the post you act as."""
from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field

from eoffice.actor import Actor
from services.dak.schemas import Diarise
from services.gateway.auth import actor
from services.gateway.directory import IdempotencyKey
from services.gateway.models import Text
from services.gateway.pages import Page, PageRequest, page, page_request

router = APIRouter(tags=["dak"], dependencies=[Depends(actor)])
ReceiptId = Path(min_length=36, max_length=36, pattern=r"^[0-9a-f-]{36}$")


class Receipt(Diarise):
    id: str
    diary_number: str
    office_code: str
    holder_post: str
    diarised_by: str
    diarised_at: datetime


class SendRequest(BaseModel):
    to_post: Text = Field(min_length=1, max_length=60)
    remarks: Text = Field("", max_length=2000)


class Movement(BaseModel):
    receipt_id: str
    to_post: str
    from_post: str | None = None
    diary_number: str | None = None
    remarks: str = ""
    repeated: bool = False


@router.post("/receipts", response_model=Receipt, status_code=201, summary="Diarise a letter (dak clerk)")
def diarise(request: Request, body: Diarise, who: Actor = Depends(actor), idempotency_key: str = IdempotencyKey):
    return request.app.state.rpc.call("dak", "diarise", who.model_dump(mode="json"), body.model_dump(mode="json"),
                                      idempotency_key)


@router.post("/receipts/{receipt_id}/send", response_model=Movement, summary="Send a receipt you hold to a post")
def send(request: Request, body: SendRequest, who: Actor = Depends(actor), receipt_id: str = ReceiptId,
         idempotency_key: str = IdempotencyKey):
    return request.app.state.rpc.call("dak", "send", who.model_dump(mode="json"), receipt_id,
                                      body.model_dump(), idempotency_key)


class MovementLine(BaseModel):
    action: str
    from_post: str | None = None
    to_post: str
    by_user: str
    remarks: str = ""
    at: datetime | None = None


class ReceiptDetail(Receipt):
    opened: bool
    movements: list[MovementLine]


@router.get("/receipts/{receipt_id}", response_model=ReceiptDetail,
            summary="A receipt and its movements; opening it as its holder marks it opened (received)")
def open_receipt(request: Request, who: Actor = Depends(actor), receipt_id: str = ReceiptId):
    return request.app.state.rpc.call("dak", "open_receipt", who.model_dump(mode="json"), receipt_id)


@router.post("/receipts/{receipt_id}/pull-back", response_model=Movement,
             summary="Take back a receipt you sent, until the recipient opens it")
def pull_back(request: Request, who: Actor = Depends(actor), receipt_id: str = ReceiptId,
              idempotency_key: str = IdempotencyKey):
    return request.app.state.rpc.call("dak", "pull_back", who.model_dump(mode="json"), receipt_id, idempotency_key)


@router.get("/inbox", response_model=Page[Receipt], summary="Receipts pending with the post you act as")
def inbox(request: Request, who: Actor = Depends(actor), at: PageRequest = Depends(page_request)):
    return page(request.app.state.rpc.call("dak", "inbox", who.model_dump(mode="json"), at.model_dump()))
