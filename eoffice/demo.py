"""Demo letters every part of the project may use (the tests, the benchmarks, anyone trying
the OCR): drawn with a Devanagari font as a scanner would deliver them, so that the repository
holds no binary files."""

from __future__ import annotations

from io import BytesIO

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/lohit-devanagari/Lohit-Devanagari.ttf"  # has Latin glyphs too
A5_MM = (148, 210)
A4_MM = (210, 297)

# Each letter has distinctive words (नामांतरण, प्रार्थना; encroachment) the OCR tests look for.
HINDI_LETTER = [
    "कार्यालय जिलाधिकारी, लखनऊ",
    "विषय: भूमि के नामांतरण हेतु प्रार्थना पत्र",
    "महोदय,",
    "निवेदन है कि प्रार्थी की भूमि का नामांतरण",
    "शीघ्र करने की कृपा करें।",
    "भवदीय",
]
ENGLISH_LETTER = [
    "Office of the District Magistrate, Lucknow",
    "Subject: Removal of encroachment on public land",
    "Sir,",
    "Kindly take action to remove the encroachment",
    "near the village pond at the earliest.",
    "Yours faithfully",
]


def letter_image(
    lines: list[str], *, dpi: int = 200, points: float = 14, page_mm: tuple[int, int] = A5_MM
) -> Image.Image:
    """A white page (A5 unless told) with the lines in black. RAQM shapes Devanagari (conjuncts,
    matras) as print does; without it tesseract would be shown letters no printer makes."""
    width, height = (round(mm / 25.4 * dpi) for mm in page_mm)
    page = Image.new("L", (width, height), 255)
    font = ImageFont.truetype(FONT, round(points * dpi / 72), layout_engine=ImageFont.Layout.RAQM)
    draw, margin = ImageDraw.Draw(page), round(dpi * 0.8)
    for n, line in enumerate(lines):
        draw.text((margin, margin + round(n * font.size * 1.7)), line, font=font, fill=0)
    return page


def as_bytes(image: Image.Image, fmt: str, *, dpi: int = 200) -> bytes:
    """The image as a PNG, JPEG or TIFF file that says it was scanned at `dpi`."""
    out = BytesIO()
    image.save(out, fmt, dpi=(dpi, dpi), **({"compression": "tiff_lzw"} if fmt == "TIFF" else {}))
    return out.getvalue()


def pdf_of_images(images: list[Image.Image], *, dpi: int = 200) -> bytes:
    """A PDF of page images only (each a JPEG filling its page at `dpi`), as a scanner without
    OCR makes it."""
    return _save_all(images, "PDF", resolution=dpi)


def multipage_tiff(images: list[Image.Image]) -> bytes:
    return _save_all(images, "TIFF", compression="tiff_lzw", dpi=(200, 200))


def _save_all(images: list[Image.Image], fmt: str, **params) -> bytes:
    """Saves the images as the pages of one file. Copies, because Pillow leaves the save's
    parameters on appended images, and a later TIFF save of them then fails."""
    first, *rest = (image.copy() for image in images)
    out = BytesIO()
    first.save(out, fmt, save_all=True, append_images=rest, **params)
    return out.getvalue()
