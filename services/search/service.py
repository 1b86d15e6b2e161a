"""Entry points of the search service: it keeps the search indices from dak's and files'
events (nothing else writes them) and answers searches and suggestions for the gateway.

Indexing: an event names a receipt or a file; the handler records it as pending and wakes the
indexing loop (`index_pending`), which indexes everything pending from the owning services'
current records (`search_records`) in rounds: at once at low load, many events to a round under
load. If Elasticsearch or an owner is away, the items stay pending and a later round (every 2 s)
indexes them when they are back. Hand-overs and delegations change nothing in the
index: items are held by posts, and a search filters on the posts the caller acts for now."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Iterable
from datetime import datetime

from elasticsearch import ApiError, Elasticsearch, TransportError
from nameko.rpc import RpcProxy

from eoffice.access import acting_posts
from eoffice.actor import Actor
from eoffice.contracts.search import SearchQuery, SuggestQuery
from eoffice.contracts.signing import LetterIssued
from eoffice.db import Database
from eoffice.elastic import shared_client
from eoffice.errors import InvalidInput, Unavailable
from eoffice.events import Envelope
from eoffice.messaging import Outbox, reliable_handler
from eoffice.service import ServiceBase, call_with_timeout, rpc
from eoffice.settings import get_settings
from eoffice.validation import parse
from services.search import documents, indexer, indices, models, pending, queries
from services.search.wakeup import Wake, woken

log = logging.getLogger(__name__)
# The Elasticsearch client logs every request at INFO: two lines an event, most of this service's
# log and a tenth of its CPU under load. Its warnings (a failed request) still show.
logging.getLogger("elastic_transport.transport").setLevel(logging.WARNING)
BATCH = 50  # items a round of indexing takes at most (their records come in one RPC answer)
LEASE = 10.0  # seconds the items of a round are not taken by another round (a killed process's: that late)
REACH_TTL = 60.0  # seconds a supervisor's offices are remembered (the organisation rarely changes)


# Files raises this as it records a receipt dak put in a file, after dak did. A "filed" round asks
# dak only for the files that files says hold a receipt, so a send that files saw before it
# recorded the receipt is covered by this event: its round reads the file's readers after both.
CORRESPONDENCE_ADDED = "eoffice.file.correspondence-added.v1"


def items_named(envelope: Envelope) -> tuple[str, list[str]]:
    """The kind and ids of the items an event of dak or files is about."""
    data = envelope.data
    if envelope.type == CORRESPONDENCE_ADDED:  # about the file, whichever receipt it names
        return "file", [data["file_id"]]
    if "receipt_ids" in data:
        return "receipt", list(data["receipt_ids"])
    if "letter_id" in data and "file_id" in data:  # wait for files to add it (see _index)
        return "letter", [f"{data['file_id']}:{data['letter_id']}"]
    if "receipt_id" in data:
        return "receipt", [data["receipt_id"], *data.get("copies", [])]
    if "file_id" in data:
        return "file", [data["file_id"]]
    return "", []


# File events that may add readers to a file (a movement to a post new to it): the receipts put in
# the file carry its readers, so these alone have them written again (pending kind "filed").
# A note, a draft, opening or parking a file changes who may read it not at all.
READERS_CHANGE = frozenset(
    {
        "eoffice.file.created.v1",
        "eoffice.file.sent.v1",
        "eoffice.file.pulled-back.v1",
        "eoffice.file.reopened.v1",
    }
)


def items_to_note(envelope: Envelope) -> list[tuple[str, list[str]]]:
    """The pending items an event makes, by kind: those it names (`items_named`), and for a file
    event that may change who reads the file's receipts, the file again as "filed" (its receipts):
    a movement to a new post, or a receipt just recorded in it."""
    kind, ids = items_named(envelope)
    if not ids:
        return []
    filed = envelope.type in READERS_CHANGE or (
        envelope.type == CORRESPONDENCE_ADDED and envelope.data.get("kind") == "receipt"
    )
    return [(kind, ids), *([("filed", ids)] if kind == "file" and filed else [])]


def letter_file(item: str) -> str:
    """The file of a pending letter (`file_id:letter_id`)."""
    return item.split(":", 1)[0]


class SearchService(ServiceBase):
    name = "search"
    db = Database()
    outbox = Outbox(models.outbox)
    dak = RpcProxy("dak")
    files = RpcProxy("files")
    directory = RpcProxy("directory")
    peers = ("dak", "files", "directory")
    wake_indexer = Wake()
    _reach_cache: dict[str, tuple[float, tuple[str, ...]]] = {}

    # --- indexing ----------------------------------------------------------------------------

    @reliable_handler("dak", "eoffice.receipt.#")
    def receipt_changed(self, envelope: Envelope) -> None:
        """Any receipt event: (re)index the receipts it names."""
        self._changed(envelope)

    @reliable_handler("files", "eoffice.file.#")
    def file_changed(self, envelope: Envelope) -> None:
        """Any file event (moves, notes, closing ...): (re)index the file, its notes and documents."""
        self._changed(envelope)

    @reliable_handler("files", "eoffice.draft.#")
    def draft_changed(self, envelope: Envelope) -> None:
        """A draft saved (started or revised) or approved: (re)index its file's documents, the
        draft's current text among them."""
        self._changed(envelope)

    @reliable_handler("signing", LetterIssued.event_type)
    def letter_issued(self, envelope: Envelope) -> None:
        """A letter issued from a file's draft: index it (its draft's text) once files has added it."""
        self._changed(envelope)

    def _changed(self, envelope: Envelope) -> None:
        noted = items_to_note(envelope)
        if not noted:
            return
        with self.db.autocommit() as db:  # a statement a kind: no transaction around them
            for kind, ids in noted:
                pending.note(db, kind, ids)
        self.wake_indexer()  # after the commit: the round it starts sees the items
        log.debug("%s: noted %.3fs after it was sent", envelope.type, time.time() - envelope.time.timestamp())

    @woken(interval=2)
    def index_pending(self) -> bool:
        """A round of indexing: takes what is pending (`pending.claim`, at most BATCH items) and
        indexes it from its owners' records. Woken by every handler, so at low load an item is
        indexed as soon as it is noted, and under load a round takes everything noted during the
        one before: one RPC per owner and one bulk request for many events, not one each. Runs
        every 2 s without a wake, for the items waiting for a retry (Elasticsearch or an owner
        was away). Returns True when the round was full and indexed something: the next round
        starts at once."""
        with self.db.autocommit() as db:  # one statement
            batch, asked_at = pending.claim(db, BATCH, lease=LEASE)
        if asked_at is None:
            return False
        indexed = self._index(batch, asked_at=asked_at)
        return indexed and sum(map(len, batch.values())) >= BATCH

    def _index(self, batch: dict[str, list[str]], *, asked_at: datetime) -> bool:
        """Indexes the items (ids by kind) from their owners' records, asked for after `asked_at`
        (a database time after they were noted); True if any was indexed. A receipt put in a file
        carries the file's readers (`documents.with_file_readers`), so the receipts in the files
        whose readers may have changed ("filed": a movement to a new post) are written again with
        them (asked of dak in the same call as the receipts). The
        others stay pending, tried again after a backoff (logged): all of an owner's items if the
        owner is away (a file's too if dak is, its receipts unknown), all if Elasticsearch is, only
        those of the refused documents if it refuses some. A letter files does not list yet stays
        pending too, and is given up after EOFFICE_SEARCH_GIVE_UP_AFTER seconds of files answering
        without it."""
        # The database's clock, not this process's: with search on several machines, one whose
        # clock runs ahead must not outvote a later write from another (indexer.version_at).
        version = indexer.version_at(asked_at)
        prefix = get_settings().index_prefix
        receipts, files, letters, filed = (batch.get(kind, []) for kind in ("receipt", "file", "letter", "filed"))
        failed: dict[str, dict[str, str]] = {}  # kind -> {item: error}

        def fail(kind: str, ids: Iterable[str], exc: Exception) -> None:
            failed.setdefault(kind, {}).update(dict.fromkeys(ids, f"{type(exc).__name__}: {exc}"))

        def ask(method, *args, waiting: list[tuple[str, list[str]]], **kwargs) -> list[dict] | None:
            """The owner's records; None if it does not answer (the `waiting` items fail)."""
            try:
                return call_with_timeout(method, *args, **kwargs)
            except Exception as exc:
                for kind, items in waiting:
                    fail(kind, items, exc)
                return None

        unlisted: list[str] = []
        try:
            client = shared_client()
            self._ensure_indices(client, prefix)
            # An issued letter is a document of its file, and a file whose readers may have changed
            # says whether it holds receipts: files is asked for all of them at once.
            file_ids = list(dict.fromkeys([*files, *(letter_file(item) for item in letters), *filed]))
            file_records = (
                ask(
                    self.files.search_records,
                    file_ids,
                    waiting=[("file", files), ("letter", letters), ("filed", filed)],
                )
                if file_ids
                else []
            )
            if file_records is None:
                files, letters, filed, file_ids, file_records = [], [], [], [], []
            # The receipts named, and those in the files whose readers may have changed, of the
            # files that hold any (or that files does not list): most files moved hold none.
            holds = {r["id"]: r.get("holds_receipts", True) for r in file_records}
            in_files = [i for i in filed if holds.get(i, True)]
            receipt_records = (
                ask(
                    self.dak.search_records,
                    receipts,
                    in_files=in_files,
                    waiting=[("receipt", receipts), ("filed", in_files)],
                )
                if receipts or in_files
                else []
            )
            if receipt_records is None:
                receipts, receipt_records = [], []
                filed = [i for i in filed if i not in in_files]
            try:
                readers_of = functools.partial(call_with_timeout, self.files.search_readers)
                receipt_records = documents.with_file_readers(receipt_records, readers_of, known=file_records)
            except Exception as exc:  # files away: a receipt in a file is not written without its readers
                in_file = {r["id"]: r["file_id"] for r in receipt_records if r.get("file_id")}
                fail("receipt", [i for i in receipts if i in in_file], exc)
                fail("filed", [i for i in filed if i in in_file.values()], exc)
                receipts = [i for i in receipts if i not in in_file]
                receipt_records = [r for r in receipt_records if r["id"] not in in_file]
            try:
                indexer.sync(
                    client,
                    prefix,
                    version=version,
                    receipt_ids=receipts,
                    receipts=receipt_records,
                    file_ids=file_ids,
                    files=file_records,
                )
            except indexer.IndexingFailed as exc:
                refused = {documents.owner_of(uid) for uid in exc.uids}
                # a file whose receipt was refused is asked again: that receipt has its old readers
                refused |= {("filed", r["file_id"]) for r in receipt_records if ("receipt", r["id"]) in refused}
                fail("receipt", [i for i in receipts if ("receipt", i) in refused], exc)
                fail("file", [i for i in files if ("file", i) in refused], exc)
                fail("filed", [i for i in filed if ("filed", i) in refused], exc)
                fail("letter", [i for i in letters if ("file", letter_file(i)) in refused], exc)
            # The issuing event reaches files and search in either order: a letter files has
            # not added yet stays pending (asked again after a backoff) instead of being lost.
            added = {f"{r['id']}:{letter['letter_id']}" for r in file_records for letter in r.get("letters", [])}
            unlisted = [i for i in letters if i not in added and i not in failed.get("letter", {})]
        except Exception as exc:  # Elasticsearch away, or a fault of ours: everything waits
            for kind, ids in batch.items():
                fail(kind, ids, exc)
            unlisted = []
        return self._settle(batch, failed=failed, unlisted=unlisted, asked_at=asked_at)

    def _settle(
        self, batch: dict[str, list[str]], *, failed: dict[str, dict[str, str]], unlisted: list[str], asked_at: datetime
    ) -> bool:
        """Records a round's outcome in one transaction: indexed items are forgotten (unless
        noted again since `asked_at`), failed ones tried again after a backoff, letters files
        does not list given up after a while (`pending.failed`); True if any was indexed."""
        give_up_after = get_settings().search_give_up_after
        indexed = 0
        with self.db.transaction() as session:
            for kind, ids in batch.items():
                waiting = failed.get(kind, {}).keys() | (set(unlisted) if kind == "letter" else set())
                done = [i for i in ids if i not in waiting]
                pending.done(session, kind, done, asked_at=asked_at)
                indexed += len(done)
                by_error: dict[str, list[str]] = {}
                for item, error in failed.get(kind, {}).items():
                    by_error.setdefault(error, []).append(item)
                for error, items in by_error.items():
                    log.warning("indexing %d %s(s) failed, kept pending: %s", len(items), kind, error)
                    pending.failed(session, kind, items, error=error)
            given_up = pending.failed(
                session, "letter", unlisted, error="files does not list it", give_up_after=give_up_after
            )
        for item in given_up:
            log.error(
                "gave up indexing letter %s: an event named it, but files has answered without it for over %.0fs; "
                "reported by `python -m services.search.rebuild --check` (docs/search.md)",
                item,
                give_up_after,
            )
        return indexed > 0

    _ensured: set[str] = set()

    def _ensure_indices(self, client: Elasticsearch, prefix: str) -> None:
        # Once per process: Elasticsearch may be away when the service starts.
        if prefix not in self._ensured:
            indices.ensure(client, prefix)
            if old := indices.outdated(client, prefix):
                log.warning(
                    "%s: made with an older mapping than version %d (what each version adds: "
                    "services/search/indices.py); "
                    "`python -m services.search.rebuild --if-outdated` replaces them",
                    ", ".join(old),
                    indices.MAPPING_VERSION,
                )
            self._ensured.add(prefix)

    # --- queries -------------------------------------------------------------------------------

    def _reach(self, actor: Actor) -> queries.Reach:
        offices: tuple[str, ...] = ()
        if actor.has_role("supervisor") and actor.office_id:
            cached = self._reach_cache.get(actor.office_id)
            if cached and cached[0] > time.monotonic():
                offices = cached[1]
            else:
                offices = tuple(call_with_timeout(self.directory.offices_under, actor.office_id))
                self._reach_cache[actor.office_id] = (time.monotonic() + REACH_TTL, offices)
        return queries.Reach(posts=tuple(sorted(acting_posts(actor))), offices=offices)

    def _client(self) -> Elasticsearch:
        return shared_client()

    @rpc
    def search(self, actor: dict, query: dict) -> dict:
        """One page of results for `query` (`SearchQuery`) among the items the actor may open:
        hits with highlights, total, facet counts, the next page's cursor. Raises InvalidInput
        for a bad query or cursor, Unavailable while Elasticsearch is away."""
        caller, request = Actor.model_validate(actor), parse(SearchQuery, query)
        body = queries.search_body(request, self._reach(caller))
        answer = self._ask_engine(index=indices.read_alias(get_settings().index_prefix), **body)
        return queries.page_of(answer, request)

    @rpc
    def suggest(self, actor: dict, query: dict) -> list[dict]:
        """Receipts and files the actor may open whose number or subject starts with what was
        typed (`SuggestQuery`), best first."""
        caller, request = Actor.model_validate(actor), parse(SuggestQuery, query)
        body = queries.suggest_body(request, self._reach(caller))
        return queries.suggestions_of(self._ask_engine(index=indices.read_alias(get_settings().index_prefix), **body))

    def _ask_engine(self, **request) -> dict:
        try:
            return self._client().search(**request).body
        except TransportError as exc:
            raise Unavailable(f"search is unavailable: {type(exc).__name__}") from exc
        except ApiError as exc:
            if exc.status_code == 404:  # no index yet: nothing was ever indexed
                return {"hits": {"total": {"value": 0}, "hits": []}, "aggregations": {}}
            if exc.status_code == 400:  # e.g. a query too long for the engine once analysed
                raise InvalidInput("q: this search cannot be run; shorten or simplify it", field="q") from exc
            if exc.status_code in (429, 503):  # starting, recovering its shards, or overloaded: try again soon
                raise Unavailable(f"search is unavailable: Elasticsearch answered {exc.status_code}") from exc
            raise

    @rpc
    def status(self) -> dict:
        """How many items wait to be indexed (Elasticsearch or an owner away, or an owner not
        listing them yet) and how many were given up (`abandoned`)."""
        with self.db.transaction() as session:
            return {"pending": pending.count(session), "abandoned": len(pending.abandoned(session))}

    @rpc
    def abandoned(self) -> list[dict]:
        """The items given up (`pending.abandoned`): an event named them, their owner never
        listed them. The consistency check reports them."""
        with self.db.transaction() as session:
            return [
                {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}
                for row in pending.abandoned(session)
            ]

    @rpc
    def forget_abandoned(self, uids: list[str]) -> int:
        """Drops the given-up items named (by uid), once the consistency check has reported them;
        returns how many there were. Safe to retry."""
        with self.db.transaction() as session:
            return pending.forget(session, list(uids))
