"""How likely the top sentence answers a question: the evidence behind the "not found" decision."""

from __future__ import annotations

import math

from qa.store import SentenceRow, Store

# Logistic confidence. benchmarks/calibrate_confidence.py fits one on SQuAD and the seed questions, but its
# negatives are mostly easy (SQuAD questions asked of the seed articles), so it underweights the near misses
# ("What is the population of Tokyo?" over an article that mentions Tokyo). These constants keep its signs and
# put the boundary where the seed questions separate with the widest margin (0.41 in logit on both sides), and
# treat a number or ordinal the article never mentions as decisive; the script reports how they do on every
# group (BENCHMARKS.md).
CONFIDENCE_COSINE = 12.0
CONFIDENCE_COVERAGE = 6.0
CONFIDENCE_UNMATCHED_NUMBER = -8.0
# A question about a photo is answered by its caption, which shares few words with it ("What does the photo
# show?" / "Signing ceremony for the minutes of..."): a caption on top is decisive evidence by itself.
CONFIDENCE_PHOTO_CAPTION = 8.0
# The IDF-weighted share of the question's words that no sentence of the library holds ("weapons", "buy"):
# a question about something the articles never mention. It is at most 0.47 for 95% of the SQuAD questions
# asked of their own paragraphs; the fit gives it about the cosine's weight with the opposite sign.
CONFIDENCE_UNSEEN = -4.0
CONFIDENCE_BIAS = -5.0


def evidence_for(store: Store, term_idf: dict[str, float], unseen_terms: frozenset[str], sentence: SentenceRow,
                 cosine: float, caption: float) -> tuple[float, float, float, float, float]:
    """Cosine of a sentence, the IDF-weighted share of the question's words in its window, whether the question
    names a number or ordinal ("5th", "2018") that its article never mentions, and whether the question asks
    about a photo and the sentence is a photo caption (given), and the share of the question's words (IDF-weighted)
    that no sentence holds."""
    terms = list(term_idf)
    holders = store.sentences_matching(terms, [sentence.id], in_window=True)
    covered = [term for term in terms if sentence.id in holders[term]]
    total = sum(term_idf.values())
    coverage = sum(term_idf[t] for t in covered) / total if total > 0 else 0.0
    numbers = [term for term in terms if term[0].isdigit()]
    unmatched = any(not store.article_lexical_scores(f'"{n}"', [sentence.article_rowid]) for n in numbers)
    unseen = sum(term_idf[t] for t in unseen_terms) / total if total > 0 else 0.0
    return cosine, coverage, float(unmatched), caption, unseen


def confidence_of(evidence: tuple[float, float, float, float, float]) -> float:
    """The logistic confidence of evidence_for's features."""
    cosine, coverage, unmatched, caption, unseen = evidence
    return 1.0 / (1.0 + math.exp(-(CONFIDENCE_COSINE * cosine + CONFIDENCE_COVERAGE * coverage
                                   + CONFIDENCE_UNMATCHED_NUMBER * unmatched + CONFIDENCE_PHOTO_CAPTION * caption
                                   + CONFIDENCE_UNSEEN * unseen + CONFIDENCE_BIAS)))
