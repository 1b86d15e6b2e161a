"""Issued letters without infrastructure: the rendered PDF reads back as typed (Hindi included,
through /ActualText), user text cannot inject markup, the level and retention follow the record
category, and letter numbers have their printed form."""
from __future__ import annotations

import hashlib
import subprocess
from datetime import UTC, date, datetime

from services.signing import letters, pades, register

HINDI = "कलेक्टर कार्यालय में श्री राम प्रसाद का आवेदन प्राप्त हुआ।"


def letter(**changes) -> letters.Letter:
    return letters.Letter(**{
        "letterhead": letters.Letterhead("कलेक्टर कार्यालय, लखनऊ", "Office of the Collector, Lucknow"),
        "letter_number": "D-7/2026/DM-LKO", "issued_on": date(2026, 3, 1), "title": "Pension arrears",
        "body": f"{HINDI}\n\nYour arrears will be paid by 15 March.", "signer_name": "Arvind Dixit",
        "signer_designation": "District Magistrate", "file_number": "N-1/1/2026-DM-LKO", **changes})


def test_hindi_and_english_extract_as_typed(tmp_path):
    path = tmp_path / "letter.pdf"
    path.write_bytes(letters.render(letter()))
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    lines = [line.strip() for line in text.splitlines()]
    assert HINDI in lines and "Your arrears will be paid by 15 March." in lines
    assert "कलेक्टर कार्यालय, लखनऊ" in lines and "D-7/2026/DM-LKO" in text and "01.03.2026" in text


def test_the_draft_text_is_escaped():
    page = letters.html_of(letter(body="<script>alert(1)</script>\n\n<b>x</b>", title="<i>t</i>"))
    assert "<script>" not in page and "&lt;script&gt;" in page and "<i>t</i>" not in page


def test_level_and_retention_follow_the_record_category():
    assert [pades.level_for(c) for c in "ABC"] == ["B-LTA", "B-LTA", "B-T"]
    issued = datetime(2028, 2, 29, 10, 0, tzinfo=UTC)
    assert register.retention_until("C", issued) == datetime(2038, 2, 28, 10, 0, tzinfo=UTC)
    assert register.retention_until("A", issued).year == 2128


def test_letter_numbers_name_the_dispatch_register():
    assert register.letter_number(serial=12, year=2026, office_code="DM-LKO") == "D-12/2026/DM-LKO"


def test_an_addressee_email_is_checked_before_anything_is_signed():
    """The address a letter is dispatched to is refused at its field when it is not one (a typo,
    or a line break smuggling in another header), not signed into the letter for good."""
    import pytest
    from pydantic import ValidationError

    from eoffice.contracts.signing import IssueLetter

    for bad in ("bdo-bkt", "bad email\r\nBcc: evil@example.org", "a@b@c.in"):
        with pytest.raises(ValidationError) as refused:
            IssueLetter.model_validate({"version": 1, "addressees": [{"name": "BDO", "email": bad}]})
        assert refused.value.errors()[0]["loc"][:3] == ("addressees", 0, "email")
    issued = IssueLetter.model_validate({"version": 1, "addressees": [{"name": "BDO", "email": "bdo.bkt@up.gov.in"}]})
    assert issued.addressees[0].email == "bdo.bkt@up.gov.in"



def catalogue(pdf: bytes):
    import io

    from pyhanko.pdf_utils.reader import PdfFileReader

    return PdfFileReader(io.BytesIO(pdf), strict=False).root

