"""Checking an uploaded scan before it is stored, so that what is stored can be shown, read and
OCR'd later: the type is sniffed from the bytes (never trusted from the client), the file must
decode, and files built to exhaust a reader (bombs) are refused up front, with a reason a clerk
can act on.

Limits, and why:
- `max_bytes` per file (the caller's setting), checked before anything is read.
- MAX_PIXELS, 50 megapixels per image, TIFF frame or image in a PDF: an A4 page at 600 dpi is
  35 MP, so real scans pass, while a decoded page stays under ~150 MiB. Pillow's own bomb warning
  (at 89 MP) is made an error too. JPEGs are test-decoded at 1/8 scale, PNGs by their checksums.
- `max_pages`, 500 by default, per PDF or multi-page TIFF.
- MAX_SIDE_PT, 14 400 pt (200 in, 5080 mm) per PDF page side: Acrobat's own limit; bigger pages
  exist only to make rasterising explode.
- Page content (content streams and form XObjects, counted for each page that draws them, as a
  reader must unpack them) at most MAX_UNPACKED, 256 MiB in total, and at most UNPACK_RATIO (100)
  times the file's size, though always up to UNPACK_FLOOR (16 MiB): text PDFs unpack 3-10x, a
  Flate bomb ~1000x. Flate is unpacked a chunk at a time and only counted, so a 1 GiB bomb is
  refused in a fraction of a second in a few MiB. Images in a PDF are not unpacked (a scan's page
  images legitimately unpack to gigabytes): their declared size, within MAX_PIXELS, bounds any
  decoder.
- pypdf's own limits are lowered to PYPDF_LIMITS for the rest (object streams, other filters).
- Encrypted PDFs are refused, even those that open without a password: pypdf and the OCR tools
  then handle one kind of PDF only.
- A PDF has a text layer when pdftotext finds at least TEXT_MIN_CHARS non-space characters on
  every page (it reads the hidden text of scanner-OCR'd PDFs too); it gets TEXT_TIMEOUT seconds.
"""
from __future__ import annotations

import email
import math
import mimetypes
import re
import subprocess
import warnings
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from html import unescape
from io import BytesIO
from pathlib import PurePosixPath
from typing import BinaryIO

from PIL import Image
from pypdf import PdfReader, apply_configuration
from pypdf.errors import LimitReachedError, PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

from eoffice.errors import InvalidInput
from eoffice.validation import FILE_NAME_MAX

SUPPORTED = {"application/pdf", "image/jpeg", "image/png", "image/tiff"}
ACCEPTED = "PDF, JPEG, PNG or TIFF"

MIB = 1 << 20
MAX_PIXELS = 50_000_000
MAX_SIDE_PT = 14_400
MAX_UNPACKED = 256 * MIB
UNPACK_RATIO = 100
UNPACK_FLOOR = 16 * MIB
TEXT_MIN_CHARS = 20
TEXT_TIMEOUT = 30.0
PYPDF_LIMITS = {f"{name}_maximum_output_length": 64 * MIB
                for name in ("zlib", "lzw", "run_length", "brotli", "jbig2", "array_based_stream")}
PDFTOTEXT = ["pdftotext", "-layout", "-enc", "UTF-8"]
UNPACK_CHUNK = MIB

# Signatures of supported types (content type) and of files people upload by mistake (what to call them).
SIGNATURES: list[tuple[int, bytes, str]] = [
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"II*\x00", "image/tiff"),
    (0, b"MM\x00*", "image/tiff"),
    (0, b"GIF8", "a GIF image"),
    (0, b"BM", "a BMP image"),
    (8, b"WEBP", "a WebP image"),
    (4, b"ftypheic", "a HEIC photo (as iPhones take them)"),
    (0, b"\x00\x00\x00\x0cjP  ", "a JPEG 2000 image"),
    (0, b"PK\x03\x04", "a ZIP archive or a Word/Excel/OpenOffice document"),
    (0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Word or Excel document"),
    (0, b"{\\rtf", "an RTF document"),
]
PDF_ERRORS = (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError)
IMAGE_ERRORS = (OSError, SyntaxError, ValueError, TypeError, KeyError, EOFError, IndexError)  # Pillow's, on bad data
NAMES = {"application/pdf": "a PDF", "image/jpeg": "a JPEG image", "image/png": "a PNG image",
         "image/tiff": "a TIFF image"}
