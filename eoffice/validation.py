"""Checking what an entry point was given, the same way in every service."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    GetCoreSchemaHandler,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)
from pydantic_core import CoreSchema

from eoffice.errors import InvalidInput

# Text as PostgreSQL can store it: no NUL character anywhere.
Text = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$")]


def _filled(value: str) -> str:
    if not value.strip():
        raise ValueError("is only spaces: write something")
    return value


# Text that must say something (a subject, a note, a reason): not empty, not spaces alone.
Filled = Annotated[Text, AfterValidator(_filled)]

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _printable(value: str) -> str:
    if found := _CONTROL.search(value):
        raise ValueError(f"has a control character ({found.group()!r}) at position {found.start() + 1}")
    return value


# Text that is printed on a record as it is (a file number's pattern): no control characters
# (joiners and other format characters of Indian scripts are welcome).
PrintedText = Annotated[str, AfterValidator(_printable)]

# The name an uploaded document is recorded under (dak's scans, files' documents).
FILE_NAME_MAX = 255
FileName = Annotated[Text, StringConstraints(min_length=1, max_length=FILE_NAME_MAX)]
M = TypeVar("M", bound=BaseModel)


def _strict_bools(schema: Any) -> Any:
    """`schema` (a pydantic core schema) with every boolean in it strict."""
    if isinstance(schema, dict):
        found = {key: _strict_bools(value) for key, value in schema.items()}
        return {**found, "strict": True} if found.get("type") == "bool" else found
    if isinstance(schema, list):
        return [_strict_bools(value) for value in schema]
    return schema


class RequestModel(BaseModel):
    """What a caller sends: a request body, or the request a service's entry point accepts.

    - A field the model does not name is refused (`extra_forbidden`), never dropped: a misspelt
      `subjcet` would otherwise diarise a letter without the subject the clerk typed.
    - A boolean is `true` or `false` only (`bool_type` otherwise): pydantic would read "yes",
      "off", 1 or "0" as one, and a `vip: "no"` would then be a VIP letter. (A model inside a
      request derives from this one too: the rule holds per model.)

    Query-string models do not derive from it: there every value arrives as text."""

    model_config = ConfigDict(extra="forbid")

    @classmethod
    def __get_pydantic_core_schema__(cls, source: type[BaseModel], handler: GetCoreSchemaHandler) -> CoreSchema:
        return _strict_bools(handler(source))


def field_errors(errors: Iterable[Any]) -> list[dict]:
    """pydantic's errors as {field, message, type}, one per field, the field as a caller names
    it: the parts of a location that name a branch of a union ("function-after[_validate(), str]",
    "literal['']") are pydantic's, not the caller's, and left out (with the message and type of
    the first branch: "value is not a valid email address", not "Input should be ''"); a body
    that is not JSON at all names `body`, not where in it the parser gave up. `type` is
    pydantic's error type (`missing`, `string_too_short`, `extra_forbidden`, `bool_type`; a
    check of ours written as a validator is `value_error`): stable, for a client to branch on."""
    found: dict[str, dict] = {}
    for error in errors:
        loc = [str(part) for part in error["loc"] if not (isinstance(part, str) and "[" in part)]
        if error.get("type") == "json_invalid":
            loc = loc[:1]
        field = ".".join(loc) or "request"
        found.setdefault(field, {"field": field, "message": error["msg"], "type": error.get("type", "value_error")})
    return list(found.values())


def parse(model: type[M], data: dict) -> M:
    """Returns `data` as `model`; raises InvalidInput naming each bad field and why."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = field_errors(exc.errors())
        raise InvalidInput("; ".join(f"{e['field']}: {e['message']}" for e in errors), errors=errors) from None


def file_name(name: str, field: str) -> str:
    """Returns `name` if an uploaded document can be recorded under it; raises InvalidInput
    naming `field` (the form field the file came in) otherwise. Asked before anything of the
    upload is read or stored."""
    try:
        return TypeAdapter(FileName).validate_python(name)
    except ValidationError as exc:
        message = exc.errors()[0]["msg"]
        raise InvalidInput(
            f"{field}: the file name is not usable ({message}); rename the file",
            field=field,
            errors=[{"field": field, "message": f"file name: {message}", "type": "file_name"}],
        ) from None
