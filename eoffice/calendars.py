"""Office calendars (and posts' places and supervisor chains) heard from the directory, kept in
each service process: a service that counts due dates (files, dak) mixes `DirectoryCalendars`
in and asks `self.due_date(...)` instead of an RPC to the directory on every movement. See
`eoffice.workdays.CalendarCache` for what is cached, for how long, and why holders and
delegations are not."""

from __future__ import annotations

from datetime import date, timedelta

from nameko.events import BROADCAST, event_handler

from eoffice import movement
from eoffice.actor import Actor
from eoffice.clock import today
from eoffice.contracts.directory import SERVICE as DIRECTORY
from eoffice.contracts.directory import OrganisationImported
from eoffice.errors import InvalidInput, NotFound
from eoffice.service import call_with_timeout
from eoffice.workdays import CalendarCache

LATEST_DUE = timedelta(days=366)  # a due date asked for is at most this far ahead


def check_asked_due(asked: date | None) -> None:
    """Refuses (InvalidInput naming `due_date`) a due date in the past, or more than a year
    ahead: a date no reminder would ever reach keeps an item from ever showing overdue (rule 8).
    Whether it is a working day of the recipient's office is `DirectoryCalendars.require_due`'s."""
    if asked is None:
        return
    if asked < today():
        raise InvalidInput("due_date is in the past", field="due_date")
    if asked > today() + LATEST_DUE:
        raise InvalidInput(f"due_date is more than a year away (at most {today() + LATEST_DUE})", field="due_date")


class DirectoryCalendars:
    """Mixin for a nameko service with a `directory` RpcProxy."""

    calendars: CalendarCache

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.calendars = CalendarCache()  # one per service class and process

    def _fetch(self, posts: list[str]) -> dict:
        return call_with_timeout(self.directory.calendars_of_posts, posts)  # type: ignore[attr-defined]

    def due_date(self, post_code: str, start: date, working_days: int = 7) -> date:
        """The day `working_days` working days after `start` by the calendar of the post's
        office; NotFound for an unknown post."""
        return self.calendars.due_date(post_code, start, working_days, fetch=self._fetch)

    def require_due(self, post_code: str, asked: date | None) -> None:
        """Refuses a due date asked for (`check_asked_due`), and one that is no working day of
        the post's office by its calendar (a weekly day off, a holiday of the office or of one
        above it): InvalidInput naming `due_date`, of type `not_working_day`. Nobody is at the
        desk that day, and the reminder a due date brings would come when nobody reads it."""
        check_asked_due(asked)
        if asked is not None and (why := self.calendars.day_off(post_code, asked, fetch=self._fetch)):
            raise InvalidInput(
                f"due_date {asked.isoformat()} is not a working day of the recipient's office: {why}",
                field="due_date",
                type="not_working_day",
            )

    def require_reachable(self, actor: Actor, post_code: str, *, field: str) -> None:
        """Refuses a recipient the actor may not send to, exactly as an unknown post
        (InvalidInput "no post ...", naming `field`): a post whose office is outside the
        jurisdiction of the actor's own post (their department, head-of-department office or
        district; the state, for offices right under it). The directory does not show such a
        post to the actor either (its post look-up), so a district's work never lands in
        another's, and a post code says nothing of who exists beyond the actor's reach."""
        try:
            office, _ = self.calendars.place_of(post_code, self._fetch)
            _, reach = self.calendars.place_of(actor.acting_post(), self._fetch)
        except NotFound:
            raise InvalidInput(f"no post {post_code}", field=field) from None
        if not (office == reach or office.startswith(reach + "/")):
            raise InvalidInput(f"no post {post_code}", field=field)

    def skipped_levels(self, from_post: str, to_post: str) -> list[str]:
        """The posts a file sent from `from_post` to `to_post` skips, by `from_post`'s supervisor
        chain as kept here (`eoffice.movement.skipped_levels`): none unless `to_post` is above
        the sender's direct supervisor in it."""
        return movement.skipped_levels(self.calendars.chain_of(from_post, self._fetch), to_post)

    def levels_to_decision(self, round_post: str, to_post: str, *, so_far: int) -> int:
        """The levels a file whose round started at `round_post` has gone up through once sent to
        `to_post`, by `round_post`'s supervisor chain as kept here
        (`eoffice.movement.levels_to_decision`); `so_far` if the directory no longer knows
        `round_post` (abolished since): the send is never held up for counting."""
        try:
            chain = self.calendars.chain_of(round_post, self._fetch)
        except NotFound:
            return so_far
        return movement.levels_to_decision(chain, to_post, so_far=so_far)

    # Every process of the service hears it on a queue of its own (gone with the process), so
    # every process's cache clears.
    @event_handler(DIRECTORY, OrganisationImported.event_type, handler_type=BROADCAST, reliable_delivery=False)
    def directory_organisation_imported(self, envelope: dict) -> None:
        """Holidays, weekly days off, a post's office or supervisor may have changed: forget them."""
        self.calendars.clear()
