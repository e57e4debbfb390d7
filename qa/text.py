"""Text folding and word lists shared by the lexical index and the answer logic."""

from __future__ import annotations

import re
import unicodedata

# Letters that Unicode does not decompose into base + accent: "Đà Nẵng" must still match "Da Nang".
_UNDECOMPOSED = str.maketrans({"đ": "d", "Đ": "D", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "ß": "ss", "æ": "ae",
                               "Æ": "AE", "œ": "oe", "Œ": "OE", "ı": "i"})
_WORD = re.compile(r"\w+")
# Vietnamese names that English copy writes as one word: "Việt Nam" / "Vietnam", "Hà Nội" / "Hanoi".
_JOINED_NAMES = re.compile(
    r"\b(viet)\s+(nam)\b|\b(ha)\s+(noi)\b|\b(da)\s+(nang)\b|\b(sai)\s+(gon)\b|\b(hai)\s+(phong)\b"
)

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be been before being below between both
    but by can could did do does doing down during each few for from further had has have having he her here hers
    him his how i if in into is it its itself just me more most my no nor not now of off on once only or other our
    out over own same she should so some such than that the their them then there these they this those through to
    too under until up very was we were what when where which while who whom whose why will with would you your
    yours did does say said tell told mention mentioned mentions one ones""".split()
)
_ORDINALS = {word: f"{n}th" for n, word in enumerate(
    "zeroth first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth".split())}
_ORDINALS.update({"first": "1th", "second": "2th", "third": "3th"})
# "6th" and "sixth", "2nd" and "second" must match: both become "<n>th".
_ORDINAL = re.compile(r"\b(?:(\d+)(?:st|nd|rd|th)|(" + "|".join(_ORDINALS) + r"))\b")


def _ordinal(match: re.Match) -> str:
    return f"{match.group(1)}th" if match.group(1) else _ORDINALS[match.group(2)]


def fold(text: str) -> str:
    """Lower-case text and strip its diacritics, so "Hoàng Xuân Chiến" reads as "hoang xuan chien"."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_UNDECOMPOSED))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    joined = _JOINED_NAMES.sub(lambda m: "".join(g for g in m.groups() if g), plain)
    return _ORDINAL.sub(_ordinal, joined)


def words(text: str) -> list[str]:
    """Split folded text into word tokens."""
    return _WORD.findall(fold(text))


def content_words(text: str) -> list[str]:
    """Words that carry meaning: no stop words, in order, without repeats."""
    return list(dict.fromkeys(w for w in words(text) if w not in STOPWORDS and len(w) > 1))
