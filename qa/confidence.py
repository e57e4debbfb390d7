"""How likely the top sentence answers a question: the evidence behind the "not found" decision."""

from __future__ import annotations

import math

from qa.store import SentenceRow, Store

# Logistic confidence. benchmarks/calibrate_confidence.py fits one on SQuAD and the seed questions, but its
# negatives are mostly easy (SQuAD questions asked of the seed articles), so it underweights the near misses
# ("What is the population of Tokyo?" over an article that mentions Tokyo). These constants keep its signs and
# put the boundary where the seed questions separate with the widest margin (the highest unanswerable one at
# -0.18 in logit) in two
# libraries, the seeds alone and the seeds among 54 unrelated articles. Every feature is read from the cited
# sentence and its article, none from the rest of the library, so a library that grows cannot move the
# boundary. The script reports how they do on every group (BENCHMARKS.md).
CONFIDENCE_COSINE = 20.0
CONFIDENCE_COVERAGE = 2.0
# A number or ordinal the article never mentions ("the 5th dialogue" over an article about the 7th) is decisive.
CONFIDENCE_UNMATCHED_NUMBER = -12.0
# A question about a photo is answered by its caption, which shares few words with it ("What does the photo
# show?" / "Signing ceremony for the minutes of..."): a caption on top is decisive evidence by itself, and so is
# the headline for a question about the headline.
CONFIDENCE_ASKED_FOR = 8.0
# The IDF-weighted share of the question's words that the cited article never uses ("weapons" and "buy" in
# "What weapons did Vietnam buy from Israel?"): a question about something it does not report. Counting the
# words that no article of the library uses worked on small libraries, but in a large one every word is used
# somewhere: 5 of the 12 unanswerable seed questions scored 0.73-0.97 without it.
CONFIDENCE_ABSENT = -10.0
CONFIDENCE_BIAS = -4.25


def evidence_for(store: Store, term_idf: dict[str, float], sentence: SentenceRow, cosine: float, asked_for: float
                 ) -> tuple[float, float, float, float, float]:
    """The evidence that a sentence answers a question: its cosine; the share of the question's words in its
    window, each weighted by how rare it is among its article's sentences; whether the question names a number or
    ordinal ("5th", "2018") that its article never mentions; whether the question asks about a photo or the
    headline and the sentence is that caption or headline (given); and the IDF-weighted share of the question's
    words that its article never uses."""
    terms = list(term_idf)
    holders = store.sentences_matching(terms, [sentence.id], in_window=True)
    covered = [term for term in terms if sentence.id in holders[term]]
    # Weights from the article, not the library: beside unrelated articles "Vietnam", "Japan" and "minister" are
    # rare words of the library, and "Who is the Prime Minister of Japan?" covered them well enough to be
    # answered. Within the Japan article they are common, and "prime", which it never uses, weighs most.
    article = store.sentence_ids_of([sentence.article_id])
    in_article = store.sentences_matching(terms, article)
    weight = {t: math.log((len(article) + 1) / (len(in_article[t]) + 0.5)) for t in terms}
    total = sum(weight.values())
    coverage = sum(weight[t] for t in covered) / total if total > 0 else 0.0
    absent = absent_terms(store, terms, sentence, in_article)
    unmatched = any(term[0].isdigit() for term in absent)
    idf_total = sum(term_idf.values())
    absent_share = sum(term_idf[t] for t in absent) / idf_total if idf_total > 0 else 0.0
    return cosine, coverage, float(unmatched), asked_for, absent_share


def absent_terms(store: Store, terms: list[str], sentence: SentenceRow,
                 in_article: dict[str, set[int]] | None = None) -> list[str]:
    """The question words that a sentence's article never uses, in its text or title: "Super Bowl 50 ¶3" is about
    Super Bowl 50 even if no sentence of it repeats the number. `in_article`: the article's sentences holding each
    term, if already looked up."""
    if in_article is None:
        in_article = store.sentences_matching(terms, store.sentence_ids_of([sentence.article_id]))
    return [t for t in terms if not in_article[t]
            and not store.article_lexical_scores(f'"{t}"', [sentence.article_rowid])]


def confidence_of(evidence: tuple[float, float, float, float, float]) -> float:
    """The logistic confidence of evidence_for's features."""
    cosine, coverage, unmatched, asked_for, absent = evidence
    return 1.0 / (1.0 + math.exp(-(CONFIDENCE_COSINE * cosine + CONFIDENCE_COVERAGE * coverage
                                   + CONFIDENCE_UNMATCHED_NUMBER * unmatched + CONFIDENCE_ASKED_FOR * asked_for
                                   + CONFIDENCE_ABSENT * absent + CONFIDENCE_BIAS)))
