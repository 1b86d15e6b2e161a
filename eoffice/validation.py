"""Checking what an entry point was given, the same way in every service."""

from __future__ import annotations

from typing import Annotated, TypeVar

from pydantic import BaseModel, StringConstraints, TypeAdapter, ValidationError

from eoffice.errors import InvalidInput

# Text as PostgreSQL can store it: no NUL character anywhere.
Text = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$")]

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
