"""Search over HTTP: free text in Hindi or English (Latin letters also find Hindi) with filters,
facets, highlights and cursor paging, and suggestions as the user types. Every answer covers
only what the caller may open: the search service filters inside Elasticsearch."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from eoffice.actor import Actor
from eoffice.contracts.search import MAX_QUERY, SearchQuery, SuggestQuery
from eoffice.errors import InvalidInput
from eoffice.validation import parse
from services.gateway.auth import actor

router = APIRouter(tags=["search"], dependencies=[Depends(actor)])
ISO_DAY = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"  # a day as written, not pydantic's looser forms (e.g. "0")


class Hit(BaseModel):
    uid: str
    kind: str
    item_id: str
    file_id: str | None = None
    number: str
    title: str
    office: str
    status: str
    holder: str
    category: str | None = None
    grading: str | None = None
    date: str | None = None
    score: float | None = None
    highlights: dict[str, list[str]] = {}  # field: fragments, HTML-escaped, matches in <mark>


class Bucket(BaseModel):
    value: str
    count: int


class SearchPage(BaseModel):
    total: int
    items: list[Hit]
    facets: dict[str, list[Bucket]]
    next_cursor: str | None


class Suggestion(BaseModel):
    kind: str
    item_id: str
    number: str
    title: str


def _known_parameters_only(request: Request, model: type[BaseModel]) -> None:
    """A misspelt filter is refused rather than silently ignored (the user would trust a
    result that is not filtered)."""
    unknown = sorted(set(request.query_params) - set(model.model_fields))
    if unknown:
        raise InvalidInput(
            f"unknown parameter(s): {', '.join(unknown)}; known: {', '.join(model.model_fields)}", field=unknown[0]
        )


@router.get("/search", response_model=SearchPage, summary="Search receipts, files, notes and documents")
def search(
    request: Request,
    *,
    who: Actor = Depends(actor),
    q: str = Query("", max_length=MAX_QUERY, description="words in Hindi or English; Latin letters also find Hindi"),
    kind: list[str] = Query([], description="receipt, file, note, document (repeat for several)"),
    office: list[str] = Query([]),
    status: list[str] = Query([]),
    holder: list[str] = Query([]),
    category: list[str] = Query([]),
    number: str | None = Query(None, description="a diary or file number, or part of one"),
    date_from: str | None = Query(None, pattern=ISO_DAY, description="YYYY-MM-DD, included"),
    date_to: str | None = Query(None, pattern=ISO_DAY, description="YYYY-MM-DD, included"),
    sort: str = Query("relevance", pattern="^(relevance|date)$"),
    limit: int = Query(20, ge=1, le=50),
    cursor: str | None = Query(None, max_length=2000, description="next_cursor of the previous page"),
    facets: bool = Query(False, description="also count the whole result by kind, office, status, category"),
):
    _known_parameters_only(request, SearchQuery)
    query = parse(
        SearchQuery,
        {
            "q": q,
            "kind": kind,
            "office": office,
            "status": status,
            "holder": holder,
            "category": category,
            "number": number,
            "date_from": date_from,
            "date_to": date_to,
            "sort": sort,
            "limit": limit,
            "cursor": cursor,
            "facets": facets,
        },
    )
    return request.app.state.rpc.call("search", "search", who.model_dump(mode="json"), query.model_dump(mode="json"))


@router.get(
    "/search/suggestions",
    response_model=list[Suggestion],
    summary="Receipts and files whose number or subject starts with what was typed",
)
def suggestions(
    request: Request,
    *,
    who: Actor = Depends(actor),
    q: str = Query(min_length=1, max_length=100),
    limit: int = Query(8, ge=1, le=20),
):
    _known_parameters_only(request, SuggestQuery)
    query = parse(SuggestQuery, {"q": q, "limit": limit})
    return request.app.state.rpc.call("search", "suggest", who.model_dump(mode="json"), query.model_dump(mode="json"))
