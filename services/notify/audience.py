"""Who holds a post (or acts for it by delegation) and how to reach them, as the directory said
lately: remembered by each notify process so that a file movement does not cost notify and the
directory two RPC calls (`holders_of`, `contacts_of`) every time (issue 16).

An answer is forgotten, and asked again when next needed:
- on every directory event that changes who holds what or how to reach them (a hand-over, a
  delegation, an import): each notify process hears them on a queue of its own
  (people_entrypoints.py);
- when the day changes in India (postings and delegations start and end by the day);
- MAX_AGE seconds after it was asked in any case: this bounds how long an event missed (the broker
  away while the process reconnects) leaves an old answer in use.
An answer that was being asked while a forgetting happened is used once but not kept
(`generation`). What remains is the moment between the directory's commit and its event reaching
notify (milliseconds): an event of a file handled then plans the e-mail to the previous holder,
as an RPC asked just before that commit would have; the hand-over's own handler then moves what
still waits to the new holder (people_post_handed_over). In-app notifications go to the post, not
to a person, and never depend on this."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import date

from eoffice import clock

MAX_AGE = 30.0  # seconds an answer of the directory is used at most


class DirectoryFacts:
    """Holders of posts and contacts of people, remembered for a while. `holders_of(post)` and
    `contacts_of(people)` are the directory's RPC calls, passed in by the caller."""

    def __init__(self, *, max_age: float = MAX_AGE, monotonic: Callable[[], float] = time.monotonic):
        self.max_age, self._monotonic = max_age, monotonic
        self._holders: dict[str, tuple[float, date, list[dict]]] = {}
        self._contacts: dict[str, tuple[float, date, dict | None]] = {}  # None: unknown or inactive
        self.generation = 0

    def forget(self) -> None:
        """Forgets everything (a directory event): the next event asks again."""
        self._holders.clear()
        self._contacts.clear()
        self.generation += 1

    def _fresh(self, entry: tuple | None) -> bool:
        return entry is not None and self._monotonic() - entry[0] < self.max_age and entry[1] == clock.today()

    def known(self, posts: Iterable[str]) -> dict | None:
        """The audience of `posts` ({"holders": {post: [holder]}, "contacts": {employee: contact}})
        if every fact of it is remembered and fresh; None if something must be asked."""
        holders = {}
        for post in dict.fromkeys(posts):
            entry = self._holders.get(post)
            if not self._fresh(entry):
                return None
            holders[post] = entry[2]  # type: ignore[index]
        contacts = {}
        for person in {h["employee_id"] for found in holders.values() for h in found}:
            entry = self._contacts.get(person)
            if not self._fresh(entry):
                return None
            if entry[2] is not None:  # type: ignore[index]
                contacts[person] = entry[2]  # type: ignore[index]
        return {"holders": holders, "contacts": contacts}

    def audience(self, posts: Iterable[str], *, holders_of: Callable, contacts_of: Callable) -> dict:
        """The audience of `posts`: remembered, or asked of the directory (and remembered)."""
        posts = list(dict.fromkeys(posts))
        found = self.known(posts)
        if found is not None:
            return found
        generation, asked_at, day = self.generation, self._monotonic(), clock.today()
        holders = {post: holders_of(post) for post in posts}
        if generation == self.generation:
            self._holders.update({post: (asked_at, day, answer) for post, answer in holders.items()})
        people = sorted({h["employee_id"] for answer in holders.values() for h in answer})
        return {"holders": holders, "contacts": self.contacts(people, contacts_of=contacts_of)}

    def contacts(self, people: Iterable[str], *, contacts_of: Callable) -> dict:
        """Name, e-mail and mobile of each active person named (by employee id): remembered, or
        asked of the directory for those not remembered. Unknown or inactive people are left out."""
        people = sorted(set(people))
        missing = [person for person in people if not self._fresh(self._contacts.get(person))]
        found = {person: self._contacts[person][2] for person in people if person not in missing}
        if missing:
            generation, asked_at, day = self.generation, self._monotonic(), clock.today()
            answer = contacts_of(missing)
            found |= {person: answer.get(person) for person in missing}
            if generation == self.generation:  # else forgotten meanwhile: used this once, not kept
                self._contacts.update({person: (asked_at, day, answer.get(person)) for person in missing})
        return {person: contact for person, contact in found.items() if contact is not None}
