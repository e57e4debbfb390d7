"""Full-text search over the store's FTS5 table (qa/index/store.py's schema): the lexical candidates of a question. Text
is folded before it is stored and FTS5 stems it, so "Ha Noi" finds "Hà Nội" and "talks" finds "talk". The
candidates' evidence is scored from the store's word counts instead (qa/index/terms.py)."""

from __future__ import annotations

import sqlite3

# Ids bound per query, below the 999 parameters that SQLite before 3.32 allows.
MAX_BOUND_IDS = 900


def lexical_search(db: sqlite3.Connection, fts_query: str, limit: int) -> list[int]:
    """The ids of the best matches by BM25 over a sentence (weight 1) and its window (0.5), best first."""
    if not fts_query:
        return []
    rows = db.execute("SELECT rowid FROM sentences_fts WHERE sentences_fts MATCH ? ORDER BY bm25(sentences_fts, "
                      "1.0, 0.5) LIMIT ?", (fts_query, limit))
    return [int(i) for (i,) in rows]
