"""Checking uploaded scans (the intake, eoffice.intake) and reading their text (services.dak.ocr), on
files the tests make: real scans of each type, broken files and bombs."""
from __future__ import annotations

import io
import subprocess
import time
import tracemalloc
from email.message import EmailMessage
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter

from eoffice.errors import InvalidInput
from eoffice.intake import attachments, inspect
from eoffice.text import normalise
from services.dak import ocr
from tests.support import scans

MIB = 1 << 20


@pytest.fixture(scope="module")
def hindi() -> Image.Image:
    return scans.letter_image(scans.HINDI_LETTER)


@pytest.fixture(scope="module")
def english() -> Image.Image:
    return scans.letter_image(scans.ENGLISH_LETTER)


@pytest.fixture(scope="module")
def searchable(english) -> bytes:
    return scans.searchable_pdf(english, "eng")


def check(data: bytes, filename: str = "letter", **limits):
    stream = io.BytesIO(data)
    result = inspect(stream, filename, **{"max_bytes": 20 * MIB, **limits})
    assert stream.tell() == 0
    return result


def refusal(data: bytes, filename: str, **limits) -> str:
    """The message inspect() refuses the file with; it names the file and is about it."""
    with pytest.raises(InvalidInput) as refused:
        check(data, filename, **limits)
    assert refused.value.fields == {"field": filename}
    assert refused.value.detail.startswith(filename)
    return refused.value.detail


# --- what is accepted

@pytest.mark.parametrize("make, content_type, pages", [
    (lambda h, e: scans.as_bytes(h, "PNG"), "image/png", 1),
    (lambda h, e: scans.as_bytes(h, "JPEG"), "image/jpeg", 1),
    (lambda h, e: scans.as_bytes(h, "TIFF"), "image/tiff", 1),
    (lambda h, e: scans.multipage_tiff([h, e, h]), "image/tiff", 3),
    (lambda h, e: scans.pdf_of_images([h, e]), "application/pdf", 2),
], ids=["png", "jpeg", "tiff", "multipage-tiff", "pdf"])
def test_each_supported_type_is_recognised_with_its_pages(hindi, english, make, content_type, pages):
    data = make(hindi, english)
    found = check(data, "scan.bin")
    assert (found.filename, found.content_type, found.size, found.pages) == ("scan.bin", content_type, len(data), pages)


def test_type_comes_from_the_bytes_not_the_name(hindi):
    assert check(scans.as_bytes(hindi, "PNG"), "letter.pdf").content_type == "image/png"


def test_text_layer_only_when_every_page_has_text(hindi, english, searchable):
    assert check(searchable).text_layer
    assert not check(scans.pdf_of_images([english])).text_layer
    assert not check(scans.as_bytes(english, "PNG")).text_layer


ENCRYPTIONS = ["RC4-128", "AES-128", "AES-256"]


@pytest.mark.parametrize("algorithm", ENCRYPTIONS)
def test_a_restricted_pdf_is_accepted_with_its_pages_and_text_layer(hindi, english, searchable, algorithm):
    # Opens without a password; an owner password forbids printing and copying, as government PDFs often do.
    text = scans.encrypted(searchable, algorithm=algorithm)
    found = check(text, "circular.pdf")
    assert (found.content_type, found.pages, found.text_layer, found.size) == ("application/pdf", 1, True, len(text))
    scan = scans.encrypted(scans.pdf_of_images([hindi, english]), algorithm=algorithm)
    assert (check(scan).pages, check(scan).text_layer) == (2, False)


@pytest.mark.parametrize("algorithm", ["RC4-40", *ENCRYPTIONS])
def test_a_pdf_that_needs_a_password_to_open_is_refused(english, algorithm):
    locked = scans.encrypted(scans.pdf_of_images([english]), user_password="secret", algorithm=algorithm)
    assert refusal(locked, "locked.pdf") == (
        "locked.pdf is password protected: it does not open without a password (or a certificate); "
        "upload a copy that opens without one, or scan the paper")


