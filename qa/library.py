"""The library: one index folder (qa/index/folder.py) opened for questions and updates.

Updates are incremental and atomic, and one process at a time writes: a writer holds the folder's write lock for
the whole update and first reloads what other processes wrote. Readers reload between questions when another
process has replaced the manifest, never in the middle of one.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import threading
from collections.abc import Collection, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from embeddings.encoder import Encoder, encode_batches, load_encoder, provenance, sha256_of
from embeddings.quantize import as_stored
from embeddings.shards import ShardedVectorIndex
from qa.answer import Answer, Citation
from qa.index.folder import (
    MANIFEST,
    STORE,
    check_vector_maker,
    graph_paths,
    load_vectors,
    manifest_stamp,
    open_store,
    read_manifest,
    rebuild_hint,
    remove_leftovers,
    shard_count,
    write_lock,
    write_manifest,
)
from qa.index.store import ArticleListing, Store, StoredArticle
from qa.ingest.annotated import annotated
from qa.ingest.articles import MAX_FILE_BYTES, Article, read_articles
from qa.ingest.changes import ChangePlan, StoredRecord, plan_changes
from qa.ingest.entities import load_recognizer
from qa.ingest.fetch import is_url
from qa.ingest.near_duplicates import drop_near_copies
from qa.ingest.sentences import split_sentences
from qa.search.retrieval import RetrievalSettings, Retriever
from qa.search.scope import MAX_WITHIN, WHOLE_LIBRARY, SearchScope
from qa.text import words

logger = logging.getLogger(__name__)

# Sentences embedded, annotated and committed together in a build: a killed build keeps every batch before it,
# and memory holds one batch's vectors and annotations rather than the whole build's (a million sentences were
# 1.5 GB of vectors alone). 20,000 sentences take about a minute and a half here.
SYNC_BATCH_SENTENCES = 20_000


def sentence_batches(sentence_counts: Sequence[int], size: int) -> list[tuple[int, int]]:
    """[first, last) ranges of consecutive articles of about `size` sentences each (an article is never split;
    one longer than `size` is a batch of its own)."""
    batches, first, total = [], 0, 0
    for number, count in enumerate(sentence_counts):
        if total and total + count > size:
            batches.append((first, number))
            first, total = number, 0
        total += count
    if total or first < len(sentence_counts):
        batches.append((first, len(sentence_counts)))
    return batches


class Library:
    """A searchable collection of articles in one index folder. Thread-safe: one writer, many readers, across
    threads and processes."""

    def __init__(self, index_dir: Path, store: Store, vectors: ShardedVectorIndex, encoder: Encoder,
                 vectors_on_disk_stale: bool = False) -> None:
        self.index_dir = index_dir
        self.store = store
        self.encoder = encoder
        self._vectors = vectors
        self._lock = write_lock(index_dir)
        self._reload_guard = threading.Lock()
        self._stamp = manifest_stamp(index_dir)
        self._vectors_on_disk_stale = vectors_on_disk_stale  # saved by the next write, whatever it changes
        self._generation_loaded = self.generation  # the store generation the vectors in memory match
        # Whether a write waits for another process's update to finish (True) or fails at once with IndexBusy.
        self.wait_for_writer = True
        self.retriever = Retriever(store, encoder, lambda: self._vectors)
        # How search() and ask() rank when the caller names no settings; training swaps in a fold's models.
        self.settings = RetrievalSettings()

    @classmethod
    def build(cls, source: str | Path, index_dir: str | Path, encoder: Encoder | None = None,
              model: str | None = None, max_file_bytes: int = MAX_FILE_BYTES, shards: int | None = None
              ) -> Library:
        """Index a folder (or file, or URL) of articles: create the index, or update it with what changed.
        `shards`: how many vector shards a new index searches in parallel (embeddings/shards.py; default 1)."""
        return cls.build_with_changes(source, index_dir, encoder, model, max_file_bytes, shards=shards)[0]

    @classmethod
    def build_with_changes(cls, source: str | Path, index_dir: str | Path, encoder: Encoder | None = None,
                           model: str | None = None, max_file_bytes: int = MAX_FILE_BYTES, wait: bool = True,
                           shards: int | None = None) -> tuple[Library, ChangePlan]:
        """build(), also returning what changed. Two processes building one new index never both create it:
        the second waits for the lock (or fails, with `wait=False`) and then updates what the first made."""
        index_dir = Path(index_dir)
        articles = read_articles(source, max_file_bytes)
        with write_lock(index_dir).held(wait):
            library = cls.open(index_dir, encoder, model, shards) if (index_dir / MANIFEST).exists() else \
                cls.create(index_dir, encoder, model, shards or 1)
            library.wait_for_writer = wait
            # A fetched page or feed adds and updates; only a folder that was read in full can say what is gone.
            folder = None if is_url(source) else Path(source)
            return library, library.sync(articles, remove_missing_under=folder)

    @classmethod
    def rebuild(cls, source: str | Path, index_dir: str | Path, encoder: Encoder | None = None,
                model: str | None = None, max_file_bytes: int = MAX_FILE_BYTES, wait: bool = True,
                shards: int | None = None) -> Library:
        """Build a fresh index beside the old one and swap it in only once it is complete (under the old one's
        write lock, so no other writer updates it meanwhile)."""
        index_dir = Path(index_dir)
        fresh_dir = index_dir.with_name(index_dir.name + ".rebuilding")
        if shards is None:  # a rebuild keeps the index's shard count unless told otherwise
            try:
                shards = shard_count(read_manifest(index_dir))
            except (FileNotFoundError, ValueError):
                shards = None
        with write_lock(index_dir).held(wait):
            if fresh_dir.exists():
                shutil.rmtree(fresh_dir)
            cls.build(source, fresh_dir, encoder, model, max_file_bytes, shards).store.close()
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
    def create(cls, index_dir: str | Path, encoder: Encoder | None = None, model: str | None = None,
               shards: int = 1) -> Library:
        """Make a new, empty index folder (or, where only the manifest was lost, one around the store left)."""
        index_dir = Path(index_dir)
        with write_lock(index_dir).held():
            if (index_dir / MANIFEST).exists():
                raise FileExistsError(f"{index_dir} already holds an index")
            index_dir.mkdir(parents=True, exist_ok=True)
            encoder = encoder or load_encoder(model)
            store = Store(index_dir / STORE)
            ids, matrix = store.all_vectors(encoder.dim)
            if len(ids):
                logger.warning("%s had lost its manifest; its store's %d sentences are kept", index_dir, len(ids))
            if shards < 1:
                raise ValueError(f"shards must be 1 or more, got {shards}")
            library = cls(index_dir, store, ShardedVectorIndex.build(ids, matrix, encoder.dim, shards), encoder)
            library._save_vectors_and_manifest(library._vectors)
            return library

    @classmethod
    def open(cls, index_dir: str | Path, encoder: Encoder | None = None, model: str | None = None,
             shards: int | None = None) -> Library:
        """Open an index folder, checking it against the model (and `shards`, if given); raise with a rebuild
        hint if it is unusable."""
        index_dir = Path(index_dir)
        manifest = read_manifest(index_dir)
        if shards is not None and shards != shard_count(manifest):
            raise ValueError(f"{index_dir} has {shard_count(manifest)} vector shard(s), not {shards}: "
                             f"{rebuild_hint(index_dir)} --shards {shards}")
        wanted_model = encoder.name if encoder else model
        if wanted_model and wanted_model != manifest["model"]:
            raise ValueError(
                f"{index_dir} was built with model {manifest['model']!r}, not {wanted_model!r}: open it without "
                f"choosing a model, or {rebuild_hint(index_dir)} --model {wanted_model}"
            )
        # The model the index names is loaded from this machine only: the user did not ask for a download.
        encoder = encoder or load_encoder(manifest["model"], local_only=True)
        if encoder.dim != manifest["dim"]:
            raise ValueError(f"{index_dir} holds {manifest['dim']}-dimensional vectors but {encoder.name} makes "
                             f"{encoder.dim}: {rebuild_hint(index_dir)}")
        check_vector_maker(index_dir, manifest, encoder)
        store = open_store(index_dir, manifest)
        vectors, stale = load_vectors(index_dir, store, manifest)
        return cls(index_dir, store, vectors, encoder, vectors_on_disk_stale=stale)

    def reload_if_changed(self) -> None:
        """Take in what another process wrote: when the manifest was replaced, restore the vector index (its
        graph verified) if its generation is not the one in memory. One stat call when nothing changed."""
        stamp = manifest_stamp(self.index_dir)
        if stamp == self._stamp:
            return
        with self._reload_guard:
            if stamp == self._stamp:
                return
            try:
                manifest = read_manifest(self.index_dir)
            except (FileNotFoundError, ValueError) as error:
                logger.warning("Not reloading %s: %s", self.index_dir, error)
                return
            if manifest["generation"] != self._generation_loaded:
                self._vectors, self._vectors_on_disk_stale = load_vectors(self.index_dir, self.store, manifest)
                self._generation_loaded = manifest["generation"]
                logger.info("Reloaded %s at generation %d", self.index_dir, manifest["generation"])
            self._stamp = stamp

    def sync(self, articles: Sequence[Article], remove_missing_under: Path | None = None) -> ChangePlan:
        """Embed new or changed articles and, if `remove_missing_under` is the folder they were read from, drop
        the articles whose files are gone from it; return what changed (qa/ingest/changes.py)."""
        with self._lock.held(self.wait_for_writer):
            self._reload_under_lock()
            plan = plan_changes(articles, self._stored_records(), remove_missing_under)
            plan, signatures = drop_near_copies(plan, *self.store.minhashes())
            for note in plan.notes():
                logger.warning("%s", note)
            changed = list(plan.embedded)
            if not changed and not plan.removed:
                if self._vectors_on_disk_stale:
                    self._save_vectors_and_manifest(self._vectors)  # heal the file, though nothing changed
                return plan
            spans = [split_sentences(a.text) for a in changed]
            batches = sentence_batches([len(article_spans) for article_spans in spans], SYNC_BATCH_SENTENCES)
            logger.info("Embedding %d sentences from %d articles in %d batch(es)", sum(map(len, spans)),
                        len(changed), len(batches))
            updated = self._vectors.copy()  # readers search the copy in use until the end
            removed_ids: list[int] = []
            try:
                self._commit_batches(changed, spans, batches, plan, signatures, updated, removed_ids)
            except BaseException:
                # The batches committed before the failure are in the store and in `updated`: search them from
                # now on, and write the manifest (and graph) at the next change: they are older than the store.
                updated.remove(removed_ids)
                self._vectors, self._vectors_on_disk_stale = updated, True
                raise
            # Removed once, after every batch: HNSW retires removed vectors, and rebuilds its graph once a tenth
            # of it is retired (embeddings/index.py); one removal at the end rebuilds it at most once.
            updated.remove(removed_ids)
            # The manifest and graph are written once, at the end: the graph is rebuilt from the store if a build
            # dies between batches (qa/index/folder.py load_vectors), instead of being rewritten after every batch.
            self.store.checkpoint()
            self._save_vectors_and_manifest(updated)
            self._vectors = updated
            return plan

    def _commit_batches(self, changed: Sequence[Article], spans: Sequence[Sequence], batches: list[tuple[int, int]],
                        plan: ChangePlan, signatures: dict, updated: ShardedVectorIndex, removed_ids: list[int]
                        ) -> None:
        """Embed, annotate and commit each batch; once it is committed, add its vectors to `updated` and the ids
        of the sentences it deleted to `removed_ids` (new ids never reuse them: the store's AUTOINCREMENT)."""
        removing = [*plan.removed]
        replaced = {a.article_id for a in plan.updated}
        texts = [[a.text[s.start:s.end] for a, article_spans in zip(changed[first:last], spans[first:last],
                                                                      strict=True) for s in article_spans]
                 for first, last in batches]
        embedded = encode_batches(self.encoder, texts)
        for number, (first, last) in enumerate(batches or [(0, 0)], start=1):
            batch, batch_spans = changed[first:last], spans[first:last]
            vectors, annotations = self._embed_and_annotate(batch, batch_spans, embedded)
            # One transaction a batch: a build killed at any moment keeps every batch committed before it,
            # and an updated article's old version goes in the batch that adds its new one.
            with self.store.transaction() as db:
                deleted = self.store.delete_articles(
                    db, [*removing, *(a.article_id for a in batch if a.article_id in replaced)])
                added_ids, offset = [], 0
                for article, article_spans, article_annotations in zip(batch, batch_spans, annotations,
                                                                       strict=True):
                    chunk = vectors[offset:offset + len(article_spans)]
                    added_ids += self.store.add_article(db, annotated(
                        article, article_spans, article_annotations, signatures[article.article_id]), chunk)
                    offset += len(article_spans)
                self.store.set_setting(db, "generation", str(self.generation + 1))
            removing = []
            removed_ids += deleted
            updated.add(list(added_ids), vectors)
            if len(batches) > 1:
                logger.info("Committed batch %d of %d (%d sentences)", number, len(batches), len(vectors))

    def _embed_and_annotate(self, articles: Sequence[Article], spans: Sequence[Sequence],
                            embedded: Iterator[np.ndarray]) -> tuple[np.ndarray, list]:
        """The sentences' vectors (the next of `embedded`) and the articles' named entities. spaCy reads the
        articles on another thread while the encoder embeds them: both release the GIL for most of their work, so
        a build takes about the longer of the two, not their sum (benchmarks/build.py). Loading spaCy takes
        seconds: not for an update that only removes articles."""
        if not articles:
            return np.zeros((0, self.encoder.dim), dtype=np.float32), []
        with ThreadPoolExecutor(1, thread_name_prefix="entities") as pool:
            annotating = pool.submit(lambda: load_recognizer().annotate(
                [a.text for a in articles], [[(s.start, s.end) for s in article_spans] for article_spans in spans]))
            # As the store will give them back (8 bits, embeddings/quantize.py): this process's vector index then
            # searches the vectors that a process opening the index later restores.
            vectors = as_stored(next(embedded))
            return vectors, annotating.result()

    def add_articles(self, articles: Sequence[Article]) -> ChangePlan:
        """Add or update articles (an upload), keeping all others; return what changed."""
        return self.sync(articles)

    def articles(self) -> list[ArticleListing]:
        """Every indexed article: id, title, date, source, URL, where it came from, its sentence count."""
        return self.store.articles()

    def remove(self, article_ids: Collection[str]) -> int:
        """Remove articles by id; ValueError naming any id that is not indexed (nothing is removed then)."""
        with self._lock.held(self.wait_for_writer):
            self._reload_under_lock()
            unknown = sorted(set(article_ids) - set(self.store.article_hashes()))
            if unknown:
                raise ValueError(f"not in the index: {', '.join(unknown)} (qa list shows the ids)")
            with self.store.transaction() as db:
                removed_ids = self.store.delete_articles(db, sorted(set(article_ids)))
                self.store.set_setting(db, "generation", str(self.generation + 1))
            self._swap_vectors(removed_ids, [], np.zeros((0, self.encoder.dim), dtype=np.float32))
        return len(set(article_ids))

    def _reload_under_lock(self) -> None:
        """A writer's first step: take in other processes' updates, and clear what killed writers left."""
        self.reload_if_changed()
        remove_leftovers(self.index_dir)

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

    @property
    def generation(self) -> int:
        return int(self.store.get_setting("generation") or 0)

    def _save_vectors_and_manifest(self, vectors: ShardedVectorIndex) -> None:
        graphs = graph_paths(self.index_dir, vectors.shards)
        has_graph = vectors.save(graphs)
        article_count, sentence_count = self.store.counts()
        generation = self.generation
        write_manifest(self.index_dir, {
            "model": self.encoder.name, "dim": self.encoder.dim, "articles": article_count,
            "sentences": sentence_count, "generation": generation,
            "vector_index": vectors.kind, "encoder": provenance(self.encoder),
            "shards": vectors.shards,
            "graph_sha256": [sha256_of(path) if has else None for path, has in zip(graphs, has_graph, strict=True)]})
        self._stamp = manifest_stamp(self.index_dir)
        self._generation_loaded = generation
        self._vectors_on_disk_stale = False

    def counts(self) -> tuple[int, int]:
        """Return (articles, sentences)."""
        return self.store.counts()

    def search(self, question: str, top_k: int = 10, settings: RetrievalSettings | None = None) -> list[Citation]:
        """Rank cited sentences for a question, best first, without deciding whether they answer it."""
        self.reload_if_changed()
        return self.retriever.citations(question, top_k, settings or self.settings)

    def ask(self, question: str, top_k: int = 3, settings: RetrievalSettings | None = None,
            scope: SearchScope = WHOLE_LIBRARY, within: Collection[str] = ()) -> Answer:
        """Answer a question with cited sentences, or say the articles do not hold the answer. `within`: answer
        only from these articles (ids, at most MAX_WITHIN); ValueError naming any that is not in the library. A
        chat passes a follow-up's scope: the query it was rewritten into, the articles it stays in, the sentences
        it has given."""
        self.reload_if_changed()
        if within:
            scope = dataclasses.replace(scope, within=self.checked_within(within))
        return self.retriever.answer(question, top_k, settings or self.settings, self.not_found_threshold, scope)

    def checked_within(self, within: Collection[str]) -> tuple[str, ...]:
        """The article ids to ask within, in order and once each; ValueError saying what is wrong with them."""
        if isinstance(within, str | bytes) or not all(isinstance(i, str) for i in within):
            raise ValueError("within must be a list of article ids (see qa list)")
        wanted = tuple(dict.fromkeys(within))
        if len(wanted) > MAX_WITHIN:
            raise ValueError(f"ask within at most {MAX_WITHIN} articles at a time ({len(wanted)} given); "
                             "leave the choice empty to ask the whole library")
        known = self.store.known_articles(wanted)
        unknown = [i for i in wanted if i not in known]
        if unknown:
            raise ValueError(f"not in the library: {', '.join(unknown[:5])}{'…' if len(unknown) > 5 else ''} "
                             "(see qa list)")
        return wanted

    def read_on(self, question: str, previous: Answer, skip: Collection[tuple[str, int]] = ()) -> Answer:
        """"What else did he say?": the sentence after the previous answer's that was not given yet."""
        self.reload_if_changed()
        return self.retriever.continue_after(question, previous, skip)

    def article(self, article_id: str) -> StoredArticle | None:
        """One article with its full text, or None if it is not (any longer) in the library."""
        return self.store.article(article_id)

    def articles_holding(self, phrase: str, at_most: int) -> frozenset[str] | None:
        """The ids of the articles whose sentences hold a phrase (folded words, in order); None when more than
        `at_most` sentences do (too common a phrase to pick out articles)."""
        terms = words(phrase)
        if not terms:
            return frozenset()
        hits = self.store.lexical_search(f'"{" ".join(terms)}"', at_most + 1)
        if len(hits) > at_most:
            return None
        return frozenset(row.article_id for row in self.store.sentences(hits).values())

    def vector_ids_match_the_store(self) -> bool:
        """True when the vector index in memory holds exactly the store's sentence ids (no missing, no dangling)."""
        return bool(np.array_equal(self._vectors.ids(), self.store.sentence_ids()))

    def close(self) -> None:
        """Close this thread's connection to the store."""
        self.store.close()

    @property
    def not_found_threshold(self) -> float | None:
        value = self.store.get_setting("not_found_threshold")
        return float(value) if value is not None else None

    def save_not_found_threshold(self, threshold: float) -> None:
        """Store the confidence below which ask() answers "not found" (chosen by qa eval)."""
        with self._lock.held(self.wait_for_writer), self.store.transaction() as db:
            self.store.set_setting(db, "not_found_threshold", repr(float(threshold)))
