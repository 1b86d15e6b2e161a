"""The Actor: who is calling, as the gateway verified it, passed with every RPC call."""

from __future__ import annotations

from pydantic import BaseModel, Field

from eoffice.errors import Forbidden


class Actor(BaseModel):
    user_id: str
    post_id: str | None = None  # the post the user acts as for this call
    office_id: str | None = None
    roles: frozenset[str] = Field(default_factory=frozenset)
    delegated_posts: frozenset[str] = Field(default_factory=frozenset)  # posts whose work this post handles now

    def has_role(self, role: str) -> bool:
        return role in self.roles

    def acting_post(self) -> str:
        """Returns the post this call acts as; raises Forbidden for a caller acting as none
        (a step only a post takes: diarising, writing a note, opening a file)."""
        if self.post_id is None:
            raise Forbidden("this is done as a post: sign in as one")
        return self.post_id

    def acting_office(self) -> str:
        """Returns the office of the post this call acts as; raises Forbidden if there is none."""
        if self.office_id is None:
            raise Forbidden("this is done as a post of an office: sign in as one")
        return self.office_id