def test_a_pdf_encrypted_for_a_certificate_is_refused_as_protected(english):
    # Public-key encryption (/Adobe.PubSec) opens only with the recipient's certificate: pypdf cannot open it.
    data = scans.encrypted(scans.pdf_of_images([english]), algorithm="AES-128")
    pubsec = data.replace(b"/Filter /Standard", b"/Filter /Adobe.PubSec")
    assert pubsec != data
    assert "is password protected" in refusal(pubsec, "sealed.pdf")


# --- what is refused, and why

REFUSED = [  # (filename, make the file from a page image, what the refusal says)
    ("empty.pdf", lambda h: b"", "is empty"),
    ("cut.jpg", lambda h: scans.truncated(scans.as_bytes(h, "JPEG")), "damaged or incomplete JPEG"),
    ("cut.png", lambda h: scans.truncated(scans.as_bytes(h, "PNG")), "damaged or incomplete PNG"),
    ("cut.pdf", lambda h: scans.truncated(scans.pdf_of_images([h])), "damaged or incomplete PDF"),
    ("garbage.pdf", lambda h: bytes(range(256)) * 40, "not a readable PDF file"),
    ("garbage.bin", lambda h: bytes(range(256)) * 40, "not a PDF, JPEG, PNG or TIFF file"),
    ("note.pdf", lambda h: "प्रार्थना पत्र\nकृपया देखें\n".encode(), "is a text file, not a PDF, JPEG, PNG or TIFF"),
    ("photo.gif", lambda h: b"GIF89a" + bytes(100), "is a GIF image"),
    ("mail.pdf", lambda h: scans.eml("Land", "a@b.in", "see", []), "upload it as an e-mail"),
    ("locked.pdf", lambda h: scans.encrypted(scans.pdf_of_images([h]), user_password="secret"),
     "is password protected"),
    ("many.pdf", lambda h: scans.pdf_bomb_pages(5000), "has 5000 pages; the limit is 500"),
    ("banner.pdf", lambda h: scans.pdf_page_of(14_500, 600), "pages up to 5080 mm on a side"),
    ("huge.png", lambda h: scans.as_bytes(Image.new("1", (10_000, 6_000), 1), "PNG"),
     "is 10000 x 6000 pixels (60 megapixels); the limit is 50 megapixels"),
]


@pytest.mark.parametrize("filename, make, reason", REFUSED, ids=[filename for filename, *_ in REFUSED])
def test_refused_with_a_reason(hindi, filename, make, reason):
    assert reason in refusal(make(hindi), filename)


def test_over_the_size_limit_says_both_sizes():
    assert refusal(bytes(int(1.5 * MIB)), "big.pdf", max_bytes=MIB) == "big.pdf is 1.5 MiB; the limit is 1 MiB per file"


def test_page_limit_is_the_callers(hindi, english):
    assert "has 3 pages; the limit is 2" in refusal(scans.multipage_tiff([hindi, english, hindi]), "a.tif", max_pages=2)


def test_flate_bomb_is_refused_quickly_in_little_memory():
    bomb = scans.pdf_bomb_flate(1024)
    assert len(bomb) < 2 * MIB
    started = time.perf_counter()
    tracemalloc.start()
    try:
        reason = refusal(bomb, "bomb.pdf")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "unpacks to over" in reason
    assert time.perf_counter() - started < 2
    assert peak < 32 * MIB


def test_a_small_flate_stream_is_not_a_bomb():
    assert check(scans.pdf_bomb_flate(4)).pages == 1  # within the 16 MiB floor: harmless


@pytest.mark.parametrize("algorithm", ENCRYPTIONS)
def test_a_restricted_bomb_is_refused_by_its_decrypted_content(algorithm):
    # Encrypted, the stream is noise that inflates to nothing: only its decrypted bytes show the bomb.
    assert "unpacks to over" in refusal(scans.encrypted(scans.pdf_bomb_flate(1024), algorithm=algorithm), "bomb.pdf")
    assert check(scans.encrypted(scans.pdf_bomb_flate(4), algorithm=algorithm)).pages == 1


