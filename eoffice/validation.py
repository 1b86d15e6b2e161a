"""Checking what an entry point was given, the same way in every service."""
from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, StringConstraints, ValidationError

from eoffice.errors import InvalidInput

# Text as PostgreSQL can store it: no NUL character anywhere.
Text = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$")]


def parse(model: type[BaseModel], data: dict) -> BaseModel:
    """Returns `data` as `model`; raises InvalidInput naming each bad field and why."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [{"field": ".".join(map(str, e["loc"])) or "request", "message": e["msg"]} for e in exc.errors()]
        raise InvalidInput("; ".join(f"{e['field']}: {e['message']}" for e in errors), errors=errors) from None
