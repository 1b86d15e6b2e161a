"""The contract of the document intake: what a step receives, what it may refuse and how, and
what it returns. Modelled on paperless-ngx's consume plugins (`documents/plugins/base.py`),
with the words SHALL / MAY as in RFC 2119.

A step
- SHALL receive one `Document`: the file's name as it will be recorded, its bytes (never more
  than `max_bytes` of them: whoever reads the upload stops there), its whole `size`, the limits
  that apply, and the facts earlier steps found (`content_type`, `pages`, `text_layer`, the
  e-mail's `summary` and `attachments`).
- SHALL say with `applies(document)` whether it has work on this document (a PDF check skips
  an image); the runner calls `check` only then.
- SHALL refuse a document by raising the `InvalidInput` that `refuse(document, why)` builds:
  its detail begins with the file's name and its field is that name, so the clerk sees which
  file and what to do with it. A refusal stops the intake: later steps do not run. A step
  SHALL NOT raise anything else for bad input; a bug or an outage raises what it raises.
- SHALL return the document, changed only through `dataclasses.replace` by adding what it
  found; it SHALL NOT undo an earlier step's finding, and keeps no state between documents.
- SHALL set `heavy = True` if it may hold the CPU for long (parsing, decoding): the runner
  then hands it to the `offload` it was given. Waiting on a subprocess is not heavy under
  eventlet (the subprocess module is green there).

The runner (`run`) calls the applicable steps in order and returns the last document. Without
an `offload` every step runs in the caller's thread (unit tests, scripts); a service passes
`in_threads()` (see there why a thread pool and not a process pool) and bounds the whole
intake of a request with `within` (EOFFICE_INTAKE_TIMEOUT).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Protocol, TypeVar

from eoffice.errors import InvalidInput

MIB = 1 << 20
DEFAULT_MAX_PAGES = 500

T = TypeVar("T")


@dataclass(frozen=True)
class EmailSummary:
    from_name: str
    from_address: str
    subject: str
    date: datetime | None
    body_text: str


@dataclass(frozen=True)
class Document:
    """An uploaded file on its way through the intake, with what the steps found so far."""

    filename: str
    data: bytes = field(repr=False)  # the first `max_bytes` bytes at most
    size: int  # of the whole upload, however much of it was read
    max_bytes: int
    max_pages: int = DEFAULT_MAX_PAGES
    content_type: str | None = None  # sniffed from the bytes, never trusted from the client
    looks_like: str | None = None  # what an unsupported file seems to be, to say so
    pages: int = 0
    text_layer: bool = False  # a PDF whose every page already has real text; images False
    summary: EmailSummary | None = None  # an e-mail's sender, subject, date and text
    attachments: tuple[tuple[str, bytes], ...] = field(default=(), repr=False)  # an e-mail's files


class Readable(Protocol):
    """What `read` needs of a stream: a file, a BytesIO, or the store's `VerifiedReader` (a raw
    stream, whose `read` may answer None)."""

    def read(self, size: int = -1, /) -> bytes | None: ...

    def seek(self, offset: int, whence: int = 0, /) -> int: ...


def read(
    stream: Readable, filename: str, *, max_bytes: int, max_pages: int = DEFAULT_MAX_PAGES, size: int | None = None
) -> Document:
    """The document to run the intake on: at most `max_bytes` of the stream are read (what is
    over the limit is refused by its `size`, without reading it). `size` is the stream's own
    unless given (a stored object's, known before reading it)."""
    if size is None:
        size = stream.seek(0, 2)
        stream.seek(0)
    data = bytearray()
    while size <= max_bytes and len(data) <= max_bytes:  # read() may return less than asked
        chunk = stream.read(max_bytes + 1 - len(data))
        if not chunk:
            break
        data += chunk
    return Document(
        filename=filename,
        data=bytes(data[:max_bytes]),
        size=max(size, len(data)),
        max_bytes=max_bytes,
        max_pages=max_pages,
    )


class Step:
    """One check or reading of the intake; see the module's contract."""

    heavy: bool = False

    def applies(self, document: Document) -> bool:
        return True

    def check(self, document: Document) -> Document:
        raise NotImplementedError


def refuse(document: Document | str, why: str) -> InvalidInput:
    """The refusal of a step: names the file first, and as the field."""
    filename = document if isinstance(document, str) else document.filename
    return InvalidInput(f"{filename} {why}", field=filename)


def damaged(document: Document, kind: str) -> InvalidInput:
    return refuse(document, f"is a damaged or incomplete {kind} file; scan or save it again")


def size_text(n: int) -> str:
    """A size as a clerk reads it, rounded up so that an over-limit file never looks within it."""
    unit, name = (MIB, "MiB") if n >= MIB else (1024, "KiB")
    return f"{math.ceil(n * 10 / unit) / 10:g} {name}"


Offload = Callable[[Callable[[], T], Document], T]


def in_caller(work: Callable[[], T], document: Document) -> T:
    return work()


def run(document: Document, steps: Sequence[Step], *, offload: Offload = in_caller) -> Document:
    """Runs each step that applies, in order; returns the document with all they found.
    Raises the first refusal (InvalidInput naming the file)."""
    for step in steps:
        if step.applies(document):
            check = partial(step.check, document)  # bound now: the offload may call it after the loop moved on
            document = offload(check, document) if step.heavy else check()
    return document


def in_threads() -> Offload:
    """An offload for a nameko (eventlet) service: each heavy step runs in eventlet's pool of
    native threads (`eventlet.tpool`), so the hub keeps serving other workers, RPC replies and
    heartbeats meanwhile (the GIL is handed over every few milliseconds).

    Why threads and not a process pool: the steps' work is bounded by the limits they check
    (pixels, unpacked bytes, pages, pdftotext's own timeout), so a step never runs away and
    need not be killable; a thread shares the bytes without copying them, starts at once, and
    needs no fork of a monkey-patched process. The wait for the thread is green, so `within`
    bounds it; a step past the deadline finishes in its thread and its answer is dropped."""

    def offload(work: Callable[[], T], document: Document) -> T:
        from eventlet import tpool

        return tpool.execute(work)

    return offload


@contextmanager
def within(seconds: float, budget: float, document: Document) -> Iterator[None]:
    """Refuses the document (InvalidInput naming it) if what runs inside takes over `seconds`,
    the rest of a request's `budget`. Under eventlet only, where waits are green: the thread
    of a heavy step and pdftotext (which subprocess.run then kills) are waited for greenly."""
    import eventlet

    try:
        with eventlet.Timeout(max(seconds, 0.001)):
            yield
    except eventlet.Timeout:
        raise refuse(document, f"takes over {budget:.0f} s to check; it cannot be accepted") from None
