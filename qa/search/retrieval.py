"""Hybrid retrieval: dense (FAISS) and lexical (FTS5 BM25) evidence about a sentence and its neighbourhood."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embeddings.encoder import Encoder
from embeddings.shards import ShardedVectorIndex
from qa.answer import Answer, Citation, cite, compose_answer
from qa.index.store import SentenceRow, Store
from qa.index.terms import EMPTY_CORPUS, bm25, bm25_rows, stem, stems
from qa.ingest.captions import role_score
from qa.search.answer_type import asked_kind
from qa.search.confidence import CONFIDENCE_FEATURES, confidence_features
from qa.search.evidence import QuestionEvidence, read_evidence
from qa.search.hit import Hit
from qa.search.question import MAX_QUERY_WORDS, check_top_k, clean_question, name_units, search_words
from qa.search.ranking_model import DEFAULT_MODEL_PATH, RankingModels, load_models
from qa.search.scope import WHOLE_LIBRARY, SearchScope
from qa.search.sentence_evidence import SENTENCE_FEATURES, question_stems, sentence_evidence
from qa.text import content_words, words

# Evidence gathered from the store about a candidate, its neighbours and its article; then the evidence read from
# the sentence itself (qa/search/sentence_evidence.py). Each is a named column of Candidates.features.
STORE_FEATURES = ("dense", "lexical", "lexical_context", "dense_neighbours", "dense_article", "lexical_article",
                  "dense_window", "article_centroid", "caption_or_headline", "article_names",
                  "dense_residual")
FEATURES = STORE_FEATURES + SENTENCE_FEATURES
# Sentences of a follow-up's articles added to the candidates, at most (in all): enough for any news article.
MAX_ARTICLE_CANDIDATES = 500
MODES = ("hybrid", "dense", "lexical")
# Threads for full-text searches, one per question being answered at once (the web server answers up to 4).
LEXICAL_THREADS = 4
# One pool for the process, whatever the number of libraries opened (a pool per Retriever kept idle threads for
# every library ever opened); its threads start on first use.
_LEXICAL_POOL = ThreadPoolExecutor(LEXICAL_THREADS, thread_name_prefix="lexical-search")
_SENTENCE_END = re.compile(r"[.!?…][\"”’')\]]*\s*$")


@dataclass(frozen=True)
class RetrievalSettings:
    """How candidates are gathered and ranked.

    hybrid ranks by the fitted ranker of `models_path` (training/fit_ranker.py, cross-validated by article on
    the news development set: BENCHMARKS.md); dense and lexical rank by the cosine or the BM25 alone, for
    `qa eval --compare`.
    """

    mode: str = "hybrid"
    dense_candidates: int = 50
    lexical_candidates: int = 50
    duplicate_cosine: float = 0.97
    models_path: Path = DEFAULT_MODEL_PATH
    # An answer cites a sentence after the first only when its ranking logit is within this margin of the first's
    # (the ranker finds it at least e^-5 as likely to be the answer). Held out by article (benchmarks/
    # citation_floor.py): at top_k 10, 5.8 citations instead of 10, keeping 0.95 of the expected sentences ranked
    # 2nd-10th. Only the fitted ranker's logits have this scale: the dense and lexical modes cite top_k.
    citation_margin: float = 5.0

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown retrieval mode {self.mode!r}: use {', '.join(MODES[:-1])} or {MODES[-1]}")
        if not self.citation_margin >= 0:  # a negative margin or NaN would cut every answer to one citation
            raise ValueError(f"citation_margin must be 0 or more (logits), got {self.citation_margin}")

    def models(self) -> RankingModels:
        """The fitted ranker and confidence (read once per process)."""
        return load_models(self.models_path, FEATURES, CONFIDENCE_FEATURES)

    def scores(self, features: np.ndarray) -> np.ndarray:
        """Each candidate's ranking score in this mode."""
        if self.mode == "hybrid":
            return self.models().ranker.logits(features)
        return features[:, FEATURES.index(self.mode)]


