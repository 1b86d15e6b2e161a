"""The intake pipeline (eoffice.intake): its contract (steps in order, skipped when they do not
apply, the first refusal stops it, heavy steps offloaded), heavy steps in eventlet's thread
pool leaving the hub free and refused past their deadline, and what dak and files do with a
stored upload: checked, recorded, or refused and removed."""
from __future__ import annotations

import hashlib
import io
import time
from contextlib import contextmanager
from dataclasses import replace

import eventlet
import pytest

from eoffice.contracts.common import Upload
from eoffice.errors import InvalidInput, NotFound
from eoffice.intake import Document, Step, in_threads, read, run
from eoffice.intake.stored import StoredIntake
from eoffice.storage import StoredObject
from services.dak import intake as dak_intake
from services.files import intake as files_intake
from tests.support import scans

MIB = 1 << 20


class Noting(Step):
    """Adds its name to the document's filename, so the order of steps shows."""
    def __init__(self, name: str, heavy: bool = False, only: str | None = None):
        self.name, self.heavy, self.only = name, heavy, only

    def applies(self, document: Document) -> bool:
        return self.only is None or document.content_type == self.only

    def check(self, document: Document) -> Document:
        return replace(document, filename=f"{document.filename}+{self.name}")


class Refusing(Step):
    def check(self, document: Document) -> Document:
        raise InvalidInput(f"{document.filename} is refused", field=document.filename)


def document(data: bytes = b"x", **changes) -> Document:
    return replace(read(io.BytesIO(data), "a.pdf", max_bytes=MIB), **changes)


def test_steps_run_in_order_those_that_apply_only_and_heavy_ones_offloaded():
    offloaded = []

    def offload(work, doc):
        offloaded.append(doc.filename)
        return work()
    done = run(document(content_type="image/png"), [Noting("1"), Noting("pdf", only="application/pdf"),
                                                    Noting("2", heavy=True), Noting("3")], offload=offload)
    assert done.filename == "a.pdf+1+2+3" and offloaded == ["a.pdf+1"]


def test_the_first_refusal_stops_the_intake():
    with pytest.raises(InvalidInput) as refused:
        run(document(), [Noting("1"), Refusing(), Noting("never")])
    assert refused.value.detail == "a.pdf+1 is refused"


def test_reading_stops_at_the_limit():
    over = read(io.BytesIO(bytes(3 * MIB)), "big.pdf", max_bytes=MIB)
    assert (over.size, len(over.data)) == (3 * MIB, 0)  # refused by its size, never read
    within = read(io.BytesIO(bytes(MIB)), "ok.pdf", max_bytes=MIB)
    assert (within.size, len(within.data)) == (MIB, MIB)


class Slow(Step):
    heavy = True

    def __init__(self, seconds: float):
        self.seconds = seconds

    def check(self, document: Document) -> Document:
        time.sleep(self.seconds)  # a native thread's sleep: as CPU work, it holds its thread
        return replace(document, pages=7)


def test_heavy_steps_leave_the_hub_free():
    ticks = []

    def ticker():
        while True:
            ticks.append(1)
            eventlet.sleep(0.01)
    beat = eventlet.spawn(ticker)
    try:
        assert run(document(), [Slow(0.5)], offload=in_threads()).pages == 7
    finally:
        beat.kill()
    assert len(ticks) >= 20  # the hub ran other green threads all along


def test_checks_past_the_requests_deadline_are_refused_naming_the_file():
    intake = StoredIntake(FakeStore(), max_bytes=MIB, offload=in_threads(), timeout=1.5)
    assert intake.check("first.pdf", b"x", [Slow(1)]).pages == 7  # within the budget
    started = time.monotonic()
    with pytest.raises(InvalidInput) as refused:
        intake.check("second.pdf", b"x", [Slow(3)])  # half a second left of it
    assert time.monotonic() - started < 1
    assert refused.value.detail == "second.pdf takes over 2 s to check; it cannot be accepted"
    assert refused.value.fields == {"field": "second.pdf"}


# --- what the services do with a stored upload

