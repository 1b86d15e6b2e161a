"""Entry points of the search service: it keeps the search indices from dak's and files'
events (nothing else writes them) and answers searches and suggestions for the gateway.

Indexing: an event names a receipt or a file; the handler records it as pending (in the same
transaction as its inbox mark) and indexes it at once from the owning service's current record
(`search_records`); if Elasticsearch or that service is away, the item stays pending and the
catch-up timer indexes it when they are back. Hand-overs and delegations change nothing in the
index: items are held by posts, and a search filters on the posts the caller acts for now."""

from __future__ import annotations

import logging
import time
from datetime import datetime

from elasticsearch import ApiError, Elasticsearch, TransportError
from nameko.rpc import RpcProxy
from nameko.timer import timer

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
from services.search import indexer, indices, models, pending, queries

log = logging.getLogger(__name__)
CATCH_UP_BATCH = 200
REACH_TTL = 60.0  # seconds a supervisor's offices are remembered (the organisation rarely changes)


def items_named(envelope: Envelope) -> tuple[str, list[str]]:
    """The kind and ids of the items an event of dak or files is about."""
    data = envelope.data
    if "receipt_ids" in data:
        return "receipt", list(data["receipt_ids"])
    if "letter_id" in data and "file_id" in data:  # wait for files to add it (see _index)
        return "letter", [f"{data['file_id']}:{data['letter_id']}"]
    if "receipt_id" in data:
        return "receipt", [data["receipt_id"], *data.get("copies", [])]
    if "file_id" in data:
        return "file", [data["file_id"]]
    return "", []


class SearchService(ServiceBase):
    name = "search"
    db = Database()
    outbox = Outbox(models.outbox)
    dak = RpcProxy("dak")
    files = RpcProxy("files")
    directory = RpcProxy("directory")
    peers = ("dak", "files", "directory")
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
        kind, ids = items_named(envelope)
        if not ids:
            return
        started = time.time()
        with self.db.transaction() as session:
            asked_at = pending.note(session, kind, ids)
        self._index(kind, ids, asked_at=asked_at)
        log.debug(
            "%s: delivered after %.3fs, indexed in %.3fs",
            envelope.type,
            started - envelope.time.timestamp(),
            time.time() - started,
        )

    def _index(self, kind: str, ids: list[str], *, asked_at: datetime | None = None) -> bool:
        """Indexes the items from their owner's records now; True if done. On failure they stay
        pending (logged), for the catch-up timer. `asked_at`: a database time at or after the
        items were noted (now, by default)."""
        if asked_at is None:
            with self.db.transaction() as session:
                asked_at = pending.clock(session)
        # The database's clock, not this process's: with search on several machines, one whose
        # clock runs ahead must not outvote a later write from another (indexer.version_at).
        version = indexer.version_at(asked_at)
        prefix = get_settings().index_prefix
        try:
            client = shared_client()
            self._ensure_indices(client, prefix)
            if kind == "receipt":
                records = call_with_timeout(self.dak.search_records, ids)
                indexer.sync_receipts(client, prefix, ids=ids, records=records, version=version)
            elif kind == "letter":
                # The issuing event reaches files and search in either order: a letter files has
                # not added yet stays pending (catch-up asks again) instead of being lost.
                file_ids = list(dict.fromkeys(item.split(":", 1)[0] for item in ids))
                records = call_with_timeout(self.files.search_records, file_ids)
                indexer.sync_files(client, prefix, ids=file_ids, records=records, version=version)
                added = {f"{r['id']}:{letter['letter_id']}" for r in records for letter in r.get("letters", [])}
                if waiting := [item for item in ids if item not in added]:
                    self._wait_for_owner(kind, waiting, owner="files")
                    ids = [item for item in ids if item in added]
            else:
                records = call_with_timeout(self.files.search_records, ids)
                indexer.sync_files(client, prefix, ids=ids, records=records, version=version)
        except Exception as exc:
            log.warning("indexing %d %s(s) failed, kept pending: %s: %s", len(ids), kind, type(exc).__name__, exc)
            with self.db.transaction() as session:
                pending.failed(session, kind, ids, error=f"{type(exc).__name__}: {exc}")
            return False
        with self.db.transaction() as session:
            pending.done(session, kind, ids, asked_at=asked_at)
        return True

    def _wait_for_owner(self, kind: str, ids: list[str], *, owner: str) -> None:
        """Items an event named that their owner does not list (yet): tried again with backoff,
        and given up, logged, once the owner has answered without them for
        EOFFICE_SEARCH_GIVE_UP_AFTER seconds (`pending.failed`)."""
        give_up_after = get_settings().search_give_up_after
        with self.db.transaction() as session:
            given_up = pending.failed(
                session, kind, ids, error=f"{owner} does not list it", give_up_after=give_up_after
            )
        for item in given_up:
            log.error(
                "gave up indexing %s %s: an event named it, but %s has answered without it for over %.0fs; "
                "reported by `python -m services.search.rebuild --check` (docs/search.md)",
                kind,
                item,
                owner,
                give_up_after,
            )

    _ensured: set[str] = set()

    def _ensure_indices(self, client: Elasticsearch, prefix: str) -> None:
        # Once per process: Elasticsearch may be away when the service starts.
        if prefix not in self._ensured:
            indices.ensure(client, prefix)
            if old := indices.outdated(client, prefix):
                log.warning(
                    "%s: made with an older mapping than version %d (highlights cost more); "
                    "`python -m services.search.rebuild --if-outdated` replaces them",
                    ", ".join(old),
                    indices.MAPPING_VERSION,
                )
            self._ensured.add(prefix)

    @timer(interval=2)
    def catch_up(self) -> None:
        """Indexes what is still pending (Elasticsearch or an owner was away), oldest first."""
        with self.db.transaction() as session:
            waiting = pending.oldest(session, CATCH_UP_BATCH)
        for kind, ids in waiting.items():
            self._index(kind, ids)

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
