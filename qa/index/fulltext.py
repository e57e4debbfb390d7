"""Full-text search over the store's FTS5 table (qa/index/store.py's schema): the lexical candidates of a question. Text
is folded before it is stored and FTS5 stems it, so "Ha Noi" finds "Hà Nội" and "talks" finds "talk". The
candidates' evidence is scored from the store's word counts instead (qa/index/terms.py)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from qa.index.terms import stem

# Ids bound per query, below the 999 parameters that SQLite before 3.32 allows.
MAX_BOUND_IDS = 900
# A question word held by more sentences than this is left out of the full-text search when the question has a
# rarer one: ranking by bm25 scores every sentence holding any searched word, and at 948,260 sentences waiting for
# that search was a third of a question's time (BENCHMARKS.md, scale); such a word weighs little in BM25 (a low
# idf). An absolute count, not a share: a library under 10,000 sentences searches every word, as its ranker was
# fitted. Measured at 948,260 sentences, same run, every development and seed question: ask p50 / p95 35.5 / 83.1
# ms searching every word, 33.5 / 74.3 with 20,000, 29.4 / 54.6 with 10,000, the same answers; 25.7 / 40.4 with
# 5,000, one first citation and one answer fewer. At 100,652 sentences, the same answers.
COMMON_WORD_SENTENCES = 10_000


def lexical_search(db: sqlite3.Connection, fts_query: str, limit: int) -> list[int]:
    """The ids of the best matches by BM25 over a sentence (weight 1) and its window (0.5), best first."""
    if not fts_query:
        return []
    rows = db.execute("SELECT rowid FROM sentences_fts WHERE sentences_fts MATCH ? ORDER BY bm25(sentences_fts, "
                      "1.0, 0.5) LIMIT ?", (fts_query, limit))
    return [int(i) for (i,) in rows]


def fts_query(words: Sequence[str]) -> str:
    """An FTS5 query for any of `words`, each quoted so FTS5 syntax ("AND", "*", quotes) is read as a word."""
    return " OR ".join(f'"{word}"' for word in words)


def question_search(db: sqlite3.Connection, words: Sequence[str], limit: int) -> list[int]:
    """lexical_search for a question's words, without the words too common to be worth scoring
    (COMMON_WORD_SENTENCES) unless every word is that common."""
    counts = dict(db.execute("SELECT term, sentences FROM terms WHERE term IN (SELECT value FROM json_each(?))",
                             (json.dumps([stem(w) for w in words]),)).fetchall()) if words else {}
    rarer = [w for w in words if counts.get(stem(w), 0) <= COMMON_WORD_SENTENCES]
    return lexical_search(db, fts_query(rarer or list(words)), limit)
