"""Sentence vectors computed once for the scale benchmarks, so a 1,000,000-sentence index can be rebuilt (after a
format change, say) without another hour of embedding on 2 cores.

The cache maps a sentence's text to the vector the shipped encoder gave it. `CachedEncoder` wraps the real
encoder: texts in the cache are looked up, any other text is embedded by the real encoder (and counted). The cache
keeps float16 and the store 8 bits with a scale each (embeddings/quantize.py), so a build from the cache stores
nearly, not exactly, the bytes a plain build would: float16's rounding moves most scales (by up to 5e-4 of
themselves) and puts most vectors one step off in a component or more. Build
throughput is measured on plain builds (benchmarks/scale.py at 100k and 300k, benchmarks/ray_build.py); a build
that used the cache says so in its stats.

    .venv/bin/python -m benchmarks.vector_cache --sentences 1000000 --seed-from .qa/scale/library-300000.idx
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import sqlite3
import time
from pathlib import Path

import numpy as np

from embeddings.encoder import Encoder
from embeddings.quantize import dim_of, from_int8

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".qa" / "scale" / "vector-cache"
PART_SENTENCES = 50_000  # one file per part: an interrupted run keeps the parts it finished

logger = logging.getLogger(__name__)


def key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


class VectorCache:
    """text -> float16 vector, from the part files under `folder`."""

    def __init__(self, folder: Path = CACHE) -> None:
        self.folder = folder
        self._rows: dict[bytes, int] = {}
        parts = [np.load(path) for path in sorted(folder.glob("part-*.npz"))] if folder.exists() else []
        self._vectors = np.concatenate([p["vectors"] for p in parts]) if parts else np.zeros((0, 0), np.float16)
        for row, digest in enumerate(k for p in parts for k in p["keys"]):
            self._rows[bytes(digest)] = row

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def vectors(self) -> np.ndarray:
        """Every cached vector (float16), in the order they were cached."""
        return self._vectors

    def __contains__(self, text: str) -> bool:
        return key(text) in self._rows

    def get(self, text: str) -> np.ndarray | None:
        row = self._rows.get(key(text))
        return None if row is None else self._vectors[row]

    def write_part(self, texts: list[str], vectors: np.ndarray) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        number = len(list(self.folder.glob("part-*.npz")))
        keys = np.frombuffer(b"".join(key(t) for t in texts), dtype="V16")
        tmp = self.folder / f"part-{number:04d}.tmp.npz"
        np.savez(tmp, keys=keys, vectors=vectors.astype(np.float16))
        tmp.replace(self.folder / f"part-{number:04d}.npz")


class CachedEncoder:
    """The real encoder, answering from the cache where it can."""

    def __init__(self, encoder: Encoder, cache: VectorCache) -> None:
        self._encoder, self._cache = encoder, cache
        self.missed = 0

    def __getattr__(self, name: str):  # name, dim, backend, precision, file_sha256: the real encoder's
        return getattr(self._encoder, name)

    def encode(self, texts: list[str]) -> np.ndarray:
        found = [self._cache.get(t) for t in texts]
        missing = [i for i, v in enumerate(found) if v is None]
        out = np.zeros((len(texts), self._encoder.dim), dtype=np.float32)
        if missing:
            self.missed += len(missing)
            out[missing] = self._encoder.encode([texts[i] for i in missing])
        for i, vector in enumerate(found):
            if vector is not None:
                out[i] = vector
        return out


def fill(sentences: int, seed_from: Path | None) -> None:
    """Embed every sentence of the scale benchmark's articles up to `sentences` distractor sentences."""
    from benchmarks.scale import CORPUS, distractors, own_articles
    from embeddings.encoder import load_encoder
    from qa.ingest.sentences import split_sentences

    cache = VectorCache()
    if seed_from and not len(cache):  # vectors a plain build already stored: the same encoder's (in 8 bits)
        from qa.index.folder import read_manifest

        try:  # another format (7 kept float16) would decode as garbage as 8 bits
            read_manifest(seed_from)
        except (FileNotFoundError, ValueError) as error:
            raise SystemExit(f"--seed-from {seed_from}: {error}") from error
        with sqlite3.connect(f"file:{seed_from / 'store.sqlite'}?mode=ro", uri=True) as db:
            rows = db.execute("SELECT text, vector FROM sentences").fetchall()
        vectors = from_int8(b"".join(v for _, v in rows), dim_of(rows[0][1])) if rows else np.zeros((0, 0))
        for start in range(0, len(rows), PART_SENTENCES):
            cache.write_part([t for t, _ in rows[start:start + PART_SENTENCES]], vectors[start:start + PART_SENTENCES])
        cache = VectorCache()
        logger.info("Seeded %d vectors from %s", len(cache), seed_from)
    seen, todo = set(), []
    for article in own_articles() + distractors(CORPUS, sentences):
        for span in split_sentences(article.text):
            text = article.text[span.start:span.end]
            digest = key(text)
            if text not in cache and digest not in seen:
                seen.add(digest)
                todo.append(text)
    logger.info("%d sentences to embed", len(todo))
    encoder = load_encoder()
    for start in range(0, len(todo), PART_SENTENCES):
        began = time.perf_counter()
        texts = todo[start:start + PART_SENTENCES]
        cache.write_part(texts, encoder.encode(texts))
        logger.info("%d/%d embedded (%.0f sentences/s)", start + len(texts), len(todo),
                    len(texts) / (time.perf_counter() - began))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sentences", type=int, default=1_000_000)
    parser.add_argument("--seed-from", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    fill(args.sentences, args.seed_from)


if __name__ == "__main__":
    main()
