"""The files of an index folder and the rules that keep them consistent across processes.

- `manifest.json`: format, model, encoder, counts, the store generation the vector index matches, and the sha256
  of `graph.faiss`, verified on every load (a flipped byte is found, and the graph rebuilt from the store);
- `store.sqlite`: the source of truth (qa/index/store.py), the sentence vectors included, checked with SQLite's
  quick_check and against the manifest;
- `graph.faiss`: only for an approximate (HNSW) index: its graph, without the vectors, which are restored from
  the store on load (embeddings/index.py); rebuildable from the store at any time. An exact index is made from
  the store on load and has no file;
- a write lock beside the folder (`.NAME.lock`: it must outlive the folder's renames during a rebuild), held by
  a writer for the whole update, the graph file included. filelock provides it: a maintained cross-platform
  lock whose waits can time out, so a second writer can fail fast or wait and say so.
"""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from embeddings.atomic import write_text_atomically
from embeddings.encoder import Encoder, sha256_of
from embeddings.index import VectorIndex
from embeddings.shards import ShardedVectorIndex
from qa.index.store import Store

logger = logging.getLogger(__name__)

# 2: sentence subjects and article centroids; 3: named entities and verb counts; 4: word counts; 5: article source,
# MinHash and absolute file paths, the vector file's sha256; 6: sentence vectors stored as float16; 7: vectors on
# disk once (the store's; graph.faiss holds only an HNSW graph), contentless full-text table; 8: sentence vectors
# stored in 8 bits with a scale each
FORMAT_VERSION = 8
MANIFEST, STORE, GRAPH = "manifest.json", "store.sqlite", "graph.faiss"


class IndexBusy(RuntimeError):
    """Another process is updating the index, and the caller chose not to wait."""


def rebuild_hint(index_dir: Path) -> str:
    return f"rebuild it with: qa index YOUR_ARTICLES_FOLDER --index {index_dir} --rebuild"


class WriteLock:
    """One writer per index folder across processes (a file lock) and threads (a re-entrant lock)."""

    def __init__(self, index_dir: Path) -> None:
        from filelock import FileLock

        self.index_dir = index_dir
        self._file = FileLock(str(index_dir.parent / f".{index_dir.name}.lock"))
        self._threads = threading.RLock()

    @contextmanager
    def held(self, wait: bool = True) -> Iterator[None]:
        """Hold the lock; if another process holds it, wait (saying so) or raise IndexBusy."""
        from filelock import Timeout

        with self._threads:
            try:
                self._file.acquire(timeout=0)
            except Timeout:
                if not wait:
                    raise IndexBusy(f"{self.index_dir} is being updated by another process: try again when it "
                                    "is done, or pass --wait to wait for it") from None
                logger.warning("Waiting for another process to finish updating %s", self.index_dir)
                self._file.acquire()
            try:
                yield
            finally:
                self._file.release()


_locks: dict[Path, WriteLock] = {}
_locks_guard = threading.Lock()


def write_lock(index_dir: Path) -> WriteLock:
    """The process's one WriteLock for a folder: two lock files open on one folder would block each other."""
    key = index_dir.resolve()
    key.parent.mkdir(parents=True, exist_ok=True)
    with _locks_guard:
        return _locks.setdefault(key, WriteLock(key))


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
        manifest["generation"], manifest["articles"] = int(manifest["generation"]), int(manifest["articles"])
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{path} is damaged or unsupported ({error}): {rebuild_hint(index_dir)}") from error
    return manifest


def manifest_stamp(index_dir: Path) -> tuple[int, int, int] | None:
    """What changes whenever a writer replaces the manifest (it is renamed into place): a reader compares it
    before each question to see whether to reload. One stat call."""
    try:
        status = (index_dir / MANIFEST).stat()
    except FileNotFoundError:
        return None
    return status.st_ino, status.st_mtime_ns, status.st_size


def write_manifest(index_dir: Path, fields: dict) -> None:
    write_text_atomically(index_dir / MANIFEST, json.dumps({"format_version": FORMAT_VERSION, **fields}, indent=2)
                          + "\n")


def check_vector_maker(index_dir: Path, manifest: dict, encoder: Encoder) -> None:
    """Refuse an encoder whose vectors differ from those the index holds: another precision (int8 and fp32 are
    at cosine 0.96 on average), or other pinned weights. ONNX Runtime and torch at fp32 make the same vectors
    (cosine >= 0.9999, tests/test_onnx_encoder.py), so either may read the other's index."""
    made_by = manifest.get("encoder") or {"backend": "onnx", "precision": "fp32", "file_sha256": None}
    if made_by["precision"] != encoder.precision:
        backend = "onnx-int8" if made_by["precision"] == "int8" else "onnx"
        raise ValueError(f"{index_dir} holds {made_by['precision']} vectors ({made_by['backend']}) but this encoder "
                         f"makes {encoder.precision} ({encoder.backend}): set QA_ENCODER_BACKEND={backend}, or "
                         f"{rebuild_hint(index_dir)}")
    if made_by["backend"] == encoder.backend and None not in (made_by["file_sha256"], encoder.file_sha256) \
            and made_by["file_sha256"] != encoder.file_sha256:
        raise ValueError(f"{index_dir} was embedded by {encoder.backend} file sha256 {made_by['file_sha256']}, this "
                         f"one is {encoder.file_sha256}: {rebuild_hint(index_dir)}")


