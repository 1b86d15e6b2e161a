"""OCR benchmark against the running system: scanned pages uploaded through the gateway, timed
until their text is stored, beside what tesseract alone does on the same box in the same run.

    deploy/eoffice bench ocr [--pages 16] [--clients 4] [--long 10] [--extra-ocr-workers 0]

Pages are A4 letters drawn as a scanner delivers them (eoffice.demo: 30 lines of 12-point text,
Hindi and English alternately), at 200 and 300 dpi, each as a PNG and as an image-only PDF
(JPEG inside, as scanners without OCR write them). For each of the four kinds:

1. The box's ceiling, the mean of one measurement just before and one just after: tesseract
   `hin+eng`, one thread (OMP_THREAD_LIMIT=1), straight on the page images, one stream per core
   at once: the best the machine can do with nothing but OCR. Also one stream alone (per core).
2. `--pages` one-page letters diarised at once by the dak clerks of LKO-DAK through
   `--clients` HTTP clients; pages per minute from the first upload starting to the last text
   stored (dak's own `read_at`, read from its table so that waiting puts no load on the system),
   and the ratio to the ceiling. Also the CPU time the OCR worker processes (with the tools they
   ran) spent a page, beside tesseract's alone, and what our other programs (gateway, dak,
   search, notify ...; not the shared PostgreSQL, RabbitMQ, MinIO, Elasticsearch) spent a page:
   unlike the rates, little moved by other load on the machine. Every text is fetched back through the gateway and must
   contain its letter's probe word (नामांतरण, encroachment), as the OCR tests require; and its
   words are compared with the known text of the page (word accuracy: the share of the page's
   words, in order, found in the text read), beside tesseract's own reading of the original
   page image (what the worker read before it read fine scans at 200 dpi).

Then one page alone (upload to text, against tesseract on that page: what the hops cost), and a
long scan: one image-only PDF of `--long` pages (200 dpi) alone in the queue. Last, small print
(no system needed): 6- and 8-point A4 pages scanned at 300 dpi, read by the worker's own
reading (services.dak.ocr, which reads such a scan at 225 dpi) against tesseract on the 300-dpi
original, word accuracy each: where reading at a lower resolution would lose words first.

`--extra-ocr-workers N` runs the four kinds a second time with N more `dak_ocr` processes (one
worker each, started by the benchmark), to measure what more OCR workers than deploy/programs
gives (its `instances` x `workers`) would do before changing it. The figures are noisy on a
shared machine (the load average is printed with each row): compare the ratios, not the
absolute numbers. Figures go to stdout
as Markdown, for docs/benchmarks.md. Receipts' subjects start with "[bench]".
"""
from __future__ import annotations

import argparse
import difflib
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from common import client, heading, sign_in
from sqlalchemy import select

from eoffice import demo as fixtures  # the letters and probe words the OCR tests use
from eoffice.db import make_engine
from eoffice.programs import program
from eoffice.text import normalise
from services.dak import ocr as reading
from services.dak.models import scans
from services.directory.demo import rows as demo

REPO = Path(__file__).resolve().parents[2]
LETTERS = [(fixtures.HINDI_LETTER, "नामांतरण"), (fixtures.ENGLISH_LETTER, "encroachment")]
TESSERACT = ["tesseract", "-", "stdout", "-l", "hin+eng"]
ONE_THREAD = {**os.environ, "OMP_THREAD_LIMIT": "1"}
CORES = os.cpu_count() or 1
OCR_TARGET = program("dak_ocr").target
ENGINE = "services/dak/ocr_engine.py"  # the OCR worker's tesseract processes
UPLOAD_ATTEMPTS = 3


@dataclass(frozen=True)
class Kind:
    name: str
    content_type: str
    dpi: int
    pages: list[bytes]  # the files uploaded, Hindi and English
    images: list[bytes]  # the same pages as PNG, for the ceiling


def page_lines(n: int) -> list[str]:
    """The text of the n-th letter's page: Hindi and English letters alternately, 5 times over."""
    return LETTERS[n % 2][0] * 5


def a4_page(n: int, dpi: int, points: float = 12):
    return fixtures.letter_image(page_lines(n), dpi=dpi, points=points, page_mm=fixtures.A4_MM)


def word_accuracy(lines: list[str], text: str) -> float:
    """The share of the page's words (folded as search folds them) found in the text read, in
    their order: a word misread, missed or split counts as lost."""
    known, read = normalise(" ".join(lines)).split(), normalise(text).split()
    matched = difflib.SequenceMatcher(None, known, read, autojunk=False).get_matching_blocks()
    return sum(block.size for block in matched) / len(known)


