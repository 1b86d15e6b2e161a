"""Entry points of notifying people, mixed into NotifyService (services/notify/service.py):
the durable handlers that turn dak's, files' and directory's events into notifications, the
timers that send e-mail and SMS and run the daily reminders and digests, and the RPC calls the
gateway makes for a reader (list, mark read, preferences, the live stream's catch-up).

The domain is in `inbox.py` (what an event means, who gets what), `reminders.py` (the daily
job), `templates.py` (every text); tables in `people_tables.py`, SQL in `repository.py`."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from nameko.events import BROADCAST, event_handler
from nameko.rpc import RpcProxy
from nameko.timer import timer

from eoffice import clock
from eoffice.actor import Actor
from eoffice.contracts.directory import DelegationCreated, OrganisationImported, PostHandedOver
from eoffice.contracts.notifications import NotificationsQuery, Preferences
from eoffice.contracts.signing import LetterIssued
from eoffice.contracts.subscriptions import SubscriptionFailing
from eoffice.db import Changes, Database
from eoffice.errors import InvalidInput
from eoffice.events import Envelope
from eoffice.messaging import first_time, reliable_handler
from eoffice.service import call_with_timeout, rpc
from eoffice.settings import get_settings
from eoffice.storage import shared_store
from eoffice.validation import parse
from services.notify import dispatch, models, repository, templates
from services.notify.audience import DirectoryFacts
from services.notify.channels import Attachment, DeliveryFailed, Mailer, SmsGateway
from services.notify.inbox import MOVES, Notice, apply_event, item_id_of, name_of, office_hour_passed, plan_messages
from services.notify.live import LiveFeed
from services.notify.reminders import Calendar, reminders_for

log = logging.getLogger(__name__)
HANDLER = "notify.people"
SEND_INTERVAL = 1.0  # seconds between looks for e-mail and SMS due to go
_DAILY_DONE: dict[str, date] = {}  # the day this process last ran the daily job to the end
MAX_ATTEMPTS = 8  # then a message is given up (status failed, with its last error)


class _AskFirst(Exception):
    """Who holds these posts must be asked of the directory before the event is recorded."""

    def __init__(self, posts: list[str]):
        super().__init__(posts)
        self.posts = posts


def next_attempt(attempts: int, *, permanent: bool) -> datetime | None:
    """When to try a failed e-mail or SMS again after `attempts`: 30 s, then doubling up to an
    hour; None (give up) after MAX_ATTEMPTS or when retrying cannot help."""
    if permanent or attempts >= MAX_ATTEMPTS:
        return None
    return clock.now() + timedelta(seconds=min(15 * 2**attempts, 3600))


class NotifyPeople:
    """Mixin: needs `db` (a Database), `outbox` and `changes` from the service class."""

    if TYPE_CHECKING:
        db: Database
        changes: Callable[[], AbstractContextManager[Changes]]

    directory = RpcProxy("directory")
    live = LiveFeed()
    facts = DirectoryFacts()  # who holds which post and how to reach them, remembered a while (audience.py)

    # --- events ---------------------------------------------------------------------------

    @reliable_handler("dak", "#")
    def people_dak_events(self, envelope: Envelope) -> None:
        self._on_item_event(envelope)

    @reliable_handler("files", "#")
    def people_files_events(self, envelope: Envelope) -> None:
        self._on_item_event(envelope)

    @reliable_handler("directory", "eoffice.directory.post-handed-over.v1")
    def people_post_handed_over(self, envelope: Envelope) -> None:
        """The e-mails and SMS still waiting for the previous holders (quiet hours, digest)
        about the post's notifications go to the new holder instead; the unread notifications
        themselves belong to the post and so are the new holder's already."""
        post, previous = envelope.data["post_code"], envelope.data["previous_holders"]
        self.facts.forget()  # this process's queue of directory events may not have told it yet
        audience = self._audience([post])
        holders, contacts = audience["holders"][post], audience["contacts"]
        with self.db.transaction() as session:
            if not first_time(session, models.inbox, event_id=envelope.id, handler=HANDLER):
                return
            moved = repository.move_waiting_messages(session, post_code=post, from_people=previous)
            prefs = repository.preferences_of(session, employee_ids=list(contacts))
            for row in moved:
                notice = Notice(
                    row["post_code"], row["kind"], row["item_type"], row["item_id"], row["number"], row["detail"]
                )
                repository.add_messages(
                    session,
                    notification_id=row["id"],
                    planned=plan_messages(
                        notice=notice, holders=holders, contacts=contacts, preferences=prefs, now=clock.now()
                    ),
                )
            unread = repository.waiting_or_unread(session, post_code=post)
        self.live(unread)  # an open stream of the new holder shows them at once

    # Directory events that change who holds a post or how to reach them: every notify process
    # hears them on a queue of its own (gone with the process) and forgets what it remembered.
    @event_handler("directory", PostHandedOver.event_type, handler_type=BROADCAST, reliable_delivery=False)
    def forget_holders_on_hand_over(self, envelope: dict) -> None:
        self.facts.forget()

    @event_handler("directory", DelegationCreated.event_type, handler_type=BROADCAST, reliable_delivery=False)
    def forget_holders_on_delegation(self, envelope: dict) -> None:
        self.facts.forget()

    @event_handler("directory", OrganisationImported.event_type, handler_type=BROADCAST, reliable_delivery=False)
    def forget_holders_on_import(self, envelope: dict) -> None:
        self.facts.forget()

    def _on_item_event(self, envelope: Envelope) -> None:
        """One transaction per event when who holds the posts told is remembered (audience.py);
        otherwise the directory is asked outside the transaction, which is then run again."""
        if envelope.type not in MOVES:
            return
        asked: dict | None = None
        for attempt in range(3):
            try:
                made = self._record_move(envelope, asked=asked, may_ask=attempt == 2)
            except _AskFirst as missing:
                asked = self._audience(missing.posts)
                continue
            self.live(made)
            return

    def _record_move(self, envelope: Envelope, *, asked: dict | None, may_ask: bool) -> list[dict]:
        """Records where the item is now and the notifications the event makes; returns those
        new. Raises _AskFirst (nothing stored) if the audience of the posts told is neither in
        `asked` nor remembered, unless `may_ask` (then it is asked inside the transaction)."""
        data, item_id = envelope.data, item_id_of(envelope.type, envelope.data)
        with self.db.transaction() as session:
            if not first_time(session, models.inbox, event_id=envelope.id, handler=HANDLER):
                return []
            # Under a lock: another event about the same item may be moving it at the same time.
            known = repository.whereabouts_of(session, item_id=item_id, lock=True)
            parent = repository.whereabouts_of(session, item_id=data["copy_of"]) if data.get("copy_of") else None
            where, notices = apply_event(envelope.type, data, known=known, parent=parent, at=envelope.time)
            posts = [n.post_code for n in notices]
            audience = asked if asked is not None and set(posts) <= set(asked["holders"]) else self.facts.known(posts)
            if audience is None:
                if not may_ask:
                    raise _AskFirst(posts)  # rolls back: the transaction is not held open over RPC calls
                audience = self._audience(posts)
            repository.save_whereabouts(session, where=where)
            return self._store(session, notices, event_id=envelope.id, audience=audience)

    # --- storing and sending ------------------------------------------------------------------

    def _ask(self, method: str, *args):
        return call_with_timeout(getattr(self.directory, method), *args)

    def _audience(self, posts: list[str]) -> dict:
        """Who holds each post (or acts for it) now, and how to reach them: as remembered
        (audience.py), or asked of the directory."""
        return self.facts.audience(
            posts,
            holders_of=lambda post: self._ask("holders_of", post),
            contacts_of=lambda people: self._ask("contacts_of", people),
        )

    def _contacts(self, people) -> dict:
        return self.facts.contacts(people, contacts_of=lambda asked: self._ask("contacts_of", asked))

    def _store(self, session, notices: list[Notice], *, event_id: str, audience: dict) -> list[dict]:
        """Stores the notifications and the e-mails and SMS planned for each; returns those new."""
        if not notices:
            return []  # a receipt diarised, a file created: where it is changed, nobody is told
        made = []
        prefs = repository.preferences_of(session, employee_ids=list(audience["contacts"]))
        for notice in notices:
            planned = plan_messages(
                notice=notice,
                holders=audience["holders"].get(notice.post_code, []),
                contacts=audience["contacts"],
                preferences=prefs,
                now=clock.now(),
            )
            row = repository.add_notification(session, notice=notice, event_id=event_id, planned=planned)
            if row is not None:
                made.append(row)
        return made

    @timer(interval=SEND_INTERVAL)
    def send_messages(self) -> None:
        """Sends the e-mails and SMS due now, a batch at a time, each at most once unless a
        crash falls between the server taking it and the commit."""
        settings = get_settings()
        mailer, sms = Mailer(settings), SmsGateway(settings)
        with mailer.kept_open():  # one SMTP connection for the round
            while True:
                with self.db.transaction() as session:
                    due = repository.claim_due_messages(session, now=clock.now())
                    if not due:
                        return
                    contacts = self._contacts({m["employee_id"] for m in due})
                    sent = [
                        message["id"]
                        for message in due
                        if self._send_one(
                            session, message, contact=contacts.get(message["employee_id"], {}), mailer=mailer, sms=sms
                        )
                    ]
                    repository.messages_sent(session, message_ids=sent)  # one statement for the batch

    def _send_one(self, session, message: dict, *, contact: dict, mailer: Mailer, sms: SmsGateway) -> bool:
        """Sends one e-mail or SMS; True if it went, else records the failure and returns False."""
        fields = {
            "kind": message["kind"],
            "item_type": message["item_type"],
            "number": message["number"],
            "post": message["post_code"],
            "detail": message["detail"],
        }
        try:
            if message["channel"] == "email":
                link = templates.link_to(get_settings().public_url, message["item_type"], message.get("item_id"))
                subject, body = templates.email(
                    language=message["language"], name=name_of(contact, message["language"]), link=link, **fields
                )
                mailer.send(to=[message["address"]], subject=subject, body=body)
            else:
                if not sms.enabled:
                    raise DeliveryFailed("no SMS gateway configured (EOFFICE_SMS_URL)", permanent=True)
                sms.send(
                    mobile=message["address"],
                    kind=message["kind"],
                    text=templates.line(language=message["language"], **fields),
                )
        except DeliveryFailed as exc:
            attempts = message["attempts"] + 1
            retry = next_attempt(attempts, permanent=exc.permanent)
            log.warning(
                "%s %s to %s failed (attempt %d): %s",
                message["channel"],
                message["id"],
                message["employee_id"],
                attempts,
                exc,
            )
            repository.message_failed(session, message_id=message["id"], error=str(exc), retry_at=retry)
            return False
        return True

    # --- alerting the admin of a failing portal subscription ------------------------------

    @reliable_handler("notify", SubscriptionFailing.event_type)
    def people_subscription_failing(self, envelope: Envelope) -> None:
        """E-mails the admin who registered a portal subscription that keeps failing (and the
        subscription's contact address). Sent inside the transaction that records the event as
        handled: a failed send is retried, a send is repeated only if that commit fails."""
        failing = SubscriptionFailing.model_validate(envelope.data)
        contacts = self._ask("contacts_of", [failing.admin_user])
        to = sorted({c["email"] for c in contacts.values() if c.get("email")} | {failing.contact_email} - {None})
        if not to:
            log.warning("subscription %s is failing and its admin has no e-mail address", failing.subscription_id)
            return
        with self.db.transaction() as session:
            if not first_time(session, models.inbox, event_id=envelope.id, handler="notify.admin-alert"):
                return
            subject, body = templates.subscription_failing(**failing.model_dump())
            Mailer(get_settings()).send(to=to, subject=subject, body=body)

    # --- dispatching issued letters --------------------------------------------------------

    @reliable_handler("signing", LetterIssued.event_type)
    def people_letter_issued(self, envelope: Envelope) -> None:
        """Tells the post holding the file that the letter was issued (`issued`), and plans the
        e-mail of the letter to each addressee with an address; a letter with none is
        dispatched (by hand) at once."""
        letter = LetterIssued.model_validate(envelope.data)
        with self.db.transaction() as session:
            where = repository.whereabouts_of(session, item_id=letter.file_id)
        told = where.holder_post if where and where.holder_post else letter.signer_post
        notice = Notice(
            told,
            "issued",
            "file",
            letter.file_id,
            letter.file_number,
            {"from_post": letter.signer_post, "letter_number": letter.letter_number},
        )
        audience = self._audience([told])
        with self.changes() as changes:
            if not first_time(changes.session, models.inbox, event_id=envelope.id, handler="notify.dispatch"):
                return
            made = self._store(changes.session, [notice], event_id=envelope.id, audience=audience)
            if dispatch.record_letter(changes.session, letter=letter) == 0:
                done = dispatch.finish(changes.session, letter_id=letter.letter_id, now=clock.now())
                if done:
                    changes.raise_event(done, subject=letter.file_id)
        self.live(made)

    @timer(interval=SEND_INTERVAL)
    def send_letters(self) -> None:
        """E-mails each issued letter due to go, with its signed PDF read (and checked against
        its SHA-256) from its locked record; emits eoffice.letter.dispatched.v1 when a letter
        is done."""
        mailer, store = Mailer(get_settings()), shared_store()
        while True:
            with self.changes() as changes:
                due = dispatch.claim_due(changes.session, now=clock.now())
                if not due:
                    return
                for row in due:
                    letter = row["letter"]
                    where = {"letter_id": row["letter_id"], "position": row["position"]}
                    try:
                        pdf = store.read(
                            letter["object_name"],
                            sha256=letter["sha256"],
                            version_id=letter.get("record_version"),
                            locked=True,
                        )
                        subject, body = templates.letter(
                            subject=letter["title"],
                            number=letter["letter_number"],
                            office=letter["office_code"],
                            enclosure=letter.get("enclosure"),  # none in a letter recorded before they were named
                        )
                        message_id = mailer.send(
                            to=[row["email"]],
                            subject=subject,
                            body=body,
                            attachments=(
                                Attachment(f"{letter['letter_number'].replace('/', '-')}.pdf", "application/pdf", pdf),
                            ),
                        )
                    except Exception as exc:  # the store or the mail server: try again later
                        attempts = row["attempts"] + 1
                        permanent = isinstance(exc, DeliveryFailed) and exc.permanent
                        retry = next_attempt(attempts, permanent=permanent)
                        log.warning(
                            "letter %s to %s failed (attempt %d): %s",
                            letter["letter_number"],
                            row["email"],
                            attempts,
                            exc,
                        )
                        dispatch.failed(changes.session, **where, error=f"{type(exc).__name__}: {exc}", retry_at=retry)
                    else:
                        dispatch.sent(changes.session, **where, message_id=message_id)
                    done = dispatch.finish(changes.session, letter_id=row["letter_id"], now=clock.now())
                    if done:
                        changes.raise_event(done, subject=letter["file_id"])

    @rpc
    def letter_dispatches(self, file_id: str) -> list[dict]:
        """Returns the file's issued letters with each addressee's dispatch (for files and dak
        to check rule 6, and for tests)."""
        with self.db.transaction() as session:
            return dispatch.of_file(session, file_id=file_id)

    # --- the daily job ------------------------------------------------------------------------

    @timer(interval=60)
    def daily(self) -> None:
        """From the office hour (EOFFICE_NOTIFY_OFFICE_HOUR, Indian time) on, runs the day's
        reminders and digests once; until it succeeds, again each minute (what was sent is not
        sent again, also after a restart)."""
        settings, day = get_settings(), clock.today()
        if (
            settings.notify_daily
            and _DAILY_DONE.get("day") != day
            and office_hour_passed(clock.now(), settings.notify_office_hour)
        ):
            log.info("daily reminders and digests of %s: %s", day, self._run_daily(day))
            _DAILY_DONE["day"] = day

    @rpc
    def run_daily(self, day: str) -> dict:
        """Runs the daily job as on `day` (ISO date): reminders and escalations of what is due
        or overdue by then, and each digest reader's digest of that day. Safe to repeat: what
        was sent is not sent again. Returns how many of each were sent."""
        try:
            on = date.fromisoformat(day)
        except (TypeError, ValueError):
            raise InvalidInput("day is an ISO date, e.g. 2026-04-01", field="day") from None
        return self._run_daily(on)

    def _run_daily(self, day: date) -> dict:
        sent = {"due": 0, "reminder": 0, "escalation": 0, "digests": 0}
        with self.db.transaction() as session:
            items = repository.items_due_by(session, day=day)
            already = repository.reminders_sent(session, item_ids=[i["item_id"] for i in items])
        if items:
            posts = sorted({i["holder_post"] for i in items})
            calendars = {post: Calendar.from_directory(c) for post, c in self._ask("calendars_of_posts", posts).items()}
            supervisors = {post: next(iter(self._ask("supervisors_of", post)), None) for post in posts}
            found = reminders_for(
                day=day,
                items=items,
                calendars=calendars,
                sent=already,
                supervisors=supervisors,
                escalate_after=get_settings().notify_escalate_after,
            )
            audience = self._audience([r.notice.post_code for r in found]) if found else {}
            for reminder in found:
                # A stable id per stage, item, holder and due date (the notification's once-key).
                event_id = str(
                    uuid.uuid5(
                        uuid.NAMESPACE_URL,
                        f"eoffice:{reminder.stage}:{reminder.notice.item_id}:"
                        f"{reminder.holder_post}:{reminder.due_date}",
                    )
                )
                with self.db.transaction() as session:
                    if not repository.record_reminder(
                        session,
                        item_id=reminder.notice.item_id,
                        post_code=reminder.holder_post,
                        due_date=reminder.due_date,
                        stage=reminder.stage,
                        day=day,
                    ):
                        continue
                    made = self._store(session, [reminder.notice], event_id=event_id, audience=audience)
                self.live(made)
                sent[reminder.stage] += 1
        sent["digests"] = self._send_digests(day)
        return sent

    def _send_digests(self, day: date) -> int:
        """Sends each digest reader one e-mail listing what waited for it; at most one a day."""
        mailer, count = Mailer(get_settings()), 0
        with self.db.transaction() as session:
            waiting = repository.digest_waiting(session, now=clock.now())
        if not waiting:
            return 0
        contacts = self._contacts(waiting)
        for person, rows in waiting.items():
            language = rows[-1]["language"]
            lines = [
                templates.line(
                    r["kind"],
                    language,
                    item_type=r["item_type"],
                    number=r["number"],
                    post=r["post_code"],
                    detail=r["detail"],
                )
                for r in rows
            ]
            with self.db.transaction() as session:
                if not repository.claim_digest(
                    session, employee_id=person, day=day, message_ids=[r["id"] for r in rows]
                ):
                    continue
                subject, body = templates.digest(
                    language=language,
                    name=name_of(contacts.get(person, {}), language),
                    day=day.isoformat(),
                    lines=lines,
                )
                mailer.send(to=[rows[-1]["address"]], subject=subject, body=body)  # failing: rolled back, tried again
            count += 1
        return count

    # --- what a reader asks (through the gateway) ----------------------------------------------

    def _reader(self, actor: dict) -> tuple[Actor, list[str], Preferences]:
        who = Actor.model_validate(actor)
        posts = sorted({who.acting_post(), *who.delegated_posts})
        with self.db.transaction() as session:
            prefs = repository.preferences_of(session, employee_ids=[who.user_id]).get(who.user_id, Preferences())
        return who, posts, prefs

    @rpc
    def list_notifications(self, actor: dict, query: dict | None = None) -> dict:
        """Returns a page ({items, next}) of the notifications of the post the actor acts as and
        of the posts it acts for by delegation, of the kinds the reader chose, newest first
        (oldest first with `since`), in the language asked for or else the reader's, with the count of unread ones (up
        to `UNREAD_COUNTED`, and whether there are more). Raises InvalidInput naming `cursor`
        for a position (`after`) no notification can have."""
        who, posts, prefs = self._reader(actor)
        asked = parse(NotificationsQuery, query or {})
        with self.db.transaction() as session:
            found = repository.notifications_for(
                session,
                posts=posts,
                kinds=prefs.kinds,
                unread=asked.unread,
                after=asked.after,
                since=asked.since,
                limit=asked.limit,
            )
            unread, more = repository.unread_count(session, posts=posts, kinds=prefs.kinds)
        return {
            "items": [repository.as_shown(r, asked.language or prefs.language) for r in found["items"]],
            "next": found["next"],
            "unread": unread,
            "unread_more": more,
            "language": asked.language or prefs.language,
            "live": "in_app" in prefs.channels,
            "posts": posts,
            "kinds": prefs.kinds,
        }

    @rpc
    def mark_read(self, actor: dict, ids: list[int] | None = None) -> dict:
        """Marks notifications of the actor's posts read: those named, or every unread one.
        Safe to repeat. Returns how many changed."""
        who, posts, _ = self._reader(actor)
        if ids is not None and not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            raise InvalidInput("ids are notification ids (integers)", field="ids")
        with self.db.transaction() as session:
            return {"marked": repository.mark_read(session, posts=posts, ids=ids, by_user=who.user_id)}

    @rpc
    def get_preferences(self, actor: dict) -> dict:
        return self._reader(actor)[2].model_dump(mode="json")

    @rpc
    def set_preferences(self, actor: dict, request: dict) -> dict:
        """Replaces the reader's preferences (safe to repeat); returns them."""
        who = Actor.model_validate(actor)
        prefs = parse(Preferences, request)
        with self.db.transaction() as session:
            repository.set_preferences(session, employee_id=who.user_id, prefs=prefs)
        return prefs.model_dump(mode="json")
