"""Checking what an entry point was given, the same way in every service."""

from __future__ import annotations

import re
from typing import Annotated, TypeVar

from pydantic import AfterValidator, BaseModel, StringConstraints, TypeAdapter, ValidationError

from eoffice.errors import InvalidInput

# Text as PostgreSQL can store it: no NUL character anywhere.
Text = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$")]

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


def parse(model: type[M], data: dict) -> M:
    """Returns `data` as `model`; raises InvalidInput naming each bad field and why."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [{"field": ".".join(map(str, e["loc"])) or "request", "message": e["msg"]} for e in exc.errors()]
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
            errors=[{"field": field, "message": f"file name: {message}"}],
        ) from None