def kinds() -> list[Kind]:
    made = []
    for dpi in (200, 300):
        pages = [a4_page(n, dpi) for n in range(len(LETTERS))]
        pngs = [fixtures.as_bytes(page, "PNG", dpi=dpi) for page in pages]
        made.append(Kind(f"PNG, {dpi} dpi", "image/png", dpi, pngs, pngs))
        made.append(Kind(f"image-only PDF, {dpi} dpi", "application/pdf", dpi,
                         [fixtures.pdf_of_images([page], dpi=dpi) for page in pages], pngs))
    return made


def children_cpu() -> float:
    """CPU seconds this process's finished child processes used."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def programs_cpu() -> dict[int, tuple[bool, float]]:
    """CPU seconds used so far by this system's programs, with the tools they ran, by process:
    (whether it is OCR, seconds). OCR: the dak_ocr processes with their tesseract engines
    (ocr_engine.py, long-lived: not yet in the worker's children's time); else every other
    program (gateway and nameko services). Only the processes on this environment's broker
    count, not the tests' of other environments; RabbitMQ, PostgreSQL, MinIO and Elasticsearch
    are shared with them, so they are left out."""
    found, tick = {}, os.sysconf("SC_CLK_TCK")
    ours = f"EOFFICE_AMQP_URI={os.environ.get('EOFFICE_AMQP_URI')}\0".encode()
    for proc in Path("/proc").iterdir():
        try:
            command = (proc / "cmdline").read_bytes().decode(errors="replace")
            if not any(name in command for name in ("nameko", "gunicorn", ENGINE)):
                continue
            if ours not in (proc / "environ").read_bytes():
                continue
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            used = sum(int(f) for f in fields[11:15]) / tick  # utime, stime, cutime, cstime
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile, or not ours to read
        found[int(proc.name)] = (OCR_TARGET in command or ENGINE in command, used)
    return found


def cpu_between(before: dict[int, tuple[bool, float]], after: dict[int, tuple[bool, float]]) -> tuple[float, float]:
    """CPU seconds (OCR, the other programs) between two programs_cpu(): a process started
    meanwhile counts whole; one that ended meanwhile (restarted by someone) is lost."""
    ocr = rest = 0.0
    for pid, (is_ocr, used) in after.items():
        spent = used - before.get(pid, (is_ocr, 0.0))[1]
        ocr, rest = (ocr + spent, rest) if is_ocr else (ocr, rest + spent)
    return ocr, rest


def ceiling(images: list[bytes], pages: int, streams: int) -> float:
    """Pages per minute tesseract reads, one thread, straight on the images, `streams` at once."""
    def stream(n: int) -> None:
        for page in range(pages):
            subprocess.run(TESSERACT, input=images[(n + page) % len(images)], capture_output=True, check=True,
                           env=ONE_THREAD)
    start = time.perf_counter()
    with ThreadPoolExecutor(streams) as pool:
        list(pool.map(stream, range(streams)))
    return pages * streams / (time.perf_counter() - start) * 60


def tesseract_alone(images: list[bytes], pages: int) -> tuple[float, float]:
    """CPU seconds a page costs tesseract alone, one thread, straight on the original images (the
    n-th page is image n % 2), and the word accuracy of what it read."""
    before, accuracy = children_cpu(), 0.0
    for n in range(pages):
        text = subprocess.run(TESSERACT, input=images[n % len(images)], capture_output=True, check=True,
                              env=ONE_THREAD).stdout.decode()
        accuracy += word_accuracy(page_lines(n), text)
    return (children_cpu() - before) / pages, accuracy / pages


class Dak:
    """Uploads through the gateway; waits on dak's record of the reading."""

    def __init__(self, api, clerks: list[dict]):
        self.api, self.clerks, self.engine = api, clerks, make_engine(pool_size=1)

    def upload(self, n: int, filename: str, *, data: bytes, content_type: str) -> str:
        """Diarises a scanned letter; on 503 (a service slow to answer on a crowded machine) tries
        again after the time the gateway asks, with the same idempotency key."""
        letter = {"subject": f"[bench] OCR {n}", "sender_name": "रामलाल", "received_date": date.today().isoformat(),
                  "mode": "post"}
        headers = {**self.clerks[n % len(self.clerks)], "Idempotency-Key": uuid.uuid4().hex}
        for _ in range(UPLOAD_ATTEMPTS):
            answer = self.api.post("/api/v1/receipts/electronic", headers=headers, data={"letter": json.dumps(letter)},
                                   files={"scans": (filename, io.BytesIO(data), content_type)})
            if answer.status_code != 503:
                break
            time.sleep(float(answer.json().get("retry_after", 5)))
        if answer.status_code != 201:
            raise SystemExit(f"POST /api/v1/receipts/electronic failed: {answer.status_code} {answer.text}")
        return answer.json()["id"]

    def wait_read(self, receipt_ids: list[str], timeout: float = 900) -> float:
        """Waits until every document of the receipts is read; returns when the last was (epoch s)."""
        deadline = time.time() + timeout
        query = select(scans.c.ocr_status, scans.c.read_at).where(scans.c.receipt_id.in_(receipt_ids))
        while True:
            with self.engine.connect() as db:
                rows = db.execute(query).all()
            if len(rows) == len(receipt_ids) and all(status != "pending" for status, _ in rows):
                if any(status != "done" for status, _ in rows):
                    raise SystemExit(f"a reading failed: {rows}")
                return max(read_at for _, read_at in rows).timestamp()
            if time.time() > deadline:
                raise SystemExit(f"not read in {timeout:.0f} s: {rows}")
            time.sleep(0.2)

    def texts(self, receipt_ids: list[str]) -> list[list[str]]:
        """Each document's text, fetched through the gateway, as its pages' texts."""
        return [self.api.get(f"/api/v1/receipts/{receipt_id}/scans/1/text",
                             headers=self.clerks[n % len(self.clerks)]).text.split("\f")
                for n, receipt_id in enumerate(receipt_ids)]

    def run(self, documents: list[tuple[str, bytes, str]], clients: int) -> tuple[list[str], float, float]:
        """Uploads the documents at once; returns the receipts, and seconds from the first upload
        to the last one answered and to the last text stored."""
        start = time.time()
        with ThreadPoolExecutor(clients) as pool:
            ids = list(pool.map(lambda n: self.upload(n, documents[n][0], data=documents[n][1],
                                                      content_type=documents[n][2]), range(len(documents))))
        uploaded = time.time() - start
        return ids, uploaded, self.wait_read(ids) - start


