"""Citation and Answer, and the decision between an answer and an honest "not found"."""

from __future__ import annotations

from dataclasses import dataclass, field

NOT_FOUND_TEXT = "The articles do not say. No sentence in them answers this question."


@dataclass(frozen=True)
class Citation:
    """A sentence that supports an answer: article.text[start:end] == sentence."""

    rank: int
    article_id: str
    title: str
    sentence: str
    start: int
    end: int
    score: float
    context: str
    # Offsets, into the article text, of the words that answer the question (empty if none marked).
    highlights: tuple[tuple[int, int], ...] = ()
    # The article's publication date (YYYY-MM-DD where known), publication and web address; "" where unknown.
    date: str = ""
    source: str = ""
    url: str = ""


@dataclass(frozen=True)
class Answer:
    """What ask() returns: a "not found" is a normal Answer with found=False and no citations."""

    question: str
    text: str
    found: bool
    confidence: float
    citations: tuple[Citation, ...] = field(default_factory=tuple)
    # The query actually searched: the question itself, or a follow-up rewritten against earlier turns.
    searched_for: str = ""
    # The nearest sentences when nothing answers, shown as "closest, not an answer".
    closest: tuple[Citation, ...] = field(default_factory=tuple)


def compose_answer(question: str, citations: list[Citation], confidence: float, threshold: float,
                   searched_for: str = "") -> Answer:
    """Answer with the best cited sentence, or say plainly that the articles do not answer."""
    searched_for = searched_for or question
    if not citations or confidence < threshold:
        return Answer(question, NOT_FOUND_TEXT, False, confidence, (), searched_for, tuple(citations))
    return Answer(question, f"{citations[0].sentence} [1]", True, confidence, tuple(citations), searched_for)
