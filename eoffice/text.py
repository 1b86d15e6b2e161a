"""Text normalisation for comparing Hindi words in Python (e.g. a test checking what OCR read):
spelling variants that readers treat as the same word become the same string. Search does not
use it: Elasticsearch analyses Hindi itself (`services.search.indices`)."""

from __future__ import annotations

import unicodedata

NUKTA = "\u093c"
CHANDRABINDU, ANUSVARA = "\u0901", "\u0902"
ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\ufeff"))
DEVANAGARI_DIGITS = {ord("०") + i: ord("0") + i for i in range(10)}


def normalise(text: str) -> str:
    """Returns `text` folded for matching: nukta dropped (ज़ = ज), chandrabindu as anusvara
    (हँसी = हंसी), zero-width joiners removed, Devanagari digits as ASCII, lower case."""
    decomposed = unicodedata.normalize("NFD", text)
    folded = decomposed.replace(NUKTA, "").replace(CHANDRABINDU, ANUSVARA)
    folded = folded.translate(ZERO_WIDTH).translate(DEVANAGARI_DIGITS)
    return unicodedata.normalize("NFC", folded).casefold()