def probes_found(texts: list[list[str]]) -> int:
    """How many documents hold their probe word on every page (page k of document n is letter
    n + k: one-page letters alternate, and so do the pages of one long scan)."""
    return sum(all(normalise(LETTERS[(n + k) % 2][1]) in normalise(page) for k, page in enumerate(pages))
               for n, pages in enumerate(texts))


def accuracy(texts: list[list[str]]) -> float:
    """Mean word accuracy of every page read (page k of document n is letter n + k)."""
    scores = [word_accuracy(page_lines(n + k), page) for n, pages in enumerate(texts) for k, page in enumerate(pages)]
    return sum(scores) / len(scores)


def small_print() -> None:
    """Prints the word accuracy of 6- and 8-point pages scanned at 300 dpi: the worker's reading
    against tesseract on the original."""
    print("\n| small print, 300-dpi A4 page | words read right: worker's reading / tesseract on the original |"
          "\n|---|---|")
    with tempfile.TemporaryDirectory(prefix="bench-ocr-") as folder:
        for points in (6, 8):
            for n in range(len(LETTERS)):
                page = fixtures.as_bytes(a4_page(n, 300, points), "PNG", dpi=300)
                path = Path(folder) / f"{points}-{n}.png"
                path.write_bytes(page)
                ours = reading.read_text(path, "image/png").text
                alone = subprocess.run(TESSERACT, input=page, capture_output=True, check=True, env=ONE_THREAD)
                print(f"| {points}-point, {'Hindi' if n % 2 == 0 else 'English'} | "
                      f"{word_accuracy(page_lines(n), ours):.1%} / "
                      f"{word_accuracy(page_lines(n), alone.stdout.decode()):.1%} |", flush=True)


