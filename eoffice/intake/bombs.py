"""Step: refusing files built to exhaust a reader (bombs), and images that do not decode.

- Every image frame is decoded (JPEG at 1/8 scale, which still reads all of it; PNG checked by
  its checksums), so that a truncated file is refused now rather than shown broken later; each
  is at most MAX_PIXELS (`formats`).
- MAX_SIDE_PT, 14 400 pt (200 in, 5080 mm) per PDF page side: Acrobat's own limit; bigger pages
  exist only to make rasterising explode.
- Page content (content streams and form XObjects, counted for each page that draws them, as a
  reader must unpack them) at most MAX_UNPACKED, 256 MiB in total, and at most UNPACK_RATIO (100)
  times the file's size, though always up to UNPACK_FLOOR (16 MiB): text PDFs unpack 3-10x, a
  Flate bomb ~1000x. Flate is unpacked a chunk at a time and only counted, so a 1 GiB bomb is
  refused in a fraction of a second in a few MiB. Images in a PDF are not unpacked (a scan's page
  images legitimately unpack to gigabytes): their declared size, within MAX_PIXELS, bounds any
  decoder."""

from __future__ import annotations

import zlib
from collections.abc import Iterator

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

from eoffice.intake.base import MIB, Document, Step, refuse, size_text
from eoffice.intake.formats import MAX_PIXELS, frames, image, page_size_pt, pdf, too_many_pixels

MAX_SIDE_PT = 14_400
MAX_UNPACKED = 256 * MIB
UNPACK_RATIO = 100
UNPACK_FLOOR = 16 * MIB
UNPACK_CHUNK = MIB


class BombCheck(Step):
    """Refuses oversized pages and images, overloading page content, and images that do not
    decode; finds nothing new."""

    heavy = True

    def check(self, document: Document) -> Document:
        if document.content_type == "application/pdf":
            with pdf(document) as reader:
                _check_pages(
                    reader, document, limit=min(MAX_UNPACKED, max(UNPACK_FLOOR, UNPACK_RATIO * len(document.data)))
                )
        else:
            _decode_frames(document)
        return document


def _decode_frames(document: Document) -> None:
    with image(document) as opened:
        fmt = opened.format
        for frame in range(frames(opened)):
            opened.seek(frame)
            width, height = opened.size
            if width * height > MAX_PIXELS:
                raise too_many_pixels(document, width, height)
            if fmt == "PNG":
                opened.verify()
            else:
                if fmt == "JPEG":
                    opened.draft("L", (max(1, width // 8), max(1, height // 8)))
                opened.load()


def _check_pages(reader: PdfReader, document: Document, limit: int) -> None:
    sizes: dict[int, int] = {}  # unpacked size by stream, for streams drawn on several pages
    total = 0
    for number, page in enumerate(reader.pages, 1):
        width, height = page_size_pt(page)
        if max(width, height) > MAX_SIDE_PT:
            raise refuse(
                document,
                f"has a page {width / 72 * 25.4:.0f} x {height / 72 * 25.4:.0f} mm "
                f"(page {number}); pages up to 5080 mm on a side are accepted",
            )
        for stream in _drawn_streams(page):
            if stream.get("/Subtype") == "/Image":
                width, height = (int(_resolved(stream.get(key, 0))) for key in ("/Width", "/Height"))
                if width * height > MAX_PIXELS:
                    raise too_many_pixels(document, width, height)
                continue
            if id(stream) not in sizes:
                sizes[id(stream)] = _unpacked_size(stream, limit - total)
            total += sizes[id(stream)]
            if total > limit:
                raise refuse(
                    document,
                    f"unpacks to over {size_text(limit)} of page content (page {number}); it "
                    "looks built to overload readers and cannot be accepted",
                )


def _drawn_streams(page: DictionaryObject) -> Iterator[StreamObject]:
    """Yields each stream a reader unpacks to draw the page, once: its contents, and the form and
    image XObjects its resources name, those of nested forms included."""
    seen: set[int] = set()
    todo = [page.get("/Contents"), page.get("/Resources")]
    while todo:
        obj = _resolved(todo.pop())
        if obj is None or id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, StreamObject):
            yield obj
            todo.append(obj.get("/Resources"))
        elif isinstance(obj, ArrayObject):  # /Contents as an array of streams
            todo.extend(obj)
        elif isinstance(obj, DictionaryObject):  # a resource dictionary
            xobjects = _resolved(obj.get("/XObject"))
            if isinstance(xobjects, DictionaryObject):
                todo.extend(xobjects.values())


def _resolved(obj):
    """The object itself where a reference stands (dict.get and iteration do not resolve them)."""
    return obj.get_object() if isinstance(obj, IndirectObject) else obj


def _unpacked_size(stream: StreamObject, limit: int) -> int:
    """The stream's decoded size, counted no further than just past `limit`. Flate alone (nearly
    every content stream) is inflated a chunk at a time and the output dropped; other filters go
    to pypdf, within PYPDF_LIMITS. Data that stops decoding counts as far as it decoded, as
    lenient readers read it."""
    filters = _resolved(stream.get("/Filter"))
    filters = list(filters) if isinstance(filters, ArrayObject) else [filters] if filters else []
    if not filters:
        return len(stream._data)
    if filters not in (["/FlateDecode"], ["/Fl"]):
        try:
            return len(stream.get_data())
        except NotImplementedError:  # a filter pypdf lacks: nothing it could unpack either
            return 0
        finally:
            stream.decoded_self = None  # pypdf keeps what it decoded; only the size is wanted
    inflater, pending, size = zlib.decompressobj(), stream._data, 0
    try:
        while size <= limit and not inflater.eof:
            chunk = inflater.decompress(pending, UNPACK_CHUNK)
            size, pending = size + len(chunk), inflater.unconsumed_tail
            if not chunk and not pending:
                break
    except zlib.error:
        pass
    return size