def test_the_enclosure_is_embedded_as_uploaded_and_named_on_the_letter(tmp_path):
    """The document uploaded with the approved version goes inside the letter's PDF as a PDF/A-3
    associated file (one entry, its own name, content type and upload time, relationship
    Supplement), and the letter says so in Hindi and English; a letter without one carries none."""
    from tests.support.scans import pdf_page_of

    document = pdf_page_of(595, 842)
    uploaded_at = datetime(2026, 2, 27, 16, 5, 9, tzinfo=UTC)
    pdf = letters.render(letter(enclosure=letters.Enclosure("अनुलग्नक 2", "application/pdf", document, uploaded_at)))
    assert pades.enclosures(catalogue(pdf)) == [{
        "name": "अनुलग्नक 2", "content_type": "application/pdf", "relationship": "Supplement",
        "size": len(document), "sha256": hashlib.sha256(document).hexdigest()}]
    spec = catalogue(pdf)["/AF"][0].get_object()  # /F for readers of ASCII names only; the upload's time
    assert spec["/F"] == "2" and spec["/Desc"] == "Enclosure to letter D-7/2026/DM-LKO"
    assert spec["/EF"]["/F"].get_object()["/Params"]["/ModDate"] == "D:20260227160509Z"
    path = tmp_path / "letter.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "संलग्नक / Enclosure: अनुलग्नक 2" in text.splitlines(), text
    listed = subprocess.run(["pdfdetach", "-list", str(path)], capture_output=True, text=True, check=True).stdout
    assert listed.splitlines() == ["1 embedded files", "1: अनुलग्नक 2"], listed

    english = letters.render(letter(lang="en", enclosure=letters.Enclosure("scan.png", "image/png", b"\x89PNG")))
    assert [(f["name"], f["content_type"]) for f in pades.enclosures(catalogue(english))] == [("scan.png", "image/png")]
    page = letters.html_of(letter(lang="en", enclosure=letters.Enclosure("scan.png", "image/png", b"")))
    assert "Enclosure: scan.png" in page and "संलग्नक" not in page

    at = pdf.index(b"stream", pdf.index(b"/Type /EmbeddedFile")) + 20  # a byte of the enclosure changed
    damaged = pades.enclosures(catalogue(pdf[:at] + bytes([pdf[at] ^ 0x01]) + pdf[at + 1:]))
    assert [(f["name"], f["sha256"]) for f in damaged] == [("अनुलग्नक 2", None)]

    plain = letters.render(letter())
    assert pades.enclosures(catalogue(plain)) == [] and b"/EmbeddedFile" not in plain
    assert "Enclosure" not in letters.html_of(letter())


def test_the_issued_event_names_the_enclosure_the_signed_letter_carries(tmp_path):
    """What signing tells notify (eoffice.letter.issued.v1's `enclosure`) is read from the signed
    PDF: the name as uploaded, past the signature's incremental update; None for a letter without one."""
    from eoffice.tools import pki as pki_tool
    from services.signing import issuing
    from tests.support.pki import signed_pdf

    material = pki_tool.prepare(tmp_path / "pki", "http://127.0.0.1:9")  # nothing fetched
    enclosed = letters.render(letter(enclosure=letters.Enclosure("अनुलग्नक-क Annexure A.pdf", "application/pdf", b"x")))
    assert issuing.carried(signed_pdf(material, "officer", enclosed)) == (1, "अनुलग्नक-क Annexure A.pdf")
    assert issuing.carried(signed_pdf(material, "officer", letters.render(letter()))) == (1, None)


def test_an_issued_event_without_the_enclosure_still_parses():
    """eoffice.letter.issued.v1 raised before it named the enclosure (no `enclosure` field) still
    reads, as a letter without one; a newer one carries the name."""
    from eoffice.contracts.signing import LetterIssued

    older = {
        "letter_id": "L1", "letter_number": "D-7/2026/DM-LKO", "office_code": "DM-LKO", "file_id": "F1",
        "file_number": "N-1/1/2026-DM-LKO", "draft_id": 1, "version": 2, "title": "Pension arrears",
        "addressees": [{"name": "Shri Ram Prasad", "email": "rp@example.in"}], "object_name": "o", "sha256": "0" * 64,
        "size": 10, "pages": 1, "level": "B-T", "signer_user": "E1", "signer_post": "DM-LKO", "signer_name": "Arvind",
        "issued_at": "2026-03-01T10:00:00+00:00"}
    assert LetterIssued.model_validate(older).enclosure is None
    newer = LetterIssued.model_validate({**older, "enclosure": "Annexure A.pdf"})
    assert newer.enclosure == "Annexure A.pdf" and newer.model_dump(mode="json")["enclosure"] == "Annexure A.pdf"


def test_an_enclosure_name_is_escaped_and_has_an_ascii_form():
    page = letters.html_of(letter(enclosure=letters.Enclosure("<b>x</b>.pdf", "application/pdf", b"")))
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;.pdf" in page
    assert [letters._ascii_name(n) for n in ("अनुलग्नक.pdf", "अनुलग्नक 2.pdf", "annexure", "Annexure A.pdf")] == [
        "enclosure.pdf", "2.pdf", "annexure", "Annexure A.pdf"]


def test_associated_files_of_another_tool_are_read_as_far_as_they_go():
    """A signed PDF from elsewhere may list in /AF what is no embedded file: it is left out,
    never an error."""
    from pyhanko.pdf_utils import generic

    root = generic.DictionaryObject({"/AF": generic.ArrayObject([
        generic.NumberObject(3), generic.DictionaryObject({"/EF": generic.NullObject()}),
        generic.DictionaryObject({"/EF": generic.DictionaryObject({"/F": generic.NameObject("/x")})})])})
    assert pades.enclosures(root) == []
    assert pades.enclosures(generic.DictionaryObject({"/AF": generic.NameObject("/x")})) == []
