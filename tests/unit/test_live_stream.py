"""The live notification stream's catch-up, without infrastructure: however much a reader
missed, it is read a page at a time (by id, oldest first) and sent whole, and what a stream
remembers of what it sent stays bounded."""
from __future__ import annotations

import asyncio

from services.gateway.notifications import CATCH_UP_PAGE, REMEMBERED, Sent, _missed, _since


class Reader:
    def model_dump(self, mode: str) -> dict:
        return {"user_id": "E1"}


class Notify:
    """Answers list_notifications(since=...) from `count` notifications, as the notify service pages them."""

    def __init__(self, count: int):
        self.ids, self.asked = list(range(1, count + 1)), []

    def call(self, service: str, method: str, who: dict, query: dict) -> dict:
        assert (service, method) == ("notify", "list_notifications")
        self.asked.append(query)
        after = [i for i in self.ids if i > query["since"]]
        page = after[: query["limit"]]
        return {"items": [{"id": i} for i in page], "next": str(page[-1]) if len(after) > len(page) else None}


def caught_up(notify: Notify, since: int, *, gone: bool = False) -> list[int]:
    async def run():
        left = asyncio.get_running_loop().create_future()
        if gone:
            left.set_result(None)
        first = notify.call("notify", "list_notifications", {}, _since(since, "en"))
        return [item["id"] async for item in _missed(notify, Reader(), first, since=since, lang="en", gone=left)]

    return asyncio.run(run())


def test_a_catch_up_sends_every_missed_notification_in_order_a_page_at_a_time():
    notify = Notify(1000)
    assert caught_up(notify, 30) == list(range(31, 1001))
    assert [q["since"] for q in notify.asked] == [30, 230, 430, 630, 830]
    assert {q["limit"] for q in notify.asked} == {CATCH_UP_PAGE}
    assert {q["language"] for q in notify.asked} == {"en"}  # each page in the language the stream was asked in


def test_a_catch_up_stops_after_its_page_when_the_reader_has_gone():
    notify = Notify(1000)
    assert caught_up(notify, 0, gone=True) == list(range(1, CATCH_UP_PAGE + 1))
    assert len(notify.asked) == 1


def test_a_stream_remembers_a_bounded_number_of_the_ids_it_sent():
    sent = Sent()
    for i in range(1, 10 * REMEMBERED + 1):
        sent.add(i)
        sent.add(i)  # a repeat is remembered once
    assert 10 * REMEMBERED in sent and 9 * REMEMBERED + 1 in sent
    assert 9 * REMEMBERED not in sent and 1 not in sent
    assert len(sent) == REMEMBERED
