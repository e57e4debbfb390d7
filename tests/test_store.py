"""The SQLite store's bulk reads and word counts, without the model: the vectors are made up."""

import sqlite3
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from embeddings.quantize import as_stored
from qa.index.store import Store
from qa.index.terms import ArticleTerm, stem, term_counts
from qa.ingest.annotated import annotated
from qa.ingest.articles import Article
from qa.ingest.entities import Annotation
from qa.ingest.sentences import Span


def _add(store: Store, article_id: str, sentences: list[str]) -> list[int]:
    text = " ".join(sentences)
    starts = np.cumsum([0] + [len(s) + 1 for s in sentences[:-1]])
    spans = [Span(int(start), int(start) + len(s)) for start, s in zip(starts, sentences, strict=True)]
    with store.transaction() as db:
        article = Article(article_id, f"{article_id} report", text, f"{article_id}.txt")
        return store.add_article(db, annotated(article, spans, [Annotation((), 1)] * len(spans),
                                               np.zeros(128, dtype=np.uint64)), _vectors(article_id, len(spans)))


def _vectors(article_id: str, count: int) -> np.ndarray:
    """Distinct unit vectors for an article's sentences, the same for the same article: a read that paired a
    sentence with another's vector would show."""
    seed = int.from_bytes(article_id.encode()[:8].ljust(8, b"\0"), "little")
    vectors = np.random.default_rng(seed).normal(size=(count, 4)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_a_question_reads_thousands_of_candidates_in_one_statement(tmp_path: Path) -> None:
    """A follow-up's candidates are a whole article, which can outnumber the ids older SQLite binds (999)."""
    sentences = [f"Report {n} covers the {'flood' if n % 7 == 0 else 'harvest'}." for n in range(1200)]
    store = Store(tmp_path / "store.sqlite")
    if hasattr(sqlite3, "SQLITE_LIMIT_VARIABLE_NUMBER"):  # Python 3.11+: bind as few as SQLite before 3.32
        store._db().setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
    ids = _add(store, "big", sentences)
    rows, vectors = store.question_sentences(ids[:1000])
    assert sorted(rows) == ids[:1001]  # and the last one's next neighbour
    assert sorted(store.question_sentences([], ["big"])[0]) == ids == sorted(store.sentences(ids))
    # Each sentence comes with its own vector, as stored (8 bits): in the bulk read and in the id-ordered chunks.
    expected = as_stored(_vectors("big", len(ids)))
    assert all(np.array_equal(vectors[i], expected[n]) for n, i in enumerate(ids[:1001]))
    assert np.array_equal(np.vstack(list(store.vector_chunks(4, chunk=100))), expected)
    assert np.array_equal(store.all_vectors(4)[1], expected)
    with pytest.raises(ValueError, match="stored vectors have 4 dimensions, expected 8"):
        next(store.vector_chunks(8))


def test_word_counts_follow_articles_in_and_out(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.sqlite")
    flood = ["The river flooded the valley.", "Floods closed two roads.", "Farmers counted their losses."]
    harvest = ["The harvest was early.", "Farmers sold the grain in town."]
    _add(store, "flood", flood)
    _add(store, "harvest", harvest)
    corpus = store.corpus_statistics([stem("flood"), stem("farmers"), stem("report"), stem("absent")])
    assert (corpus.sentences, corpus.articles) == (5, 2)
    # "flooded", "Floods": one stem; "report" is only in the titles.
    assert corpus.sentence_holders == {stem("flood"): 2, stem("farmers"): 2, stem("report"): 0}
    # A window is a sentence and its neighbours: all three of the flood article's hold a flood word, and two in
    # each article hold "farmers" (its last sentence and the one before it).
    assert corpus.window_holders == {stem("flood"): 3, stem("farmers"): 4, stem("report"): 0}
    assert corpus.article_holders == {stem("flood"): 1, stem("farmers"): 2, stem("report"): 2}  # titles count
    words = sum(term_counts(s)[""] for s in flood + harvest) + 4  # and the titles' two words each
    assert corpus.article_words == words
    summaries, terms = store.article_summaries([1, 2], [stem("flood")])
    assert terms[1][stem("flood")] == ArticleTerm(sentences=2, windows=3, occurrences=3)  # and the title's
    assert terms[2] == {} and summaries[1].sentences == 3
    with store.transaction() as db:
        store.delete_articles(db, ["flood"])
    corpus = store.corpus_statistics([stem("flood"), stem("farmers")])
    assert (corpus.sentences, corpus.articles, corpus.sentence_holders) == (2, 1, {stem("farmers"): 1})
    assert corpus.article_words == sum(term_counts(s)[""] for s in harvest) + 2
    remaining = Counter(t for (t,) in store._db().execute("SELECT term FROM terms"))
    assert stem("flood") not in remaining and stem("valley") not in remaining


def test_the_full_text_index_keeps_no_text_and_forgets_deleted_sentences(tmp_path: Path) -> None:
    """Contentless FTS5 deletes a row only when given the values it was inserted with; wrong ones would leave
    postings that still match, pointing at sentences that are gone."""
    store = Store(tmp_path / "store.sqlite")
    _add(store, "flood", ["The river flooded the Mekong valley.", "Ferries stopped in Can Tho.", "Rice rose."])
    harvest = _add(store, "harvest", ["The harvest in Can Tho was early.", "Farmers sold the grain."])
    assert len(store.lexical_search('sentence : ("can" "tho")', 10)) == 2
    with store.transaction() as db:
        store.delete_articles(db, ["flood"])
    assert store.lexical_search("mekong", 10) == [] and store.lexical_search("ferries", 10) == []
    assert store.lexical_search("rice", 10) == []  # only in the flood article's window columns
    assert store.lexical_search('sentence : ("can" "tho")', 10) == [harvest[0]]
    assert store.lexical_search("sentence : farmers", 10) == [harvest[1]]
    assert sorted(store.lexical_search("farmers", 10)) == harvest  # its window holds the sentence before it
    db = store._db()
    assert db.execute("SELECT count(*) FROM sentences_fts_docsize").fetchone()[0] == 2
    assert db.execute("SELECT count(*) FROM sqlite_schema WHERE name = 'sentences_fts_content'").fetchone()[0] == 0
    db.execute("INSERT INTO sentences_fts (sentences_fts, rank) VALUES ('integrity-check', 0)")
    again = _add(store, "flood", ["The river flooded the Mekong valley."])
    assert store.lexical_search("mekong", 10) == again


def test_reads_in_a_snapshot_see_one_moment(tmp_path: Path) -> None:
    """A reader restoring the vector index reads ids, then vectors: a writer committing between the two must not
    shift vectors onto other ids (same count, other rows)."""
    reader = Store(tmp_path / "store.sqlite")
    _add(reader, "old", ["The river flooded the valley.", "Ferries stopped."])
    writer = Store(tmp_path / "store.sqlite")
    with reader.snapshot():
        ids = reader.sentence_ids()
        with writer.transaction() as db:  # another process replaces the article: same count, new ids
            writer.delete_articles(db, ["old"])
        _add(writer, "new", ["The harvest was early.", "Farmers sold grain."])
        assert reader.sentence_ids().tolist() == ids.tolist()
        assert sum(len(chunk) for chunk in reader.vector_chunks(4)) == len(ids)
    assert reader.sentence_ids().tolist() != ids.tolist()  # after it, the writer's commit is seen


def test_the_full_text_search_leaves_out_a_word_too_common_to_score(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A word in more than COMMON_WORD_SENTENCES sentences is not searched when the question has a rarer one."""
    store = Store(tmp_path / "store.sqlite")
    harvest = _add(store, "farm", [f"The harvest of field {n} was early." for n in range(6)])
    flood = _add(store, "river", ["The flood closed the road.", "The flood and the harvest came together."])
    monkeypatch.setattr("qa.index.fulltext.COMMON_WORD_SENTENCES", 5)  # "harvest" is in 7 sentences
    assert sorted(store.question_search(["harvest", "flood"], 10)) == sorted(flood)
    # No rarer word: searched anyway (the road's sentence, by its window, which reaches the harvest).
    assert sorted(store.question_search(["harvest"], 10)) == sorted(harvest + flood)
    monkeypatch.setattr("qa.index.fulltext.COMMON_WORD_SENTENCES", 7)
    assert sorted(store.question_search(["harvest", "flood"], 10)) == sorted(harvest + flood)  # not too common
