"""The index folder: SQLite store + FAISS vectors + manifest, updated incrementally and saved atomically."""

from __future__ import annotations

import fcntl
import json
import logging
import shutil
import sqlite3
import threading
from collections.abc import Collection, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from embeddings.atomic import write_text_atomically
from embeddings.encoder import Encoder, load_encoder, provenance
from embeddings.index import VectorIndex
from qa.answer import Answer, Citation
from qa.articles import MAX_FILE_BYTES, Article, read_articles
from qa.entities import load_recognizer
from qa.ingest.changes import ChangePlan, StoredRecord, plan_changes
from qa.ingest.fetch import is_url
from qa.ingest.near_duplicates import drop_near_copies
from qa.retrieval import RetrievalSettings, Retriever
from qa.sentences import split_sentences
from qa.store import ArticleListing, Store

logger = logging.getLogger(__name__)

# 2: sentence subjects and article centroids; 3: named entities and verb counts; 4: word counts; 5: article source,
# absolute file paths
FORMAT_VERSION = 5
MANIFEST, STORE, VECTORS, LOCK = "manifest.json", "store.sqlite", "vectors.faiss", ".lock"


def _rebuild_hint(index_dir: Path) -> str:
    return f"rebuild it with: qa index YOUR_ARTICLES_FOLDER --index {index_dir} --rebuild"


