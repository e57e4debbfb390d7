"""Everything the store says about one question's candidates, read in a fixed handful of statements.

The candidates' rows and vectors with their neighbours', their articles' centroids and word counts, and the
library's counts of the question's words: features, confidence and citations are computed from this object in
Python, whatever the number of candidates and question words (BENCHMARKS.md, the query path).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import numpy as np

from qa.index.store import ArticleSummary, SentenceRow, Store
from qa.index.terms import WORDS, ArticleTerm, CorpusStatistics, term_counts, window_counts


@dataclass(frozen=True)
class QuestionEvidence:
    """The rows of the candidates, of their neighbours and of a follow-up's articles; their vectors; their
    articles; and the word counts of the question's stems."""

    rows: dict[int, SentenceRow]
    vectors: dict[int, np.ndarray]
    articles: dict[int, ArticleSummary]
    article_terms: dict[int, dict[str, ArticleTerm]]  # article rowid -> stem -> how the article uses it
    corpus: CorpusStatistics
    _at: dict[tuple[int, int], SentenceRow] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._at.update({(row.article_rowid, row.position): row for row in self.rows.values()})

    def window(self, row: SentenceRow) -> list[SentenceRow]:
        """The sentence with the ones before and after it, where they exist."""
        return [r for p in (row.position - 1, row.position, row.position + 1)
                if (r := self._at.get((row.article_rowid, p))) is not None]

    def neighbour(self, row: SentenceRow, step: int) -> SentenceRow | None:
        """The sentence `step` positions after `row` (before, if negative), if it is in the evidence."""
        return self._at.get((row.article_rowid, row.position + step))

    def window_counts(self, row: SentenceRow) -> Counter:
        """term_counts of the text from the previous sentence's start to the next one's end."""
        return window_counts(self._window_pieces(row))

    def frequencies(self, rows: Sequence[SentenceRow], terms: Sequence[str]
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """How often each row's sentence and each row's window hold each of `terms` (distinct stems), as two
        (len(rows), len(terms)) arrays, and each row's length for BM25: its sentence's and window's words."""
        counted: dict[str, list[int]] = {}

        def count(text: str) -> list[int]:
            if text not in counted:
                held = term_counts(text)
                counted[text] = [held[WORDS], *(held.get(t, 0) for t in terms)]
            return counted[text]

        own = np.array([count(row.text) for row in rows], dtype=float).reshape(len(rows), len(terms) + 1)
        window = np.array([np.sum([count(piece) for piece in self._window_pieces(row)], axis=0) for row in rows],
                          dtype=float).reshape(len(rows), len(terms) + 1)
        return own[:, 1:], window[:, 1:], own[:, 0] + window[:, 0]

    def _window_pieces(self, row: SentenceRow) -> list[str]:
        """The texts of a window and the gaps between them."""
        return [piece for r in self.window(row) for piece in (r.text, r.gap)][:-1]

    def in_article(self, article_rowid: int, stem: str) -> ArticleTerm:
        return self.article_terms.get(article_rowid, {}).get(stem, _UNUSED)

    def article_idf(self, article_rowid: int, stems: Collection[str]) -> dict[str, float]:
        """Each stem's IDF among one article's sentences: in an article about a marathon, "marathon" is in every
        sentence and weighs little."""
        count = self.articles[article_rowid].sentences
        return {t: math.log((count + 1) / (self.in_article(article_rowid, t).sentences + 0.5)) for t in stems}


_UNUSED = ArticleTerm(0, 0, 0)


def read_evidence(store: Store, ids: Sequence[int], article_ids: Sequence[str], stems: Collection[str],
                  max_article_sentences: int) -> tuple[list[int], QuestionEvidence]:
    """The candidates that are still stored (`ids`, then at most `max_article_sentences` sentences of the articles
    `article_ids`, in article order) and their evidence: four statements."""
    rows, vectors = store.question_sentences(ids, article_ids)
    wanted = set(article_ids)
    followed = sorted((r for r in rows.values() if r.article_id in wanted), key=lambda r: (r.article_rowid,
                                                                                           r.position))
    candidates = list(dict.fromkeys([i for i in ids if i in rows] +
                                    [r.id for r in followed[:max_article_sentences]]))
    articles, article_terms = store.article_summaries(sorted({rows[i].article_rowid for i in candidates}),
                                                      list(stems))
    evidence = QuestionEvidence(rows, vectors, articles, article_terms, store.corpus_statistics(list(stems)))
    return candidates, evidence
