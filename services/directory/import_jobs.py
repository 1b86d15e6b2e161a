"""Organisation imports as jobs: the system admin starts one, it runs in the background, and
anyone who may import can follow it (queued, running with rows done of rows in all per file,
then done with the import's row-by-row report, or failed with why).

A job lives in the `import_jobs` table, so it outlives the process that took it. Its import is
one transaction, all or nothing, as the synchronous import's (`importer.apply`); the job becomes
`done`, with its report, in that same commit.

Who runs a job: any directory process (`ImportJobs`, a thread of each) looks for queued jobs
every second and when a job is started there. Only one import runs at a time: its transaction
holds the import lock (`importer.lock`) from before it claims a job until it ends.

A job interrupted (the process killed or stopped, the machine restarted, the database gone) is
marked `failed`, not resumed. Its transaction rolled back, so nothing of it was stored; and
running it again unasked could repeat whatever ended it (a file too large for the memory left,
say). The admin reads "interrupted; nothing was changed" and starts it again, which is safe: an
import of the same rows changes nothing. A stopped process marks its own job failed as it stops;
a killed one cannot, and the lock tells: a job still `running` while nobody holds the import
lock has lost its runner, and the next process to take the lock (every second, and at once on
start) marks it failed. Queued jobs simply wait: they run when a directory process is back."""

from __future__ import annotations

import logging
import time
import uuid

import eventlet
from eventlet.event import Event
from nameko.extensions import DependencyProvider
from sqlalchemy import func, insert, null, select, update
from sqlalchemy.orm import Session

from eoffice.db import UnitOfWork, make_engine
from eoffice.messaging import record_event
from services.directory import importer, models

log = logging.getLogger(__name__)
table = models.import_jobs
POLL_SECONDS = 1.0
PROGRESS_EVERY = 0.5  # seconds between two writes of a running job's progress
INTERRUPTED = (
    "interrupted before it finished (the directory service stopped or failed); nothing was changed: start it again"
)
VISIBLE = (
    "id",
    "state",
    "requested_by",
    "requested_as",
    "stages",
    "report",
    "error",
    "created_at",
    "started_at",
    "finished_at",
)


# --- the job's row ---------------------------------------------------------------------------


def create(
    session: Session,
    *,
    requested_by: str,
    requested_as: str | None,
    files: dict[str, str],
    totals: dict[str, int],
    password_hash: str | None,
) -> dict:
    """Queues an import of `files` (checked: `importer.check` gave `totals`); returns the job."""
    stages = [{"file": file, "rows_total": total, "rows_done": 0} for file, total in totals.items()]
    job_id = str(uuid.uuid4())
    session.execute(
        insert(table).values(
            id=job_id,
            requested_by=requested_by,
            requested_as=requested_as,
            files=files,
            password_hash=password_hash,
            stages=stages,
        )
    )
    job = get(session, job_id)
    assert job is not None  # inserted just now, in this transaction
    return job


def get(session: Session, job_id: str) -> dict | None:
    """Returns the job as its requester sees it (not the CSV text, nor the password), or None."""
    row = session.execute(select(*(table.c[name] for name in VISIBLE)).where(table.c.id == job_id)).mappings().first()
    return dict(row) if row else None


def _has_open(session: Session) -> bool:
    open_job = select(table.c.id).where(table.c.state.in_(("queued", "running"))).limit(1)
    return session.execute(open_job).first() is not None


def _fail_orphans(session: Session) -> list[str]:
    """Marks failed every running job; returns their ids. Only for a caller holding the import
    lock: then no running job has a runner."""
    return list(
        session.execute(
            update(table)
            .where(table.c.state == "running")
            .values(state="failed", error=INTERRUPTED, finished_at=func.now(), files=null(), password_hash=None)
            .returning(table.c.id)
        ).scalars()
    )