PILLOW_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/tiff": "TIFF"}


@dataclass(frozen=True)
class Inspected:
    filename: str
    content_type: str  # sniffed from magic bytes, never trusted from the client
    size: int
    pages: int
    text_layer: bool  # a PDF whose every page already has real text; images False


@dataclass(frozen=True)
class EmailSummary:
    from_name: str
    from_address: str
    subject: str
    date: datetime | None
    body_text: str


def inspect(stream: BinaryIO, filename: str, *, max_bytes: int, max_pages: int = 500) -> Inspected:
    """Checks an uploaded scan; raises InvalidInput (field=filename) saying what is wrong with it.
    The stream is left at position 0."""
    try:
        data = _read(stream, filename, max_bytes)
    finally:
        stream.seek(0)
    kind = sniff(data)
    if kind == "application/pdf":
        pages, text_layer = _inspect_pdf(data, filename, max_pages), _pdf_has_text_layer(data, filename)
    elif kind in SUPPORTED:
        pages, text_layer = _inspect_image(data, kind, filename, max_pages), False
    else:
        raise _unrecognised(filename, kind)
    return Inspected(filename, kind, len(data), pages, text_layer)


def sniff(data: bytes) -> str | None:
    """The content type of a supported file, else a description of what it looks like, else None."""
    if b"%PDF-" in data[:1024]:  # readers allow junk before the header
        return "application/pdf"
    for offset, magic, kind in SIGNATURES:
        if data[offset:offset + len(magic)] == magic:
            return kind
    head = data[:4096]
    if any(b < 9 or 13 < b < 32 for b in head):
        return None
    if re.match(rb"\s*<(!doctype html|html)", head, re.IGNORECASE):
        return "a web page (HTML)"
    if re.search(rb"^from:", head, re.IGNORECASE | re.MULTILINE) and re.search(rb"^subject:", head, re.I | re.M):
        return "an e-mail"
    return "a text file"


def page_text_layer(pages: list[str]) -> bool:
    """Whether every page has real text: a few stray characters (a page number, a stamp's
    caption) do not make a scan readable."""
    return bool(pages) and all(len("".join(page.split())) >= TEXT_MIN_CHARS for page in pages)


def pdftotext_pages(output: bytes) -> list[str]:
    """Splits pdftotext's output into pages: it ends every page with a form feed."""
    return output.decode("utf-8", "replace").split("\f")[:-1]


def page_size_pt(page) -> tuple[float, float]:
    """A pypdf page's media box in points, UserUnit applied."""
    box, unit = page.mediabox, float(page.user_unit)
    return abs(float(box.width)) * unit, abs(float(box.height)) * unit


def _refuse(filename: str, why: str) -> InvalidInput:
    return InvalidInput(f"{filename} {why}", field=filename)


def _size(n: int) -> str:
    """A size as a clerk reads it, rounded up so that an over-limit file never looks within it."""
    unit, name = (MIB, "MiB") if n >= MIB else (1024, "KiB")
    return f"{math.ceil(n * 10 / unit) / 10:g} {name}"


def _read(stream: BinaryIO, filename: str, max_bytes: int) -> bytes:
    size = stream.seek(0, 2)
    stream.seek(0)
    if size == 0:
        raise _refuse(filename, "is empty (0 bytes); scan or save it again")
    if size > max_bytes:
        raise _refuse(filename, f"is {_size(size)}; the limit is {_size(max_bytes)} per file")
    return stream.read(max_bytes + 1)[:max_bytes]


def _unrecognised(filename: str, looks_like: str | None) -> InvalidInput:
    suffix = PurePosixPath(filename).suffix.lower()
    if looks_like is None and suffix in {".pdf", ".jpg", ".jpeg", ".png", ".tif", ".tiff"}:
        return _refuse(filename, f"is not a readable {suffix[1:].upper()} file; it may be damaged or "
                                 "incomplete: scan or save it again")
    if looks_like is None:
        return _refuse(filename, f"is not a {ACCEPTED} file (its type is not recognised)")
    hint = "; upload it as an e-mail to take out its attachments" if looks_like == "an e-mail" else ""
    return _refuse(filename, f"is {looks_like}, not a {ACCEPTED} file{hint}")