# --- e-mails

def test_eml_gives_sender_subject_text_and_attachments(hindi):
    png, pdf = scans.as_bytes(hindi, "PNG"), scans.pdf_of_images([hindi])
    data = scans.eml("नामांतरण हेतु प्रार्थना", "Ram Kumar <ram@example.in>", "कृपया संलग्न पत्र देखें।",
                     [("letter.png", "image/png", png), ("C:\\scans\\annexure.pdf", "application/pdf", pdf)])
    stream = io.BytesIO(data)
    summary, files = attachments(stream, "mail.eml", max_bytes=20 * MIB)
    assert stream.tell() == 0
    assert (summary.from_name, summary.from_address) == ("Ram Kumar", "ram@example.in")
    assert summary.subject == "नामांतरण हेतु प्रार्थना"
    assert summary.date is not None and summary.date.year == 2023
    assert summary.body_text.strip() == "कृपया संलग्न पत्र देखें।"
    assert files == [("letter.png", png), ("annexure.pdf", pdf)]


def test_eml_html_body_becomes_text():
    message = EmailMessage()
    message["From"], message["Subject"] = "clerk@example.in", "Reminder"
    message.set_content("<html><head><style>p {}</style></head><body><p>Please reply&nbsp;by <b>Monday</b>"
                        "</p><p>Thanks</p></body></html>", subtype="html")
    summary, files = attachments(io.BytesIO(message.as_bytes()), "r.eml", max_bytes=MIB)
    assert (summary.body_text, files) == ("Please reply by Monday\nThanks", [])


@pytest.mark.parametrize("data, reason", [
    (b"%PDF-1.7\n" + bytes(100), "is not an e-mail (.eml) file; it is a PDF"),
    (scans.eml("Nothing", "a@b.in", "", []), "is an e-mail with neither a message nor attachments"),
], ids=["pdf", "empty-e-mail"])
def test_eml_refused(data, reason):
    with pytest.raises(InvalidInput) as refused:
        attachments(io.BytesIO(data), "x.eml", max_bytes=MIB)
    assert refused.value.detail == f"x.eml {reason}" and refused.value.fields == {"field": "x.eml"}


# --- reading the text

def found(word: str, text: str) -> bool:
    return normalise(word) in normalise(text)


def test_ocr_reads_hindi_from_an_image(tmp_path, hindi):
    path = tmp_path / "letter.png"
    path.write_bytes(scans.as_bytes(hindi, "PNG"))
    reading = ocr.read_text(path, "image/png")
    assert (reading.pages, reading.method) == (1, "ocr")
    assert found("नामांतरण", reading.text) and found("प्रार्थना", reading.text)


def test_ocr_reads_a_scanned_pdf_page_by_page(tmp_path, hindi, english):
    path = tmp_path / "scan.pdf"
    path.write_bytes(scans.pdf_of_images([hindi, english]))
    reading = ocr.read_text(path, "application/pdf", dpi=200)
    assert (reading.pages, reading.method) == (2, "ocr")
    first, second = reading.text.split("\f")
    assert found("नामांतरण", first) and found("encroachment", second)


def tools_run(monkeypatch) -> list[list[str]]:
    """Records the command line of every tool the reading starts."""
    run, argvs = subprocess.run, []
    monkeypatch.setattr(subprocess, "run", lambda argv, *a, **k: argvs.append(argv) or run(argv, *a, **k))
    return argvs


