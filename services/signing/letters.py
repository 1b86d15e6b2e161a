"""An issued letter as a PDF: the approved draft's text on the office's letterhead, with its
letter number from the dispatch register and the signer's name and designation, rendered by
WeasyPrint (Pango and HarfBuzz shape Devanagari: conjuncts, matras, reph) as PDF/A-3a.

The document uploaded with the approved version, if any, goes inside the PDF as its enclosure:
a PDF/A-3 associated file (the catalogue's /AF, AFRelationship /Supplement) with its name,
content type and upload time, and the letter prints "Enclosure: <name>" (in Hindi too). It is
part of the bytes the letter's signature covers, so whoever verifies the letter has it.

PDF/A-3a is PDF/A-3b plus a tagged structure (reading order, paragraphs). Text extraction
from a Devanagari PDF is lossy because a font's ToUnicode map gives each glyph one text,
whatever cluster it was shaped from; so each line is also wrapped in a marked-content span
with its exact text as `/ActualText`, which poppler's `pdftotext` and screen readers use
instead of the glyphs. Search still indexes the draft's own text, never this PDF's.

Nothing here knows nameko, SQL or MinIO: `render(letter) -> bytes`."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date, datetime

import pydyf
from weasyprint import HTML, Attachment
from weasyprint.draw import text as weasy_text
from weasyprint.urls import URLFetcher, URLFetcherResponse

VARIANT = "pdf/a-3a"  # PDF/A-3b conformance plus tags (the "a" level needs the structure)


@dataclass(frozen=True)
class Letterhead:
    """What heads the office's letters: its name in Hindi and English, and its address."""

    name_hi: str
    name_en: str
    address: str = ""


@dataclass(frozen=True)
class Enclosure:
    """A document sent with the letter, as it was uploaded with the approved draft version."""

    name: str  # the file name as uploaded
    content_type: str  # as the intake found it: application/pdf, image/jpeg, image/png, image/tiff
    data: bytes
    uploaded_at: datetime | None = None


ENCLOSURE_LABELS = {"hi": "संलग्नक / Enclosure", "en": "Enclosure"}


@dataclass(frozen=True)
class Letter:
    """Everything printed on an issued letter."""

    letterhead: Letterhead
    letter_number: str
    issued_on: date
    title: str
    body: str  # the approved draft version's text; paragraphs separated by blank lines
    signer_name: str
    signer_designation: str
    file_number: str
    addressees: tuple[str, ...] = ()
    lang: str = "hi"  # the document's main language (Hindi letters carry English too)
    enclosure: Enclosure | None = None


STYLE = """
@page { size: A4; margin: 18mm 20mm 22mm 20mm;
        @bottom-center { content: counter(page) " / " counter(pages); font-size: 8pt; color: #444; } }
body { font-family: "Noto Serif Devanagari", "Noto Serif", "Lohit Devanagari", serif; font-size: 11.5pt;
       line-height: 1.5; color: #000; }
header { text-align: center; border-bottom: 1.5pt solid #000; padding-bottom: 3mm; margin-bottom: 5mm; }
header h1 { font-size: 16pt; margin: 0; font-weight: bold; }
header .en { font-size: 13pt; font-weight: bold; margin: 0; }
header .address { font-size: 9.5pt; margin: 1mm 0 0 0; }
.meta { display: flex; justify-content: space-between; margin-bottom: 5mm; font-size: 10.5pt; }
.meta .file { font-size: 9pt; }
.to { margin-bottom: 4mm; }
h2 { font-size: 12pt; margin: 0 0 4mm 0; }
.body p { margin: 0 0 3mm 0; text-align: justify; }
.signature { margin-top: 14mm; margin-left: 55%; text-align: center; }
.signature .name { font-weight: bold; }
.enclosure { margin-top: 8mm; font-size: 10.5pt; }
"""


def html_of(letter: Letter) -> str:
    """Returns the letter as an HTML document (escaped: the draft is user text)."""
    e = html.escape
    head = letter.letterhead
    paragraphs = [p.strip() for p in letter.body.replace("\r\n", "\n").split("\n\n") if p.strip()]
    body = "\n".join("<p>" + "<br>".join(e(line) for line in p.split("\n")) + "</p>" for p in paragraphs)
    to = "".join(f"<div>{e(a)}</div>" for a in letter.addressees)
    enclosed = letter.enclosure
    label = ENCLOSURE_LABELS.get(letter.lang, ENCLOSURE_LABELS["en"])
    enclosure = f'<p class="enclosure">{e(label)}: {e(enclosed.name)}</p>' if enclosed else ""
    return f"""<!DOCTYPE html>
<html lang="{e(letter.lang)}"><head><meta charset="utf-8"><title>{e(letter.title)}</title>
<style>{STYLE}</style></head><body>
<header><h1 lang="hi">{e(head.name_hi)}</h1><p class="en" lang="en">{e(head.name_en)}</p>
<p class="address">{e(head.address)}</p></header>
<div class="meta"><span>{e(letter.letter_number)}<br><span class="file">{e(letter.file_number)}</span></span>
<span>{letter.issued_on.strftime("%d.%m.%Y")}</span></div>
{f'<div class="to">{to}</div>' if to else ""}
<h2>{e(letter.title)}</h2>
<div class="body">{body}</div>
<div class="signature"><div class="name">({e(letter.signer_name)})</div><div>{e(letter.signer_designation)}</div>
</div>
{enclosure}
</body></html>"""