def _damaged(filename: str, kind: str) -> InvalidInput:
    return _refuse(filename, f"is a damaged or incomplete {kind} file; scan or save it again")


def _inspect_image(data: bytes, content_type: str, filename: str, max_pages: int) -> int:
    """Decodes every frame (JPEG at 1/8 scale, which still reads all of it; PNG by its checksums)
    so that a truncated file is refused now rather than shown broken later."""
    fmt = PILLOW_FORMATS[content_type]
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(BytesIO(data), formats=[fmt]) as image:
                frames = image.n_frames if fmt == "TIFF" else 1
                if frames > max_pages:
                    raise _refuse(filename, f"has {frames} pages; the limit is {max_pages} per file")
                for frame in range(frames):
                    image.seek(frame)
                    width, height = image.size
                    if width * height > MAX_PIXELS:
                        raise _too_many_pixels(filename, width, height)
                    if fmt == "PNG":
                        image.verify()
                    else:
                        if fmt == "JPEG":
                            image.draft("L", (max(1, width // 8), max(1, height // 8)))
                        image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _refuse(filename, f"has too many pixels; the limit is {MAX_PIXELS // 1_000_000} megapixels") from None
        except IMAGE_ERRORS:
            raise _damaged(filename, fmt) from None
    return frames


def _too_many_pixels(filename: str, width: int, height: int) -> InvalidInput:
    return _refuse(filename, f"is {width} x {height} pixels ({width * height / 1e6:.0f} megapixels); the limit "
                             f"is {MAX_PIXELS // 1_000_000} megapixels: scan at 300 dpi")


def _inspect_pdf(data: bytes, filename: str, max_pages: int) -> int:
    """Parses the PDF and refuses bombs; returns its page count."""
    with apply_configuration(**PYPDF_LIMITS):
        try:
            reader = PdfReader(BytesIO(data))
            if reader.is_encrypted:
                raise _refuse(filename, "is password protected (encrypted); upload a copy without a password "
                                        "or restrictions, or scan the paper")
            declared = reader.trailer["/Root"]["/Pages"].get("/Count", 0)
            pages = declared if isinstance(declared, int) and declared > max_pages else len(reader.pages)
            if pages > max_pages:
                raise _refuse(filename, f"has {pages} pages; the limit is {max_pages} per file")
            if pages == 0:
                raise _refuse(filename, "has no pages")
            _check_pages(reader, filename, limit=min(MAX_UNPACKED, max(UNPACK_FLOOR, UNPACK_RATIO * len(data))))
        except LimitReachedError:
            raise _refuse(filename, "is built to overload readers (it exceeds a safety limit); "
                                    "it cannot be accepted") from None
        except PDF_ERRORS:
            raise _damaged(filename, "PDF") from None
    return pages


def _check_pages(reader: PdfReader, filename: str, limit: int) -> None:
    sizes: dict[int, int] = {}  # unpacked size by stream, for streams drawn on several pages
    total = 0
    for number, page in enumerate(reader.pages, 1):
        width, height = page_size_pt(page)
        if max(width, height) > MAX_SIDE_PT:
            raise _refuse(filename, f"has a page {width / 72 * 25.4:.0f} x {height / 72 * 25.4:.0f} mm "
                                    f"(page {number}); pages up to 5080 mm on a side are accepted")
        for stream in _drawn_streams(page):
            if stream.get("/Subtype") == "/Image":
                width, height = (int(_resolved(stream.get(key, 0))) for key in ("/Width", "/Height"))
                if width * height > MAX_PIXELS:
                    raise _too_many_pixels(filename, width, height)
                continue
            if id(stream) not in sizes:
                sizes[id(stream)] = _unpacked_size(stream, limit - total)
            total += sizes[id(stream)]
            if total > limit:
                raise _refuse(filename, f"unpacks to over {_size(limit)} of page content (page {number}); it looks "
                                        "built to overload readers and cannot be accepted")


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


def _pdf_has_text_layer(data: bytes, filename: str) -> bool:
    try:
        done = subprocess.run([*PDFTOTEXT, "-", "-"], input=data, capture_output=True, timeout=TEXT_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise _refuse(filename, f"takes over {TEXT_TIMEOUT:.0f} s to read; it cannot be accepted") from None
    if done.returncode != 0:
        raise _damaged(filename, "PDF")
    return page_text_layer(pdftotext_pages(done.stdout))


def attachments(stream: BinaryIO, filename: str, *, max_bytes: int) -> tuple[EmailSummary, list[tuple[str, bytes]]]:
    """Reads a saved e-mail (.eml): who sent it, about what, its text, and its attached files
    as (filename, bytes). Raises InvalidInput (field=filename) for a file that is not an e-mail,
    or an e-mail with neither text nor attachments. The stream is left at position 0."""
    try:
        data = _read(stream, filename, max_bytes)
    finally:
        stream.seek(0)
    message = email.message_from_bytes(data, policy=policy.default)
    if message["From"] is None:
        looks_like = sniff(data)
        raise _refuse(filename, "is not an e-mail (.eml) file" + (f"; it is {NAMES.get(looks_like, looks_like)}"
                                                                  if looks_like else ""))
    sender = message["From"].addresses
    date = message["Date"]
    summary = EmailSummary(from_name=sender[0].display_name if sender else "",
                           from_address=sender[0].addr_spec if sender else str(message["From"]),
                           subject=str(message["Subject"] or ""),
                           date=date.datetime if date is not None else None,
                           body_text=_body_text(message))
    files = [(_attachment_name(part, n), _attachment_bytes(part)) for n, part in enumerate(_attached(message), 1)]
    if not files and not summary.body_text.strip():
        raise _refuse(filename, "is an e-mail with neither a message nor attachments")
    return summary, files


def _body_text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    try:
        text = body.get_content()
    except (LookupError, UnicodeError):  # an unknown or lying charset
        text = body.get_payload(decode=True).decode("utf-8", "replace")
    return _html_text(text) if body.get_content_subtype() == "html" else text


def _html_text(html: str) -> str:
    """Crude HTML to text: enough to read an e-mail's words, not its layout."""
    html = re.sub(r"(?is)<(script|style|head)\b.*?</\1\s*>", " ", html)
    html = re.sub(r"(?i)<br\s*/?>|</(p|div|tr|li|h[1-6]|table)\s*>", "\n", html)
    text = unescape(re.sub(r"<[^>]*>", " ", html))
    lines = (" ".join(line.split()) for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _attached(message: EmailMessage) -> Iterator[EmailMessage]:
    """The attached parts, those of nested multipart/mixed parts included (some mailers nest them)."""
    for part in message.iter_attachments():
        if part.get_content_type() == "multipart/mixed":
            yield from _attached(part)
        elif part.get_content_type() == "message/rfc822" or not part.is_multipart():
            yield part


def _attachment_bytes(part: EmailMessage) -> bytes:
    if part.get_content_type() == "message/rfc822":  # a forwarded e-mail: keep it as an .eml
        return part.get_content().as_bytes(policy=policy.default)
    return part.get_payload(decode=True) or b""


def _attachment_name(part: EmailMessage, n: int) -> str:
    """The attachment's own name with any folders and control characters taken out (it is stored
    under this name), else a made-up one."""
    name = PurePosixPath((part.get_filename() or "").replace("\\", "/")).name
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip(" .")
    if len(name) > FILE_NAME_MAX:  # the sender named it, the clerk cannot rename it: cut, keeping its type
        suffix = PurePosixPath(name).suffix if len(PurePosixPath(name).suffix) <= 10 else ""
        name = name[:FILE_NAME_MAX - len(suffix)] + suffix
    if name:
        return name
    content_type = part.get_content_type()
    suffix = ".eml" if content_type == "message/rfc822" else mimetypes.guess_extension(content_type) or ".bin"
    return f"attachment-{n}{suffix}"