class FakeStore:
    """Our DocumentStore's interface, in memory."""
    def __init__(self):
        self.objects: dict[str, bytes] = {}

    def put(self, stream, *, name: str, content_type: str = "") -> StoredObject:
        data = stream.read()
        self.objects[name] = data
        return StoredObject(sha256=hashlib.sha256(data).hexdigest(), size=len(data), bucket="b", name=name)

    @contextmanager
    def open(self, name: str, *, sha256: str):
        if name not in self.objects:
            raise NotFound(f"no document {name}")
        yield io.BytesIO(self.objects[name])

    def remove(self, name: str) -> None:
        self.objects.pop(name, None)


def stored(store: FakeStore, name: str, filename: str, data: bytes) -> Upload:
    done = store.put(io.BytesIO(data), name=name)
    return Upload(filename=filename, object_name=name, sha256=done.sha256, size=done.size)


@pytest.fixture(scope="module")
def page() -> bytes:
    return scans.as_bytes(scans.letter_image(["short"]), "PNG")


def test_dak_checks_every_upload_and_removes_them_all_if_one_is_refused(page):
    store = FakeStore()
    intake = StoredIntake(store, max_bytes=MIB)
    good, bad = stored(store, "scans/u/1", "ok.png", page), stored(store, "scans/u/2", "bad.png", b"\x89PNG\r\n")
    with pytest.raises(InvalidInput) as refused:
        dak_intake.diarised_with_scans(intake, [good, bad], lambda documents: pytest.fail("diarised"))
    assert refused.value.fields == {"field": "bad.png"} and store.objects == {}

    good = stored(store, "scans/v/1", "ok.png", page)
    receipt = dak_intake.diarised_with_scans(intake, [good], lambda documents: {"scans": [
        d.model_dump() for d in documents]})
    assert [(s["content_type"], s["pages"]) for s in receipt["scans"]] == [("image/png", 1)]
    assert list(store.objects) == ["scans/v/1"]


def test_dak_reads_an_email_into_the_letter_and_stores_its_checked_attachments(page):
    store = FakeStore()
    intake = StoredIntake(store, max_bytes=MIB)
    mail = stored(store, "scans/m/1", "m.eml", scans.eml("Pond", "Sunita <s@example.in>", "see", [
        ("a.png", "image/png", page)]))
    receipt = dak_intake.diarised_from_email(intake, mail, given={"subject": "Village pond"},
                                             diarise=lambda letter, documents: {
        "letter": letter, "documents": documents, "scans": [d.model_dump() for d in documents]})
    letter, documents = receipt["letter"], receipt["documents"]
    assert (letter.subject, letter.sender_email, letter.mode) == ("Village pond", "s@example.in", "email")
    assert [(d.filename, d.content_type, d.object_name) for d in documents] == [
        ("m.eml", "message/rfc822", "scans/m/1"), ("a.png", "image/png", "scans/m/2")]
    assert store.objects["scans/m/2"] == page

    broken = stored(store, "scans/n/1", "n.eml", scans.eml("x", "a@b.in", "y", [("cut.png", "image/png",
                                                                                  b"\x89PNG\r\n")]))
    with pytest.raises(InvalidInput) as refused:
        dak_intake.diarised_from_email(intake, broken, given={}, diarise=lambda *a: pytest.fail("diarised"))
    assert refused.value.fields == {"field": "cut.png"}
    assert not [name for name in store.objects if name.startswith("scans/n/")]


def test_files_records_a_checked_upload_and_never_touches_another_services(page):
    store = FakeStore()
    intake = StoredIntake(store, max_bytes=MIB)
    upload = stored(store, "files/f/1", "order.png", page)
    item = files_intake.recorded_with(intake, upload, record=lambda doc: {**doc.model_dump(), "id": 1})
    assert (item["content_type"], item["pages"], item["object_name"]) == ("image/png", 1, "files/f/1")
    theirs = stored(store, "scans/r/1", "x.png", b"not an image")
    with pytest.raises(InvalidInput):
        files_intake.recorded_with(intake, theirs, record=lambda doc: pytest.fail("recorded"))
    assert "scans/r/1" in store.objects  # refused without being read, and left alone
