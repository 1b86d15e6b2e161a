"""Errors as `application/problem+json` (RFC 9457), one place for the whole API.

A domain error raised by a service arrives as its `DomainError` class (see `eoffice.rpc`) and
becomes its status and a stable `type`; invalid requests name each bad field. Anything else
becomes a 500 that reveals nothing (in `requests.RequestContext`). Every problem carries the
request id."""
from __future__ import annotations

import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException

from eoffice.db import database_away
from eoffice.errors import DomainError
from eoffice.validation import field_errors
from services.gateway.requests import current_request_id

MEDIA_TYPE = "application/problem+json"


class Problem(BaseModel):
    """An error, as RFC 9457 describes it."""
    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = None


def _documented(status: int, description: str) -> dict:
    return {"model": Problem, "description": description,
            "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


# Declared on every route: any call may meet these.
COMMON = {
    400: _documented(400, "The request could not be carried out"),
    401: _documented(401, "Not signed in: the token is missing, expired, tampered with or revoked"),
    403: _documented(403, "Signed in, but this is not yours to do"),
    404: _documented(404, "No such thing, or not visible to you"),
    409: _documented(409, "It changed meanwhile"),
    413: _documented(413, "The request body is too large"),
    422: _documented(422, "Some input is not valid; `errors` names each field"),
    423: _documented(423, "The account is locked for a while"),
    500: _documented(500, "Something went wrong on our side"),
    503: _documented(503, "A part of the system is not answering"),
}


# Declared on the routes that are rate-limited (services/gateway/limits.py).
RATE_LIMITED = {429: {**_documented(429, "Too many requests from this client or for this account; wait "
                                         "`Retry-After` seconds"),
                      "headers": {"Retry-After": {"description": "seconds until the limit's window ends",
                                                  "required": True, "schema": {"type": "integer", "minimum": 1}}}}}


def problem(request: Request, status: int, code: str, *, title: str, detail: str | None = None,
            **extra) -> JSONResponse:
    body = {"type": f"urn:eoffice:problem:{code}", "title": title, "status": status,
            "instance": request.url.path, "request_id": current_request_id()}
    if detail and detail != title:
        body["detail"] = detail
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE)


# What a domain error's fields may tell the client: which input was wrong (said the same way as
# for a request that fails validation), when to retry, why a certificate was refused, which office.
SHOWN_FIELDS = ("field", "errors", "retry_after", "reason", "office")


def error_items(exc: DomainError) -> list[dict] | None:
    """A refusal's bad fields as `errors` items {field, message, type}, as a request that fails
    validation lists them: those the service listed, or the one `field` it named (with the
    detail as its message). `type` is the service's for the check (given as `type` in the
    error's fields or in an item, e.g. `not_working_day`), else the problem's code in pydantic's
    spelling (`invalid_input`). None when the refusal names no field."""
    items = exc.fields.get("errors")
    if items is None and "field" in exc.fields:
        items = [{"field": exc.fields["field"], "message": exc.detail}]
    fallback = exc.fields.get("type") or exc.code.replace("-", "_")
    return None if items is None else [{**item, "type": item.get("type") or fallback} for item in items]


async def _domain_error(request: Request, exc: DomainError):
    shown = {k: v for k, v in exc.fields.items() if k in SHOWN_FIELDS}
    if (items := error_items(exc)) is not None:
        shown["errors"] = items
    response = problem(request, exc.status, exc.code, title=exc.title, detail=exc.detail, **shown)
    if "retry_after" in exc.fields:
        response.headers["Retry-After"] = str(exc.fields["retry_after"])
    return response


async def _database_error(request: Request, exc: DBAPIError):
    away = database_away(exc)
    if away is None:
        raise exc  # a fault of ours: the 500 that reveals nothing (requests.RequestContext)
    return await _domain_error(request, away)


async def _invalid_request(request: Request, exc: RequestValidationError):
    errors = field_errors(exc.errors())
    return problem(request, 422, "invalid-input", title="Some input is not valid",
                   detail="; ".join(f"{e['field']}: {e['message']}" for e in errors), errors=errors)


async def _http_error(request: Request, exc: HTTPException):
    codes = {404: "not-found", 405: "method-not-allowed", 413: "too-large"}
    response = problem(request, exc.status_code, codes.get(exc.status_code, f"http-{exc.status_code}"),
                       title=str(exc.detail))
    response.headers.update(exc.headers or {})
    if exc.status_code == 405:
        response.headers["Allow"] = ", ".join(allowed_methods(request.app, request.url.path))
    return response


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """The methods the API documents for a path. Starlette names only those of the first route
    that matched, but a path may be served by several (GET and PATCH of a receipt); and where a
    fixed path and a templated one both match (/receipts/email, /receipts/{id}), the fixed one
    is the resource meant."""
    matches = [(template.count("{"), ops) for template, ops in app.openapi()["paths"].items()
               if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), path)]
    fewest = min((params for params, _ in matches), default=0)
    return sorted({method.upper() for params, ops in matches if params == fewest for method in ops})


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(DBAPIError, _database_error)  # the sign-in sessions' database away: 503
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)
