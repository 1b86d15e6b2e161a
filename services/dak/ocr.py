"""Reading the text of a stored scan, for the OCR worker (a process of its own, so the calls here
block).

A PDF that has text on every page already (made on a computer, or OCR'd by the scanner) is read,
not OCR'd again: that is exact and a hundred times faster. Anything else is read by tesseract with
one thread (OMP_THREAD_LIMIT=1): its OpenMP threads make a page about five times slower on two
cores, fighting each other and the other workers.

Where the time went, and what is done about it (docs/benchmarks.md, OCR, has the figures):
- A scanned PDF page is one image: its own pixels are taken out as they are (pdfimages, a few
  milliseconds, a JPEG stays the same JPEG) instead of rasterising the page again, which cost
  as much as half the OCR and, at 300 dpi for a 200-dpi scan, made tesseract read twice the
  pixels for the same text. A page that is not one whole-page image (several images, vector
  drawing, rotated) is rasterised at the resolution of its images, at most `dpi`; one under
  MIN_NATIVE_PPI, or with no image, at `dpi`, as before. Pages whose raster would pass the
  intake's MAX_PIXELS are rasterised at a lower resolution.
- A page finer than REDUCE_ABOVE_PPI (a 300-dpi scan) is read at OCR_PPI (225): tesseract spent
  ~30 % more on a 300-dpi A4 page than on the same page at 200 dpi (finding lines and blocks
  grows with the pixels; recognising a line does not). At 225 dpi it read every word it read at
  300, down to 6-point text with scan noise; at 200 it lost 1-3 % of the words of 6-point
  English (docs/benchmarks.md). An image is reduced by averaging (Pillow's BOX, ~40 ms a page)
  into an uncompressed TIFF; a PDF page that needs rasterising anyway is rasterised at OCR_PPI.
  Coarser scans are not touched.
- Starting the tesseract command cost 0.1-0.2 s of CPU each time (loading its Hindi and English
  models, a fresh heap): a fifth of a 200-dpi page. Each tesseract now stays loaded in a
  process of its own (ocr_engine.py, through the library's C API; the same text as the
  command, byte for byte) and reads page after page, one request at a time; one that fails,
  times out or has done ENGINE_READS readings is replaced. It reads up to BATCH_PAGES pages of a
  PDF at one request (a list of images).
- The pages of one PDF are shared out to `processes` tesseract engines at once, so that a
  long document alone in the queue uses every core. (Several documents at once need several
  OCR workers: one per core, `dak_ocr` in deploy/programs.)
At most `processes` x BATCH_PAGES page images are on disk at once.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory

from PIL import Image
from pypdf import PdfReader

from eoffice.intake.formats import MAX_PIXELS, frames, page_size_pt
from eoffice.intake.text_layer import PDFTOTEXT, page_text_layer, pdftotext_pages

IMAGE_TYPES = {"image/jpeg", "image/png", "image/tiff"}
TOOL_ENV = {**os.environ, "OMP_THREAD_LIMIT": "1"}
STDERR_TAIL = 800  # characters of a failing tool's complaint kept in OcrFailed
BATCH_PAGES = 8  # pages one tesseract process reads
MIN_NATIVE_PPI = 200  # a coarser scan is rasterised at `dpi`: tesseract reads small print better so
PAGE_FIT = 0.03  # an image fills the page when its size at its own resolution is within 3 % of the page's
NATIVE_COLOURS = {"gray", "rgb", "icc", "index"}  # of 1 or 3 components: what tesseract reads as written out
OCR_PPI = 225  # the resolution a finer scan is read at
REDUCE_ABOVE_PPI = 250  # finer than this is reduced to OCR_PPI; between the two, the gain is below the cost
ENGINE = Path(__file__).with_name("ocr_engine.py")
ENGINE_START_TIMEOUT = 60  # seconds to load the models (~0.1 s of CPU; a crowded machine is slower)
ENGINE_READS = 1000  # an engine is replaced after this many readings: what tesseract keeps between them stays bounded


Progress = Callable[[int], None] | None  # told the pages read so far


class OcrFailed(Exception):
    """A tool failed or timed out; the message ends with the tail of what it said."""


@dataclass(frozen=True)
class PdfImage:
    """One image drawn on a PDF page, as `pdfimages -list` describes it."""

    page: int
    kind: str  # "image"; masks are "stencil", "mask" or "smask"
    width: int
    height: int
    colour: str
    components: int
    x_ppi: int
    y_ppi: int


@dataclass(frozen=True)
class Reading:
    text: str  # pages separated by "\f"
    pages: int
    method: str  # "text_layer" (the PDF had text, not OCR'd again) or "ocr"


def read_text(
    path: Path,
    content_type: str,
    *,
    languages: str = "hin+eng",
    dpi: int = 300,
    timeout_per_page: float = 120,
    processes: int = 1,
    progress: Progress = None,
) -> Reading:
    """Reads the text of a scan the intake accepted (eoffice.intake), the pages of a PDF (or of a
    TIFF finer than REDUCE_ABOVE_PPI) with up to `processes` tesseract processes at once; raises
    OcrFailed. `progress(pages)`, if given, is told how many pages are read so far as each batch
    of pages is done (not for a document read in one go)."""
    if content_type == "application/pdf":
        return _read_pdf(
            Path(path),
            languages=languages,
            dpi=dpi,
            timeout_per_page=timeout_per_page,
            processes=processes,
            progress=progress,
        )
    if content_type not in IMAGE_TYPES:
        raise ValueError(f"cannot read {content_type}")
    with Image.open(path) as image:
        pages = frames(image)
        fine = any(_fine(image, frame) for frame in range(pages))
    if not fine:
        # tesseract reads every frame of a TIFF and separates their texts with form feeds itself.
        return Reading(_tesseract(Path(path), languages, timeout_per_page * pages), pages, "ocr")

    def frame_file(number: int, folder: Path, timeout: float) -> Path:
        with Image.open(path) as image:
            image.seek(number - 1)
            return _reduced(image, folder / f"page-{number}.tif")

    texts = _read_pages(
        pages,
        frame_file,
        languages=languages,
        timeout_per_page=timeout_per_page,
        processes=processes,
        progress=progress,
    )
    return Reading(texts, pages, "ocr")


def _read_pdf(
    path: Path, *, languages: str, dpi: int, timeout_per_page: float, processes: int, progress: Progress
) -> Reading:
    # A restricted PDF (encrypted, opening without a password: the intake refuses any other) is read
    # as any: pypdf tries the empty password itself, and poppler's tools ignore the restrictions.
    pages = PdfReader(path).pages
    sizes = [page_size_pt(page) for page in pages]
    rotated = [page.rotation % 360 != 0 for page in pages]
    # pdftotext is far faster than OCR, so one page's OCR budget is ample for the whole document.
    texts = pdftotext_pages(_run([*PDFTOTEXT, str(path), "-"], timeout_per_page))
    if len(texts) == len(sizes) and page_text_layer(texts):
        return Reading("\f".join(texts), len(sizes), "text_layer")
    images = pdf_images(path, timeout_per_page)

    def page_file(number: int, folder: Path, timeout: float) -> Path:
        return _page_image(
            path,
            number,
            size=sizes[number - 1],
            rotated=rotated[number - 1],
            images=images.get(number, []),
            dpi=dpi,
            folder=folder,
            timeout=timeout,
        )

    texts = _read_pages(
        len(sizes),
        page_file,
        languages=languages,
        timeout_per_page=timeout_per_page,
        processes=processes,
        progress=progress,
    )
    return Reading(texts, len(sizes), "ocr")


def _read_pages(
    pages: int,
    page_file: Callable[[int, Path, float], Path],
    *,
    languages: str,
    timeout_per_page: float,
    processes: int,
    progress: Progress = None,
) -> str:
    """Reads `pages` pages, each written as an image file by `page_file(number, folder, timeout)`,
    in batches shared out to `processes` tesseract processes; returns the texts joined by "\f".
    Tells `progress` the pages read so far as each batch is done."""
    done, counting = [0], threading.Lock()

    def read_batch(numbers: list[int]) -> list[str]:
        deadline = time.monotonic() + timeout_per_page * len(numbers)
        with TemporaryDirectory(prefix="ocr-") as scratch:
            files = [page_file(number, Path(scratch), deadline - time.monotonic()) for number in numbers]
            texts = _tesseract_pages(files, languages, deadline - time.monotonic())
        if progress is not None:
            with counting:
                done[0] += len(numbers)
                so_far = done[0]
            progress(so_far)
        return texts

    with ThreadPoolExecutor(max(1, processes)) as pool:
        return "\f".join(text for batch in pool.map(read_batch, batches(pages, processes)) for text in batch)


def batches(pages: int, processes: int) -> list[list[int]]:
    """Page numbers (from 1) in batches of at most BATCH_PAGES, as even as the processes allow:
    5 pages for 2 processes are [1, 2, 3] and [4, 5]."""
    count = max(-(-pages // BATCH_PAGES), min(pages, max(1, processes)))
    size, extra = divmod(pages, count) if count else (0, 0)
    out, first = [], 1
    for n in range(count):
        last = first + size + (n < extra)
        out.append(list(range(first, last)))
        first = last
    return out


def pdf_images(path: Path, timeout: float) -> dict[int, list[PdfImage]]:
    """Returns the images drawn on each page of a PDF, by page number (from 1)."""
    found: dict[int, list[PdfImage]] = {}
    listing = _run(["pdfimages", "-list", str(path)], timeout).decode("utf-8", "replace")
    for line in listing.splitlines()[2:]:  # after the heading and its underline
        # page num type width height color comp bpc enc interp object ID x-ppi y-ppi size ratio
        fields = line.split()
        if len(fields) < 14 or not fields[0].isdigit():
            continue
        image = PdfImage(
            page=int(fields[0]),
            kind=fields[2],
            width=int(fields[3]),
            height=int(fields[4]),
            colour=fields[5],
            components=int(fields[6]),
            x_ppi=int(fields[12]),
            y_ppi=int(fields[13]),
        )
        found.setdefault(image.page, []).append(image)
    return found


def whole_page_scan(images: list[PdfImage], size: tuple[float, float], *, rotated: bool) -> PdfImage | None:
    """The page's one image when the page is nothing else (a scanner's page): upright, filling
    the page at its own resolution, fine enough and in colours tesseract reads as written out."""
    if rotated or len(images) != 1:
        return None
    image = images[0]
    if image.kind != "image" or image.colour not in NATIVE_COLOURS or image.components not in (1, 3):
        return None
    if min(image.x_ppi, image.y_ppi) < MIN_NATIVE_PPI:
        return None
    width, height = image.width / image.x_ppi * 72, image.height / image.y_ppi * 72
    fits = abs(width - size[0]) <= PAGE_FIT * size[0] and abs(height - size[1]) <= PAGE_FIT * size[1]
    return image if fits else None


def _page_image(
    path: Path,
    number: int,
    *,
    size: tuple[float, float],
    rotated: bool,
    images: list[PdfImage],
    dpi: int,
    folder: Path,
    timeout: float,
) -> Path:
    """Writes one page's image into `folder` (its own pixels, or a raster); returns its path."""
    prefix, pages = folder / f"page-{number}", ["-f", str(number), "-l", str(number)]
    if scan := whole_page_scan(images, size, rotated=rotated):
        # -j: a JPEG comes out as the same JPEG; anything else as PNG.
        _run(["pdfimages", *pages, "-j", "-png", str(path), str(prefix)], timeout)
        [written] = folder.glob(f"{prefix.name}-*")
        if max(scan.x_ppi, scan.y_ppi) <= REDUCE_ABOVE_PPI:
            return written
        with Image.open(written) as image:
            return _reduced(image, prefix.with_suffix(".tif"), ppi=(scan.x_ppi, scan.y_ppi))
    finest = max((max(i.x_ppi, i.y_ppi) for i in images if i.kind == "image"), default=0)
    page_dpi = min(dpi, finest) if finest >= MIN_NATIVE_PPI else dpi
    if finest > REDUCE_ABOVE_PPI and page_dpi > REDUCE_ABOVE_PPI:
        page_dpi = OCR_PPI  # a fine scan: read at OCR_PPI, as a fine image is
    width, height = size
    page_dpi = min(page_dpi, int((MAX_PIXELS / (width / 72 * height / 72)) ** 0.5))
    _run(["pdftoppm", *pages, "-r", str(page_dpi), "-gray", "-png", "-singlefile", str(path), str(prefix)], timeout)
    return prefix.with_suffix(".png")


