"""Citation and Answer, and the decision between an answer and an honest "not found"."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from qa.highlight import answer_highlights

if TYPE_CHECKING:
    from qa.search.hit import Hit

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


def answer_from_dict(record: object) -> Answer:
    """An Answer from dataclasses.asdict(answer) read back from JSON (a saved conversation); ValueError when the
    record is not one, so a damaged or edited record is refused rather than shown half-read."""
    try:
        fields = {**record}  # type: ignore[dict-item]
        citations = [tuple(_citation_from_dict(c) for c in fields.pop(name, ())) for name in ("citations", "closest")]
        answer = Answer(**fields, citations=citations[0], closest=citations[1])
    except (TypeError, ValueError, KeyError, OverflowError) as error:
        raise ValueError(f"not a saved answer: {error}") from error
    typed = {"question": str, "text": str, "found": bool, "confidence": (int, float), "searched_for": str}
    if not all(isinstance(getattr(answer, name), kind) for name, kind in typed.items()):
        raise ValueError("not a saved answer: a field has the wrong type")
    if answer.found and not answer.citations:
        raise ValueError("not a saved answer: an answer without the sentence it cites")
    return answer


def _citation_from_dict(record: dict) -> Citation:
    citation = Citation(**{**record, "highlights": tuple((int(a), int(b)) for a, b in record.get("highlights", ()))})
    typed = {"rank": int, "article_id": str, "title": str, "sentence": str, "start": int, "end": int,
             "score": (int, float), "context": str, "date": str, "source": str, "url": str}
    if not all(isinstance(getattr(citation, name), kind) for name, kind in typed.items()):
        raise ValueError("a citation field has the wrong type")
    return citation


def cite(question: str, hits: Sequence[Hit]) -> list[Citation]:
    """Numbered citations of ranked sentences, with their context, the article's metadata and the words that
    answer the question marked."""
    return [Citation(rank=rank, article_id=hit.row.article_id, title=hit.row.title, sentence=hit.row.text,
                     start=hit.row.start, end=hit.row.end, score=round(hit.score, 4), context=hit.context,
                     highlights=answer_highlights(question, hit.row.text, hit.row.start, hit.row.entities),
                     date=hit.row.date, source=hit.row.source, url=hit.row.url)
            for rank, hit in enumerate(hits, start=1)]


def compose_answer(question: str, hits: Sequence[Hit], confidence: float, threshold: float,
                   searched_for: str = "", marked_for: str = "") -> Answer:
    """Answer with the best cited sentence, or say plainly that the articles do not answer. The citations mark
    the words that answer `marked_for` (default: what was searched)."""
    searched_for = searched_for or question
    citations = cite(marked_for or searched_for, hits)
    if not citations or confidence < threshold:
        return Answer(question, NOT_FOUND_TEXT, False, confidence, (), searched_for, tuple(citations))
    return Answer(question, f"{citations[0].sentence} [1]", True, confidence, tuple(citations), searched_for)
