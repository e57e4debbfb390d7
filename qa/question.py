"""A user's question made safe to search: checked, cleaned, and quoted for FTS5."""

from __future__ import annotations

import unicodedata

from qa.text import content_words, words

MAX_QUESTION_CHARS = 1000
MAX_QUERY_WORDS = 32


def clean_question(question: str) -> str:
    """Make a question safe to search: no control characters or lone surrogates; ValueError if unusable."""
    if not isinstance(question, str):
        raise ValueError(f"A question must be text, not {type(question).__name__}")
    if len(question) > MAX_QUESTION_CHARS:
        raise ValueError(f"The question is {len(question)} characters long; the limit is {MAX_QUESTION_CHARS} "
                         "(MAX_QUESTION_CHARS). Ask a shorter question.")
    question = question.encode("utf-8", "replace").decode("utf-8")
    question = "".join(" " if unicodedata.category(c) in ("Cc", "Cs") else c for c in question)
    question = " ".join(question.split())
    if not question:
        raise ValueError("The question is empty: type a question about the articles.")
    return question


def fts_query_for(question: str) -> str:
    """Quote each word so FTS5 syntax in a question ("AND", "*", quotes) is read as plain words."""
    terms = content_words(question) or words(question)
    return " OR ".join(f'"{term}"' for term in terms[:MAX_QUERY_WORDS])

