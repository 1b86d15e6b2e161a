"""Issued letters without infrastructure: the rendered PDF reads back as typed (Hindi included,
through /ActualText), user text cannot inject markup, the level and retention follow the record
category, and letter numbers have their printed form."""
from __future__ import annotations

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
