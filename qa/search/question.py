"""A user's question made safe to search: checked, cleaned, and quoted for FTS5."""

from __future__ import annotations

import re
import unicodedata

from qa.index.fulltext import fts_query
from qa.text import content_words, words

MAX_QUESTION_CHARS = 1000
MAX_QUERY_WORDS = 32
MAX_TOP_K = 100
# Terminal colour and cursor codes ("\x1b[31m"): removed whole, so "[31m" is never glued to the next word.
_ANSI_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|[@-Z\\-_])")
# A capitalised word and runs of them: "Israel", "Vietnam-Japan", "Ngo Xuan Lich".
NAME_PATTERN = r"[A-ZÀ-ỸĐ][\wÀ-ỹ’'\-]*(?:\s+[A-ZÀ-ỸĐ][\wÀ-ỹ’'\-]*)*"
_NAME = re.compile(NAME_PATTERN)


def clean_question(question: str) -> str:
    """Make a question safe to search: no control characters or lone surrogates; ValueError if unusable."""
    if not isinstance(question, str):
        raise ValueError(f"A question must be text, not {type(question).__name__}")
    if len(question) > MAX_QUESTION_CHARS:
        raise ValueError(f"The question is {len(question)} characters long; the limit is {MAX_QUESTION_CHARS}. "
                         "Ask a shorter question.")
    question = _ANSI_ESCAPE.sub("", question).encode("utf-8", "replace").decode("utf-8")
    question = "".join(" " if unicodedata.category(c) in ("Cc", "Cs") else c for c in question)
    question = " ".join(question.split())
    if not any(c.isalnum() for c in question):  # "   ?  " asks nothing
        raise ValueError("The question is empty: type a question about the articles.")
    return question


def check_top_k(top_k: object, maximum: int = MAX_TOP_K) -> int:
    """top_k as an int; ValueError naming the parameter and its range for anything but a whole number in it
    (2.5, nan, "3", True)."""
    if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= maximum:
        raise ValueError(f"top_k must be a whole number from 1 to {maximum}, got {top_k!r}")
    return top_k


def search_words(question: str) -> list[str]:
    """The words of a question the full-text search looks for: its content words (all its words if it has none)."""
    return (content_words(question) or words(question))[:MAX_QUERY_WORDS]


def fts_query_for(question: str) -> str:
    """Quote each word so FTS5 syntax in a question ("AND", "*", quotes) is read as plain words."""
    return fts_query(search_words(question))


def names_in(text: str) -> list[re.Match[str]]:
    """Capitalised words and runs of them, without the first word, capitalised as the question's start ("What
    Denver player..." names Denver)."""
    found = []
    for match in _NAME.finditer(text):
        if match.start() == 0:
            after_first = re.match(r"\S+\s*", text).end()
            match = _NAME.match(text, after_first) if after_first < match.end() else None
        if match:
            found.append(match)
    return found


def name_units(question: str) -> list[tuple[str, ...]]:
    """The names a question uses, each as its folded words: "Where was the Vietnam-Israel dialogue held?" ->
    (vietnam,), (israel,); "How many times was Cam Newton sacked?" -> (cam, newton). A text that uses any word of
    a name mentions it: news copy names "Cam Newton" once and "Newton" after."""
    units: dict[tuple[str, ...], None] = {}
    for match in names_in(question):
        for part in re.split(r"[-–]", match.group()):  # "Vietnam-Israel" names two countries
            if unit := tuple(content_words(part)):
                units[unit] = None
    return list(units)
