"""Reading the text of a stored scan, for the OCR worker (a process of its own, so the calls here
block).

A PDF that has text on every page already (made on a computer, or OCR'd by the scanner) is read,
not OCR'd again: that is exact and a hundred times faster. Anything else is rasterised a page at a
time (one page's image on disk at once) and read by tesseract with one thread (OMP_THREAD_LIMIT=1):
its OpenMP threads gain little on a page and would fight the other workers for the cores. Pages
whose raster would pass the intake's MAX_PIXELS are rasterised at a lower resolution.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory

from PIL import Image
from pypdf import PdfReader

from eoffice.intake.formats import MAX_PIXELS, page_size_pt
from eoffice.intake.text_layer import PDFTOTEXT, page_text_layer, pdftotext_pages

IMAGE_TYPES = {"image/jpeg", "image/png", "image/tiff"}
TOOL_ENV = {**os.environ, "OMP_THREAD_LIMIT": "1"}
STDERR_TAIL = 800  # characters of a failing tool's complaint kept in OcrFailed


class OcrFailed(Exception):
    """A tool failed or timed out; the message ends with the tail of what it said."""


@dataclass(frozen=True)
class Reading:
    text: str  # pages separated by "\f"
    pages: int
    method: str  # "text_layer" (the PDF had text, not OCR'd again) or "ocr"


def read_text(
    path: Path, content_type: str, *, languages: str = "hin+eng", dpi: int = 300, timeout_per_page: float = 120
) -> Reading:
    """Reads the text of a scan the intake accepted (eoffice.intake); raises OcrFailed."""
    if content_type == "application/pdf":
        return _read_pdf(Path(path), languages=languages, dpi=dpi, timeout_per_page=timeout_per_page)
    if content_type not in IMAGE_TYPES:
        raise ValueError(f"cannot read {content_type}")
    with Image.open(path) as image:
        pages = image.n_frames if content_type == "image/tiff" else 1
    # tesseract reads every frame of a TIFF and separates their texts with form feeds itself.
    return Reading(_tesseract(Path(path), languages, timeout_per_page * pages), pages, "ocr")


def _read_pdf(path: Path, *, languages: str, dpi: int, timeout_per_page: float) -> Reading:
    sizes = [page_size_pt(page) for page in PdfReader(path).pages]
    # pdftotext is far faster than OCR, so one page's OCR budget is ample for the whole document.
    texts = pdftotext_pages(_run([*PDFTOTEXT, str(path), "-"], timeout_per_page))
    if len(texts) == len(sizes) and page_text_layer(texts):
        return Reading("\f".join(texts), len(sizes), "text_layer")
    with TemporaryDirectory(prefix="ocr-") as scratch:
        image = Path(scratch) / "page"
        texts = []
        for number, (width, height) in enumerate(sizes, 1):
            deadline = time.monotonic() + timeout_per_page
            page_dpi = min(dpi, int((MAX_PIXELS / (width / 72 * height / 72)) ** 0.5))
            _run(
                [
                    "pdftoppm",
                    "-f",
                    str(number),
                    "-l",
                    str(number),
                    "-r",
                    str(page_dpi),
                    "-gray",
                    "-png",
                    "-singlefile",
                    str(path),
                    str(image),
                ],
                timeout_per_page,
            )
            texts.append(_tesseract(image.with_suffix(".png"), languages, deadline - time.monotonic()))
    return Reading("\f".join(texts), len(sizes), "ocr")


def _tesseract(image: Path, languages: str, timeout: float) -> str:
    return _run(["tesseract", str(image), "stdout", "-l", languages], timeout).decode("utf-8", "replace")


def _run(argv: list[str], timeout: float) -> bytes:
    """Runs a tool and returns its output; raises OcrFailed with its complaint."""
    try:
        return subprocess.run(argv, capture_output=True, check=True, timeout=max(timeout, 1), env=TOOL_ENV).stdout
    except subprocess.TimeoutExpired as e:
        raise OcrFailed(f"{argv[0]} took over {e.timeout:.0f} s{_tail(e.stderr)}") from None
    except subprocess.CalledProcessError as e:
        raise OcrFailed(f"{argv[0]} failed (exit status {e.returncode}){_tail(e.stderr)}") from None
    except OSError as e:
        raise OcrFailed(f"{argv[0]} could not be started: {e}") from None


def _tail(stderr: bytes | None) -> str:
    said = (stderr or b"").decode("utf-8", "replace").strip()
    return f": {said[-STDERR_TAIL:]}" if said else ""
