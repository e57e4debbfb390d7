"""The SQLite store's full-text queries, without the model: the vectors are placeholders."""

import sqlite3
from pathlib import Path

import numpy as np

from qa.articles import Article
from qa.entities import Annotation
from qa.sentences import Span
from qa.store import Store


def test_which_sentences_hold_a_word_across_more_sentences_than_sqlite_binds_at_once(tmp_path: Path) -> None:
    """The "not found" evidence asks this of every sentence of the cited article, which can be thousands."""
    sentences = [f"Report {n} covers the {'flood' if n % 7 == 0 else 'harvest'}." for n in range(1200)]
    text = " ".join(sentences)
    starts = np.cumsum([0] + [len(s) + 1 for s in sentences[:-1]])
    spans = [Span(int(start), int(start) + len(s)) for start, s in zip(starts, sentences, strict=True)]
    store = Store(tmp_path / "store.sqlite")
    if hasattr(sqlite3, "SQLITE_LIMIT_VARIABLE_NUMBER"):  # Python 3.11+: bind as few as SQLite before 3.32
        store._db().setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
    with store.transaction() as db:
        ids = store.add_article(db, Article("big", "Big report", text, "big.txt"), spans,
                                np.zeros((len(spans), 4), dtype=np.float32), [Annotation((), 1)] * len(spans))
    assert store.sentence_ids_of(["big"]) == ids
    holders = store.sentences_matching(["flood", "harvests"], ids)
    assert holders["flood"] == {ids[n] for n in range(1200) if n % 7 == 0}
    assert len(holders["harvests"]) == 1200 - 172  # stemmed: "harvests" finds "harvest"
    assert sorted(store.sentences(ids)) == ids  # the candidates' bulk read, chunked as well
