"""Entry points of the directory service: the organisation (offices, posts, users, postings,
delegations), sign-in checks, and the questions other services ask about who holds what.

Every entry point that acts for a person takes the `actor` the gateway verified; those that
change data take an `idempotency_key`, so a retried call does its work once."""
from __future__ import annotations

import logging

from sqlalchemy import select

from eoffice import workdays as calendar
from eoffice.actor import Actor
from eoffice.db import Database
from eoffice.errors import AccountLocked, Forbidden, InvalidCredentials, NotFound
from eoffice.messaging import Outbox
from eoffice.paging import keyset_page
from eoffice.service import ServiceBase, rpc
from eoffice.validation import parse
from services.directory import events, import_jobs, importer, models
from services.directory import organisation as org
from services.directory.schemas import DateRange, Delegate, HandOver, ImportRequest, Page

log = logging.getLogger(__name__)


class DirectoryService(ServiceBase):
    name = "directory"
    db = Database()
    outbox = Outbox(models.outbox)
    idempotency_keys = models.idempotency_keys
    import_runner = import_jobs.ImportJobs()  # runs the queued jobs

    # --- the organisation ---------------------------------------------------------------

    @rpc
    def import_organisation(self, actor: dict, request: dict) -> dict:
        """Imports CSV files; returns the report (created, changed, unchanged, rejected rows).
        Only the system admin imports. Safe to retry: importing the same rows changes nothing.
        Emits eoffice.directory.organisation-imported.v1."""
        actor, request = Actor.model_validate(actor), parse(ImportRequest, request)
        if not actor.has_role("system_admin"):
            raise Forbidden("only the system admin imports an organisation")
        password_hash = org.hasher.hash(request.initial_password) if request.initial_password else None
        with self.db.transaction() as session:
            report = importer.apply(session, request.files, initial_password_hash=password_hash)
            self.outbox.add(session, report.as_event())
        return report.as_dict()

    @rpc
    def start_import(self, actor: dict, request: dict, idempotency_key: str) -> dict:
        """Queues an import of CSV files as a job (services/directory/import_jobs.py) and returns
        the job, `queued`, with the rows of each file to do. Only the system admin imports.
        Raises InvalidInput, and queues nothing, if a file cannot be imported at all (unknown
        name, a header without a required column) or none is given; bad rows are the job's
        report's business. The same key again answers the same job."""
        actor, request = Actor.model_validate(actor), parse(ImportRequest, request)
        if not actor.has_role("system_admin"):
            raise Forbidden("only the system admin imports an organisation")
        totals = importer.check(request.files)

        def work(session):
            password_hash = org.hasher.hash(request.initial_password) if request.initial_password else None
            return import_jobs.create(session, requested_by=actor.user_id, requested_as=actor.post_id,
                                      files=request.files, totals=totals, password_hash=password_hash)
        job = self.once("start_import", actor=actor, key=idempotency_key, request=request, work=work)
        self.import_runner.wake()
        return job

    @rpc
    def import_job(self, actor: dict, job_id: str) -> dict:
        """Returns an import job: its state (queued, running, done, failed), rows done and in all
        per file, and once done the import's report (or why it failed). System admins only;
        NotFound for an unknown id."""
        actor = Actor.model_validate(actor)
        if not actor.has_role("system_admin"):
            raise Forbidden("only the system admin follows organisation imports")
        with self.db.transaction() as session:
            job = import_jobs.get(session, job_id)
        if job is None:
            raise NotFound(f"no import job {job_id}")
        return job

    @rpc
    def list_offices(self, actor: dict, page: dict | None = None) -> dict:
        """Returns the offices the actor may see, by code, a page at a time."""
        actor, page = Actor.model_validate(actor), parse(Page, page or {})
        with self.db.transaction() as session:
            query = select(models.offices)
            if not actor.has_role("system_admin"):
                root = org.actor_jurisdiction(session, actor)
                query = query.where((models.offices.c.path == root) | models.offices.c.path.startswith(root + "/"))
            return keyset_page(session, query, models.offices.c.code, after=page.after, limit=page.limit)

    @rpc
    def get_office(self, actor: dict, code: str) -> dict:
        actor = Actor.model_validate(actor)
        with self.db.transaction() as session:
            found = org.office(session, code)
            org.require_visible(session, actor, found["path"], what=f"office {code}")
            return found

    @rpc
    def list_posts(self, actor: dict, office_code: str, page: dict | None = None) -> dict:
        """Returns the posts of one office, with their current holders, a page at a time."""
        actor, page = Actor.model_validate(actor), parse(Page, page or {})
        with self.db.transaction() as session:
            org.require_visible(session, actor, org.office(session, office_code)["path"], what=f"office {office_code}")
            result = keyset_page(session, select(models.posts).where(models.posts.c.office_code == office_code),
                                 models.posts.c.code, after=page.after, limit=page.limit)
            result["items"] = [{**row, "roles": list(row["roles"]), "holders": org.holders(session, row["code"])}
                               for row in result["items"]]
            return result

    @rpc
    def find_posts(self, actor: dict, text: str, limit: int = 20) -> list[dict]:
        """Returns posts the actor may see whose code or designation (English or Hindi)
        contains `text`, with their holders: the post picker. Reads only."""
        actor = Actor.model_validate(actor)
        with self.db.transaction() as session:
            return org.find_posts(session, actor, text=text.strip(), limit=max(1, min(int(limit), 50)))

    @rpc
    def get_post(self, actor: dict, code: str) -> dict:
        """Returns a post with its holders today (and delegates) and its supervisors."""
        actor = Actor.model_validate(actor)
        with self.db.transaction() as session:
            found = org.post(session, code)
            org.require_visible(session, actor, found["office_path"], what=f"post {code}")
            return {**found, "roles": list(found["roles"]), "holders": org.holders(session, code),
                    "supervisors": org.supervisors(session, code)}

    @rpc
    def hand_over_post(self, actor: dict, request: dict, idempotency_key: str) -> dict:
        """Gives a post a new regular holder from a date; the previous posting ends the day
        before. Office admins of the post's jurisdiction only. Emits post-handed-over.v1."""
        actor, request = Actor.model_validate(actor), parse(HandOver, request)

        def work(session):
            found = org.post(session, request.post_code)
            org.require_admin(session, actor, found["office_path"], what=f"post {request.post_code}")
            result = org.hand_over(session, actor, request.post_code, employee_id=request.employee_id,
                                   start=request.start_date)
            self.outbox.add(session, events.PostHandedOver(**result), subject=request.post_code)
            return result
        return self.once("hand_over_post", actor=actor, key=idempotency_key, request=request, work=work)

    @rpc
    def delegate(self, actor: dict, request: dict, idempotency_key: str) -> dict:
        """Hands a post's work to another post for a period. Office admins only. A post unknown
        or outside the actor's jurisdiction, or a period over already, is InvalidInput naming the
        field; nothing is recorded then."""
        actor, request = Actor.model_validate(actor), parse(Delegate, request)

        def work(session):
            org.check_delegation(session, actor, from_post=request.from_post, to_post=request.to_post,
                                 end=request.end_date)
            session.execute(models.delegations.insert().values(**request.model_dump()))
            self.outbox.add(session, events.DelegationCreated(
                from_post=request.from_post, to_post=request.to_post,
                start_date=request.start_date.isoformat(), end_date=request.end_date.isoformat()),
                subject=request.from_post)
            return request.model_dump(mode="json")
        return self.once("delegate", actor=actor, key=idempotency_key, request=request, work=work)

    # --- sign-in and the actor ------------------------------------------------------------

    @rpc
    def authenticate(self, email: str, password: str, client: str = "") -> dict:
        """Returns the user and the posts they hold today; raises InvalidCredentials or
        AccountLocked. `client` is the address the gateway saw: wrong passwords lock out that
        address for that e-mail only. Failures are counted and logged even though it raises."""
        failure = None
        with self.db.transaction() as session:
            try:
                user = org.authenticate(session, email, password, client=client)
            except (InvalidCredentials, AccountLocked) as exc:
                failure = exc  # commit the count and the log line, then raise
        if failure:
            if isinstance(failure, AccountLocked):
                log.warning("sign-in refused for %s from %s: %s", email, client or "?", failure.detail)
            raise failure
        with self.db.transaction() as session:
            return {**user, "posts": org.posts_of(session, user["employee_id"])}

    @rpc
    def actor_for(self, employee_id: str, post_code: str | None = None) -> dict:
        """Returns the Actor for a user acting as a post they hold today (their first regular
        post if none is named); raises NotHolderOfPost."""
        with self.db.transaction() as session:
            return org.actor_for(session, employee_id, post_code).model_dump(mode="json")

    @rpc
    def whoami(self, actor: dict) -> dict:
        actor = Actor.model_validate(actor)
        with self.db.transaction() as session:
            user = session.execute(select(models.users.c.employee_id, models.users.c.name_en, models.users.c.name_hi,
                                          models.users.c.email, models.users.c.mobile)
                                   .where(models.users.c.employee_id == actor.user_id)).mappings().one()
            return {**user, "acting_as": actor.post_id, "posts": org.posts_of(session, actor.user_id)}

    # --- questions other services ask -------------------------------------------------------

    @rpc
    def holders_of(self, post_code: str) -> list[dict]:
        """Returns who holds the post today, and who acts for it by delegation."""
        with self.db.transaction() as session:
            return org.holders(session, post_code)

    @rpc
    def is_under(self, office_code: str, ancestor_code: str) -> bool:
        with self.db.transaction() as session:
            return org.is_under(org.office(session, office_code)["path"], org.office(session, ancestor_code)["path"])

    @rpc
    def working_days(self, office_code: str, start: str, end: str) -> dict:
        """Returns the working days after `start` up to `end` by the office's calendar, and the
        due date seven working days after `start`."""
        first, last = parse(DateRange, {"start": start, "end": end}).model_dump().values()
        with self.db.transaction() as session:
            weekly_off, holidays = org.calendar_of(session, office_code)
        return {"office_code": office_code, "start": first.isoformat(), "end": last.isoformat(),
                "working_days": calendar.working_days_between(first, last, weekly_off=weekly_off,
                                                                holidays=holidays),
                "due_in_7_working_days": calendar.add_working_days(first, 7, weekly_off=weekly_off,
                                                                   holidays=holidays).isoformat()}

    @rpc
    def due_date(self, post_code: str, start: str, working_days: int = 7) -> str:
        """Returns the day `working_days` working days after `start` by the calendar of the
        post's office: when work sent to that post falls due. NotFound for an unknown post."""
        first = parse(DateRange, {"start": start, "end": start}).start
        with self.db.transaction() as session:
            weekly_off, holidays = org.calendar_of(session, org.post(session, post_code)["office_code"])
        return calendar.add_working_days(first, working_days, weekly_off=weekly_off, holidays=holidays).isoformat()

    @rpc
    def require_admin(self, actor: dict, office_code: str, what: str) -> None:
        """Raises unless the actor administers the office: the system admin, or an office
        admin whose department, head-of-department office or district includes it."""
        actor = Actor.model_validate(actor)
        with self.db.transaction() as session:
            org.require_admin(session, actor, org.office(session, office_code)["path"], what=what)

    @rpc
    def offices_under(self, office_code: str) -> list[str]:
        """Returns the office and every office below it (the offices a supervisor there oversees)."""
        with self.db.transaction() as session:
            return org.offices_under(session, office_code)

    @rpc
    def calendars_of_posts(self, post_codes: list[str]) -> dict:
        """Returns, for each post, its office and that office's calendar (weekly days off and
        holidays, its own and those of every office above it), for counting working days, and
        where the office is (its path, and its jurisdiction's: `organisation.jurisdiction`), for
        checking who may send work to the post, and the post's `supervisors` (its chain, nearest
        first), for telling which levels a file sent up skips. All of these change only when an
        organisation is imported (`OrganisationImported`), so a service may keep them."""
        result = {}
        with self.db.transaction() as session:
            for code in dict.fromkeys(post_codes):
                office = org.post(session, code)["office_code"]
                path = org.office(session, office)["path"]
                weekly_off, holidays = org.calendar_of(session, office)
                result[code] = {"office_code": office, "office_path": path,
                                "jurisdiction": org.jurisdiction(session, path), "weekly_off": sorted(weekly_off),
                                "holidays": sorted(day.isoformat() for day in holidays),
                                "supervisors": org.supervisors(session, code)}
        return result

    @rpc
    def supervisors_of(self, post_code: str) -> list[str]:
        with self.db.transaction() as session:
            return org.supervisors(session, post_code)

    @rpc
    def contacts_of(self, employee_ids: list[str]) -> dict:
        """Returns, for each active user named, where the notify service reaches them: name,
        e-mail and mobile (by employee id). Unknown or inactive users are left out."""
        users = models.users.c
        with self.db.transaction() as session:
            rows = session.execute(select(users.employee_id, users.name_en, users.name_hi, users.email, users.mobile)
                                   .where(users.employee_id.in_(list(employee_ids)), users.active.is_(True)))
            return {row.employee_id: dict(row._mapping) for row in rows}
