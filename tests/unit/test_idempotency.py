"""Idempotency keys without infrastructure: whose scope a key falls in, when two requests are
the same, that a stored answer replays as it was first given, and how refusals are logged."""
from __future__ import annotations

import logging
import logging.config
import sys
import threading
from datetime import UTC, date, datetime
from types import SimpleNamespace

import yaml
from nameko.events import EventHandler
from nameko.rpc import Rpc

from eoffice.actor import Actor
from eoffice.errors import InvalidInput, NotFound, ObjectCorrupted
from eoffice.idempotency import as_stored, fingerprint, replayed, scope_of
from eoffice.logs import RefusalsAreNotFaults, RequestLogging
from services.dak.schemas import Correct, ScanRef

LKO = Actor(user_id="UP100001", post_id="DAKCLK-LKO", office_id="LKO-DAK", roles={"dak_clerk"})
SPR = Actor(user_id="UP200001", post_id="DAKCLK-SPR", office_id="SPR-DAK", roles={"dak_clerk"})


def test_a_key_is_scoped_to_the_user_the_post_and_the_operation():
    key = "4f1c2a0e-retry-me"
    assert scope_of(LKO, "dak.diarise", key) == scope_of(LKO, "dak.diarise", key)
    assert scope_of(LKO, "dak.diarise", key) != scope_of(SPR, "dak.diarise", key)
    other_post = LKO.model_copy(update={"post_id": "DAKCLK2-LKO"})
    assert scope_of(LKO, "dak.diarise", key) != scope_of(other_post, "dak.diarise", key)
    assert scope_of(LKO, "dak.diarise", key) != scope_of(LKO, "dak.send", key)


def test_parts_of_a_scope_cannot_run_into_each_other():
    # "a" + "b:c" and "a:b" + "c" are different callers, not the same string.
    assert (scope_of(Actor(user_id="a", post_id="b:c"), "op", "k")
            != scope_of(Actor(user_id="a:b", post_id="c"), "op", "k"))


def test_the_same_request_has_the_same_fingerprint_in_any_field_order():
    assert fingerprint({"subject": "भूमि", "received_date": date(2026, 3, 1)}) == \
        fingerprint({"received_date": "2026-03-01", "subject": "भूमि"})
    assert fingerprint(["R-1", {"to_post": "DM-LKO"}]) != fingerprint(["R-2", {"to_post": "DM-LKO"}])
    assert fingerprint({"to_post": "DM-LKO"}) != fingerprint({"to_post": "DM-SPR"})


def test_an_upload_counts_by_its_content_not_where_it_was_stored():
    scan = dict(filename="letter.pdf", content_type="application/pdf", size=10, pages=1, sha256="a" * 64)
    first = ScanRef(object_name="scans/upload-1/1", **scan)
    retry = ScanRef(object_name="scans/upload-2/1", **scan)
    other = ScanRef(object_name="scans/upload-3/1", **{**scan, "sha256": "b" * 64})
    assert fingerprint([first]) == fingerprint([retry]) != fingerprint([other])


def test_a_field_sent_as_null_and_one_left_out_are_different_requests():
    clear = Correct.model_validate({"letter_date": None, "reason": "no date on the letter"})
    nothing = Correct.model_validate({"reason": "no date on the letter"})
    assert fingerprint(clear) != fingerprint(nothing)


def test_a_stored_answer_replays_as_the_first_answer_was_given():
    answer = {"id": "R-1", "diary_number": "7/2026/LKO-DAK", "received_date": date(2026, 3, 1),
              "diarised_at": datetime(2026, 3, 1, 10, 15, tzinfo=UTC), "scans": [], "vip": False}
    assert replayed(as_stored(answer)) == answer


def _record(entrypoint, exc: Exception) -> logging.LogRecord:
    worker_ctx = SimpleNamespace(entrypoint=entrypoint)
    try:
        raise exc
    except Exception:
        return logging.LogRecord("nameko.containers", logging.ERROR, __file__, 1, "error handling worker %s: %s",
                                 (worker_ctx, exc), sys.exc_info())


def test_a_refused_rpc_loses_nameko_traceback_and_a_fault_keeps_it():
    keep = RefusalsAreNotFaults().filter
    assert not keep(_record(Rpc(), InvalidInput("due_date is in the past", field="due_date")))
    assert not keep(_record(Rpc(), NotFound("no receipt R-1")))
    assert keep(_record(Rpc(), KeyError("holder_post")))
    assert keep(_record(Rpc(), ObjectCorrupted("scan 1 does not match its hash")))
    # An event handler that raises has failed, whatever it raised: it is retried.
    assert keep(_record(EventHandler("dak", "eoffice.receipt.put-in-file.v1"), NotFound("no file F-1")))


def test_a_services_log_line_does_not_look_up_its_thread(monkeypatch):
    """Every call of a service logs a line. Under eventlet, naming the thread of a record went
    through every thread (`current_thread()` does not know a worker's green thread): 8% of the
    profile's samples in a worker taking events it had nothing to do for. No format prints it; a service's container
    turns it off, with the caller's file and line, when it starts."""
    for switch in ("logThreads", "logMultiprocessing", "_srcfile"):
        monkeypatch.setattr(logging, switch, getattr(logging, switch))  # put back after the test

    def looked_up():
        raise AssertionError("a log record looked up its thread")

    RequestLogging().setup()  # as each service's container does
    monkeypatch.setattr(threading, "current_thread", looked_up)
    record = logging.getLogger("eoffice.calls").makeRecord(
        "eoffice.calls", logging.INFO, __file__, 1, "files.send ok in %d ms", (3,), None
    )
    assert record.getMessage() == "files.send ok in 3 ms"
    assert (record.threadName, record.processName) == (None, None)


def test_a_typed_line_break_cannot_forge_a_log_line_of_its_own():
    """A value someone typed (an addressee's e-mail with "\r\nBcc: ..." in it) is escaped in the
    line that names it, in the services' format (deploy/nameko.yaml) and the gateway's; a
    traceback still follows on lines of its own, and Hindi stays as written."""
    with open("deploy/nameko.yaml") as config:
        formatter = yaml.safe_load(config)["LOGGING"]["formatters"]["plain"]
    made = logging.config.DictConfigurator({})
    formatters = [made.configure_formatter(dict(formatter)), *gateway_formatters()]
    try:
        raise ValueError("the store is away")
    except ValueError:
        failure = sys.exc_info()
    for line_format in formatters:
        record = logging.getLogger("eoffice.calls").makeRecord(
            "notify", logging.WARNING, __file__, 1, "letter %s to %s failed: %s",
            ("D-1/2026", "bad\r\nBcc: evil@example.org\x1b[2J", "पत्र"), failure,
        )
        record.request_id = "-"
        first, *traceback = line_format.format(record).split("\n")
        assert first.endswith("letter D-1/2026 to bad\\r\\nBcc: evil@example.org\\x1b[2J failed: पत्र")
        assert traceback[0] == "Traceback (most recent call last):" and traceback[-1].startswith("ValueError")


def gateway_formatters() -> list[logging.Formatter]:
    """The formatters of the root logger's handlers the gateway's app module set up."""
    from services.gateway import app  # sets up logging when imported

    ours = app.RequestIdLogFilter
    handlers = [h for h in logging.getLogger().handlers if any(isinstance(f, ours) for f in h.filters)]
    assert handlers
    return [handler.formatter for handler in handlers]
