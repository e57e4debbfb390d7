"""Full-text queries over the store's FTS5 tables (qa/store.py's schema): BM25 scores and which sentences hold
which words. Text is folded before it is stored and FTS5 stems it, so "Ha Noi" finds "Hà Nội" and "talks" finds
"talk"."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

# Ids bound per query, below the 999 parameters that SQLite before 3.32 allows.
MAX_BOUND_IDS = 900


class FullTextQueries:
    """Read-only queries; the class that mixes them in (Store) provides the connection."""

    def _db(self) -> sqlite3.Connection:
        raise NotImplementedError

    def lexical_search(self, fts_query: str, limit: int) -> list[tuple[int, float, float]]:
        """Return (sentence id, sentence BM25, neighbourhood BM25) for the best matches; higher is better."""
        if not fts_query:
            return []
        rows = self._db().execute(
            "SELECT rowid, -bm25(sentences_fts, 1.0, 0.0), -bm25(sentences_fts, 0.0, 1.0) FROM sentences_fts "
            "WHERE sentences_fts MATCH ? ORDER BY bm25(sentences_fts, 1.0, 0.5) LIMIT ?",
            (fts_query, limit),
        )
        return [(int(i), float(own), float(context)) for i, own, context in rows]

    def lexical_scores(self, fts_query: str, ids: Sequence[int]) -> dict[int, tuple[float, float]]:
        """BM25 (sentence, neighbourhood) of given sentences for a query; sentences that do not match are absent."""
        if not fts_query or not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._db().execute(
            "SELECT rowid, -bm25(sentences_fts, 1.0, 0.0), -bm25(sentences_fts, 0.0, 1.0) FROM sentences_fts "
            f"WHERE sentences_fts MATCH ? AND rowid IN ({marks})",
            [fts_query, *ids],
        )
        return {int(i): (float(own), float(context)) for i, own, context in rows}

    def article_lexical_scores(self, fts_query: str, article_rowids: Sequence[int]) -> dict[int, float]:
        """BM25 of whole articles for a query (higher is better); articles that do not match are absent."""
        if not fts_query or not article_rowids:
            return {}
        marks = ",".join("?" * len(article_rowids))
        rows = self._db().execute(
            f"SELECT rowid, -bm25(articles_fts) FROM articles_fts WHERE articles_fts MATCH ? AND rowid IN ({marks})",
            [fts_query, *article_rowids],
        )
        return {int(i): float(score) for i, score in rows}

    def sentence_frequencies(self, terms: Sequence[str]) -> tuple[dict[str, int], int]:
        """How many sentences hold each word (after stemming), and how many sentences there are."""
        db = self._db()
        counts = {term: db.execute("SELECT count(*) FROM sentences_fts WHERE sentences_fts MATCH ?",
                                   (f'sentence : "{term}"',)).fetchone()[0] for term in terms}
        return counts, db.execute("SELECT count(*) FROM sentences").fetchone()[0]

    def sentences_matching(self, terms: Sequence[str], ids: Sequence[int], in_window: bool = False
                           ) -> dict[str, set[int]]:
        """For each word, which of the given sentences hold it (after stemming): in the sentence itself, or with
        `in_window` anywhere from the previous sentence to the next."""
        column = "" if in_window else "sentence : "
        db = self._db()
        holders: dict[str, set[int]] = {term: set() for term in terms}
        # In chunks: a whole article's sentences can outnumber the bound parameters older SQLite allows (999).
        for chunk in (ids[n:n + MAX_BOUND_IDS] for n in range(0, len(ids), MAX_BOUND_IDS)):
            marks = ",".join("?" * len(chunk))
            for term in terms:
                holders[term].update(row[0] for row in db.execute(
                    f"SELECT rowid FROM sentences_fts WHERE sentences_fts MATCH ? AND rowid IN ({marks})",
                    [f'{column}"{term}"', *chunk]))
        return holders