def open_store(index_dir: Path, manifest: dict) -> Store:
    """Open the store; ValueError with the rebuild command if it is missing, empty, damaged, or holds fewer
    articles than the manifest says (a store replaced by an empty file would otherwise open as an empty index)."""
    path = index_dir / STORE
    if not path.exists() or path.stat().st_size == 0:
        raise ValueError(f"{path} is {'missing' if not path.exists() else 'empty (0 bytes)'}: "
                         f"{rebuild_hint(index_dir)}")
    try:
        store = Store(path)
        store.check()
        articles = store.counts()[0]
    except sqlite3.DatabaseError as error:
        raise ValueError(f"{path} is damaged ({error}): {rebuild_hint(index_dir)}") from error
    if articles == 0 and manifest["articles"] > 0:
        raise ValueError(f"{path} holds no articles but the manifest lists {manifest['articles']}: "
                         f"{rebuild_hint(index_dir)}")
    return store


def graph_paths(index_dir: Path, shards: int) -> list[Path]:
    """Where each vector shard's HNSW graph is kept: graph.faiss for one shard, graph-K.faiss for more."""
    return [index_dir / GRAPH] if shards == 1 else [index_dir / f"graph-{k}.faiss" for k in range(shards)]


def shard_count(manifest: dict) -> int:
    return int(manifest.get("shards", 1))


def graph_checksums(manifest: dict) -> list[str | None]:
    """Each shard's graph sha256, None for an exact shard."""
    return list(manifest.get("graph_sha256") or [None] * shard_count(manifest))


def load_vectors(index_dir: Path, store: Store, manifest: dict) -> tuple[ShardedVectorIndex, bool]:
    """The vector index, and whether the files on disk are behind: a shard's graph damaged, changed since it was
    written (its sha256 differs from the manifest's) or older than the store, or the manifest older than the
    store (a killed build); a graph older than the store catches up with it in memory (VectorIndex.restore's
    catch_up), a damaged one is rebuilt from the store's vectors, and the next write saves the files. An exact
    shard is always made from the store (no file). The store is read in one snapshot, so a writer committing
    meanwhile cannot pair ids with another batch's vectors."""
    shards, dim = shard_count(manifest), manifest["dim"]
    with store.snapshot():
        generation = int(store.get_setting("generation") or 0)
        stale = manifest["generation"] != generation
        parts = [_load_shard(path, checksum, store, (number, shards), dim, stale)
                 for number, (path, checksum) in enumerate(zip(graph_paths(index_dir, shards),
                                                               graph_checksums(manifest), strict=True))]
    return ShardedVectorIndex([part for part, _ in parts]), stale or any(rebuilt for _, rebuilt in parts)


def _load_shard(path: Path, checksum: str | None, store: Store, shard: tuple[int, int], dim: int,
                store_is_newer: bool) -> tuple[VectorIndex, bool]:
    """One shard's index, and whether its graph had to be rebuilt."""
    ids = store.sentence_ids(shard)
    if not checksum:
        return VectorIndex.restore(ids, store.vector_chunks(dim, shard=shard), dim), False
    try:
        with path.open("rb") as graph:  # hashed and read through one open file: a graph renamed in meanwhile
            if sha256_of(graph) != checksum:  # by a writer is neither checked nor loaded
                raise ValueError("its sha256 differs from the manifest's (the file was changed or damaged)")
            graph.seek(0)
            # Older than the store (a build interrupted, or still running, past a committed batch): the graph
            # takes in the sentences added since and retires the removed ones, rather than being built again
            # (minutes at a million); the next write saves it.
            return VectorIndex.restore(ids, store.vector_chunks(dim, shard=shard), dim, graph=graph,
                                       catch_up=store_is_newer), store_is_newer
    except (ValueError, OSError) as error:
        problem = str(error)
    logger.warning("Vector graph %s: %s; rebuilding it from the store", path, problem)
    return VectorIndex.build(*store.all_vectors(dim, shard), dim), True


def files_agree(index_dir: Path) -> bool:
    """The folder's files agree: each shard's graph file, if any, is the one the manifest recorded (sha256) and
    restores over exactly the store's sentences of that shard, and the manifest's sentence count and generation
    are the store's. What a finished writer leaves."""
    manifest = read_manifest(index_dir)
    shards, dim = shard_count(manifest), manifest["dim"]
    checksums = graph_checksums(manifest)
    store = Store(index_dir / STORE)
    try:
        if manifest["sentences"] != store.counts()[1] or \
                int(store.get_setting("generation") or 0) != manifest["generation"]:
            return False
        for number, (path, checksum) in enumerate(zip(graph_paths(index_dir, shards), checksums, strict=True)):
            if not checksum:
                if path.exists():
                    return False
                continue
            with store.snapshot():
                ids = store.sentence_ids((number, shards))
                graph = VectorIndex.restore(ids, store.vector_chunks(dim, shard=(number, shards)), dim, graph=path)
            if checksum != sha256_of(path) or not np.array_equal(graph.ids(), ids):
                return False
    except (ValueError, OSError):
        return False
    finally:
        store.close()
    return True


def remove_leftovers(index_dir: Path) -> None:
    """Delete what killed writers left: temporary files in the folder and an unfinished rebuild beside it. Only
    under the write lock, when no other writer can be making them."""
    for leftover in index_dir.glob(".*.tmp"):
        leftover.unlink(missing_ok=True)
        logger.info("Removed %s, left by an interrupted update", leftover)
    rebuilding = index_dir.with_name(index_dir.name + ".rebuilding")
    if rebuilding.is_dir():
        shutil.rmtree(rebuilding, ignore_errors=True)
        logger.info("Removed %s, left by an interrupted rebuild", rebuilding)
