"""Opening a PDF or an image for the steps that look inside (page counting, bomb checks), with
the limits and the error answers they share.

- MAX_PIXELS, 50 megapixels per image, TIFF frame or image in a PDF: an A4 page at 600 dpi is
  35 MP, so real scans pass, while a decoded page stays under ~150 MiB. Pillow's own bomb
  warning (at 89 MP) is made an error too.
- pypdf's own limits are lowered to PYPDF_LIMITS (object streams, filters other than Flate).
- Whatever pypdf or Pillow raise on bad data means a damaged file; pypdf's LimitReachedError
  means one built to overload readers.
- An encrypted PDF that opens with the empty user password (one only "restricted" by an owner
  password: no copying, no printing; many government PDFs come so) is opened decrypted, so every
  check reads its real streams; poppler's tools, which read it afterwards (text layer, OCR),
  ignore the restrictions. One that needs a password to open, or a certificate (an encryption
  pypdf does not know), is refused: nothing here or later could read it."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO

from PIL import Image, ImageFile
from pypdf import PasswordType, PdfReader, apply_configuration
from pypdf.errors import LimitReachedError, PyPdfError

from eoffice.intake.base import MIB, Document, damaged, refuse

MAX_PIXELS = 50_000_000
PYPDF_LIMITS = {
    f"{name}_maximum_output_length": 64 * MIB
    for name in ("zlib", "lzw", "run_length", "brotli", "jbig2", "array_based_stream")
}
PDF_ERRORS = (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError)
IMAGE_ERRORS = (OSError, SyntaxError, ValueError, TypeError, KeyError, EOFError, IndexError)  # Pillow's, on bad data
PILLOW_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/tiff": "TIFF"}


@contextmanager
def pdf(document: Document) -> Iterator[PdfReader]:
    """The document parsed by pypdf, within PYPDF_LIMITS, decrypted if it is encrypted (it
    opens with the empty password or is refused as password protected); whatever goes wrong
    while it is open is refused as a damaged PDF or an overloading one."""
    with apply_configuration(None, **PYPDF_LIMITS):  # None: the configuration in force, with these lowered
        try:
            yield _decrypted(document)
        except LimitReachedError:
            raise refuse(
                document, "is built to overload readers (it exceeds a safety limit); it cannot be accepted"
            ) from None
        except PDF_ERRORS:
            raise damaged(document, "PDF") from None


def _decrypted(document: Document) -> PdfReader:
    try:
        reader = PdfReader(BytesIO(document.data))
    except NotImplementedError:  # raised by pypdf's reader only for an encryption it cannot open
        raise password_protected(document) from None
    if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
        raise password_protected(document)
    return reader


def password_protected(document: Document):
    return refuse(
        document,
        "is password protected: it does not open without a password (or a certificate); upload a "
        "copy that opens without one, or scan the paper",
    )


def frames(opened: Image.Image) -> int:
    """The pages of an opened image: a TIFF's frames, else one. Pillow's stubs know `n_frames`
    only on the classes of the multi-frame formats, not on the `Image` that `Image.open` returns."""
    return getattr(opened, "n_frames", 1) if opened.format == "TIFF" else 1


@contextmanager
def image(document: Document) -> Iterator[Image.Image]:
    """The document opened by Pillow as the format its bytes say; bad data is refused as
    damaged, a decompression bomb as too many pixels."""
    if document.content_type not in PILLOW_FORMATS:  # a bug: TypeFromBytes finds an image before a step opens it
        raise KeyError(f"not an image type: {document.content_type}")
    fmt = PILLOW_FORMATS[document.content_type]
    # A truncated image is damaged, whatever another library in this process chose (WeasyPrint
    # sets Pillow's LOAD_TRUNCATED_IMAGES on import): strict while the document is open here.
    tolerant, ImageFile.LOAD_TRUNCATED_IMAGES = ImageFile.LOAD_TRUNCATED_IMAGES, False
    try:
        yield from _opened(document, fmt)
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = tolerant


def _opened(document: Document, fmt: str) -> Iterator[Image.Image]:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(BytesIO(document.data), formats=[fmt]) as opened:
                yield opened
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise refuse(document, f"has too many pixels; the limit is {MAX_PIXELS // 1_000_000} megapixels") from None
        except IMAGE_ERRORS:
            raise damaged(document, fmt) from None


def too_many_pixels(document: Document, width: int, height: int):
    return refuse(
        document,
        f"is {width} x {height} pixels ({width * height / 1e6:.0f} megapixels); the limit "
        f"is {MAX_PIXELS // 1_000_000} megapixels: scan at 300 dpi",
    )


def page_size_pt(page) -> tuple[float, float]:
    """A pypdf page's media box in points, UserUnit applied."""
    box, unit = page.mediabox, float(page.user_unit)
    return abs(float(box.width)) * unit, abs(float(box.height)) * unit
