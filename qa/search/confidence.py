"""How likely the first citation answers a question: the evidence behind the calibrated confidence and the
"not found" decision."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from qa.index.store import SentenceRow
from qa.index.terms import stem
from qa.search.answer_type import asked_kind
from qa.search.evidence import QuestionEvidence

if TYPE_CHECKING:
    from qa.search.retrieval import Candidates

# The evidence that the first citation answers, as named columns: the fitted ranker's log-odds for it, its lead
# over the next candidate and its share of all candidates' odds (a clear winner is likelier right than one of
# three look-alikes); evidence_for's five; three of the ranker's own features, read for the top sentence; and
# whether the question asks for a kind of entity at all; whether it is a follow-up kept to its conversation's
# article. The combination is fitted by training/fit_ranker.py.
CONFIDENCE_FEATURES = ("top_logit", "margin", "top_share", "cosine", "coverage", "unmatched_number", "asked_for",
                       "absent_share", "article_names", "answer_type", "sentence_names", "asks_typed",
                       "follow_up")


def confidence_features(question: str, candidates: Candidates, logits: np.ndarray, sentence_id: int) -> np.ndarray:
    """The CONFIDENCE_FEATURES of one candidate (the one cited first) of a question."""
    from qa.search.retrieval import FEATURES  # retrieval imports this module

    index = candidates.ids.index(sentence_id)
    features = candidates.features[index]
    others = np.delete(logits, index)
    top = float(logits[index])
    margin = top - float(others.max()) if len(others) else 10.0
    shifted = np.exp(logits - logits.max())
    asked_for = float(features[FEATURES.index("caption_or_headline")] > 0)
    evidence = evidence_for(candidates.evidence, candidates.term_idf, candidates.rows[sentence_id],
                            cosine=float(features[FEATURES.index("dense")]), asked_for=asked_for)
    own = [float(features[FEATURES.index(name)]) for name in ("article_names", "answer_type", "sentence_names")]
    return np.array([top, min(margin, 10.0), float(shifted[index] / shifted.sum()), *evidence, *own,
                     float(bool(asked_kind(question).labels)), float(candidates.kept_to_articles)])


def evidence_for(evidence: QuestionEvidence, term_idf: dict[str, float], sentence: SentenceRow, cosine: float,
                 asked_for: float) -> tuple[float, float, float, float, float]:
    """The evidence that a sentence answers a question: its cosine; the share of the question's words in its
    window, each weighted by how rare it is among its article's sentences; whether the question names a number or
    ordinal ("5th", "2018") that its article never mentions; whether the question asks about a photo or the
    headline and the sentence is that caption or headline (given); and the IDF-weighted share of the question's
    words that its article never uses."""
    terms = list(term_idf)
    stem_of = {t: stem(t) for t in terms}
    window = evidence.window_counts(sentence)
    covered = [t for t in terms if window.get(stem_of[t])]
    # Weights from the article, not the library: beside unrelated articles "Vietnam", "Japan" and "minister" are
    # rare words of the library, and "Who is the Prime Minister of Japan?" covered them well enough to be
    # answered. Within the Japan article they are common, and "prime", which it never uses, weighs most.
    in_article = evidence.article_idf(sentence.article_rowid, set(stem_of.values()))
    weight = {t: in_article[stem_of[t]] for t in terms}
    total = sum(weight.values())
    coverage = sum(weight[t] for t in covered) / total if total > 0 else 0.0
    absent = absent_terms(evidence, terms, sentence)
    unmatched = any(term[0].isdigit() for term in absent)
    idf_total = sum(term_idf.values())
    absent_share = sum(term_idf[t] for t in absent) / idf_total if idf_total > 0 else 0.0
    return cosine, coverage, float(unmatched), asked_for, absent_share


def absent_terms(evidence: QuestionEvidence, terms: list[str], sentence: SentenceRow) -> list[str]:
    """The question words that a sentence's article never uses, in its text or title: "Super Bowl 50 ¶3" is about
    Super Bowl 50 even if no sentence of it repeats the number."""
    return [t for t in terms if not evidence.in_article(sentence.article_rowid, stem(t)).occurrences]
