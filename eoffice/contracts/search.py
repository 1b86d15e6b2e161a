"""The search service's contract: the queries it answers (the gateway builds them from HTTP).
It emits no events; it only consumes dak's and files'."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from eoffice.validation import Text

SERVICE = "search"

Kind = Literal["receipt", "file", "note", "document"]
MAX_QUERY = 500  # characters: a pasted paragraph is a mistake, not a search
# A filter value: a post, office or category code, a status, a diary or file number.
Code = Annotated[Text, StringConstraints(min_length=1, max_length=200)]


class SearchQuery(BaseModel):
    """Free text (Hindi or English; Latin letters also find Hindi) with filters. The text is
    words, never a query language: quotes, brackets, `AND`, `*` or JSON in it are just
    characters. Empty text with filters lists what the filters select, newest first."""

    model_config = ConfigDict(extra="forbid")
    q: Text = Field("", max_length=MAX_QUERY)
    kind: list[Kind] = Field(default_factory=list, max_length=4)
    office: list[Code] = Field(default_factory=list, max_length=50)
    status: list[Code] = Field(default_factory=list, max_length=10)
    holder: list[Code] = Field(default_factory=list, max_length=50)
    category: list[Code] = Field(default_factory=list, max_length=20)
    number: Code | None = Field(None, description="a diary or file number, whole or a part of it (e.g. 11016/6)")
    date_from: date | None = None
    date_to: date | None = None
    sort: Literal["relevance", "date"] = "relevance"
    limit: int = Field(20, ge=1, le=50)
    cursor: str | None = Field(None, max_length=2000, description="`next_cursor` of the previous page")
    facets: bool = Field(
        False,
        description="also count the whole result by kind, office, status and category (first page only): "
        "the costliest part of a search, so only when shown",
    )

    @model_validator(mode="after")
    def _ordered(self):
        if self.date_from and self.date_to and self.date_to < self.date_from:
            raise ValueError("date_to is before date_from")
        return self


class SuggestQuery(BaseModel):
    """What the user has typed so far: the start of a file or diary number, or of a subject."""

    model_config = ConfigDict(extra="forbid")
    q: Text = Field(min_length=1, max_length=100)
    limit: int = Field(8, ge=1, le=20)
