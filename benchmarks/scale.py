"""The development questions among many distractor sentences: quality, ask() latency, memory and disk by size.

Each size N builds (once, then reuses) an index of the news development articles and the seed articles plus
distractor articles (benchmarks/large_corpus.py) up to N sentences in all, timing the build. Then, in a fresh
process per library (so resident memory is the serving process's), every development and seed question is
asked: first-citation accuracy, answered right, unanswerable said "not found", ask() p50/p95, peak RSS; and
the same on the development and seed articles alone, in the same run, as the baseline.

The shipped ranker was fitted on these questions, so the absolute figures are in-sample; what this measures is
how much they move when the same articles sit among N unrelated sentences.

    .venv/bin/python -m benchmarks.large_corpus --sentences 1000000 --out .qa/scale/distractors-1000000.jsonl
    .venv/bin/python -m benchmarks.scale --sizes 100000
    .venv/bin/python -m benchmarks.vector_cache --sentences 1000000  # once: about an hour on 2 cores
    .venv/bin/python -m benchmarks.scale --sizes 100000 1000000 --vector-cache
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from qa.ingest.articles import Article, read_articles
from qa.library import Library

# Paths only: the serving child imports nothing it would not import to answer (the resident memory is the point).
ROOT = Path(__file__).resolve().parent.parent
NEWS_DEV = ROOT / "data" / "news-dev"

CORPUS = ROOT / ".qa" / "scale" / "distractors-1000000.jsonl"
EF_SWEEP = (128, 256, 512, 1024, 2048, 4096)  # HNSW efSearch values measured beside the shipped rule's
QUESTIONS = (NEWS_DEV / "questions.jsonl", ROOT / "seeds" / "questions.jsonl")


def own_articles() -> list[Article]:
    return read_articles(NEWS_DEV / "articles") + read_articles(ROOT / "seeds")


def distractors(corpus: Path, sentences: int) -> list[Article]:
    """Distractor articles until about `sentences` sentences (counted as the corpus script counts them)."""
    from qa.ingest.sentences import split_sentences

    chosen, total = [], 0
    with corpus.open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            chosen.append(Article(record["id"], record["title"], record["text"], f"{corpus}#{record['id']}"))
            total += len(split_sentences(record["text"]))
            if total >= sentences:
                break
    return chosen


def build(size: int, corpus: Path, cached: bool = False) -> tuple[Path, dict]:
    """The index of size `size` (built once for this index format), and how its build went. `cached`: take the
    sentence vectors from benchmarks/vector_cache.py where it has them (the build's time is then everything
    but embedding, and its stats say so)."""
    from embeddings.encoder import load_encoder
    from qa.index.folder import FORMAT_VERSION, MANIFEST

    folder = ROOT / ".qa" / "scale" / f"library-{size}.idx"
    stats_file = folder.with_suffix(".build.json")
    if stats_file.exists() and (folder / MANIFEST).exists():
        manifest, stats = json.loads((folder / MANIFEST).read_text()), json.loads(stats_file.read_text())
        # A finished build of this format: a killed one leaves a manifest of this format over fewer sentences.
        if manifest["format_version"] == FORMAT_VERSION and manifest["sentences"] == stats["sentences"]:
            return folder, stats
    stats_file.unlink(missing_ok=True)
    shutil.rmtree(folder, ignore_errors=True)
    articles = own_articles() + (distractors(corpus, size) if size else [])
    encoder = load_encoder()
    if cached:
        from benchmarks.vector_cache import CachedEncoder, VectorCache

        encoder = CachedEncoder(encoder, VectorCache())
    started = time.perf_counter()
    library = Library.create(folder, encoder)
    library.add_articles(articles)
    seconds = time.perf_counter() - started
    _, sentences = library.counts()
    stats = {"articles": len(articles), "sentences": sentences, "build s": round(seconds, 1),
             "sentences/s": round(sentences / seconds, 1),
             "embedded in the build": encoder.missed if cached else sentences,
             "vector index": json.loads((folder / MANIFEST).read_text())["vector_index"]}
    stats_file.write_text(json.dumps(stats))
    return folder, stats


def peak_resident_mib() -> int:
    """This process's peak resident memory. VmHWM, not getrusage's ru_maxrss: Linux keeps ru_maxrss across exec,
    so a child started by a process that built a big index would report the builder's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def serve_and_ask(folder: Path) -> dict:
    """In this (fresh) process: open the index, ask every question; quality, latency and peak memory."""
    from qa.evaluation.cases import load_question_set

    opening = time.perf_counter()
    library = Library.open(folder)
    open_seconds = time.perf_counter() - opening
    cases = [c for path in QUESTIONS for c in load_question_set(path).cases]
    library.ask("warm up")
    times, right, answerable, not_found, unanswerable, first_right = [], 0, 0, 0, 0, 0
    for case in cases:
        started = time.perf_counter()
        answer = library.ask(case.question)
        times.append((time.perf_counter() - started) * 1000)
        top = (answer.citations or answer.closest)[:1]
        if case.answerable:
            answerable += 1
            first_right += bool(top and case.is_hit(top[0]))
            right += bool(answer.found and case.is_hit(answer.citations[0]))
        else:
            unanswerable += 1
            not_found += not answer.found
    times.sort()
    disk = {p.name: p.stat().st_size for p in folder.iterdir() if p.is_file()}
    sentences = library.counts()[1]
    return {"sentences": sentences, "first citation right": round(first_right / answerable, 3),
            "answered right": round(right / answerable, 3),
            "unanswerable not found": round(not_found / unanswerable, 3),
            "ask p50 ms": round(statistics.median(times), 1), "ask p95 ms": round(times[int(0.95 * len(times))], 1),
            "peak RSS MiB": peak_resident_mib(), "open s": round(open_seconds, 1),
            "disk KB/sentence": round(sum(disk.values()) / sentences / 1024, 2),
            "disk files MB": {name: round(size / 1e6, 1) for name, size in sorted(disk.items()) if size > 1e5}}


