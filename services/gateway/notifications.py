"""Notifications over HTTP: the list of the post you act as (and the posts you act for by
delegation), marking them read, your preferences, and a live stream (server-sent events).

The stream holds no thread and no RPC proxy while it waits. Each gateway worker process has
one listener thread (`LiveListener`) consuming a queue of its own bound to notify's fanout
exchange; it hands each new notification to the asyncio queues of that process's open
streams. A stream borrows the RPC pool only for a moment at a time: to catch up from the
database (by id, from `Last-Event-ID`) when it starts and whenever the listener had to
reconnect, a page of `CATCH_UP_PAGE` at a time until nothing is left, each page sent before
the next is asked for (however much was missed, a stream holds one page). Streams end after
`STREAM_SECONDS` so that a handed-over post or a signed-out session stops them; the client
reconnects with `Last-Event-ID` and misses nothing."""
from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import threading
import time
import weakref
from collections.abc import AsyncIterator
from typing import Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse
from kombu import Exchange
from pydantic import BaseModel, Field, StrictInt
from starlette.concurrency import run_in_threadpool

from eoffice.actor import Actor
from eoffice.contracts.notifications import LIVE_EXCHANGE, UNREAD_COUNTED, Notification, Preferences
from services.gateway.auth import actor
from services.gateway.broadcasts import Listener
from services.gateway.models import ANSWER, RequestModel
from services.gateway.pages import Page, PageRequest, page, page_request_or_before

log = logging.getLogger(__name__)
router = APIRouter(prefix="/notifications", tags=["notifications"], dependencies=[Depends(actor)])

STREAM_SECONDS = 300.0  # then the client reconnects (EventSource does so by itself)
HEARTBEAT_SECONDS = 15.0  # a comment line keeps proxies and uvicorn from closing an idle stream
RECONNECT_MS = 2000  # what the stream tells EventSource to wait before reconnecting
QUEUE_SIZE = 500  # per stream; a reader that falls this far behind catches up from the database
RESYNC = object()  # "the listener may have missed messages: catch up from the database"
CATCH_UP_PAGE = 200  # notifications asked for at a time while catching up (the most a page holds)
REMEMBERED = 2 * QUEUE_SIZE  # ids a stream remembers having sent (see `Sent`)
# The texts in the language the client shows (a screen switched to the other language), else the reader's.
Lang = Literal["hi", "en"]
LANG = Query(None, description="the language of the texts, hi or en; without it the language of your preferences")


class NotificationsPage(Page[Notification]):
    unread: int = Field(
        description=f"unread notifications of your posts, of the kinds you chose, counted up to {UNREAD_COUNTED:,}"
    )
    unread_more: bool = Field(
        False, description=f"there are more unread than `unread` says: counting stopped at {UNREAD_COUNTED:,}"
    )


class MarkRead(RequestModel):
    ids: list[StrictInt] | None = Field(None, max_length=500, description="notification ids; none: every unread one")


class Marked(BaseModel):
    marked: int


def _who(who: Actor) -> dict:
    return who.model_dump(mode="json")


@router.get("", response_model=NotificationsPage,
            summary="Notifications of the post you act as and the posts you act for, newest first",
            description="Pages like every list (`cursor`, `next_cursor`). `before` (an id) is the deprecated "
                        "way it paged before cursors, still taken for one release: use `cursor`.")
def list_notifications(request: Request, *, who: Actor = Depends(actor), unread: bool | None = None,
                       lang: Lang | None = LANG, at: PageRequest = Depends(page_request_or_before)):
    return page(request.app.state.rpc.call("notify", "list_notifications", _who(who),
                                           {"unread": unread, "language": lang, **at.model_dump()}))


@router.post("/read", response_model=Marked, summary="Mark notifications read (those named, or all); safe to repeat")
def mark_read(request: Request, body: MarkRead, who: Actor = Depends(actor)):
    return request.app.state.rpc.call("notify", "mark_read", _who(who), body.ids)


