"""How a receipt or a file is held and moved: the rules dak and files share, once.

Plain functions on plain values (an item is its row as a dict: `holder_post`, `status`,
`opened`, `received`, `physical`; a movement has `action`, `from_post`, `to_post`), so they are
tested without a database (tests/unit/test_movement_rules.py). Who may see an item at all is
`eoffice.access`; the callers check that first, then these, then write what these return.

- Rule 1, the holder acts: only the post holding an item (or one delegated to it) changes it.
- Rule 3, receive before acting: a physical item sent on must be received by its new holder
  before they act on it; an electronic one arrives received.
- Rule 4, pull back until opened: the post that sent an item may take it back while the
  recipient has neither opened it nor moved it on.
- Hand-over follows the post: items are held by posts, not people, so whoever holds the post
  (or has it delegated) has its items at once; nothing moves when a person changes.
- Levels: an item sent up past the sender's direct supervisor skips the posts in between;
  they are informed afterwards and may read it (`skipped_levels`). A file should pass through
  at most four levels to a decision (`levels_to_decision`); a send past the fourth still goes
  through, with a warning (`level_warnings`): a government's file is never stuck on it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

from eoffice.access import acting_posts, require_holder, require_last_sender
from eoffice.actor import Actor
from eoffice.errors import Conflict, InvalidInput


def require_actable(
    actor: Actor,
    item: dict,
    *,
    label: str,
    statuses: Collection[str] | None = None,
    state: str | None = None,
    version: int | None = None,
) -> None:
    """Returns if the actor may act on the item now; checks, in this order: the actor's post
    holds it (NotCurrentHolder, rule 1), it is at `version` if one is given (Conflict), its
    status is one of `statuses` if given (Conflict "`label` is `state`", `state` defaulting to
    the status), it was received (Conflict, rule 3). Call it once the actor may see the item."""
    require_holder(actor, item, label)
    if version is not None and item["version"] != version:
        raise Conflict(f"{label} changed meanwhile (version {item['version']}, not {version})")
    if statuses is not None and item["status"] not in statuses:
        raise Conflict(f"{label} is {state or item['status']}")
    if not item["received"]:
        raise Conflict(f"{label} is physical: receive it before acting on it")


def require_elsewhere(item: dict, to_posts: Iterable[str], *, label: str) -> None:
    """Raises InvalidInput (field `to_post`) if any of `to_posts` already holds the item: an
    item is sent on, never to its own holder."""
    if item["holder_post"] in set(to_posts):
        raise InvalidInput(f"{label} is already with {item['holder_post']}", field="to_post")


def arriving(item: dict) -> dict:
    """The state an item takes when sent to a post: not opened yet; received at once when
    electronic, only when its new holder confirms it when physical (rule 3)."""
    return {"opened": False, "received": not item["physical"]}


def skipped_levels(chain: Sequence[str], to_post: str) -> list[str]:
    """The levels an item sent to `to_post` skips: given `chain`, the sender's supervisor chain
    (nearest first: its supervisor, that one's, ...), the posts below `to_post` in it, nearest
    the sender first, if `to_post` is in it above the direct supervisor. Sending to the direct
    supervisor, down, sideways or to a post outside the chain skips nobody."""
    return list(chain[: chain.index(to_post)]) if to_post in chain else []


MOST_LEVELS = 4  # DOMAIN.md, Levels: "a file should pass through at most four levels to a decision"


def levels_to_decision(chain: Sequence[str], to_post: str, *, so_far: int) -> int:
    """The levels a file has gone up through in its round once sent to `to_post`, given `chain`,
    the supervisor chain (nearest first) of the post where the round started (the file opened,
    a draft approved, the file reopened), and the levels it had gone up through `so_far`: the
    post at the n-th place of the chain is the n-th level, and reaching it the file has gone
    through every level below it, skipped ones counted (they were passed over). Sending down,
    sideways, to a post outside the chain or to a level reached already adds nothing."""
    return max(so_far, chain.index(to_post) + 1) if to_post in chain else so_far


def level_warnings(label: str, *, before: int, after: int) -> list[dict]:
    """What a send that took `label` (a file) from `before` to `after` levels to a decision
    answers besides: an `over_four_levels` warning if it went up to a level past the fourth
    (each further level again), else nothing. A warning, not a refusal: the rule says "should"."""
    if after <= MOST_LEVELS or after <= before:
        return []
    message = (
        f"{label} now passes through {after} levels to a decision; the rule is at most four. "
        "It was sent; its office's supervisors see it in the over_four_levels report"
    )
    return [{"type": "over_four_levels", "levels_to_decision": after, "message": message}]


def opens(actor: Actor, item: dict) -> bool:
    """Whether the actor looking at the item opens it: their post holds it and it was not
    opened yet. Others who moved it may look without opening it (rule 4)."""
    return item["holder_post"] in acting_posts(actor) and not item["opened"]


def needs_receiving(actor: Actor, item: dict, *, label: str) -> bool:
    """For confirming a physical item reached its holder (rule 3): returns False if it was
    received already (nothing to do), True if receiving it now. Raises NotCurrentHolder
    unless the actor's post holds it, Conflict if it is electronic."""
    require_holder(actor, item, label)
    if not item["physical"]:
        raise Conflict(f"{label} is electronic: opening it is receiving it")
    return not item["received"]


def last_sent(movements: Iterable[dict], actions: Collection[str]) -> dict | None:
    """Returns the latest movement whose action is one of `actions` (a send), or None."""
    return next((m for m in reversed(list(movements)) if m["action"] in actions), None)


def pull_back_from(
    actor: Actor,
    item: dict,
    movements: Iterable[dict],
    *,
    label: str,
    sends: Collection[str],
    statuses: Collection[str] | None = None,
) -> dict:
    """Returns the send the actor may undo (rule 4): the last movement among `sends`.
    Raises Conflict if the item was never sent, has moved on from that recipient (or is no
    longer in one of `statuses`, if given) or the recipient opened it; Forbidden unless the
    actor's post sent it. Call it once the actor may see the item."""
    last = require_last_sender(actor, last_sent(movements, sends), label)
    if item["holder_post"] != last["to_post"] or (statuses is not None and item["status"] not in statuses):
        raise Conflict(f"{label} has moved on from {last['to_post']}")
    if item["opened"]:
        raise Conflict(f"{last['to_post']} has already opened {label}")
    return last


def pulled_back(last: dict) -> dict:
    """The state an item takes when pulled back: with the post that sent it, opened and
    received (it never left that post's hands in earnest), no longer due anywhere."""
    return {"holder_post": last["from_post"], "opened": True, "received": True, "due_date": None}
