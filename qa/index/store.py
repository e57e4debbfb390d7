"""SQLite store: articles, sentences, their vectors and a full-text index. The source of truth."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embeddings.quantize import dim_of, from_int8, to_int8
from qa.index.fulltext import MAX_BOUND_IDS, lexical_search, question_search
from qa.index.terms import ArticleTerm, CorpusStatistics, article_statistics
from qa.ingest.annotated import AnnotatedArticle
from qa.ingest.entities import Entity
from qa.text import fold

SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL, path TEXT NOT NULL, url TEXT NOT NULL, date TEXT NOT NULL, source TEXT NOT NULL,
    content_hash TEXT NOT NULL, text TEXT NOT NULL,
    centroid BLOB NOT NULL,  -- the normalised mean of its sentence vectors: what the article is about
    minhash BLOB NOT NULL,  -- uint64 MinHash of its five-word runs: syndicated copies (qa/ingest/near_duplicates.py)
    sentences INTEGER NOT NULL, sentence_row_words INTEGER NOT NULL, words INTEGER NOT NULL  -- qa/index/terms.py
);
-- AUTOINCREMENT: a sentence id is never reused, so a stale vector index can never point at the wrong sentence.
CREATE TABLE IF NOT EXISTS sentences (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    article INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    position INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
    text TEXT NOT NULL, vector BLOB NOT NULL,
    subject INTEGER,  -- the sentence that introduced the person this one is about (qa/ingest/subjects.py), if any
    caption INTEGER NOT NULL,  -- 1 for a photo caption (qa/ingest/sentences.py)
    entities TEXT NOT NULL,  -- JSON [[start, end, label], ...]: named entities as article offsets (ingest/entities.py)
    verbs INTEGER NOT NULL,  -- how many verbs it has: a menu, byline or share button has none
    gap TEXT NOT NULL  -- the text between it and the next sentence (qa/index/terms.py reads windows with it)
);
CREATE INDEX IF NOT EXISTS sentences_by_article ON sentences(article, position);
-- Column 1: the sentence; column 2: the text from the previous sentence to the next one, both folded. Finds the
-- lexical candidates; their evidence is scored from the word counts below (qa/index/terms.py). Contentless
-- (content=''): only the token index is kept, not another copy of the text (268 of 1,740 bytes a sentence at
-- 300,000; the window holds three sentences); search and bm25() need nothing else. A row is deleted by giving
-- FTS5 the values it was inserted with (Store._fts_rows makes both).
CREATE VIRTUAL TABLE IF NOT EXISTS sentences_fts USING fts5(
    sentence, context, content = '', tokenize = 'porter unicode61 remove_diacritics 2'
);
-- Word (Porter stem) counts, kept with the articles in the same transactions: the library's, per article, and
-- the library's totals (one row).
CREATE TABLE IF NOT EXISTS terms (
    term TEXT PRIMARY KEY,
    sentences INTEGER NOT NULL, windows INTEGER NOT NULL, articles INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS article_terms (
    article INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    term TEXT NOT NULL,
    sentences INTEGER NOT NULL, windows INTEGER NOT NULL, occurrences INTEGER NOT NULL,
    PRIMARY KEY (article, term)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS corpus (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    sentences INTEGER NOT NULL, sentence_row_words INTEGER NOT NULL, articles INTEGER NOT NULL,
    words INTEGER NOT NULL
);
INSERT OR IGNORE INTO corpus VALUES (1, 0, 0, 0, 0);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


# Sentence vectors are stored in 8 bits with a scale each (embeddings/quantize.py): 388 bytes a sentence instead of
# 768 as float16 (a quarter of the index on disk at 594,000 sentences), a cosine moved by 0.0004 (standard
# deviation), the same held-out ranking and confidence (BENCHMARKS.md, "Disk"). Read back, they are float32.
# Vectors read at a time to restore the vector index: reading 50,000 rows at a time took the peak memory of
# restoring 100,000 vectors from 224 MB above the encoder's to 128 MB more than 4,096 at a time did.
VECTOR_CHUNK = 4096


# The sentences of one vector shard: embeddings/shards.py's shard_of (an id's remainder by the shard count).
_SHARD = "WHERE id % ? = ?"


def _fts_rows(article_text: str, ids: Sequence[int], spans: Sequence[tuple[int, int]], sentences: Sequence[str]
              ) -> list[tuple[int, str, str]]:
    """The full-text rows of an article's sentences: (id, the folded sentence, its folded window). The window runs
    from the previous sentence's start to the next one's end, so it also holds what lies between them (a photo
    credit, a dateline) and what a pronoun in the sentence refers to. Insert and delete both use it: a contentless
    FTS5 table must be given, to delete a row, exactly the values it was inserted with."""
    last = len(spans) - 1
    return [(sentence_id, fold(sentence), fold(article_text[spans[max(0, n - 1)][0]:spans[min(last, n + 1)][1]]))
            for n, (sentence_id, sentence) in enumerate(zip(ids, sentences, strict=True))]


@dataclass(frozen=True)
class SentenceRow:
    """A stored sentence with what a citation needs about its article."""

    id: int
    article_id: str
    title: str
    position: int
    start: int
    end: int
    text: str
    article_rowid: int
    subject: int | None  # id of the sentence that introduced the person this one is about
    caption: bool  # part of a photo caption
    entities: tuple[Entity, ...] = ()  # named entities, offsets into the article text
    verbs: int = 0
    gap: str = ""  # the text between it and the next sentence: a photo credit, a dateline, or white space
    url: str = ""  # its article's, as are the two below
    date: str = ""
    source: str = ""


@dataclass(frozen=True)
class ArticleSummary:
    """What a question's evidence needs of an article."""

    centroid: np.ndarray  # the normalised mean of its sentence vectors
    sentences: int
    words: int  # in its title and sentences