def render(letter: Letter) -> bytes:
    """Returns the letter as a PDF/A-3a document, its enclosure (if any) embedded as an associated
    file. CPU-bound (about a tenth of a second a page): run it off the event loop."""
    _install_actual_text_spans()
    if letter.enclosure is None:
        return HTML(string=html_of(letter)).write_pdf(pdf_variant=VARIANT)
    return HTML(string=html_of(letter)).write_pdf(
        pdf_variant=VARIANT,
        attachments=[_attachment(letter.enclosure, description=f"Enclosure to letter {letter.letter_number}")],
        finisher=_tidy_associated_files,
    )


class _EnclosureFetcher(URLFetcher):
    """Hands WeasyPrint the enclosure's bytes with their own content type (WeasyPrint would
    guess it from the name otherwise); any failure stops the render rather than drop the file."""

    def __init__(self, enclosure: Enclosure):
        super().__init__(fail_on_errors=True)
        self.enclosure = enclosure

    def fetch(self, url, headers=None):
        return URLFetcherResponse(url, self.enclosure.data, {"Content-Type": self.enclosure.content_type})


def _attachment(enclosure: Enclosure, *, description: str) -> Attachment:
    return Attachment(
        url="enclosure:",
        url_fetcher=_EnclosureFetcher(enclosure),
        name=enclosure.name,
        description=description,
        created=enclosure.uploaded_at,
        modified=enclosure.uploaded_at,
        relationship="Supplement",
    )


def _tidy_associated_files(document, pdf: pydyf.PDF) -> None:
    """WeasyPrint (70) lists each associated file twice in the catalogue's /AF, and writes its
    /F (and the name tree's key) as UTF-8 bytes that readers decode as PDFDocEncoding: keep one
    entry each, /F in ASCII (the name's ASCII letters), the key the name as /UF has it."""
    if "AF" in pdf.catalog:
        pdf.catalog["AF"] = pydyf.Array(dict.fromkeys(pdf.catalog["AF"]))
    names = {}
    for spec in pdf.objects:
        if isinstance(spec, pydyf.Dictionary) and spec.get("Type") == "/Filespec":
            name = spec["UF"].string
            spec["F"] = pydyf.String(_ascii_name(name))
            names[spec.reference] = name
    if "Names" in pdf.catalog and "EmbeddedFiles" in pdf.catalog["Names"]:
        tree = pdf.objects[int(pdf.catalog["Names"]["EmbeddedFiles"].split()[0])]["Names"]
        for i in range(0, len(tree), 2):
            tree[i] = pydyf.String(names.get(tree[i + 1], tree[i].string))


def _ascii_name(name: str) -> str:
    """`name` with what is not printable ASCII dropped: 'अनुलग्नक 2.pdf' is '2.pdf'; 'enclosure'
    stands in for a stem left empty ('अनुलग्नक.pdf' is 'enclosure.pdf')."""
    kept = re.sub(r"\s+", " ", re.sub(r"[^\x20-\x7e]", "", name)).strip()
    stem, dot, ext = kept.rpartition(".")
    if not dot:
        stem, ext = kept, ""
    stem = stem.strip(" .-_") or "enclosure"
    return f"{stem}.{ext}" if ext else stem


# WeasyPrint draws each line of text in `draw_text`; wrapping it in a marked-content span with
# the line's own text as /ActualText gives extractors the text as typed, not as glyphs. The
# span nests inside the structure tag's own marked content, which PDF allows.
_original_draw_text = weasy_text.draw_text


def _draw_text_with_actual_text(stream, textbox, *args, **kwargs):
    text = textbox.text
    if not text.strip() or textbox.style["visibility"] != "visible":
        return _original_draw_text(stream, textbox, *args, **kwargs)
    pydyf.Stream.begin_marked_content(stream, "Span", pydyf.Dictionary({"ActualText": pydyf.String(text)}))
    try:
        return _original_draw_text(stream, textbox, *args, **kwargs)
    finally:
        pydyf.Stream.end_marked_content(stream)


def _install_actual_text_spans() -> None:
    """Makes WeasyPrint draw text through `_draw_text_with_actual_text`, once per process (it
    stays installed: renders on other threads must never see it switched back)."""
    import weasyprint.draw as weasy_draw

    weasy_draw.draw_text = _draw_text_with_actual_text