class PreferencesOut(Preferences):
    model_config = ANSWER


@router.get("/preferences", response_model=PreferencesOut, summary="Your notification preferences")
def get_preferences(request: Request, who: Actor = Depends(actor)):
    return request.app.state.rpc.call("notify", "get_preferences", _who(who))


@router.put("/preferences", response_model=PreferencesOut,
            summary="Set which kinds reach you, by which channels, a daily digest, quiet hours, language")
def set_preferences(request: Request, body: Preferences, who: Actor = Depends(actor)):
    return request.app.state.rpc.call("notify", "set_preferences", _who(who), body.model_dump(mode="json"))


@router.get("/stream", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}},
                             "description": "server-sent events: `notification` events whose id is the "
                                            "notification's; reconnect with Last-Event-ID to miss nothing"}},
            summary="A live stream of new notifications (server-sent events), resumable with Last-Event-ID")
async def stream(request: Request, *, who: Actor = Depends(actor), lang: Lang | None = LANG,
                 last_event_id: str | None = Header(None, alias="Last-Event-ID", max_length=20,
                                                    pattern=r"^[0-9]+$")):
    listener = _listener(request.app)
    last_id = int(last_event_id) if last_event_id else None
    # Subscribed first, then caught up: nothing committed in between is missed (a notification
    # in both is sent once, by id). Asked before the answer starts, so that a refusal or an
    # unavailable notify service is a proper problem answer, not a broken stream.
    queue = listener.subscribe()
    try:
        asked = _since(last_id, lang) if last_id is not None else {"limit": 1, "language": lang}
        first = await run_in_threadpool(request.app.state.rpc.call, "notify", "list_notifications", _who(who), asked)
    except BaseException:
        listener.unsubscribe(queue)
        raise
    return StreamingResponse(_events(request, listener, queue, who=who, first=first, last_id=last_id, lang=lang),
                             media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def _since(last_id: int, lang: str | None) -> dict:
    """The query for a page of the notifications after `last_id`, oldest first, in `lang`."""
    return {"since": last_id, "limit": CATCH_UP_PAGE, "language": lang}


def _event(shown: dict) -> str:
    return f"id: {shown['id']}\nevent: notification\ndata: {json.dumps(shown, ensure_ascii=False, default=str)}\n\n"


async def _events(request: Request, listener: LiveListener, queue: asyncio.Queue, *, who: Actor, first: dict,
                  last_id: int | None, lang: str | None):
    rpc = request.app.state.rpc
    waiting = None
    # A client that goes away is noticed at once, not at the next write: the stream ends (a
    # catch-up after the page it is at) and a gunicorn worker that is shutting down is not held
    # up by it.
    gone = asyncio.ensure_future(_disconnected(request))
    try:
        posts, kinds, language, live = set(first["posts"]), set(first["kinds"]), first["language"], first["live"]
        sent = Sent()
        yield f"retry: {RECONNECT_MS}\n\n"
        if last_id is None:
            last_id = max((item["id"] for item in first["items"]), default=0)
        else:
            async for item in _missed(rpc, who, first, since=last_id, lang=lang, gone=gone):
                sent.add(item["id"])
                last_id = max(last_id, item["id"])
                yield _event(item)
        ends = time.monotonic() + STREAM_SECONDS
        while time.monotonic() < ends and not gone.done():
            waiting = waiting or asyncio.ensure_future(queue.get())
            done, _ = await asyncio.wait({waiting, gone}, timeout=HEARTBEAT_SECONDS,
                                         return_when=asyncio.FIRST_COMPLETED)
            if gone in done:
                return
            if waiting not in done:
                yield ": keep-alive\n\n"
                continue
            message, waiting = waiting.result(), None
            if not live:  # in-app pop-ups turned off: the stream stays open, silent
                continue
            if message is RESYNC:
                async for item in _missed(rpc, who, None, since=last_id, lang=lang, gone=gone):
                    if item["id"] not in sent:
                        sent.add(item["id"])
                        last_id = max(last_id, item["id"])
                        yield _event(item)
            elif message["post_code"] in posts and message["kind"] in kinds and message["id"] not in sent:
                sent.add(message["id"])
                last_id = max(last_id, message["id"])
                yield _event({**message, "text": message["text"].get(language, message["text"]["en"])})
    finally:
        listener.unsubscribe(queue)
        for task in (gone, waiting):
            if task is not None:
                task.cancel()


async def _missed(rpc, who: Actor, page: dict | None, *, since: int, lang: str | None,
                  gone: asyncio.Future) -> AsyncIterator[dict]:
    """Every notification of the reader after the id `since`, oldest first, in `lang`: `page` (the first
    page, when already asked for), then a page at a time (the shared keyset paging, by id) until
    the last. Stops after the page it is at when the client has gone."""
    while True:
        if page is None:
            page = await run_in_threadpool(rpc.call, "notify", "list_notifications", _who(who), _since(since, lang))
        for item in page["items"]:
            yield item
        if not page["next"] or gone.done():
            return
        since, page = int(page["next"]), None


class Sent:
    """The ids of the last `size` notifications a stream sent, so that a live message repeating
    one that a catch-up already sent is not sent twice. Bounded, however much a stream catches up:
    a live message can repeat only a notification committed about when the stream subscribed or
    later, which a catch-up sends at its end, behind at most the `QUEUE_SIZE` others queued
    meanwhile (more, and the queue gives way to a RESYNC). Should one be forgotten all the same,
    the reader gets it twice, never not at all."""

    def __init__(self, size: int = REMEMBERED):
        self._ids: set[int] = set()
        self._order: collections.deque[int] = collections.deque()
        self._size = size

    def __contains__(self, notification_id: int) -> bool:
        return notification_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, notification_id: int) -> None:
        if notification_id in self._ids:
            return
        self._ids.add(notification_id)
        self._order.append(notification_id)
        if len(self._order) > self._size:
            self._ids.discard(self._order.popleft())


