"""The Actor: who is calling, as the gateway verified it, passed with every RPC call."""
from __future__ import annotations

from pydantic import BaseModel, Field


class Actor(BaseModel):
    user_id: str
    post_id: str | None = None  # the post the user acts as for this call
    office_id: str | None = None
    roles: frozenset[str] = Field(default_factory=frozenset)
    delegated_posts: frozenset[str] = Field(default_factory=frozenset)  # posts whose work this post handles now

    def has_role(self, role: str) -> bool:
        return role in self.roles