@pytest.mark.parametrize("dpi", [200, 300])
def test_a_scanned_pdf_page_is_read_from_its_own_image_not_rasterised(tmp_path, monkeypatch, dpi):
    # A4 pages as a scanner makes them at 200 and 300 dpi; three pages for two processes.
    pages = [scans.letter_image(lines, dpi=dpi, page_mm=scans.A4_MM, points=12)
             for lines in (scans.HINDI_LETTER, scans.ENGLISH_LETTER, scans.HINDI_LETTER)]
    path = tmp_path / "scan.pdf"
    path.write_bytes(scans.pdf_of_images(pages, dpi=dpi))
    argvs = tools_run(monkeypatch)
    seen = images_read(monkeypatch)
    reading = ocr.read_text(path, "application/pdf", processes=2)
    assert (reading.pages, reading.method) == (3, "ocr")
    first, second, third = reading.text.split("\f")
    assert found("नामांतरण", first) and found("encroachment", second) and found("प्रार्थना", third)
    tools = [argv[0] for argv in argvs]
    assert "pdftoppm" not in tools and tools.count("pdfimages") == 4  # the list, then each page's image
    assert sorted(len(batch) for batch in seen) == [1, 2]  # one tesseract reading per batch of pages


def images_read(monkeypatch) -> list[list[tuple[str, int, int]]]:
    """Records the page images of each reading tesseract is given (an image, or a list of them):
    (file name, width, resolution) each."""
    tesseract, seen = ocr._tesseract, []

    def recording(given: Path, *args, **kwargs):
        batch = []
        for name in given.read_text().split() if given.suffix == ".txt" else [given]:
            with Image.open(name) as image:
                batch.append((Path(name).name, image.width, round(image.info.get("dpi", (0, 0))[0])))
        seen.append(batch)
        return tesseract(given, *args, **kwargs)

    monkeypatch.setattr(ocr, "_tesseract", recording)
    return seen


@pytest.mark.parametrize("content_type", ["image/png", "application/pdf", "image/tiff"])
def test_a_300_dpi_scan_is_read_at_225_dpi(tmp_path, monkeypatch, content_type):
    # tesseract reads the same words at 225 dpi for less (docs/benchmarks.md); A4 is 1860 px wide at 225.
    pages = [scans.letter_image(lines, dpi=300, page_mm=scans.A4_MM, points=12)
             for lines in (scans.HINDI_LETTER, scans.ENGLISH_LETTER)]
    if content_type == "image/png":
        pages = pages[:1]
        data = scans.as_bytes(pages[0], "PNG", dpi=300)
    elif content_type == "application/pdf":
        data = scans.pdf_of_images(pages, dpi=300)
    else:
        out = io.BytesIO()
        pages[0].save(out, "TIFF", save_all=True, append_images=pages[1:], dpi=(300, 300))
        data = out.getvalue()
    path = tmp_path / "scan"
    path.write_bytes(data)
    seen = images_read(monkeypatch)
    reading = ocr.read_text(path, content_type, processes=2)
    texts = reading.text.split("\f")
    assert (reading.pages, len(texts)) == (len(pages), len(pages))
    assert found("नामांतरण", texts[0]) and (len(pages) == 1 or found("encroachment", texts[1]))
    images = [image for batch in seen for image in batch]
    assert len(images) == len(pages) and all(abs(width - 1860) <= 1 and dpi == 225 for _, width, dpi in images)


def test_a_200_dpi_scan_is_read_as_uploaded(tmp_path, monkeypatch, hindi):
    path = tmp_path / "letter.png"
    path.write_bytes(scans.as_bytes(hindi, "PNG", dpi=200))
    seen = images_read(monkeypatch)
    assert found("नामांतरण", ocr.read_text(path, "image/png").text)
    assert seen == [[("letter.png", hindi.width, 200)]]


def test_a_pdf_page_that_is_not_one_whole_image_is_rasterised_at_its_images_resolution(tmp_path, monkeypatch, hindi):
    path = tmp_path / "scan.pdf"
    path.write_bytes(with_margin(scans.pdf_of_images([hindi])))
    argvs = tools_run(monkeypatch)
    reading = ocr.read_text(path, "application/pdf")
    assert found("नामांतरण", reading.text)
    [raster] = [argv for argv in argvs if argv[0] == "pdftoppm"]
    assert raster[raster.index("-r") + 1] == "200"  # the scan's own resolution, not 300


