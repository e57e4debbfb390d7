"""Word statistics for BM25 and word-match evidence, computed in Python over a question's candidates.

A full-text query restricted to a few hundred rowids (`MATCH ? AND rowid IN (...)`) still walks the whole
index for each word, so its cost grows with the library; scoring the candidates' own texts costs only what they
hold. The library-wide counts BM25 needs (how many sentences, windows and articles hold a word, and how long
they are) are kept up to date in the store (qa/index/store.py `terms`, `corpus`) as articles come and go.

BM25 is FTS5's: k1 1.2, b 0.75, IDF log((N - n + 0.5) / (n + 0.5)) floored at 1e-6, a row's length the sum over
its columns. A sentence's row is the sentence and its window (the sentence with the ones before and after it); an
article's is its title and sentences.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import snowballstemmer

from qa.text import text_words, words

BM25_K1, BM25_B = 1.2, 0.75
_MIN_IDF = 1e-6
_STEMMER = snowballstemmer.stemmer("porter")  # the algorithm of FTS5's porter tokenizer
WORDS = ""  # the key of term_counts that holds the word count


@lru_cache(maxsize=100_000)
def stem(word: str) -> str:
    """The Porter stem of a folded word: "recorded" and "record" match. Like FTS5's porter tokenizer, words of
    fewer than 3 or more than 64 characters are kept as they are (so "s" of "Japan's" is never empty)."""
    return _STEMMER.stemWord(word) if 3 <= len(word) <= 64 else word


# 20,000 sentences (about 30 MB): a few questions' candidates and their neighbours, which the next question
# about the same story reads again.
@lru_cache(maxsize=20_000)
def term_counts(text: str) -> Mapping[str, int]:
    """How often each stem occurs in a text, and under WORDS how many words it has (do not modify)."""
    tokens = [stem(w) for w in text_words(text)]
    counts = Counter(tokens)
    counts[WORDS] = len(tokens)
    return counts


def text_stems(text: str) -> frozenset[str]:
    """The stems a text holds."""
    return frozenset(t for t in term_counts(text) if t != WORDS)


def stems(tokens: Iterable[str]) -> frozenset[str]:
    """The stems of some folded words."""
    return frozenset(stem(t) for t in tokens)


def window_counts(texts: Sequence[str]) -> Counter:
    """term_counts of a window: the sentence and its neighbours, given as their texts."""
    total: Counter = Counter()
    for text in texts:
        total.update(term_counts(text))
    return total


@dataclass(frozen=True)
class CorpusStatistics:
    """The library-wide counts BM25 and IDF need, for a question's stems."""

    sentences: int  # rows of the sentence index
    sentence_row_words: int  # words in all sentences and their windows
    articles: int
    article_words: int  # words in all titles and sentences
    sentence_holders: Mapping[str, int]  # stem -> sentences holding it
    window_holders: Mapping[str, int]  # stem -> sentences whose window holds it (a row holds it: FTS5's count)
    article_holders: Mapping[str, int]  # stem -> articles holding it

    def sentence_idf(self, term: str) -> float:
        """Smoothed IDF of a stem over the sentences: how the question's words are weighted."""
        return math.log((self.sentences + 1) / (self.sentence_holders.get(term, 0) + 0.5))

    def sentence_bm25_idf(self, term: str) -> float:
        return bm25_idf(self.sentences, self.window_holders.get(term, 0))

    def article_bm25_idf(self, term: str) -> float:
        return bm25_idf(self.articles, self.article_holders.get(term, 0))


EMPTY_CORPUS = CorpusStatistics(0, 0, 0, 0, {}, {}, {})


@dataclass(frozen=True)
class ArticleTerm:
    """How an article uses one stem."""

    sentences: int  # its sentences holding it
    windows: int  # its sentences whose window holds it
    occurrences: int  # in its title and sentences


def bm25_idf(rows: int, holders: int) -> float:
    return max(math.log((rows - holders + 0.5) / (holders + 0.5)), _MIN_IDF) if rows else _MIN_IDF


def bm25(terms: Sequence[str], idf: Mapping[str, float], frequency: Mapping[str, float], row_words: float,
         average_words: float) -> float:
    """BM25 of one row for the query `terms` (stems; repeats count twice, as FTS5 counts its phrases)."""
    norm = BM25_K1 * (1 - BM25_B + BM25_B * row_words / max(average_words, 1e-9))
    score = 0.0
    for term in terms:
        tf = frequency.get(term, 0)
        if tf:
            score += idf[term] * tf * (BM25_K1 + 1) / (tf + norm)
    return score


def bm25_rows(terms: Sequence[str], idf: Mapping[str, float], frequencies: np.ndarray, row_words: np.ndarray,
              average_words: float) -> np.ndarray:
    """bm25 of many rows at once: `frequencies[n, k]` is how often row n holds the k-th of the distinct `terms`,
    in their first-seen order."""
    distinct = list(dict.fromkeys(terms))
    weights = np.array([terms.count(t) * idf[t] for t in distinct])
    norm = BM25_K1 * (1 - BM25_B + BM25_B * np.asarray(row_words, dtype=float) / max(average_words, 1e-9))
    return (frequencies * (BM25_K1 + 1) / (frequencies + norm[:, None])) @ weights


@dataclass(frozen=True)
class ArticleStatistics:
    """What one article adds to the corpus statistics."""

    terms: Mapping[str, ArticleTerm]
    sentences: int
    sentence_row_words: int
    words: int  # in its title and sentences


def window_texts(texts: Sequence[str], gaps: Sequence[str], position: int) -> list[str]:
    """The pieces of a sentence's window, from the previous sentence's start to the next one's end: the texts and
    the gaps between them (a photo credit between two sentences belongs to both windows)."""
    first, last = max(0, position - 1), min(len(texts) - 1, position + 1)
    pieces = []
    for n in range(first, last + 1):
        pieces.append(texts[n])
        if n < last:
            pieces.append(gaps[n])
    return pieces


def article_statistics(title: str, text: str, sentences: Sequence[str], gaps: Sequence[str]
                       ) -> ArticleStatistics:
    """Count an article's stems: per sentence, per window (`gaps[n]` lies between sentences n and n + 1) and in
    its title and whole text."""
    held: Counter = Counter()
    in_windows: Counter = Counter()
    row_words = 0
    for n, sentence in enumerate(sentences):
        counts, window = term_counts(sentence), window_counts(window_texts(sentences, gaps, n))
        row_words += counts[WORDS] + window[WORDS]
        held.update(t for t in counts if t != WORDS)
        in_windows.update(t for t in window if t != WORDS)
    # Counted once, not cached: an article's text is read at indexing only.
    occurrences = Counter(stem(w) for w in words(f"{title}\n{text}"))
    terms = {t: ArticleTerm(held.get(t, 0), in_windows.get(t, 0), n) for t, n in occurrences.items()}
    return ArticleStatistics(terms, len(sentences), row_words, sum(occurrences.values()))
