"""Scans made by the tests themselves (no binary files in the repository): letters drawn with a
Devanagari font (eoffice.demo, shared with the benchmarks), the file types a scanner produces,
and broken or malicious files."""
from __future__ import annotations

import random
import struct
import subprocess
import zlib
from email.message import EmailMessage
from email.utils import formatdate
from io import BytesIO
from pathlib import Path
from tempfile import TemporaryDirectory

from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.constants import UserAccessPermissions

from eoffice.demo import (  # noqa: F401
    A4_MM,
    A5_MM,
    ENGLISH_LETTER,
    FONT,
    HINDI_LETTER,
    as_bytes,
    letter_image,
    multipage_tiff,
    pdf_of_images,
)


def searchable_pdf(image: Image.Image, lang: str) -> bytes:
    """A PDF with the page image and tesseract's hidden text over it, as OCR-ing scanners make."""
    with TemporaryDirectory() as scratch:
        source, out = Path(scratch) / "page.png", Path(scratch) / "out"
        image.save(source, dpi=(200, 200))
        subprocess.run(["tesseract", str(source), str(out), "-l", lang, "pdf"], check=True, capture_output=True)
        return out.with_suffix(".pdf").read_bytes()


def encrypted(pdf: bytes, *, user_password: str = "", algorithm: str = "AES-256", reserved_bits: bool = False) -> bytes:
    """The PDF encrypted by pypdf's writer with an owner password that permits nothing (no
    printing, copying or changing) and `user_password` to open it: "" opens it without one, a
    restricted PDF as government offices send them. /P is 0, as pypdf writes it when told to
    permit nothing; with `reserved_bits` it has the bits PDF 1.7 reserves set, as Acrobat writes
    it (and as pyHanko needs to sign it: with bit 13 clear it asks for a PDF MAC, ISO 32004)."""
    writer = PdfWriter(clone_from=PdfReader(BytesIO(pdf)))
    permits = UserAccessPermissions.from_dict({}) if reserved_bits else UserAccessPermissions(0)
    writer.encrypt(user_password, "owner-secret", algorithm=algorithm, permissions_flag=permits)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def truncated(data: bytes) -> bytes:
    return data[:len(data) // 2]


def pdf_bomb_flate(decompressed_mib: int = 1024) -> bytes:
    """A valid one-page PDF whose content stream inflates to `decompressed_mib` MiB of NUL bytes
    (white space to a PDF reader). Compressing the same zero megabyte again and again with the
    run-length strategy makes a 1 GiB bomb in about a second."""
    deflater, zeros = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS, 9, zlib.Z_RLE), bytes(1 << 20)
    packed = b"".join([*(deflater.compress(zeros) for _ in range(decompressed_mib)), deflater.flush()])
    return _pdf(1, content=b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(packed), packed))


def tiff_slow_to_decode(frames: int, side: int = 7000) -> bytes:
    """A valid TIFF of `frames` blank pages of side x side pixels (49 megapixels at 7000, within
    the 50 MP limit), every page pointing at the same CCITT G4 strip: a few kilobytes, and every
    page must be decoded in full to check it (about 1.5 s per 100 pages here)."""
    page = BytesIO()
    Image.new("1", (side, side), 1).save(page, "TIFF", compression="group4", strip_size=side * side)
    with Image.open(page) as image:
        (offset,), (count,), photometric = image.tag_v2[273], image.tag_v2[279], image.tag_v2[262]
    out = bytearray(b"II*\x00") + struct.pack("<I", 8 + count) + page.getvalue()[offset:offset + count]
    # ImageWidth, ImageLength, BitsPerSample, Compression (4: G4), PhotometricInterpretation,
    # StripOffsets, SamplesPerPixel, RowsPerStrip, StripByteCounts: (tag, type: 3 short, 4 long, value).
    entries = [(256, 4, side), (257, 4, side), (258, 3, 1), (259, 3, 4), (262, 3, photometric), (273, 4, 8),
               (277, 3, 1), (278, 4, side), (279, 4, count)]
    for frame in range(frames):
        out += struct.pack("<H", len(entries))
        out += b"".join(struct.pack("<HHI", tag, kind, 1) + (struct.pack("<HH", value, 0) if kind == 3
                                                             else struct.pack("<I", value))
                        for tag, kind, value in entries)
        out += struct.pack("<I", len(out) + 4 if frame < frames - 1 else 0)  # the next page follows
    return bytes(out)


def pdf_bomb_pages(n: int = 5000) -> bytes:
    """A valid PDF of n one-inch blank pages."""
    return _pdf(n)


def pdf_page_of(width_pt: float, height_pt: float) -> bytes:
    """A valid one-page PDF with a blank page this big."""
    return _pdf(1, size=(width_pt, height_pt))


def scanned_pdf_of(size: int) -> bytes:
    """A valid one-page A4 PDF of about `size` bytes (a few hundred more): the page is one grey
    image of random pixels, stored uncompressed, as a large scan that does not compress."""
    side = int(size ** 0.5)
    pixels = random.Random(size).randbytes(side * side)
    image = b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 " \
            b"/Length %d >>\nstream\n%s\nendstream" % (side, side, len(pixels), pixels)
    draw = b"q 595 0 0 842 0 0 cm /Scan Do Q"
    return _pdf(1, size=(595, 842), content=b"<< /Length %d >>\nstream\n%s\nendstream" % (len(draw), draw),
                resources=b"<< /XObject << /Scan 5 0 R >> >>", extra=(image,))


def _pdf(pages: int, *, size: tuple[float, float] = (72, 72), content: bytes | None = None,
         resources: bytes = b"", extra: tuple[bytes, ...] = ()) -> bytes:
    """Writes a PDF by hand: catalog, page tree, n pages sharing one media box, content stream and
    resources, the `extra` objects after the pages (numbered on from them), and a correct
    cross-reference table."""
    first_page = 4 if content else 3
    kids = b" ".join(b"%d 0 R" % (first_page + i) for i in range(pages))
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %g %g]%s%s >>" % (
        *size, b" /Contents 3 0 R" if content else b"", b" /Resources " + resources if resources else b"")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
               *([content] if content else []), *[page] * pages, *extra]
    out, offsets = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def eml(subject: str, from_: str, body: str, attachments: list[tuple[str, str, bytes]]) -> bytes:
    """An e-mail as a mail client saves it (.eml); attachments are (filename, content type, bytes)."""
    message = EmailMessage()
    message["From"], message["To"] = from_, "dak.lucknow@up.gov.in"
    message["Subject"], message["Date"] = subject, formatdate(1_700_000_000, localtime=False)
    if body:
        message.set_content(body)
    for filename, content_type, data in attachments:
        maintype, subtype = content_type.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()
