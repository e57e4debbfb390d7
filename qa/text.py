"""Text folding and word lists shared by the lexical index and the answer logic."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Letters that Unicode does not decompose into base + accent: "Đà Nẵng" must still match "Da Nang".
_UNDECOMPOSED_LETTERS = {"đ": "d", "Đ": "D", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "ß": "ss", "æ": "ae",
                         "Æ": "AE", "œ": "oe", "Œ": "OE", "ı": "i"}
_UNDECOMPOSED = str.maketrans(_UNDECOMPOSED_LETTERS)
_ANY_UNDECOMPOSED = re.compile(f"[{''.join(_UNDECOMPOSED_LETTERS)}]")
# The combining marks of Latin letters' accents, removed by one regex; any other combining mark (Arabic,
# Devanagari...) by the exact, slower test of every character.
_LATIN_MARKS = re.compile(f"[{''.join(chr(c) for c in range(0x300, 0x370) if unicodedata.combining(chr(c)))}]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_WORD = re.compile(r"\w+")
# Vietnamese names that English copy writes as one word: "Việt Nam" / "Vietnam", "Hà Nội" / "Hanoi".
_JOINED_NAMES = re.compile(r"\b(viet|ha|da|sai|hai)\s+(nam|noi|nang|gon|phong)\b")
_JOINED_PAIRS = frozenset({("viet", "nam"), ("ha", "noi"), ("da", "nang"), ("sai", "gon"), ("hai", "phong")})

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
# The words of _ORDINALS as a prefix tree, which the regex engine tries far faster than 13 alternatives.
_ORDINAL = re.compile(r"(?<!\w)(?=[\dfstzenw])(?:(\d+)(?:st|nd|rd|th)|"
                      r"(first|second|third|(?:zero|four|fif|six|seven|eigh|nin|ten|eleven|twelf)th))\b")


def _ordinal(match: re.Match) -> str:
    return f"{match.group(1)}th" if match.group(1) else _ORDINALS[match.group(2)]


def _joined(match: re.Match) -> str:
    return match.group(1) + match.group(2) if match.groups() in _JOINED_PAIRS else match.group()


def fold(text: str) -> str:
    """Lower-case text and strip its diacritics, so "Hoàng Xuân Chiến" reads as "hoang xuan chien"."""
    if text.isascii():
        plain = text.lower()
    else:
        if _ANY_UNDECOMPOSED.search(text):
            text = text.translate(_UNDECOMPOSED)
        decomposed = _LATIN_MARKS.sub("", unicodedata.normalize("NFKD", text))
        if any(unicodedata.combining(c) for c in _NON_ASCII.findall(decomposed)):
            decomposed = "".join(c for c in decomposed if not unicodedata.combining(c))
        plain = decomposed.lower()
    return _ORDINAL.sub(_ordinal, _JOINED_NAMES.sub(_joined, plain))


def words(text: str) -> list[str]:
    """Split folded text into word tokens."""
    return _WORD.findall(fold(text))


# A question's candidates and their neighbours (about 200 sentences) are read again by the next question about
# the same stories; 20,000 texts of words take about 20 MB.
@lru_cache(maxsize=20_000)
def text_words(text: str) -> tuple[str, ...]:
    """words(text), kept for the texts read most recently."""
    return tuple(words(text))


def content_words(text: str) -> list[str]:
    """Words that carry meaning: no stop words, in order, without repeats."""
    return list(dict.fromkeys(w for w in words(text) if w not in STOPWORDS and len(w) > 1))
