"""Who may see a receipt or a file, and who may act on it: the rule dak and files share.

Items are held by posts and move between them. Rule 1: only the post holding an item acts on
it; others with rights may read it. Whoever may not read an item is told it does not exist
(`NotFound`, 404), whatever they asked to do with it, so that an id reveals no diary or file
number and no holder. Only a caller who may read the item learns that another post holds it
(`NotCurrentHolder`, 403). Every step checks in this order: see, then hold, then state."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from eoffice.actor import Actor
from eoffice.errors import Conflict, Forbidden, NotCurrentHolder, NotFound

# The levels of office that make a jurisdiction: a person sees, and sends work to, the offices of
# their own (the nearest department, head-of-department office or district at or above their
# office; the state, for offices right under it). The directory draws it (`jurisdiction`), every
# service keeps its answer, and the whole-state workload samples people by it.
JURISDICTION_LEVELS = ("department", "hod", "district")


def acting_posts(actor: Actor) -> set[str]:
    """The posts the actor acts for now: their own and those delegated to it."""
    return {*([actor.post_id] if actor.post_id else []), *actor.delegated_posts}


Item = TypeVar("Item", bound=Mapping[Any, Any])


def require_visible(
    actor: Actor,
    kind: str,
    item_id: str,
    *,
    item: Item | None,
    movements: Iterable[dict],
    also: Iterable[str] = (),
    oversees: Callable[[Item], bool] | None = None,
) -> Item:
    """Returns the item if the actor's post (or one delegated to it) holds it, is one of `also`
    (e.g. the post that created it), or sent or received it in any of `movements`, or was skipped
    by one (its `skipped` posts, where movements record them: a level is informed afterwards
    and may read what went past it); else if
    `oversees(item)` says the actor oversees it (asked last: it may be a call to another service).
    Raises NotFound naming only what the caller gave (`kind` and `item_id`), as for an item that
    does not exist (`item` None)."""
    if item is not None:
        posts = acting_posts(actor)
        if (
            item["holder_post"] in posts
            or posts & set(also)
            or any(m["from_post"] in posts or m["to_post"] in posts or posts & moved_past(m) for m in movements)
        ):
            return item
        if oversees is not None and oversees(item):
            return item
    raise NotFound(f"no {kind} {item_id}")


def moved_past(movement: Mapping[Any, Any]) -> set[str]:
    """The posts a movement skipped (`eoffice.movement.skipped_levels`; none where movements do
    not record them)."""
    return set(movement.get("skipped") or ())


def require_holder(actor: Actor, item: dict, label: str) -> None:
    """Raises NotCurrentHolder (naming the holder) unless the actor's post holds the item. Call
    it only once the actor may see the item."""
    if item["holder_post"] not in acting_posts(actor):
        raise NotCurrentHolder(f"{label} is with {item['holder_post']}")


def require_last_sender(actor: Actor, last_sent: dict | None, label: str) -> dict:
    """For pulling an item back: returns the last send; raises Conflict if it was never sent,
    Forbidden unless the actor's post sent it last. Call it only once the actor may see the item."""
    if last_sent is None:
        raise Conflict(f"{label} has not been sent")
    if last_sent["from_post"] not in acting_posts(actor):
        raise Forbidden(f"{label} was sent by {last_sent['from_post']}: only that post pulls it back")
    return last_sent