def _claim_next(session: Session) -> dict | None:
    """Marks the oldest queued job running; returns it with its files, or None."""
    oldest = (
        select(table.c.id)
        .where(table.c.state == "queued")
        .order_by(table.c.created_at)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    claimed = (
        update(table)
        .where(table.c.id == oldest)
        .values(state="running", started_at=func.now())
        .returning(table.c.id, table.c.files, table.c.password_hash, table.c.stages)
    )
    row = session.execute(claimed).mappings().first()
    return dict(row) if row else None


def _finish(session: Session, job_id: str, *, stages: list[dict], report: dict) -> bool:
    """Marks the running job done with its report; returns False if it was not running."""
    return (
        session.execute(
            update(table)
            .where(table.c.id == job_id, table.c.state == "running")
            .values(
                state="done", stages=stages, report=report, finished_at=func.now(), files=null(), password_hash=None
            )
            .returning(table.c.id)
        ).first()
        is not None
    )


def _fail(session: Session, job_id: str, error: str) -> None:
    session.execute(
        update(table)
        .where(table.c.id == job_id, table.c.state == "running")
        .values(state="failed", error=error, finished_at=func.now(), files=null(), password_hash=None)
    )


# --- running jobs ----------------------------------------------------------------------------


class _Progress:
    """`importer.Progress` for a job: keeps the counts and writes them to the job's row, in a
    transaction of their own (the import's commits only at the end), at most every
    PROGRESS_EVERY seconds. A write that fails is left for the next: progress is what the
    admin watches, the import does not wait on it."""

    def __init__(self, uow: UnitOfWork, job_id: str, stages: list[dict]):
        self.uow, self.job_id, self.written = uow, job_id, 0.0
        self.stages = {stage["file"]: dict(stage) for stage in stages}

    def __call__(self, file: str, done: int, total: int) -> None:
        self.stages[file] = {"file": file, "rows_total": total, "rows_done": done}
        if time.monotonic() - self.written >= PROGRESS_EVERY:
            try:
                with self.uow.transaction() as session:
                    session.execute(update(table).where(table.c.id == self.job_id).values(stages=self.as_list()))
            except Exception as exc:
                log.warning("import job %s: progress not written (%s)", self.job_id, type(exc).__name__)
            self.written = time.monotonic()

    def as_list(self) -> list[dict]:
        return list(self.stages.values())


class ImportJobs(DependencyProvider):
    """Runs queued import jobs in a thread of the directory service. A worker sees this
    provider: `wake()` says a job was queued (the thread looks every second anyway)."""

    def setup(self):
        from psycogreen.eventlet import patch_psycopg

        patch_psycopg()
        # Two connections at once: the import's transaction and its progress writes.
        self.uow = UnitOfWork(make_engine(self.container.config.get("DATABASE_URL"), pool_size=2))
        self._wake = Event()
        self.running = False
        self.current: str | None = None  # the job this process runs now

    def start(self):
        self.running = True
        self.container.spawn_managed_thread(self._run, identifier="import-jobs")

    def stop(self):
        # The container kills the thread after this, which rolls its import back: say so now.
        self.running = False
        self.wake()
        if self.current is not None:
            log.warning("import job %s interrupted: the service stops; marked failed", self.current)
            self._record_failure(self.current, INTERRUPTED)

    kill = stop

    def get_dependency(self, worker_ctx):
        return self

    def wake(self) -> None:
        if not self._wake.ready():
            self._wake.send(True)

    def _run(self):
        wait = POLL_SECONDS
        while self.running:
            try:
                while self.running and self.run_next():
                    pass
                wait = POLL_SECONDS
            except Exception as exc:  # the database away, or not migrated yet: try again later
                log.warning(
                    "import jobs: cannot look for work (%s: %s); trying again in %.0fs",
                    type(exc).__name__,
                    str(exc).split("\n")[0],
                    wait,
                )
                wait = min(wait * 2, 30.0)
            with eventlet.Timeout(wait, False):
                self._wake.wait()
            if self._wake.ready():
                self._wake.reset()

    def run_next(self) -> bool:
        """Runs the oldest queued job, if no other import runs; first marks failed any job left
        running by a runner that is gone. Returns whether it ran a job."""
        with self.uow.transaction() as session:
            if not _has_open(session):
                return False
        job_id = None
        try:
            with self.uow.transaction() as session:  # the import's transaction: all or nothing
                if not importer.try_lock(session):
                    return False  # another import runs: a job, the synchronous call or `load`
                with self.uow.transaction() as side:  # committed now: the job shows as running
                    for orphan in _fail_orphans(side):
                        log.warning("import job %s was interrupted: marked failed", orphan)
                    job = _claim_next(side)
                if job is None:
                    return False
                job_id = self.current = job["id"]
                log.info("import job %s started", job_id)
                progress = _Progress(self.uow, job_id, job["stages"])
                report = importer.apply(
                    session, job["files"], initial_password_hash=job["password_hash"], progress=progress
                )
                if not _finish(session, job_id, stages=progress.as_list(), report=report.as_dict()):
                    raise RuntimeError(f"import job {job_id} was no longer running")
                record_event(session, models.outbox, service="directory", payload=report.as_event())
            log.info("import job %s done: %d rows rejected", job_id, len(report.rejected))
            return True
        except BaseException as exc:  # GreenletExit too: the service is stopping
            if job_id is None:
                raise
            if not isinstance(exc, Exception):
                raise  # stopping: `stop` marked it failed
            log.exception("import job %s failed", job_id)
            self._record_failure(
                job_id,
                f"the import stopped on an error ({type(exc).__name__}); nothing was "
                "changed: start it again, and if it fails again, ask the operators to "
                "read the directory service's log",
            )
            return True
        finally:
            self.current = None

    def _record_failure(self, job_id: str, error: str) -> None:
        """Marks the job failed if it is still running. If even that fails, the next process to
        take the import lock does it."""
        try:
            with self.uow.transaction() as session:
                _fail(session, job_id, error)
        except Exception:
            log.warning("import job %s: could not record its failure", job_id, exc_info=True)