async def _disconnected(request: Request) -> None:
    """Returns when the client has closed the connection (the request has no body to read)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _listener(app) -> LiveListener:
    # Started on the first stream, in the worker process (after gunicorn forked).
    with _START:
        if getattr(app.state, "live", None) is None:
            app.state.live = LiveListener(app.state.settings.amqp_uri)
    return app.state.live


_START = threading.Lock()


class LiveListener:
    """One thread per gateway worker process: consumes a server-named, exclusive queue bound to
    notify's live exchange and hands each message to every open stream of the process (they
    filter by post). After a broker outage it reconnects and tells every stream to catch up."""

    def __init__(self, amqp_uri: str):
        # Weak: a stream whose generator never ran (its client left first) is simply forgotten.
        self._streams: weakref.WeakKeyDictionary[asyncio.Queue, asyncio.AbstractEventLoop] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()
        self._listener = Listener(amqp_uri, "live notifications",
                                  bindings=[(Exchange(LIVE_EXCHANGE, type="fanout", durable=True), None)],
                                  on_message=self._hand_out,
                                  on_connect=lambda: self._hand_out(RESYNC))  # anything published while not listening

    def subscribe(self) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(maxsize=QUEUE_SIZE)
        with self._lock:
            self._streams[queue] = asyncio.get_running_loop()
        return queue

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        with self._lock:
            self._streams.pop(queue, None)

    def _hand_out(self, message) -> None:
        with self._lock:
            streams = list(self._streams.items())
        for queue, loop in streams:
            with contextlib.suppress(RuntimeError):  # that stream's loop has closed
                loop.call_soon_threadsafe(_offer, queue, message)


def _offer(queue: asyncio.Queue, message) -> None:
    try:
        queue.put_nowait(message)
    except asyncio.QueueFull:  # a slow reader: drop what waits and let it catch up from the database
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(RESYNC)
