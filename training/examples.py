"""The training data of the ranker and the confidence: every question and conversation turn of the news
development set (data/news-dev), the seed articles and the team's questions (data/team), with its candidate
sentences, their features, and which of them is the expected one."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.answer import Answer, Citation
from qa.chat import Chat, resolve
from qa.evaluation.cases import Case, Conversation, load_question_set
from qa.ingest.articles import read_articles
from qa.library import Library
from qa.search.retrieval import Candidates, RetrievalSettings

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
NEWS_DEV = ROOT / "data" / "news-dev"
CONVERSATIONS = (("news-dev conversations", NEWS_DEV / "conversations.jsonl"),
                 ("seed conversations", ROOT / "seeds" / "conversations.jsonl"))
# (name, articles, questions): the team's questions ask about the development articles' captions and headlines,
# which the development set never asks about (data/team/README.md).
SOURCES = (("news-dev", NEWS_DEV / "articles", NEWS_DEV / "questions.jsonl"),
           ("seeds", ROOT / "seeds", ROOT / "seeds" / "questions.jsonl"),
           ("team", NEWS_DEV / "articles", ROOT / "data" / "team" / "questions.jsonl"))
CACHE = ROOT / ".qa" / "training"
# Articles that only a careful reader tells apart stay in one fold, so no fold learns one from its twin.
LOOKALIKE_PREFIXES = {"lukasik-": "group A", "vn-poland-committee": "group B", "vn-chile-committee": "group B",
                      "vn-norway-committee": "group B", "000_": "seeds", "004_": "seeds"}


@dataclass(frozen=True)
class Example:
    """One question with its candidate sentences, their features, and which of them is the expected one."""

    case: Case
    source: str
    group: str
    candidates: Candidates
    labels: np.ndarray  # bool, one per candidate
    query: str  # what was searched: the question, or a conversation turn as the chat rewrote it
    conversation: str = ""  # the conversation's id, for a turn


def training_library(cache: Path = CACHE) -> Library:
    """The news development articles and the seed articles in one index (built once, then updated). The index is
    only a cache of the committed files, so one this version cannot read (an older format) is rebuilt."""
    try:
        library = Library.build(SOURCES[0][1], cache / "dev.idx")
    except ValueError as error:
        logger.warning("Rebuilding the training index %s: %s", cache / "dev.idx", error)
        library = Library.rebuild(SOURCES[0][1], cache / "dev.idx")
    library.add_articles(read_articles(SOURCES[1][1]))
    return library


def gather(library: Library) -> list[Example]:
    """Every question of every source with its candidates, in the hybrid mode's candidate pool; then every turn
    of the conversations, resolved as the chat resolves it after a right answer to the turn before."""
    settings = RetrievalSettings()
    examples = []
    for source, _, questions in SOURCES:
        for case in load_question_set(questions).cases:
            candidates = library.retriever.candidates(case.question, settings)
            examples.append(Example(case, source, group_of(case), candidates, labels_of(case, candidates),
                                    case.question))
    for source, path in CONVERSATIONS:
        for conversation in load_question_set(path).conversations:
            examples += conversation_examples(library, source, conversation, settings)
    return examples


def labels_of(case: Case, candidates: Candidates) -> np.ndarray:
    """Which candidates are the sentence a case expects."""
    return np.array([case.answerable and row.article_id == case.article_id and case.sentence_contains in row.text
                     for row in (candidates.rows[i] for i in candidates.ids)], dtype=bool)


def conversation_examples(library: Library, source: str, conversation: Conversation,
                          settings: RetrievalSettings) -> list[Example]:
    """The turns of a conversation that are ranked ("What else did she say?" reads on instead), each resolved
    against the expected answer of the turn before (as if it had been answered right), kept to the articles and
    without the sentences the chat would keep it to and leave out."""
    chat = Chat(library)  # only for its articles_with, which the rules consult
    first = next((t for t in conversation.turns if t.answerable), conversation.turns[0])
    examples, previous, answered = [], None, set()
    for turn in conversation.turns:
        resolution = resolve(turn.question, previous, chat.articles_with)
        if not (resolution.continue_previous and previous is not None and previous.found):
            candidates = library.retriever.candidates(resolution.query, settings, resolution.prefer_article_ids)
            candidates = candidates.kept_to(resolution.prefer_article_ids,
                                            answered if resolution.skip_answered else ())
            examples.append(Example(turn, source, group_of(first), candidates, labels_of(turn, candidates),
                                    resolution.query, conversation.conversation_id))
        previous = expected_answer(library, turn, resolution.query)
        if previous.found:
            answered.add((previous.citations[0].article_id, previous.citations[0].start))
    return examples


def expected_answer(library: Library, case: Case, query: str) -> Answer:
    """The answer a turn should get: its expected sentence, found; or "not found"."""
    rows = library.store.sentences(library.store.sentence_ids_of([case.article_id])) if case.answerable else {}
    row = next((r for r in rows.values() if case.sentence_contains in r.text), None)
    if row is None:
        return Answer(case.question, "", False, 0.0, (), query)
    citation = Citation(1, row.article_id, row.title, row.text, row.start, row.end, 1.0, row.text)
    return Answer(case.question, row.text, True, 1.0, (citation,), query)


def group_of(case: Case) -> str:
    """The fold group: the article, or its look-alike group; an unanswerable question is its own group."""
    if not case.answerable:
        return f"unanswerable:{case.question}"
    return next((group for prefix, group in LOOKALIKE_PREFIXES.items() if case.article_id.startswith(prefix)),
                case.article_id)


def data_hash() -> str:
    """sha256 over the training data's files: a model file says exactly what it was fitted on."""
    digest = hashlib.sha256()
    files = {p for _, articles, questions in SOURCES for p in [*articles.rglob("*"), questions]}
    for path in sorted(files | {path for _, path in CONVERSATIONS}):
        if path.is_file():
            digest.update(path.relative_to(ROOT).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()