class Library:
    """A searchable collection of articles in one index folder. Thread-safe: one writer, many readers."""

    def __init__(self, index_dir: Path, store: Store, vectors: VectorIndex, encoder: Encoder) -> None:
        self.index_dir = index_dir
        self.store = store
        self.encoder = encoder
        self._vectors = vectors
        self._write_lock = threading.Lock()
        self.retriever = Retriever(store, encoder, lambda: self._vectors)
        # How search() and ask() rank when the caller names no settings; training swaps in a fold's models.
        self.settings = RetrievalSettings()

    @classmethod
    def build(cls, source: str | Path, index_dir: str | Path, encoder: Encoder | None = None,
              model: str | None = None, max_file_bytes: int = MAX_FILE_BYTES) -> Library:
        """Index a folder (or file) of articles: create the index, or update it with only what changed."""
        return cls.build_with_changes(source, index_dir, encoder, model, max_file_bytes)[0]

    @classmethod
    def build_with_changes(cls, source: str | Path, index_dir: str | Path, encoder: Encoder | None = None,
                           model: str | None = None, max_file_bytes: int = MAX_FILE_BYTES
                           ) -> tuple[Library, ChangePlan]:
        """build(), also returning what changed."""
        index_dir = Path(index_dir)
        articles = read_articles(source, max_file_bytes)
        library = cls.open(index_dir, encoder, model) if (index_dir / MANIFEST).exists() else \
            cls.create(index_dir, encoder, model)
        # A fetched page or feed adds and updates; only a folder that was read in full can say what is gone.
        folder = None if is_url(source) else Path(source)
        return library, library.sync(articles, remove_missing_under=folder)

    @classmethod
    def rebuild(cls, source: str | Path, index_dir: str | Path, encoder: Encoder | None = None,
                model: str | None = None, max_file_bytes: int = MAX_FILE_BYTES) -> Library:
        """Build a fresh index beside the old one and swap it in only once it is complete."""
        index_dir = Path(index_dir)
        fresh_dir = index_dir.with_name(index_dir.name + ".rebuilding")
        shutil.rmtree(fresh_dir, ignore_errors=True)
        cls.build(source, fresh_dir, encoder, model, max_file_bytes).store.close()
        if index_dir.exists():
            old_dir = index_dir.with_name(index_dir.name + ".old")
            shutil.rmtree(old_dir, ignore_errors=True)
            index_dir.rename(old_dir)
            fresh_dir.rename(index_dir)
            shutil.rmtree(old_dir)
        else:
            fresh_dir.rename(index_dir)
        return cls.open(index_dir, encoder, model)

    @classmethod
    def create(cls, index_dir: str | Path, encoder: Encoder | None = None, model: str | None = None) -> Library:
        """Make a new, empty index folder."""
        index_dir = Path(index_dir)
        if (index_dir / MANIFEST).exists():
            raise FileExistsError(f"{index_dir} already holds an index")
        index_dir.mkdir(parents=True, exist_ok=True)
        encoder = encoder or load_encoder(model)
        library = cls(index_dir, Store(index_dir / STORE), VectorIndex(encoder.dim), encoder)
        library._save_vectors_and_manifest(library._vectors)
        return library

    @classmethod
    def open(cls, index_dir: str | Path, encoder: Encoder | None = None, model: str | None = None) -> Library:
        """Open an index folder, checking it against the model; raise with a rebuild hint if it is unusable."""
        index_dir = Path(index_dir)
        manifest = read_manifest(index_dir)
        wanted_model = encoder.name if encoder else model
        if wanted_model and wanted_model != manifest["model"]:
            raise ValueError(
                f"{index_dir} was built with model {manifest['model']!r}, not {wanted_model!r}: open it without "
                f"choosing a model, or {_rebuild_hint(index_dir)} --model {wanted_model}"
            )
        encoder = encoder or load_encoder(manifest["model"])
        if encoder.dim != manifest["dim"]:
            raise ValueError(f"{index_dir} holds {manifest['dim']}-dimensional vectors but {encoder.name} makes "
                             f"{encoder.dim}: {_rebuild_hint(index_dir)}")
        _check_vector_maker(index_dir, manifest, encoder)
        store = _open_store(index_dir)
        return cls(index_dir, store, _load_vectors(index_dir, store, manifest), encoder)

    def sync(self, articles: Sequence[Article], remove_missing_under: Path | None = None) -> ChangePlan:
        """Embed new or changed articles and, if `remove_missing_under` is the folder they were read from, drop
        the articles whose files are gone from it; return what changed (qa/ingest/changes.py)."""
        plan = plan_changes(articles, self._stored_records(), remove_missing_under)
        plan, signatures = drop_near_copies(plan, *self.store.minhashes())
        for note in plan.notes():
            logger.warning("%s", note)
        changed = list(plan.embedded)
        if not changed and not plan.removed:
            return plan
        spans = [split_sentences(a.text) for a in changed]
        texts = [a.text[s.start:s.end] for a, article_spans in zip(changed, spans, strict=True) for s in article_spans]
        logger.info("Embedding %d sentences from %d articles", len(texts), len(changed))
        # spaCy reads the articles on another thread while the encoder embeds them: both release the GIL for most
        # of their work, so a build takes about the longer of the two, not their sum (benchmarks/build.py).
        # Loading spaCy takes seconds: not for an update that only removes articles.
        with ThreadPoolExecutor(1, thread_name_prefix="entities") as pool:
            annotating = pool.submit(lambda: load_recognizer().annotate(
                [a.text for a in changed], [[(s.start, s.end) for s in article_spans] for article_spans in spans]
            )) if changed else None
            vectors = self.encoder.encode(texts)
            annotations = annotating.result() if annotating is not None else []
        with self._writing():
            with self.store.transaction() as db:
                removed_ids = self.store.delete_articles(
                    db, [*plan.removed, *(a.article_id for a in plan.updated)])
                added_ids, offset = [], 0
                for article, article_spans, article_annotations in zip(changed, spans, annotations, strict=True):
                    chunk = vectors[offset:offset + len(article_spans)]
                    added_ids += self.store.add_article(db, article, article_spans, chunk, article_annotations,
                                                        signatures[article.article_id])
                    offset += len(article_spans)
                self.store.set_setting(db, "generation", str(self.generation + 1))
            self._swap_vectors(removed_ids, added_ids, vectors)
        return plan

    def add_articles(self, articles: Sequence[Article]) -> ChangePlan:
        """Add or update articles (an upload), keeping all others; return what changed."""
        return self.sync(articles)

    def articles(self) -> list[ArticleListing]:
        """Every indexed article: id, title, date, source, URL, where it came from, its sentence count."""
        return self.store.articles()

    def remove(self, article_ids: Collection[str]) -> int:
        """Remove articles by id; ValueError naming any id that is not indexed (nothing is removed then)."""
        stored = self._stored_records()
        unknown = sorted(set(article_ids) - set(stored))
        if unknown:
            raise ValueError(f"not in the index: {', '.join(unknown)} (qa list shows the ids)")
        with self._writing():
            with self.store.transaction() as db:
                removed_ids = self.store.delete_articles(db, sorted(set(article_ids)))
                self.store.set_setting(db, "generation", str(self.generation + 1))
            self._swap_vectors(removed_ids, [], np.zeros((0, self.encoder.dim), dtype=np.float32))
        return len(set(article_ids))

    def _stored_records(self) -> dict[str, StoredRecord]:
        return {article_id: StoredRecord(content_hash, path)
                for article_id, (content_hash, path) in self.store.article_hashes().items()}

    def _swap_vectors(self, removed_ids: Sequence[int], added_ids: Sequence[int], vectors: np.ndarray) -> None:
        """After a store commit (under the write lock): save the updated vector index and manifest, then swap it in;
        readers keep searching the old copy until then."""
        self.store.checkpoint()
        updated = self._vectors.copy()
        updated.remove(list(removed_ids))
        updated.add(list(added_ids), vectors)
        self._save_vectors_and_manifest(updated)
        self._vectors = updated

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One writer per index, across threads and processes."""
        with self._write_lock, (self.index_dir / LOCK).open("w") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            yield

    @property
    def generation(self) -> int:
        return int(self.store.get_setting("generation") or 0)

    def _save_vectors_and_manifest(self, vectors: VectorIndex) -> None:
        vectors.save(self.index_dir / VECTORS)
        article_count, sentence_count = self.store.counts()
        manifest = {
            "format_version": FORMAT_VERSION, "model": self.encoder.name, "dim": self.encoder.dim,
            "articles": article_count, "sentences": sentence_count, "generation": self.generation,
            "vector_index": "hnsw" if vectors.approximate else "flat", "encoder": provenance(self.encoder),
        }
        write_text_atomically(self.index_dir / MANIFEST, json.dumps(manifest, indent=2) + "\n")

    def counts(self) -> tuple[int, int]:
        """Return (articles, sentences)."""
        return self.store.counts()

    def search(self, question: str, top_k: int = 10, settings: RetrievalSettings | None = None) -> list[Citation]:
        """Rank cited sentences for a question, best first, without deciding whether they answer it."""
        return self.retriever.citations(question, top_k, settings or self.settings)

    def ask(self, question: str, top_k: int = 3, settings: RetrievalSettings | None = None,
            searched_for: str = "", prefer_article_ids: Collection[str] = (),
            skip: Collection[tuple[str, int]] = ()) -> Answer:
        """Answer a question with cited sentences, or say the articles do not hold the answer.

        A chat passes a follow-up's rewritten query as `searched_for`, the articles it stays in, and the
        sentences, as (article_id, start), that it already gave and wants left out ("What else...?").
        """
        return self.retriever.answer(question, top_k, settings or self.settings, self.not_found_threshold,
                                     searched_for, prefer_article_ids, skip)

    @property
    def not_found_threshold(self) -> float | None:
        value = self.store.get_setting("not_found_threshold")
        return float(value) if value is not None else None

    def save_not_found_threshold(self, threshold: float) -> None:
        """Store the confidence below which ask() answers "not found" (chosen by qa eval)."""
        with self._writing(), self.store.transaction() as db:
            self.store.set_setting(db, "not_found_threshold", repr(float(threshold)))


def read_manifest(index_dir: Path) -> dict:
    """Read and check the manifest; raise FileNotFoundError or ValueError with the fix."""
    path = index_dir / MANIFEST
    if not path.exists():
        raise FileNotFoundError(f"No index at {index_dir}: build it with: qa index YOUR_ARTICLES_FOLDER "
                                f"--index {index_dir}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if manifest["format_version"] != FORMAT_VERSION:
            raise ValueError(f"format version {manifest['format_version']}, this program reads {FORMAT_VERSION}")
        manifest["model"], manifest["dim"] = str(manifest["model"]), int(manifest["dim"])
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{path} is damaged or unsupported ({error}): {_rebuild_hint(index_dir)}") from error
    return manifest


def _check_vector_maker(index_dir: Path, manifest: dict, encoder: Encoder) -> None:
    """Refuse an encoder whose vectors differ from those the index holds: another precision (int8 and fp32 are
    at cosine 0.96 on average), or other pinned weights. ONNX Runtime and torch at fp32 make the same vectors
    (cosine >= 0.9999, tests/test_onnx_encoder.py), so either may read the other's index."""
    made_by = manifest.get("encoder") or {"backend": "onnx", "precision": "fp32", "file_sha256": None}
    if made_by["precision"] != encoder.precision:
        backend = "onnx-int8" if made_by["precision"] == "int8" else "onnx"
        raise ValueError(f"{index_dir} holds {made_by['precision']} vectors ({made_by['backend']}) but this encoder "
                         f"makes {encoder.precision} ({encoder.backend}): set QA_ENCODER_BACKEND={backend}, or "
                         f"{_rebuild_hint(index_dir)}")
    if made_by["backend"] == encoder.backend and None not in (made_by["file_sha256"], encoder.file_sha256) \
            and made_by["file_sha256"] != encoder.file_sha256:
        raise ValueError(f"{index_dir} was embedded by {encoder.backend} file sha256 {made_by['file_sha256']}, this "
                         f"one is {encoder.file_sha256}: {_rebuild_hint(index_dir)}")


def _open_store(index_dir: Path) -> Store:
    path = index_dir / STORE
    if not path.exists():
        raise ValueError(f"{path} is missing: {_rebuild_hint(index_dir)}")
    try:
        store = Store(path)
        store.check()
    except sqlite3.DatabaseError as error:
        raise ValueError(f"{path} is damaged ({error}): {_rebuild_hint(index_dir)}") from error
    return store


def _load_vectors(index_dir: Path, store: Store, manifest: dict) -> VectorIndex:
    """Load the FAISS file, or rebuild it in memory from the store if it is damaged or stale."""
    generation = int(store.get_setting("generation") or 0)
    try:
        vectors = VectorIndex.load(index_dir / VECTORS, manifest["dim"])
        if manifest.get("generation") == generation and len(vectors) == store.counts()[1]:
            return vectors
        problem = "older than the store (an update was interrupted)"
    except ValueError as error:
        problem = str(error)
    logger.warning("Vector index %s: %s; rebuilding it from the store", index_dir / VECTORS, problem)
    ids, matrix = store.all_vectors(manifest["dim"])
    return VectorIndex.build(ids, matrix, manifest["dim"]) if len(ids) else VectorIndex(manifest["dim"])