@dataclass(frozen=True)
class Candidates:
    """Every candidate sentence of one question with its evidence, before fusion."""

    ids: list[int]
    features: np.ndarray  # (n, len(FEATURES))
    vectors: np.ndarray  # (n, dim), to collapse near-duplicates
    evidence: QuestionEvidence  # read once, for features, ranking, confidence and citations
    term_idf: dict[str, float]  # the question's words and how rare they are among the sentences
    # True when a follow-up keeps them to its conversation's article: its question is short ("How old is he?")
    # and leans on the turn before, so its evidence reads differently (qa/search/confidence.py).
    kept_to_articles: bool = False

    @property
    def rows(self) -> dict[int, SentenceRow]:
        """The candidates' rows (and their neighbours')."""
        return self.evidence.rows

    def only(self, article_ids: Collection[str]) -> Candidates:
        """Only the candidates of `article_ids`, none if none of them is one (a user's "ask within"). Features keep
        the values computed among all candidates, as for kept_to."""
        rows, wanted = self.rows, frozenset(article_ids)
        return self._subset([k for k, i in enumerate(self.ids) if rows[i].article_id in wanted],
                            self.kept_to_articles)

    def kept_to(self, article_ids: Collection[str], skip: Collection[tuple[str, int]] = ()) -> Candidates:
        """Only the candidates of `article_ids` (all, if none of them is one) and not in `skip`, as (article_id,
        start). Features keep the values computed among all candidates, as the confidence was fitted on them."""
        rows = self.rows
        keep = [k for k, i in enumerate(self.ids) if (rows[i].article_id, rows[i].start) not in skip]
        preferred = [k for k in keep if rows[self.ids[k]].article_id in article_ids]
        keep = preferred or keep
        if len(keep) == len(self.ids) and not preferred:
            return self
        return self._subset(keep, bool(preferred))

    def _subset(self, keep: list[int], kept_to_articles: bool) -> Candidates:
        """The candidates at positions `keep`, with the evidence read for all of them."""
        return Candidates([self.ids[k] for k in keep], self.features[keep], self.vectors[keep], self.evidence,
                          self.term_idf, kept_to_articles)


