"""An office's file numbering (eoffice.contracts.files.Scheme): a pattern is accepted only if
every number it makes reads back as one subject head, serial and year, so two files of the
office never get one number. No infrastructure."""
from __future__ import annotations

import itertools

import pytest
from pydantic import ValidationError

from eoffice.contracts.files import Scheme

# Subject head codes that run into each other when printed side by side: digits, letters and
# the punctuation a code may hold (`./()-`).
HEADS = ["Z", "Z1", "1", "11", "A/1", "A", "1/1", "A-1", "(1)", "Z.1", "2026"]
SERIALS = range(1, 121)
YEARS = (2025, 2026)


def numbers(pattern: str, office: str = "LKO-LAND") -> list[str]:
    return [pattern.format(prefix="N", head=head, serial=serial, year=year, office=office)
            for head, serial, year in itertools.product(HEADS, SERIALS, YEARS)]


@pytest.mark.parametrize("pattern", [
    "{prefix}-{head}/{serial}/{year}-{office}",  # the default: N-11016/6/2016-ARC-DARPG
    "EST-{head}/{serial:04d}/{year}-{office}",
    "{office}:{year}:{serial}:{head}",
    "{head}-{serial}-{year}-{office}",
    "{year}/{head}/{serial:03}/{office}",
])
def test_a_pattern_whose_numbers_read_back_is_accepted_and_numbers_every_file_apart(pattern):
    assert Scheme(pattern=pattern).pattern == pattern
    made = numbers(pattern)
    assert len(set(made)) == len(made)


@pytest.mark.parametrize(("pattern", "why", "one", "other"), [
    ("{head}{serial}{year}{office}", "{head} and {serial} must be separated by fixed text",
     ("Z1", 1, 2026), ("Z", 11, 2026)),
    ("{head}0{serial}/{year}-{office}", "with a character other than a digit",
     ("Z", 101, 2026), ("Z01", 1, 2026)),
    ("{head}a{serial:x}/{year}-{office}", "{serial} takes no format but zero-padding",
     ("Z", 0xA1, 2026), ("Za", 1, 2026)),  # hex prints letters, which run into the fixed text
    # Refused by the same rules though no two files come out alike: the rule is kept simple.
    ("{prefix}-{head}/{serial}{year}-{office}", "{serial} and {year} must be separated", None, None),
    ("{head}/{serial:>4}/{year}-{office}", "{serial} takes no format but zero-padding", None, None),
    ("{head}/{serial}/{year}-{office}/{year}", "names {year} more than once", None, None),
])
def test_a_pattern_that_could_give_two_files_one_number_is_refused_at_pattern(pattern, why, one, other):
    with pytest.raises(ValidationError) as refused:
        Scheme(pattern=pattern)
    error = refused.value.errors()[0]
    assert error["loc"] == ("pattern",) and why in error["msg"], error
    if one:  # the two files the refusal spares: their numbers would have been one
        head, serial, year = one
        first = pattern.format(prefix="N", head=head, serial=serial, year=year, office="X")
        head, serial, year = other
        assert first == pattern.format(prefix="N", head=head, serial=serial, year=year, office="X")


def test_the_refusal_says_why_in_the_words_of_the_office():
    with pytest.raises(ValidationError) as refused:
        Scheme(pattern="{head}{serial}{year}{office}")
    assert "head Z1 serial 1 and head Z serial 11 both print Z11" in str(refused.value)