def _ppi(image: Image.Image) -> tuple[float, float] | None:
    """The resolution the current frame says it was scanned at, if it says."""
    dpi = image.info.get("dpi")
    if not isinstance(dpi, tuple) or len(dpi) != 2:
        return None
    x, y = float(dpi[0]), float(dpi[1])
    return (x, y) if min(x, y) >= 1 else None


def _fine(image: Image.Image, frame: int) -> bool:
    """Whether a frame of an image is finer than REDUCE_ABOVE_PPI (one with no resolution is not)."""
    image.seek(frame)
    ppi = _ppi(image)
    return ppi is not None and max(ppi) > REDUCE_ABOVE_PPI


def _reduced(image: Image.Image, target: Path, ppi: tuple[float, float] | None = None) -> Path:
    """Writes the current frame as a greyscale uncompressed TIFF, reduced to OCR_PPI if finer than
    REDUCE_ABOVE_PPI (by averaging: BOX keeps thin strokes grey instead of dropping them).
    Greyscale first: tesseract reads grey anyway, and Pillow resizes bilevel images only by
    dropping pixels."""
    ppi = ppi or _ppi(image)
    page = image.convert("L")
    if ppi and max(ppi) > REDUCE_ABOVE_PPI:
        size = (max(1, round(page.width * OCR_PPI / ppi[0])), max(1, round(page.height * OCR_PPI / ppi[1])))
        page, ppi = page.resize(size, Image.Resampling.BOX), (OCR_PPI, OCR_PPI)
    page.save(target, "TIFF", **({"dpi": ppi} if ppi else {}))
    return target


