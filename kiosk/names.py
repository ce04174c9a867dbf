"""Name folding for matching: what a patient types must find the name as the practice spells it.

Used by the journey (comparing first names) and by the store (the blind index), so it lives
apart from both and imports nothing heavy.
"""
from __future__ import annotations

import unicodedata

# Letters that NFKD does not split into base letter + mark, folded the way a
# patient typing on a plain keyboard would spell them ("Đặng" -> "dang").
_FOLD = str.maketrans(
    {"đ": "d", "ð": "d", "ł": "l", "ø": "o", "æ": "ae", "œ": "oe", "þ": "th", "ı": "i", "ħ": "h"}
)


def normalise_name(s: str) -> str:
    """Fold a name for matching: no accents, no case, only letters and digits.

    "García-López" -> "garcialopez", "O'Brien" -> "obrien", "de la Cruz" -> "delacruz".
    """
    decomposed = unicodedata.normalize("NFKD", s)
    no_marks = "".join(c for c in decomposed if not unicodedata.combining(c))
    folded = no_marks.casefold().translate(_FOLD)
    return "".join(c for c in folded if c.isalnum())
