"""Evidence read from a candidate sentence itself (its stored entities, verbs, position and words), with no
query to the store: does it hold the kind of answer asked for, in the asked unit, and is it story text at all?"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from qa.index.store import SentenceRow
from qa.index.terms import stems, text_stems
from qa.search.answer_type import AskedKind, holds_unit, new_entities
from qa.text import STOPWORDS, text_words

if TYPE_CHECKING:
    from qa.search.evidence import QuestionEvidence

SENTENCE_FEATURES = ("answer_type", "asked_unit", "reason_cue", "early", "no_verb", "short", "sentence_names",
                     "article_rare_words")
# Words that introduce a reason; a why-question is answered by the sentence that gives one.
REASON_WORDS = frozenset("because due owing since reason reasons cause caused blamed after amid so result "
                         "citing cited aims aim order help".split())
# Words of the question's frame, not of its topic: "many" in "How many passengers...?" is in no answer.
QUESTION_FRAME = frozenset({"many", "much", "long", "far", "often", "old", "kind", "type", "name", "called"})
SHORT_WORDS = 6  # a sentence of fewer words is a menu item, byline, button or heading, not a story sentence


def sentence_evidence(rows: Sequence[SentenceRow], asked: AskedKind, question_words: frozenset[str],
                      names: list[tuple[str, ...]], evidence: QuestionEvidence) -> np.ndarray:
    """A (len(rows), len(SENTENCE_FEATURES)) table:

    - answer_type: 1 if the sentence names an entity of the asked kind that the question does not name;
    - asked_unit: 1 if it uses the unit a "how many / how much" asks in and holds a number;
    - reason_cue: for a why-question, 1 if it has a word that gives a reason;
    - early: 1 / (1 + position), so a fitted model can tell the lead and the headline from the story's body;
    - no_verb, short: page furniture and headings have no verb and few words;
    - sentence_names: the share of the question's names the sentence itself uses (1 if it names none);
    - article_rare_words: the share of the question's words in the sentence, each weighted by how rare it is
      among the sentences of its own article (`evidence`). In an article about a marathon, "marathon" is in
      every sentence and "second" picks out the runner-up's.
    """
    table = np.zeros((len(rows), len(SENTENCE_FEATURES)))
    terms = question_stems(question_words)
    rare = {article: evidence.article_idf(article, terms) for article in {row.article_rowid for row in rows}}
    for n, row in enumerate(rows):
        tokens = text_words(row.text)
        held = set(tokens)
        typed = bool(asked.labels) and bool(new_entities(row.entities, row.text, row.start, asked.labels,
                                                         question_words))
        numbers = any(e.label in ("CARDINAL", "QUANTITY", "MONEY", "PERCENT") for e in row.entities) \
            or any(t[0].isdigit() for t in tokens)
        table[n] = (
            float(typed),
            float(numbers and holds_unit(row.text, asked.unit)),
            float(asked.why and bool(REASON_WORDS & held)),
            1.0 / (1.0 + row.position),
            float(row.verbs == 0),
            float(len(tokens) < SHORT_WORDS),
            sum(1 for name in names if set(name) & held) / len(names) if names else 1.0,
            _weighted_share(rare.get(row.article_rowid, {}), text_stems(row.text)),
        )
    return table


def question_stems(question_words: frozenset[str]) -> frozenset[str]:
    """The stems of the question's words that article_rare_words weighs: not its stop words or its frame."""
    return stems(question_words - STOPWORDS - QUESTION_FRAME)


def _weighted_share(weights: dict[str, float], held: frozenset[str]) -> float:
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in held) / total if total > 0 else 0.0