def recall_at_10(folder: Path) -> dict:
    """In another fresh process: the vector index's top 10 for every question, one question at a time, against
    an exact (flat float16) index over the same vectors, built here from the store. A hit counts when its score
    reaches the exact 10th score: the corpus repeats sentences, and of equal vectors tied at the 10th place any
    one is right (recall by id is given too)."""
    import numpy as np

    from embeddings.index import VectorIndex
    from qa.evaluation.cases import load_question_set

    library = Library.open(folder)
    questions = [c.question for path in QUESTIONS for c in load_question_set(path).cases]
    queries = library.encoder.encode(questions)
    vectors = library._vectors
    shipped = vectors.ef_search
    sweep = [shipped] + ([ef for ef in EF_SWEEP if ef != shipped] if vectors.approximate else [])

    def timed(index, ef: int | None = None) -> tuple[list, float]:
        if ef is not None:
            index.set_ef_search(ef)
        hits, times = [], []
        for query in queries:
            started = time.perf_counter()
            hits.append(index.search(query[None, :], 10)[0])
            times.append((time.perf_counter() - started) * 1000)
        return hits, statistics.median(times)

    found = {ef: timed(vectors, ef) for ef in sweep}
    ids, dim = library.store.sentence_ids(), library.encoder.dim
    exact, exact_ms = timed(VectorIndex.restore(ids, library.store.vector_chunks(dim), dim))

    def recall(hits: list) -> tuple[float, float]:
        by_score = [sum(score >= want[-1][1] - 1e-6 for _, score in got) / 10 for got, want in zip(hits, exact,
                                                                                                   strict=True)]
        by_id = [len({i for i, _ in got} & {i for i, _ in want}) / 10 for got, want in zip(hits, exact, strict=True)]
        return round(float(np.mean(by_score)), 3), round(float(np.mean(by_id)), 3)

    return {"recall@10": recall(found[shipped][0])[0], "recall@10 by id": recall(found[shipped][0])[1],
            "ef search": shipped, "vector search p50 ms": round(found[shipped][1], 2),
            "exact search p50 ms": round(exact_ms, 2),
            "ef sweep": {str(ef): {"recall@10": recall(hits)[0], "by id": recall(hits)[1], "p50 ms": round(ms, 2)}
                         for ef, (hits, ms) in found.items()}}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--vector-cache", action="store_true",
                        help="take sentence vectors from benchmarks/vector_cache.py (build time without embedding)")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)  # the child processes' jobs
    parser.add_argument("--recall", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve or args.recall:
        print(json.dumps(serve_and_ask(args.serve) if args.serve else recall_at_10(args.recall)))
        return
    rows = []
    for size in [0, *args.sizes]:
        folder, stats = build(size, args.corpus, args.vector_cache)
        row = {"distractor target": size, **stats}
        for job in ("--serve", "--recall"):
            child = subprocess.run([sys.executable, "-m", "benchmarks.scale", job, str(folder)], check=True,
                                   capture_output=True, text=True, cwd=ROOT)
            row.update(json.loads(child.stdout.strip().splitlines()[-1]))
        rows.append(row)
        print(json.dumps(rows[-1]), flush=True)
    from benchmarks.report import markdown, save_results

    save_results("scale", markdown(rows, [k for k in rows[0] if k not in ("disk files MB", "ef sweep")]), rows)


if __name__ == "__main__":
    main()
