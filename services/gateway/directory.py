"""The organisation over HTTP: offices, posts, holders, hand-overs, delegations, CSV import
(at once, or as a job whose progress a client follows).
Each route passes the caller's Actor to the directory service, which decides what they may do."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from pydantic import BaseModel, Field

from eoffice.actor import Actor
from eoffice.contracts.directory import Delegate
from services.gateway.auth import actor, changing_directory
from services.gateway.models import ANSWER, RequestModel, Text
from services.gateway.pages import Page, PageRequest, page, page_request

router = APIRouter(tags=["directory"], dependencies=[Depends(actor)])
CodePath = Path(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9()._-]+$")
IdempotencyKey = Header(min_length=8, max_length=100, alias="Idempotency-Key",
                        description="a new unique string per request, yours alone (scoped to you, your post and "
                                    "the operation): the same request again with it is done once and answered as "
                                    "the first time; a different request with it is refused (422)")


class Office(BaseModel):
    code: str
    parent_code: str | None
    path: str
    level: str
    name_en: str
    name_hi: str
    weekly_off: str


class Holder(BaseModel):
    employee_id: str
    name_en: str
    name_hi: str
    charge: str
    post_code: str
    via: str = Field(description="posting, or delegation (then post_code is the delegate post)")


class Post(BaseModel):
    code: str
    office_code: str
    designation_en: str
    designation_hi: str
    supervisor_code: str | None
    roles: list[str]
    holders: list[Holder]


class PostDetail(Post):
    supervisors: list[str]


class ImportFiles(RequestModel):
    files: dict[Text, Text] = Field(description="CSV text by name: offices, holidays, posts, users, postings",
                                  examples=[{"offices": "code,parent_code,level,name_en,name_hi,weekly_off\n"}])
    initial_password: Text | None = Field(None, min_length=8, max_length=200)


class Rejection(BaseModel):
    file: str
    row: int
    reason: str


class ImportReport(BaseModel):
    created: dict[str, int]
    changed: dict[str, int]
    unchanged: dict[str, int]
    rejected: list[Rejection]


class HandOverRequest(RequestModel):
    employee_id: Text = Field(min_length=1, max_length=40)
    start_date: date


class HandOverResult(BaseModel):
    post_code: str
    employee_id: str
    start_date: date | None = None
    previous_holders: list[str] = []
    repeated: bool = False


class DelegationRequest(Delegate):  # the directory's own checks too (a post to itself, dates in order)
    from_post: Text = Field(min_length=1, max_length=60)
    to_post: Text = Field(min_length=1, max_length=60)
    start_date: date
    end_date: date
    reason: Text = Field("", max_length=500)


class Delegation(DelegationRequest):
    model_config = ANSWER


def _rpc(request: Request):
    return request.app.state.rpc


def _as(who: Actor) -> dict:
    return who.model_dump(mode="json")


@router.get("/offices", response_model=Page[Office], summary="Offices you may see")
def list_offices(request: Request, who: Actor = Depends(actor), at: PageRequest = Depends(page_request)):
    return page(_rpc(request).call("directory", "list_offices", _as(who), at.model_dump()))


@router.get("/offices/{code}", response_model=Office)
def get_office(request: Request, who: Actor = Depends(actor), code: str = CodePath):
    return _rpc(request).call("directory", "get_office", _as(who), code)


@router.get("/offices/{code}/posts", response_model=Page[Post], summary="Posts of an office, with holders")
def list_posts(request: Request, *, who: Actor = Depends(actor), code: str = CodePath,
               at: PageRequest = Depends(page_request)):
    return page(_rpc(request).call("directory", "list_posts", _as(who), code, at.model_dump()))


class WorkingDays(BaseModel):
    office_code: str
    start: date
    end: date
    working_days: int
    due_in_7_working_days: date


@router.get("/offices/{code}/working-days", response_model=WorkingDays,
            summary="Working days between two dates by the office's calendar")
def working_days(request: Request, *, who: Actor = Depends(actor), code: str = CodePath,
                 start: date = Query(...), end: date = Query(...)):
    office = _rpc(request).call("directory", "get_office", _as(who), code)  # visible to the caller?
    return _rpc(request).call("directory", "working_days", office["code"], start.isoformat(), end.isoformat())


class PostFound(Post):
    office_name_en: str
    office_name_hi: str


@router.get("/posts", response_model=list[PostFound],
            summary="Find posts by marking code or designation, in Hindi or English (the post picker)")
def find_posts(request: Request, *, who: Actor = Depends(actor),
               q: str = Query(min_length=1, max_length=100, pattern=r"^[^\x00]+$",
                              description="part of a code or designation"),
               limit: int = Query(20, ge=1, le=50)):
    return _rpc(request).call("directory", "find_posts", _as(who), q, limit)


@router.get("/posts/{code}", response_model=PostDetail, summary="A post, its holders today and its supervisors")
def get_post(request: Request, who: Actor = Depends(actor), code: str = CodePath):
    return _rpc(request).call("directory", "get_post", _as(who), code)


@router.post("/posts/{code}/hand-over", response_model=HandOverResult,
             summary="Give the post a new regular holder; its pending work goes with the post")
def hand_over(request: Request, body: HandOverRequest, *, who: Actor = Depends(actor), code: str = CodePath,
              idempotency_key: str = IdempotencyKey):
    with changing_directory(request):
        return _rpc(request).call("directory", "hand_over_post", _as(who),
                                  {"post_code": code, **body.model_dump(mode="json")}, idempotency_key)


@router.post("/delegations", response_model=Delegation, status_code=201,
             summary="Hand a post's work to another post for a period")
def delegate(request: Request, body: DelegationRequest, *, who: Actor = Depends(actor),
             idempotency_key: str = IdempotencyKey):
    with changing_directory(request):
        return _rpc(request).call("directory", "delegate", _as(who), body.model_dump(mode="json"), idempotency_key)


@router.post("/directory/import", response_model=ImportReport,
             summary="Import offices, holidays, posts, users and postings from CSV (system admin)")
def import_organisation(request: Request, body: ImportFiles, who: Actor = Depends(actor)):
    with changing_directory(request):
        return _rpc(request).call("directory", "import_organisation", _as(who), body.model_dump())


class ImportStage(BaseModel):
    file: str = Field(description="offices, holidays, posts, users or postings, in the order they are imported")
    rows_total: int = Field(description="data rows in the file (the header not counted)")
    rows_done: int = Field(description="rows imported or rejected so far")


class ImportJob(BaseModel):
    id: uuid.UUID
    state: Literal["queued", "running", "done", "failed"] = Field(
        description="queued, then running, then done (see `report`) or failed (see `error`; nothing was changed)")
    requested_by: str = Field(description="employee id of the admin who started it")
    requested_as: str | None = Field(description="the post they acted as")
    stages: list[ImportStage] = Field(description="one per file given, with its rows done so far")
    report: ImportReport | None = Field(description="once done: what each file created, changed and left "
                                                    "unchanged, and each rejected row with why")
    error: str | None = Field(description="once failed: why")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


@router.post("/directory/import-jobs", response_model=ImportJob, status_code=202,
             summary="Start importing offices, holidays, posts, users and postings from CSV (system admin)",
             description="Queues the import and answers at once with the job (its address in `Location`); "
                         "follow it with GET until it is done or failed. A file that cannot be imported at all "
                         "(an unknown name, a header without a required column), or no file, is refused "
                         "with 422 naming it, and nothing is queued. The import is all or nothing, like the "
                         "synchronous one: rows with bad values or unknown references are left out and listed "
                         "in the report.",
             responses={202: {"headers": {"Location": {"description": "the job: GET it for its progress",
                                                       "schema": {"type": "string"}}}}})
def start_import(request: Request, response: Response, body: ImportFiles, *, who: Actor = Depends(actor),
                 idempotency_key: str = IdempotencyKey):
    job = _rpc(request).call("directory", "start_import", _as(who), body.model_dump(), idempotency_key)
    response.headers["Location"] = str(request.url_for("import_job", job_id=job["id"]).path)
    return job


@router.get("/directory/import-jobs/{job_id}", response_model=ImportJob,
            summary="An organisation import job: its state, rows done per file, and its report (system admin)")
def import_job(request: Request, job_id: uuid.UUID, who: Actor = Depends(actor)):
    return _rpc(request).call("directory", "import_job", _as(who), str(job_id))