@dataclass(frozen=True)
class StoredArticle:
    article_id: str
    title: str
    path: str
    url: str
    date: str
    source: str
    content_hash: str
    text: str


@dataclass(frozen=True)
class ArticleListing:
    """One indexed article as a library list shows it."""

    article_id: str
    title: str
    date: str
    source: str
    url: str
    path: str  # an absolute file path, "upload:NAME", or where a page or feed was fetched from
    sentences: int


# The columns of a SentenceRow, in its field order.
_SENTENCE_ROWS = ("SELECT s.id, a.article_id, a.title, s.position, s.start, s.end, s.text, a.id, s.subject, s.caption, "
                  "s.entities, s.verbs, s.gap, a.url, a.date, a.source FROM sentences s JOIN articles a "
                  "ON a.id = s.article")


def _sentence_row(row: Sequence) -> SentenceRow:
    *fields, entities, verbs, gap, url, date, source = row
    return SentenceRow(*fields, tuple(Entity(*e) for e in json.loads(entities)), verbs, gap, url, date, source)


class Store:
    """One SQLite file; a connection per thread, WAL so readers never wait for a writer."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._db().executescript(f"BEGIN IMMEDIATE; {SCHEMA} COMMIT;")

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("PRAGMA synchronous=FULL")
            self._local.db = db
        return db

    def lexical_search(self, fts_query: str, limit: int) -> list[int]:
        """Full-text candidates (qa/index/fulltext.py), on this thread's connection."""
        return lexical_search(self._db(), fts_query, limit)

    def question_search(self, words: Sequence[str], limit: int) -> list[int]:
        """Full-text candidates for a question's words, the too common left out (qa/index/fulltext.py)."""
        return question_search(self._db(), words, limit)

    def close(self) -> None:
        """Close this thread's connection."""
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All or nothing: commit on success, roll back on any error."""
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Every read inside sees the store as of one moment: one read transaction (under WAL, a writer's later
        commits stay out of it). Ids and vectors read by separate statements then still belong together."""
        db = self._db()
        if db.in_transaction:
            yield
            return
        db.execute("BEGIN")
        try:
            yield
        finally:
            db.execute("COMMIT")

    def checkpoint(self) -> None:
        """Move committed pages from the WAL into the database file, so the file alone is the whole index."""
        self._db().execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def check(self) -> None:
        """Raise sqlite3.DatabaseError if the file is damaged."""
        result = self._db().execute("PRAGMA quick_check").fetchone()[0]
        if result != "ok":
            raise sqlite3.DatabaseError(result)

    def article_hashes(self) -> dict[str, tuple[str, str]]:
        """Map article_id -> (content_hash, path) for every stored article."""
        rows = self._db().execute("SELECT article_id, content_hash, path FROM articles")
        return {article_id: (content_hash, path) for article_id, content_hash, path in rows}

    def add_article(self, db: sqlite3.Connection, annotated: AnnotatedArticle, vectors: np.ndarray) -> list[int]:
        """Insert an article with its sentences, their vectors, annotations and word counts inside a transaction;
        return the sentence ids."""
        article, spans, minhash = annotated.article, annotated.spans, annotated.minhash
        centroid = vectors.mean(axis=0) if len(vectors) else np.zeros(vectors.shape[1], dtype=np.float32)
        centroid = (centroid / max(float(np.linalg.norm(centroid)), 1e-12)).astype(np.float32)
        texts = annotated.sentences
        gaps = [article.text[span.end:following.start] for span, following in zip(spans, spans[1:], strict=False)]
        gaps.append("")  # after the last sentence: its window ends with it
        counts = article_statistics(article.title, article.text, texts, gaps)
        cursor = db.execute(
            "INSERT INTO articles (article_id, title, path, url, date, source, content_hash, text, centroid, "
            "minhash, sentences, sentence_row_words, words) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (article.article_id, article.title, article.path, article.url, article.date, article.source,
             article.content_hash, article.text, centroid.tobytes(), minhash.astype(np.uint64).tobytes(),
             counts.sentences, counts.sentence_row_words, counts.words),
        )
        article_rowid = cursor.lastrowid
        ids: list[int] = []
        stored = to_int8(vectors)
        for position, (span, sentence, gap, subject, caption, annotation) in enumerate(zip(
                spans, texts, gaps, annotated.subjects, annotated.captions, annotated.annotations, strict=True)):
            cursor = db.execute(
                "INSERT INTO sentences (article, position, start, end, text, vector, subject, caption, entities, "
                "verbs, gap) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (article_rowid, position, span.start, span.end, sentence, stored[position].tobytes(),
                 None if subject is None else ids[subject], int(caption),
                 json.dumps([[e.start, e.end, e.label] for e in annotation.entities]), annotation.verbs, gap),
            )
            ids.append(cursor.lastrowid)
        db.executemany("INSERT INTO sentences_fts (rowid, sentence, context) VALUES (?,?,?)",
                       _fts_rows(article.text, ids, [(s.start, s.end) for s in spans], texts))
        db.executemany("INSERT INTO article_terms (article, term, sentences, windows, occurrences) "
                       "VALUES (?,?,?,?,?)",
                       [(article_rowid, term, t.sentences, t.windows, t.occurrences)
                        for term, t in counts.terms.items()])
        self._count(db, article_rowid, +1)
        return ids

    def _count(self, db: sqlite3.Connection, article_rowid: int, sign: int) -> None:
        """Add (+1) or take away (-1) an article's word counts from the library's."""
        db.execute(
            "INSERT INTO terms (term, sentences, windows, articles) "
            "SELECT term, ? * sentences, ? * windows, ? FROM article_terms WHERE article = ? AND true "
            "ON CONFLICT(term) DO UPDATE SET sentences = sentences + excluded.sentences, "
            "windows = windows + excluded.windows, articles = articles + excluded.articles",
            (sign, sign, sign, article_rowid))
        db.execute(
            "UPDATE corpus SET sentences = corpus.sentences + ? * a.sentences, "
            "sentence_row_words = corpus.sentence_row_words + ? * a.sentence_row_words, "
            "articles = corpus.articles + ?, words = corpus.words + ? * a.words "
            "FROM (SELECT * FROM articles WHERE id = ?) AS a",
            (sign, sign, sign, sign, article_rowid))

    def delete_articles(self, db: sqlite3.Connection, article_ids: Sequence[str]) -> list[int]:
        """Delete articles inside a transaction; return the ids of their sentences."""
        removed: list[int] = []
        for article_id in article_ids:
            row = db.execute("SELECT id FROM articles WHERE article_id = ?", (article_id,)).fetchone()
            if row is None:
                continue
            (text,) = db.execute("SELECT text FROM articles WHERE id = ?", row).fetchone()
            sentences = db.execute("SELECT id, start, end, text FROM sentences WHERE article = ? ORDER BY position",
                                   row).fetchall()
            ids = [i for i, *_ in sentences]
            # A contentless table forgets a row only when given the values it was inserted with.
            db.executemany("INSERT INTO sentences_fts (sentences_fts, rowid, sentence, context) "
                           "VALUES ('delete',?,?,?)",
                           _fts_rows(text, ids, [(start, end) for _, start, end, _ in sentences],
                                     [t for *_, t in sentences]))
            self._count(db, row[0], -1)
            db.execute("DELETE FROM articles WHERE id = ?", row)  # its sentences and word counts cascade
            removed.extend(ids)
        db.execute("DELETE FROM terms WHERE articles <= 0")
        return removed

    def sentences(self, ids: Sequence[int]) -> dict[int, SentenceRow]:
        """Fetch sentences by id (ids no longer stored are left out)."""
        ids = list(ids)
        rows: dict[int, SentenceRow] = {}
        for n in range(0, len(ids), MAX_BOUND_IDS):  # a whole article can outnumber the ids SQLite binds at once
            rows.update(self._select_sentences("s.id IN ({})", ids[n:n + MAX_BOUND_IDS]))
        return rows

    def sentences_at(self, article_rowid: int, positions: Sequence[int]) -> dict[int, SentenceRow]:
        """Fetch an article's sentences by position."""
        rows = self._select_sentences("s.article = ? AND s.position IN ({})", list(positions), [article_rowid])
        return {row.position: row for row in rows.values()}

    def sentences_after(self, article_id: str, start: int, limit: int = 10) -> list[SentenceRow]:
        """The sentences that follow the one at `start` in an article, in order."""
        rows = self._db().execute(f"{_SENTENCE_ROWS} WHERE a.article_id = ? AND s.start > ? ORDER BY s.position "
                                  "LIMIT ?", (article_id, start, limit))
        return [_sentence_row(row) for row in rows]

    def _select_sentences(self, where: str, values: list, leading: list | None = None) -> dict[int, SentenceRow]:
        if not values:
            return {}
        marks = ",".join("?" * len(values))
        rows = self._db().execute(f"{_SENTENCE_ROWS} WHERE {where.format(marks)}", [*(leading or []), *values])
        return {row[0]: _sentence_row(row) for row in rows}

    def all_vectors(self, dim: int, shard: tuple[int, int] = (0, 1)) -> tuple[np.ndarray, np.ndarray]:
        """Return (ids, float32 vectors) of every sentence (of one vector shard), in id order."""
        with self.snapshot():
            ids = self.sentence_ids(shard)
            vectors, filled = np.empty((len(ids), dim), dtype=np.float32), 0  # one copy, filled a chunk at a time
            for chunk in self.vector_chunks(dim, shard=shard):
                vectors[filled:filled + len(chunk)] = chunk
                filled += len(chunk)
        return ids, vectors

    def sentence_ids(self, shard: tuple[int, int] = (0, 1)) -> np.ndarray:
        """Every sentence id, ascending; with `shard` (number, shards), those of one vector shard."""
        rows = self._db().execute(f"SELECT id FROM sentences {_SHARD} ORDER BY id", shard[::-1]).fetchall()
        return np.array([i for (i,) in rows], dtype=np.int64)

    def vector_chunks(self, dim: int, chunk: int = VECTOR_CHUNK, shard: tuple[int, int] = (0, 1)
                      ) -> Iterator[np.ndarray]:
        """Every sentence vector (float32, as stored), in id order, `chunk` at a time: what the vector index is
        restored from (embeddings/index.py), without a million vectors and their row objects in memory at once.
        With `shard` (number, shards), those of one vector shard."""
        cursor = self._db().execute(f"SELECT vector FROM sentences {_SHARD} ORDER BY id", shard[::-1])
        while rows := cursor.fetchmany(chunk):
            if dim_of(rows[0][0]) != dim:
                raise ValueError(f"stored vectors have {dim_of(rows[0][0])} dimensions, expected {dim}")
            yield from_int8(b"".join(v for (v,) in rows), dim)

    def article(self, article_id: str) -> StoredArticle | None:
        """Fetch one article with its full text."""
        row = self._db().execute(
            "SELECT article_id, title, path, url, date, source, content_hash, text FROM articles WHERE article_id = ?",
            (article_id,),
        ).fetchone()
        return StoredArticle(*row) if row else None

    def minhashes(self) -> tuple[list[str], np.ndarray]:
        """Every article's id and MinHash signature, as (ids, an (n, size) uint64 array)."""
        rows = self._db().execute("SELECT article_id, minhash FROM articles ORDER BY id").fetchall()
        signatures = np.array([np.frombuffer(blob, dtype=np.uint64) for _, blob in rows], dtype=np.uint64)
        return [article_id for article_id, _ in rows], signatures

    def articles(self) -> list[ArticleListing]:
        """Every article, in id order."""
        rows = self._db().execute("SELECT article_id, title, date, source, url, path, sentences FROM articles "
                                  "ORDER BY article_id")
        return [ArticleListing(*row) for row in rows]

    def counts(self) -> tuple[int, int]:
        """Return (articles, sentences)."""
        db = self._db()
        return (db.execute("SELECT count(*) FROM articles").fetchone()[0],
                db.execute("SELECT count(*) FROM sentences").fetchone()[0])

    def get_setting(self, key: str) -> str | None:
        row = self._db().execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_setting(self, db: sqlite3.Connection, key: str, value: str) -> None:
        db.execute("INSERT INTO settings (key, value) VALUES (?, ?) "
                   "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))

    def known_articles(self, article_ids: Sequence[str]) -> set[str]:
        """Those of `article_ids` that are stored."""
        if not article_ids:
            return set()
        marks = ",".join("?" * len(article_ids))
        rows = self._db().execute(f"SELECT article_id FROM articles WHERE article_id IN ({marks})", list(article_ids))
        return {article_id for (article_id,) in rows}

    def sentence_ids_of(self, article_ids: Sequence[str]) -> list[int]:
        """The ids of the sentences of some articles (by article_id), in article order."""
        if not article_ids:
            return []
        marks = ",".join("?" * len(article_ids))
        rows = self._db().execute("SELECT s.id FROM sentences s JOIN articles a ON a.id = s.article "
                                  f"WHERE a.article_id IN ({marks}) ORDER BY s.article, s.position",
                                  list(article_ids))
        return [i for (i,) in rows]

    def question_sentences(self, ids: Sequence[int], article_ids: Sequence[str] = ()
                           ) -> tuple[dict[int, SentenceRow], dict[int, np.ndarray]]:
        """One read for a question's candidates: the rows and vectors of the sentences `ids`, of their neighbours
        (one position either side) and of every sentence of the articles `article_ids`. Ids are bound as one JSON
        list, so there is no limit on how many."""
        db = self._db()
        rows = db.execute(
            f"{_SENTENCE_ROWS.replace(' FROM', ', s.vector FROM', 1)} WHERE s.id IN ("
            "SELECT n.id FROM sentences c JOIN sentences n ON n.article = c.article "
            "AND n.position BETWEEN c.position - 1 AND c.position + 1 WHERE c.id IN (SELECT value FROM json_each(?))"
            ") OR s.article IN (SELECT id FROM articles WHERE article_id IN (SELECT value FROM json_each(?)))",
            (json.dumps(list(ids)), json.dumps(list(article_ids))))
        sentences, blobs = {}, []
        for *fields, vector in rows:
            sentences[fields[0]] = _sentence_row(fields)
            blobs.append(vector)
        decoded = from_int8(b"".join(blobs), dim_of(blobs[0])) if blobs else []
        return sentences, dict(zip(sentences, decoded, strict=True))

    def article_summaries(self, article_rowids: Sequence[int], stems: Sequence[str]
                          ) -> tuple[dict[int, ArticleSummary], dict[int, dict[str, ArticleTerm]]]:
        """What the evidence needs of some articles: their centroid and size, and how they use each stem."""
        db = self._db()
        rowids = json.dumps(list(article_rowids))
        summaries = {i: ArticleSummary(np.frombuffer(centroid, dtype=np.float32), sentences, words)
                     for i, centroid, sentences, words in db.execute(
                         "SELECT id, centroid, sentences, words FROM articles "
                         "WHERE id IN (SELECT value FROM json_each(?))", (rowids,))}
        terms: dict[int, dict[str, ArticleTerm]] = {i: {} for i in summaries}
        for article, term, *counts in db.execute(
                "SELECT article, term, sentences, windows, occurrences FROM article_terms "
                "WHERE article IN (SELECT value FROM json_each(?)) AND term IN (SELECT value FROM json_each(?))",
                (rowids, json.dumps(sorted(set(stems))))):
            if article in terms:
                terms[article][term] = ArticleTerm(*counts)
        return summaries, terms

    def corpus_statistics(self, stems: Sequence[str]) -> CorpusStatistics:
        """The library's word counts for some stems, and its totals, in one read."""
        rows = self._db().execute(
            "SELECT NULL, sentences, sentence_row_words, articles, words FROM corpus UNION ALL "
            "SELECT term, sentences, windows, articles, NULL FROM terms "
            "WHERE term IN (SELECT value FROM json_each(?))", (json.dumps(sorted(set(stems))),)).fetchall()
        totals = next(row for row in rows if row[0] is None)
        holders = [row for row in rows if row[0] is not None]
        return CorpusStatistics(*totals[1:], {t: n for t, n, _, _, _ in holders},
                                {t: n for t, _, n, _, _ in holders}, {t: n for t, _, _, n, _ in holders})