@contextmanager
def extra_workers(count: int) -> Iterator[None]:
    """Runs `count` more dak_ocr processes (one worker each, this tree's code) meanwhile."""
    worker, log = program("dak_ocr"), Path(tempfile.gettempdir()) / "bench-dak_ocr.log"
    argv = [sys.executable, "-m", "nameko", "run", "--config", str(REPO / "deploy" / "nameko.yaml"), worker.target]
    started = [subprocess.Popen(argv, cwd=REPO, env={**os.environ, "EOFFICE_MAX_WORKERS": "1"}, stdout=log.open("ab"),
                                stderr=subprocess.STDOUT) for _ in range(count)]
    try:
        time.sleep(8 if count else 0)  # connected and consuming
        yield
    finally:
        for process in started:
            process.terminate()
            process.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=16, help="one-page letters of each kind")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--long", type=int, default=10, help="pages of the long scan")
    parser.add_argument("--ceiling-pages", type=int, default=4, help="pages per stream for the ceiling")
    parser.add_argument("--extra-ocr-workers", type=int, default=0,
                        help="also run the four kinds again with this many more dak_ocr processes")
    args = parser.parse_args()

    ocr = program("dak_ocr")
    workers = (ocr.workers or 1) * ocr.instances
    with client() as api:
        dak = Dak(api, [sign_in(api, p["code"]) for p in demo("posts")
                        if "dak_clerk" in p["roles"] and p["office_code"] == "LKO-DAK"])
        print(heading(f"OCR benchmark, dak_ocr: {ocr.instances} instance(s) of {ocr.workers} worker(s) "
                      "(deploy/programs)", args.clients))
        made = kinds()
        png200 = made[0]
        # First-use costs (connections, models read from disk) aside:
        dak.wait_read([dak.upload(0, "warm.png", data=png200.pages[0], content_type="image/png")])

        lone = []
        for n in range(3):
            start = time.time()
            receipt = dak.upload(n, "lone.png", data=png200.pages[n % 2], content_type="image/png")
            lone.append(dak.wait_read([receipt]) - start)
        alone = 60 / ceiling(png200.images, 2, 1)
        print(f"One page alone (PNG, 200 dpi): upload to text {statistics.median(lone):.2f} s (median of 3); "
              f"tesseract alone on it {alone:.2f} s.\n", flush=True)

        print("| OCR workers | pages | kind | upload to text | ceiling: tesseract on every core | ratio | "
              "tesseract on one core | CPU a page: OCR worker / tesseract alone / our other programs | "
              "last upload answered | "
              "probe words found | words read right: worker / tesseract on the original | load average |\n"
              "|---|---|---|---|---|---|---|---|---|---|---|---|")
        for extra in sorted({0, args.extra_ocr_workers}):
            with extra_workers(extra):
                for kind in made:
                    cpu_alone, read_alone = tesseract_alone(kind.images, max(2, args.ceiling_pages))
                    per_core = ceiling(kind.images, args.ceiling_pages, 1)
                    box = ceiling(kind.images, args.ceiling_pages, CORES)
                    suffix = ".png" if kind.content_type == "image/png" else ".pdf"
                    documents = [(f"page{suffix}", kind.pages[n % 2], kind.content_type) for n in range(args.pages)]
                    cpu_before = programs_cpu()
                    ids, uploaded, seconds = dak.run(documents, args.clients)
                    time.sleep(0.5)  # the worker's last tesseract reaped and counted
                    cpu, rest = (spent / args.pages for spent in cpu_between(cpu_before, programs_cpu()))
                    box = (box + ceiling(kind.images, args.ceiling_pages, CORES)) / 2  # before and after: less noise
                    rate = args.pages / seconds * 60
                    texts = dak.texts(ids)
                    print(f"| {workers + extra} | {args.pages} | {kind.name} | {rate:.0f}/min | {box:.0f}/min | "
                          f"{rate / box:.2f} | {per_core:.0f}/min | {cpu:.2f} s / {cpu_alone:.2f} s / {rest:.2f} s | "
                          f"after {uploaded:.0f} s of {seconds:.0f} | {probes_found(texts)}/{args.pages} | "
                          f"{accuracy(texts):.1%} / {read_alone:.1%} | {os.getloadavg()[0]:.1f} |",
                          flush=True)

        long_pages = [a4_page(n, 200) for n in range(args.long)]
        box = ceiling(made[0].images, args.ceiling_pages, CORES)
        ids, uploaded, seconds = dak.run([("long.pdf", fixtures.pdf_of_images(long_pages), "application/pdf")], 1)
        box = (box + ceiling(made[0].images, args.ceiling_pages, CORES)) / 2
        rate = args.long / seconds * 60
        texts = dak.texts(ids)
        print(f"| {workers} | {args.long} | one image-only PDF of {args.long} pages, 200 dpi | {rate:.0f}/min | "
              f"{box:.0f}/min | {rate / box:.2f} | | | after {uploaded:.0f} s of {seconds:.0f} | "
              f"{probes_found(texts)}/1 documents | {accuracy(texts):.1%} / | {os.getloadavg()[0]:.1f} |")
    small_print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