class Retriever:
    """Finds the sentences that answer a question, over a store and a vector index."""

    def __init__(self, store: Store, encoder: Encoder, vectors: Callable[[], ShardedVectorIndex]) -> None:
        self.store = store
        self.encoder = encoder
        self._vectors = vectors  # a getter: the library swaps in a new index after each update

    def candidates(self, question: str, settings: RetrievalSettings, article_ids: Collection[str] = ()
                   ) -> Candidates:
        """Gather dense and lexical candidates, and every sentence of `article_ids`, and compute each one's
        evidence features: seven SQL statements (two on the full-text thread), whatever the question's length and
        the candidates' number."""
        # The full-text search runs in another thread while this one encodes the question and searches the vectors:
        # SQLite, ONNX Runtime and FAISS all release the GIL, so on two cores a question waits for the slower of the
        # two, not for both (BENCHMARKS.md, the query path).
        lexical = _LEXICAL_POOL.submit(self.store.question_search, search_words(question),
                                       settings.lexical_candidates) if settings.mode != "dense" else None
        query_vector = self.encoder.encode([question])
        ids: dict[int, None] = {}
        if settings.mode != "lexical":
            ids.update((i, None) for i, _ in self._vectors().search(query_vector, settings.dense_candidates)[0])
        if lexical is not None:
            ids.update((i, None) for i in lexical.result())
        asked = QuestionWords.of(question)
        # A follow-up stays in its conversation's article, whose answer may be far down a large library's ranking
        # ("What did he give him?" shares no word with it). An id deleted since the vector index was read is
        # dropped.
        id_list, evidence = read_evidence(self.store, list(ids), list(article_ids), asked.all_stems,
                                          MAX_ARTICLE_CANDIDATES)
        term_idf = {t: evidence.corpus.sentence_idf(stem(t)) for t in asked.weighted}
        if not id_list:
            return Candidates([], np.zeros((0, len(FEATURES))), np.zeros((0, self.encoder.dim)), evidence, term_idf)
        vectors = np.vstack([evidence.vectors[i] for i in id_list])
        rows = [evidence.rows[i] for i in id_list]
        question_words, names = frozenset(words(question)), name_units(question)
        features = np.hstack([
            _store_features(rows, vectors, query_vector[0], evidence, asked, question_words, names),
            sentence_evidence(rows, asked_kind(question), question_words, names, evidence)])
        # Page furniture ("Newsletters", "Sign in", "Related stories") is never an answer: a line of a handful of
        # words with no verb or no full stop, unless it is the caption or headline the question asks about.
        unended = np.array([not _SENTENCE_END.search(row.text) for row in rows])
        column = {name: features[:, FEATURES.index(name)] > 0 for name in ("short", "no_verb", "caption_or_headline")}
        furniture = column["short"] & (unended | column["no_verb"]) & ~column["caption_or_headline"]
        keep = np.flatnonzero(~furniture)
        return Candidates([id_list[k] for k in keep], features[keep], vectors[keep], evidence, term_idf)

    def rank(self, question: str, top_k: int, settings: RetrievalSettings | None = None,
             scope: SearchScope = WHOLE_LIBRARY) -> tuple[list[tuple[int, float]], Candidates]:
        """Return the top_k (sentence id, fused score), near-duplicates collapsed, and the candidates.

        Every sentence of the scope's articles is a candidate, and only they are ranked when there are any (a
        follow-up question stays in the article its conversation is about); the scope's skipped sentences are
        left out, and so is every sentence outside the articles it asks within. The candidates returned are the
        ones ranked.
        """
        settings = settings or RetrievalSettings()
        candidates = self.candidates(question, settings, (*scope.articles, *scope.within))
        if scope.within:
            candidates = candidates.only(scope.within)
        candidates = candidates.kept_to(scope.articles, scope.skip)
        scores = settings.scores(candidates.features)
        order = np.argsort(-scores, kind="stable")
        kept: list[int] = []
        for index in order:
            vector = candidates.vectors[index]
            if any(float(vector @ candidates.vectors[k]) >= settings.duplicate_cosine for k in kept):
                continue
            kept.append(int(index))
            if len(kept) == top_k:
                break
        return [(candidates.ids[k], float(scores[k])) for k in kept], candidates

    def citations(self, question: str, top_k: int = 10, settings: RetrievalSettings | None = None
                  ) -> list[Citation]:
        """Rank cited sentences for a question, best first."""
        top_k = check_top_k(top_k)
        question = clean_question(question)
        return cite(question, self.search(question, top_k, settings))

    def search(self, query: str, top_k: int, settings: RetrievalSettings | None = None,
               scope: SearchScope = WHOLE_LIBRARY) -> list[Hit]:
        """The top_k sentences for a query (already cleaned), best first, near-duplicates collapsed."""
        ranked, candidates = self.rank(query, top_k, settings, scope)
        return self._hits(ranked, candidates.evidence)

    def answer(self, question: str, top_k: int = 3, settings: RetrievalSettings | None = None,
               threshold: float | None = None, scope: SearchScope = WHOLE_LIBRARY) -> Answer:
        """Answer with cited sentences, or "not found" when the best evidence is weak."""
        top_k = check_top_k(top_k)
        question = clean_question(question)
        query = clean_question(scope.query) if scope.query else question
        settings = settings or RetrievalSettings()
        ranked, candidates = self.rank(query, top_k, settings, scope)
        confidence = self.confidence(query, candidates, ranked, settings)
        if settings.mode == "hybrid" and ranked:  # after the confidence, which reads the ranking as it was fitted
            ranked = [r for n, r in enumerate(ranked) if n == 0 or r[1] >= ranked[0][1] - settings.citation_margin]
        threshold = settings.models().not_found_threshold if threshold is None else threshold
        return compose_answer(question, self._hits(ranked, candidates.evidence), confidence, threshold, query)

    def continue_after(self, question: str, previous: Answer, skip: Collection[tuple[str, int]] = ()) -> Answer:
        """Answer "What else did he say?" as a reader would: with the sentence after the previous answer's (the
        next one not given yet), at the previous answer's confidence; "not found" at the article's end."""
        cited = previous.citations[0]
        following = [row for row in self.store.sentences_after(cited.article_id, cited.start)
                     if (row.article_id, row.start) not in skip][:1]
        hits = self._hits([(row.id, 0.0) for row in following])
        return compose_answer(question, hits, previous.confidence if hits else 0.0, 0.0,
                              f"read on after: {cited.sentence}", marked_for=question)

    def confidence(self, question: str, candidates: Candidates, ranked: list[tuple[int, float]],
                   settings: RetrievalSettings) -> float:
        """The calibrated probability that the first ranked sentence answers the question (qa/search/confidence.py)."""
        if not ranked:
            return 0.0
        models = settings.models()
        table = confidence_features(question, candidates, models.ranker.logits(candidates.features), ranked[0][0])
        return float(models.confidence.probabilities(table[None, :])[0])

    def _hits(self, ranked: list[tuple[int, float]], evidence: QuestionEvidence | None = None) -> list[Hit]:
        """Hits of ranked sentences with the sentences around them: from `evidence` (every candidate's neighbours
        are in it), or else read from the store."""
        if evidence is None:
            rows, _ = self.store.question_sentences([sentence_id for sentence_id, _ in ranked])
            evidence = QuestionEvidence(rows, {}, {}, {}, EMPTY_CORPUS)
        return [Hit(evidence.rows[sentence_id], score, " ".join(r.text for r in evidence.window(
            evidence.rows[sentence_id]))) for sentence_id, score in ranked]


