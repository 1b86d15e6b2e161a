"""Path parameters shared by the routes: ids match only ids, so that a fixed path such as
/receipts/electronic never reaches a /receipts/{id} route (which would answer 422 to a method
it does not serve instead of 405)."""
from __future__ import annotations

from fastapi import Path
from starlette.convertors import Convertor, register_url_convertor


class IdConvertor(Convertor):
    regex = "[0-9a-f-]{36}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("id36", IdConvertor())


def id_path(what: str):
    return Path(min_length=36, max_length=36, pattern=r"^[0-9a-f-]{36}$", description=f"the {what}'s id")