def with_margin(pdf: bytes) -> bytes:
    """The PDF's first page with a margin round its image: no longer one whole-page image, it is rasterised."""
    writer = PdfWriter()
    page = writer.add_page(PdfReader(io.BytesIO(pdf)).pages[0])
    page.mediabox.upper_right = (float(page.mediabox.right) + 144, float(page.mediabox.top) + 144)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize("algorithm", ENCRYPTIONS)
@pytest.mark.parametrize("made, tool, method", [
    ("scanned", "pdfimages", "ocr"), ("scanned with a margin", "pdftoppm", "ocr"),
    ("with text", "pdftotext", "text_layer"),
])
def test_ocr_reads_a_restricted_pdf(tmp_path, monkeypatch, english, searchable, algorithm, made, tool, method):
    scan = scans.pdf_of_images([english])
    pdf = {"scanned": scan, "scanned with a margin": with_margin(scan), "with text": searchable}[made]
    path = tmp_path / "restricted.pdf"
    path.write_bytes(scans.encrypted(pdf, algorithm=algorithm))
    argvs = tools_run(monkeypatch)
    reading = ocr.read_text(path, "application/pdf", languages="eng")
    assert (reading.pages, reading.method) == (1, method)
    assert found("encroachment", reading.text)
    assert tool in [argv[0] for argv in argvs]


def test_ocr_reads_every_frame_of_a_tiff(tmp_path, hindi, english):
    path = tmp_path / "scan.tif"
    path.write_bytes(scans.multipage_tiff([english, hindi, english]))
    reading = ocr.read_text(path, "image/tiff", languages="hin+eng")
    pages = reading.text.split("\f")
    assert (reading.pages, len(pages)) == (3, 3)
    assert found("encroachment", pages[0]) and found("प्रार्थना", pages[1]) and found("encroachment", pages[2])


def test_a_pdf_with_text_is_read_without_ocr(tmp_path, monkeypatch, searchable):
    path = tmp_path / "searchable.pdf"
    path.write_bytes(searchable)
    run, tools = subprocess.run, []
    monkeypatch.setattr(subprocess, "run", lambda argv, *a, **k: tools.append(argv[0]) or run(argv, *a, **k))
    reading = ocr.read_text(path, "application/pdf")
    assert (reading.pages, reading.method) == (1, "text_layer")
    assert found("encroachment", reading.text)
    assert tools == ["pdftotext"]


def test_one_loaded_tesseract_reads_page_after_page(tmp_path, hindi, english):
    # Loading tesseract cost 0.1-0.2 s of CPU a page when each page started its own.
    while ocr._idle:
        ocr._idle.pop().close()
    for n, (image, word) in enumerate([(hindi, "नामांतरण"), (english, "encroachment"), (hindi, "प्रार्थना")]):
        path = tmp_path / f"letter{n}.png"
        path.write_bytes(scans.as_bytes(image, "PNG"))
        assert found(word, ocr.read_text(path, "image/png").text)
    engines = [engine for engine in ocr._idle if engine.languages == "hin+eng"]
    assert len(engines) == 1 and engines[0].reads == 3


def test_an_engine_that_dies_is_replaced(tmp_path, english):
    path = tmp_path / "letter.png"
    path.write_bytes(scans.as_bytes(english, "PNG"))
    assert found("encroachment", ocr.read_text(path, "image/png").text)
    for engine in ocr._idle:  # as the kernel's OOM killer would, between two documents
        engine.process.kill()
        engine.process.wait()
    assert found("encroachment", ocr.read_text(path, "image/png").text)


def test_a_failing_tool_says_why(tmp_path, english):
    path = tmp_path / "letter.png"
    path.write_bytes(scans.as_bytes(english, "PNG"))
    with pytest.raises(ocr.OcrFailed, match="tesseract failed.*xyz"):
        ocr.read_text(path, "image/png", languages="xyz")