def _tesseract_pages(files: list[Path], languages: str, timeout: float) -> list[str]:
    """Reads several page images with one tesseract process; returns each page's text."""
    if len(files) == 1:
        return [_tesseract(files[0], languages, timeout)]
    listing = files[0].parent / "pages.txt"
    listing.write_text("".join(f"{file}\n" for file in files))
    texts = _tesseract(listing, languages, timeout).split("\f")  # it puts a form feed between pages
    if len(texts) != len(files):
        raise OcrFailed(f"tesseract gave {len(texts)} pages of text for {len(files)} page images")
    return texts


def _tesseract(image: Path, languages: str, timeout: float) -> str:
    """Reads an image (or a list of images, one a line) as `tesseract IMAGE stdout -l LANGUAGES`
    does, with a loaded engine; returns its text."""
    with _engine(languages) as engine, TemporaryDirectory(prefix="ocr-text-") as folder:
        return engine.read(image, Path(folder) / "text", timeout)


class _Engine:
    """One ocr_engine.py process: a tesseract loaded with `languages`, reading page after page."""

    def __init__(self, languages: str):
        self.languages, self.reads = languages, 0
        try:
            self.process = subprocess.Popen(
                [sys.executable, str(ENGINE), languages],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=TOOL_ENV,
            )
        except OSError as e:
            raise OcrFailed(f"tesseract could not be started: {e}") from None
        loaded = self._answer(ENGINE_START_TIMEOUT)
        if not loaded["ok"]:
            self.close()
            raise OcrFailed(f"tesseract failed: {str(loaded.get('error', ''))[-STDERR_TAIL:]}")

    def read(self, image: Path, out: Path, timeout: float) -> str:
        """The text of `image`; tesseract's messages are kept in `out`.log for a failure."""
        assert self.process.stdin is not None
        self.reads += 1
        try:
            self.process.stdin.write(json.dumps({"image": str(image), "out": str(out)}).encode() + b"\n")
            self.process.stdin.flush()
        except OSError as e:  # it ended meanwhile
            self.close()
            raise OcrFailed(f"tesseract ended (exit status {self.process.returncode}): {e}") from None
        done = self._answer(timeout)
        said = out.with_suffix(".log").read_bytes() if out.with_suffix(".log").exists() else b""
        if not done["ok"]:
            raise OcrFailed(f"tesseract failed{_tail(said)}")
        return out.with_suffix(".txt").read_bytes().decode("utf-8", "replace")

    def _answer(self, timeout: float) -> dict:
        """The engine's next answer; on none within `timeout`, or its end, stops it and raises."""
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], max(timeout, 1))
        line = self.process.stdout.readline() if ready else b""
        if not line:
            self.close()
            if not ready:
                raise OcrFailed(f"tesseract took over {max(timeout, 1):.0f} s")
            raise OcrFailed(f"tesseract ended (exit status {self.process.returncode})")
        return json.loads(line)

    @property
    def usable(self) -> bool:
        return self.process.poll() is None and self.reads < ENGINE_READS

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe:
                pipe.close()


_idle: list[_Engine] = []  # loaded engines not reading now, of any languages
_idle_lock = threading.Lock()


@contextmanager
def _engine(languages: str) -> Iterator[_Engine]:
    """An idle engine loaded with `languages`, or a new one; kept for the next page unless it
    failed (a failing page may have left anything behind) or has done ENGINE_READS readings."""
    with _idle_lock:
        mine = [e for e in _idle if e.languages == languages]
        for engine in mine:
            _idle.remove(engine)
    while mine and not mine[-1].usable:  # ended while idle: killed, or out of memory
        mine.pop().close()
    engine = mine.pop() if mine else _Engine(languages)
    if mine:
        with _idle_lock:
            _idle.extend(mine)
    try:
        yield engine
    except BaseException:
        engine.close()
        raise
    if engine.usable:
        with _idle_lock:
            _idle.append(engine)
    else:
        engine.close()


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
