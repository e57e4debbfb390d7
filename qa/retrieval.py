"""Hybrid retrieval: dense (FAISS) and lexical (FTS5 BM25) evidence about a sentence and its neighbourhood."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embeddings.encoder import Encoder
from embeddings.index import VectorIndex
from qa.answer import Answer, Citation, compose_answer
from qa.captions import role_score
from qa.confidence import CONFIDENCE_FEATURES, confidence_features
from qa.fulltext import MAX_BOUND_IDS
from qa.highlight import answer_highlights
from qa.question import MAX_QUERY_WORDS, clean_question, fts_query_for, name_units
from qa.ranking.answer_type import asked_kind
from qa.ranking.model import DEFAULT_MODEL_PATH, RankingModels, load_models
from qa.ranking.sentence_evidence import SENTENCE_FEATURES, sentence_evidence
from qa.store import SentenceRow, Store
from qa.text import content_words, words

# Evidence gathered from the store about a candidate, its neighbours and its article; then the evidence read from
# the sentence itself (qa/ranking/sentence_evidence.py). Each is a named column of Candidates.features.
STORE_FEATURES = ("dense", "lexical", "lexical_context", "dense_neighbours", "dense_article", "lexical_article",
                  "dense_window", "article_centroid", "caption_or_headline", "article_names",
                  "dense_residual")
FEATURES = STORE_FEATURES + SENTENCE_FEATURES
# Sentences of a follow-up's articles added to the candidates, at most (in all): enough for any news article.
MAX_ARTICLE_CANDIDATES = 500
MODES = ("hybrid", "dense", "lexical")
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

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown retrieval mode {self.mode!r}: use {', '.join(MODES[:-1])} or {MODES[-1]}")
        if self.dense_candidates + self.lexical_candidates + MAX_ARTICLE_CANDIDATES > MAX_BOUND_IDS:
            raise ValueError(f"dense_candidates + lexical_candidates may be at most "
                             f"{MAX_BOUND_IDS - MAX_ARTICLE_CANDIDATES}: the candidates' ids are bound in one query")

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
    rows: dict[int, SentenceRow]  # fetched once, for features, ranking, confidence and citations
    term_idf: dict[str, float]  # the question's words and how rare they are among the sentences
    # True when a follow-up keeps them to its conversation's article: its question is short ("How old is he?")
    # and leans on the turn before, so its evidence reads differently (qa/confidence.py).
    kept_to_articles: bool = False

    def kept_to(self, article_ids: Collection[str], skip: Collection[tuple[str, int]] = ()) -> Candidates:
        """Only the candidates of `article_ids` (all, if none of them is one) and not in `skip`, as (article_id,
        start). Features keep the values computed among all candidates, as the confidence was fitted on them."""
        rows = self.rows
        keep = [k for k, i in enumerate(self.ids) if (rows[i].article_id, rows[i].start) not in skip]
        preferred = [k for k in keep if rows[self.ids[k]].article_id in article_ids]
        keep = preferred or keep
        if len(keep) == len(self.ids) and not preferred:
            return self
        return Candidates([self.ids[k] for k in keep], self.features[keep], self.vectors[keep], rows, self.term_idf,
                          bool(preferred))


class Retriever:
    """Finds the sentences that answer a question, over a store and a vector index."""

    def __init__(self, store: Store, encoder: Encoder, vectors: Callable[[], VectorIndex]) -> None:
        self.store = store
        self.encoder = encoder
        self._vectors = vectors  # a getter: the library swaps in a new index after each update

    def candidates(self, question: str, settings: RetrievalSettings, article_ids: Collection[str] = ()
                   ) -> Candidates:
        """Gather dense and lexical candidates, and every sentence of `article_ids`, and compute each one's
        evidence features."""
        query_vector = self.encoder.encode([question])
        fts_query = fts_query_for(question)
        ids: dict[int, None] = {}
        if settings.mode != "lexical":
            ids.update((i, None) for i, _ in self._vectors().search(query_vector, settings.dense_candidates)[0])
        if settings.mode != "dense":
            ids.update((i, None) for i, _, _ in self.store.lexical_search(fts_query, settings.lexical_candidates))
        # A follow-up stays in its conversation's article, whose answer may be far down a large library's ranking
        # ("What did he give him?" shares no word with it).
        ids.update((i, None) for i in self.store.sentence_ids_of(list(article_ids))[:MAX_ARTICLE_CANDIDATES])
        stored = self.store.vectors(list(ids))
        id_list = [i for i in ids if i in stored]  # an id deleted since the vector index was read is dropped
        term_idf = self.question_terms(question)
        if not id_list:
            return self._no_candidates(term_idf)
        # One read gives the candidates' rows and every sentence of their articles, for in-article evidence.
        article_rows = self.store.sentences_of_articles_holding(id_list)
        id_list = [i for i in id_list if i in article_rows]  # and one deleted since its vector was read
        if not id_list:
            return self._no_candidates(term_idf)
        vectors = np.vstack([stored[i] for i in id_list])
        rows = {i: article_rows[i] for i in id_list}
        question_words, names = frozenset(words(question)), name_units(question)
        article_sentences: dict[int, list[str]] = {}
        for row in article_rows.values():
            article_sentences.setdefault(row.article_rowid, []).append(row.text)
        features = np.hstack([
            self._features(id_list, rows, vectors, query_vector[0], fts_query, term_idf, question_words, names),
            sentence_evidence([rows[i] for i in id_list], asked_kind(question), question_words, names,
                              article_sentences)])
        # Page furniture ("Newsletters", "Sign in", "Related stories") is never an answer: a line of a handful of
        # words with no verb or no full stop, unless it is the caption or headline the question asks about.
        unended = np.array([not _SENTENCE_END.search(rows[i].text) for i in id_list])
        column = {name: features[:, FEATURES.index(name)] > 0 for name in ("short", "no_verb", "caption_or_headline")}
        furniture = column["short"] & (unended | column["no_verb"]) & ~column["caption_or_headline"]
        keep = np.flatnonzero(~furniture)
        return Candidates([id_list[k] for k in keep], features[keep], vectors[keep], rows, term_idf)

    def _no_candidates(self, term_idf: dict[str, float]) -> Candidates:
        return Candidates([], np.zeros((0, len(FEATURES))), np.zeros((0, self.encoder.dim)), {}, term_idf)

    def question_terms(self, question: str) -> dict[str, float]:
        """The question's words and their IDF over the sentences: its rare words ("population", "GDP") decide
        what answers it, not the words that every sentence of a corpus shares ("Vietnam", "dialogue")."""
        terms = content_words(question)[:MAX_QUERY_WORDS]
        frequencies, sentence_count = self.store.sentence_frequencies(terms)
        return {t: math.log((sentence_count + 1) / (frequencies[t] + 0.5)) for t in terms}

    def _features(self, ids: list[int], rows: dict[int, SentenceRow], vectors: np.ndarray,
                  query_vector: np.ndarray, fts_query: str, term_idf: dict[str, float],
                  question_words: frozenset[str], names: list[tuple[str, ...]]) -> np.ndarray:
        dense = vectors @ query_vector
        lexical = self.store.lexical_scores(fts_query, ids)
        own = np.array([lexical.get(i, (0.0, 0.0))[0] for i in ids])
        context = np.array([lexical.get(i, (0.0, 0.0))[1] for i in ids])
        neighbours = self.store.neighbour_vectors(ids)
        dense_neighbours = np.array([max((float(v @ query_vector) for v in neighbours[i]), default=0.0)
                                     for i in ids])
        windows = vectors + np.array([np.sum(neighbours[i], axis=0) if neighbours[i] else np.zeros(vectors.shape[1])
                                      for i in ids])
        dense_window = (windows @ query_vector) / np.maximum(np.linalg.norm(windows, axis=1), 1e-12)
        best_in_article: dict[int, float] = {}
        for i, score in zip(ids, dense, strict=True):
            article = rows[i].article_rowid
            best_in_article[article] = max(best_in_article.get(article, -1.0), float(score))
        dense_article = np.array([best_in_article[rows[i].article_rowid] for i in ids])
        article_scores = self.store.article_lexical_scores(fts_query, list(best_in_article))
        lexical_article = np.array([article_scores.get(rows[i].article_rowid, 0.0) for i in ids])
        centroids = self.store.article_centroids(list(best_in_article))
        article_centroid = np.array([float(centroids[rows[i].article_rowid] @ query_vector) for i in ids])
        name_share = self._article_name_share(names, list(best_in_article))
        # What a sentence says beyond what its whole article is about: the cosine of the sentence and the question
        # with the article's mean direction projected out of both. The lead sums the article up and shares its
        # topic with every question about it; the sentence that answers shares what the question adds.
        article_axes = np.array([centroids[rows[i].article_rowid] for i in ids])
        own_part = vectors - np.sum(vectors * article_axes, axis=1, keepdims=True) * article_axes
        asked_part = query_vector[None, :] - (article_axes @ query_vector)[:, None] * article_axes
        dense_residual = np.sum(own_part * asked_part, axis=1) / np.maximum(
            np.linalg.norm(own_part, axis=1) * np.linalg.norm(asked_part, axis=1), 1e-12)
        return np.column_stack([dense, _scaled(own), _scaled(context), dense_neighbours, dense_article,
                                _scaled(lexical_article), dense_window, article_centroid,
                                [role_score(rows[i], question_words) for i in ids],
                                [name_share[rows[i].article_rowid] for i in ids], dense_residual])

    def _article_name_share(self, names: list[tuple[str, ...]], article_rowids: list[int]) -> dict[int, float]:
        """For each article, the share of the question's names that its title or text uses (1 if it names none)."""
        held = dict.fromkeys(article_rowids, 0)
        for name in names:
            for rowid in self.store.article_lexical_scores(" OR ".join(f'"{w}"' for w in name), article_rowids):
                held[rowid] += 1
        return {rowid: count / len(names) if names else 1.0 for rowid, count in held.items()}

    def rank(self, question: str, top_k: int, settings: RetrievalSettings | None = None,
             prefer_article_ids: Collection[str] = (), skip: Collection[tuple[str, int]] = ()
             ) -> tuple[list[tuple[int, float]], Candidates]:
        """Return the top_k (sentence id, fused score), near-duplicates collapsed, and the candidates.

        Every sentence of `prefer_article_ids` is a candidate, and only they are ranked when there are any (a
        follow-up question stays in the article its conversation is about). Sentences in `skip`, as
        (article_id, start), are left out. The candidates returned are the ones ranked.
        """
        settings = settings or RetrievalSettings()
        candidates = self.candidates(question, settings, prefer_article_ids).kept_to(prefer_article_ids, skip)
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
        if top_k < 1:
            raise ValueError(f"top_k must be at least 1, got {top_k}")
        question = clean_question(question)
        ranked, candidates = self.rank(question, top_k, settings)
        return self._cite(question, ranked, candidates.rows)

    def answer(self, question: str, top_k: int = 3, settings: RetrievalSettings | None = None,
               threshold: float | None = None, searched_for: str = "",
               prefer_article_ids: Collection[str] = (), skip: Collection[tuple[str, int]] = ()) -> Answer:
        """Answer with cited sentences, or "not found" when the best evidence is weak."""
        if top_k < 1:
            raise ValueError(f"top_k must be at least 1, got {top_k}")
        question = clean_question(question)
        query = clean_question(searched_for) if searched_for else question
        ranked, candidates = self.rank(query, top_k, settings, prefer_article_ids, skip)
        citations = self._cite(query, ranked, candidates.rows)
        settings = settings or RetrievalSettings()
        confidence = self.confidence(query, candidates, ranked, settings)
        threshold = settings.models().not_found_threshold if threshold is None else threshold
        return compose_answer(question, citations, confidence, threshold, query)

    def continue_after(self, question: str, previous: Answer, skip: Collection[tuple[str, int]] = ()) -> Answer:
        """Answer "What else did he say?" as a reader would: with the sentence after the previous answer's (the
        next one not given yet), at the previous answer's confidence; "not found" at the article's end."""
        cited = previous.citations[0]
        following = [row for row in self.store.sentences_after(cited.article_id, cited.start)
                     if (row.article_id, row.start) not in skip][:1]
        citations = self._cite(question, [(row.id, 0.0) for row in following], {row.id: row for row in following})
        return compose_answer(question, citations, previous.confidence if citations else 0.0, 0.0,
                              f"read on after: {cited.sentence}")

    def confidence(self, question: str, candidates: Candidates, ranked: list[tuple[int, float]],
                   settings: RetrievalSettings) -> float:
        """The calibrated probability that the first ranked sentence answers the question (qa/confidence.py)."""
        if not ranked:
            return 0.0
        models = settings.models()
        table = confidence_features(self.store, question, candidates, models.ranker.logits(candidates.features),
                                    ranked[0][0])
        return float(models.confidence.probabilities(table[None, :])[0])

    def _cite(self, question: str, ranked: list[tuple[int, float]], rows: dict[int, SentenceRow]
              ) -> list[Citation]:
        citations = []
        for rank, (sentence_id, score) in enumerate(ranked, start=1):
            row = rows[sentence_id]  # every ranked id is a candidate, and every candidate has its row
            citations.append(Citation(
                rank=rank, article_id=row.article_id, title=row.title, sentence=row.text, start=row.start,
                end=row.end, score=round(score, 4), context=self._context(row),
                highlights=answer_highlights(question, row.text, row.start, row.entities),
            ))
        return citations

    def _context(self, row: SentenceRow) -> str:
        around = self.store.sentences_at(row.article_rowid, [row.position - 1, row.position + 1])
        return " ".join(r.text for r in (around.get(row.position - 1), row, around.get(row.position + 1)) if r)


def _scaled(scores: np.ndarray) -> np.ndarray:
    """Divide BM25 scores by the best one, so they share the cosine's 0..1 range."""
    best = scores.max(initial=0.0)
    return scores / best if best > 0 else scores