@dataclass(frozen=True)
class QuestionWords:
    """A question's words as the lexical evidence reads them (folded, Porter-stemmed)."""

    searched: tuple[str, ...]  # the full-text query's words as stems, for BM25 (repeats kept, as FTS5 keeps them)
    weighted: tuple[str, ...]  # its content words, weighted by rarity for the confidence (qa/search/confidence.py)
    all_stems: frozenset[str]  # every stem a feature looks up: these, the names' words, sentence_evidence's

    @classmethod
    def of(cls, question: str) -> QuestionWords:
        searched = tuple(stem(w) for w in search_words(question))
        weighted = tuple(content_words(question)[:MAX_QUERY_WORDS])
        names = [w for name in name_units(question) for w in name]
        return cls(searched, weighted, frozenset(searched) | stems([*weighted, *names])
                   | question_stems(frozenset(words(question))))


def _store_features(rows: list[SentenceRow], vectors: np.ndarray, query_vector: np.ndarray,
                    evidence: QuestionEvidence, asked: QuestionWords, question_words: frozenset[str],
                    names: list[tuple[str, ...]]) -> np.ndarray:
    """The STORE_FEATURES of each candidate, from the evidence read for its question."""
    corpus = evidence.corpus
    dense = vectors @ query_vector
    sentence_idf = {t: corpus.sentence_bm25_idf(t) for t in asked.searched}
    average_row = corpus.sentence_row_words / max(corpus.sentences, 1)
    own_counts, window_counts, row_words = evidence.frequencies(rows, list(dict.fromkeys(asked.searched)))
    own = bm25_rows(asked.searched, sentence_idf, own_counts, row_words, average_row)
    context = bm25_rows(asked.searched, sentence_idf, window_counts, row_words, average_row)
    # The sentences before and after each candidate (zero where there is none) and their cosines.
    around = [[evidence.neighbour(row, step) for row in rows] for step in (-1, 1)]
    neighbour_vectors = np.zeros((2, *vectors.shape), dtype=vectors.dtype)
    present = np.zeros((2, len(rows)), dtype=bool)
    for side, neighbours in enumerate(around):
        for n, neighbour in enumerate(neighbours):
            if neighbour is not None:
                neighbour_vectors[side, n], present[side, n] = evidence.vectors[neighbour.id], True
    neighbour_cosines = np.where(present, neighbour_vectors @ query_vector, -np.inf).max(axis=0)
    dense_neighbours = np.where(present.any(axis=0), neighbour_cosines, 0.0)
    windows = vectors + neighbour_vectors.sum(axis=0)
    dense_window = (windows @ query_vector) / np.maximum(np.linalg.norm(windows, axis=1), 1e-12)
    best_in_article: dict[int, float] = {}
    for row, score in zip(rows, dense, strict=True):
        best_in_article[row.article_rowid] = max(best_in_article.get(row.article_rowid, -1.0), float(score))
    dense_article = np.array([best_in_article[row.article_rowid] for row in rows])
    article_idf = {t: corpus.article_bm25_idf(t) for t in asked.searched}
    average_article = corpus.article_words / max(corpus.articles, 1)
    article_scores = {
        a: bm25(asked.searched, article_idf, {t: evidence.in_article(a, t).occurrences for t in asked.searched},
                evidence.articles[a].words, average_article) for a in best_in_article}
    lexical_article = np.array([article_scores[row.article_rowid] for row in rows])
    centroids = np.array([evidence.articles[row.article_rowid].centroid for row in rows])
    article_centroid = centroids @ query_vector
    # The share of the question's names that an article's title or text uses (1 if it names none).
    name_share = {a: sum(any(evidence.in_article(a, stem(w)).occurrences for w in name) for name in names)
                  / len(names) if names else 1.0 for a in best_in_article}
    # What a sentence says beyond what its whole article is about: the cosine of the sentence and the question
    # with the article's mean direction projected out of both. The lead sums the article up and shares its
    # topic with every question about it; the sentence that answers shares what the question adds.
    own_part = vectors - np.sum(vectors * centroids, axis=1, keepdims=True) * centroids
    asked_part = query_vector[None, :] - (centroids @ query_vector)[:, None] * centroids
    dense_residual = np.sum(own_part * asked_part, axis=1) / np.maximum(
        np.linalg.norm(own_part, axis=1) * np.linalg.norm(asked_part, axis=1), 1e-12)
    return np.column_stack([dense, _scaled(own), _scaled(context), dense_neighbours, dense_article,
                            _scaled(lexical_article), dense_window, article_centroid,
                            [role_score(row, question_words) for row in rows],
                            [name_share[row.article_rowid] for row in rows], dense_residual])


def _scaled(scores: np.ndarray) -> np.ndarray:
    """Divide BM25 scores by the best one, so they share the cosine's 0..1 range."""
    best = scores.max(initial=0.0)
    return scores / best if best > 0 else scores

