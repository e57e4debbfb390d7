"""Question sets for evaluation: our JSONL, multi-turn conversations, and SQuAD v1.1 / v2.0 JSON."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from qa.answer import Citation
from qa.ingest.articles import Article

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Case:
    """One question and how to recognise a right citation for it."""

    question: str
    answerable: bool = True
    article_id: str = ""
    sentence_contains: str = ""  # our format: a unique substring of the expected sentence
    answer_starts: tuple[int, ...] = ()  # SQuAD: gold answers' character offsets in the article
    kind: str = ""
    line: int = 0

    def is_hit(self, citation: Citation) -> bool:
        """True when the citation is the sentence this case expects."""
        if not self.answerable or citation.article_id != self.article_id:
            return False
        if self.sentence_contains:
            return self.sentence_contains in citation.sentence
        return any(citation.start <= start < citation.end for start in self.answer_starts)


@dataclass(frozen=True)
class Conversation:
    """Turns asked in order through one Chat."""

    conversation_id: str
    turns: tuple[Case, ...]
    line: int = 0


@dataclass(frozen=True)
class QuestionSet:
    """What a question file holds: cases or conversations, articles to index (SQuAD), and bad lines."""

    cases: tuple[Case, ...] = ()
    conversations: tuple[Conversation, ...] = ()
    articles: tuple[Article, ...] = ()
    errors: tuple[str, ...] = field(default_factory=tuple)


def load_question_set(path: str | Path) -> QuestionSet:
    """Read a question file, reporting malformed lines by number instead of stopping."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        return load_squad(json.loads(text), path.stem)
    cases: list[Case] = []
    conversations: list[Conversation] = []
    errors: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if "turns" in record:
                turns = tuple(_case(turn, number) for turn in record["turns"])
                if not turns:
                    raise ValueError("a conversation needs turns")
                conversations.append(Conversation(str(record.get("id", number)), turns, number))
            else:
                cases.append(_case(record, number))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
            errors.append(f"{path}:{number}: {error}")
            logger.warning("Skipped %s line %d: %s", path, number, error)
    return QuestionSet(tuple(cases), tuple(conversations), (), tuple(errors))


def _case(record: dict, line: int) -> Case:
    question = record["question"]
    if not isinstance(question, str) or not question.strip():
        raise ValueError("'question' must be non-empty text")
    answerable = record.get("answerable", True) is not False
    if answerable and not (record.get("article_id") and record.get("sentence_contains")):
        raise ValueError("an answerable question needs 'article_id' and 'sentence_contains'")
    return Case(question=question, answerable=answerable, article_id=str(record.get("article_id", "")),
                sentence_contains=str(record.get("sentence_contains", "")), kind=str(record.get("type", "")),
                line=line)


def load_squad(squad: dict, name: str = "squad") -> QuestionSet:
    """One article per SQuAD paragraph; v2.0's is_impossible questions are unanswerable cases."""
    articles: list[Article] = []
    cases: list[Case] = []
    for topic in squad["data"]:
        for number, paragraph in enumerate(topic["paragraphs"]):
            article_id = f"{topic['title']}-{number:03d}"
            articles.append(Article(article_id, f"{topic['title'].replace('_', ' ')} ¶{number}",
                                    paragraph["context"], f"{name}#{article_id}"))
            for qa in paragraph["qas"]:
                impossible = bool(qa.get("is_impossible"))
                starts = tuple(sorted({a["answer_start"] for a in qa.get("answers", [])}))
                cases.append(Case(question=qa["question"], answerable=not impossible, article_id=article_id,
                                  answer_starts=starts))
    return QuestionSet(tuple(cases), (), tuple(articles))
