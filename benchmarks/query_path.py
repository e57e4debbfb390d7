"""A warm question, end to end: `Library.ask` beside a plain encode + FAISS search, on the seeds and on a large
library, with the SQL it sends and SQLite's share of its time.

The large library is synthetic: the development articles' sentences recombined into new articles, with their
names and numbers swapped for others, so no two sentences are the same. Its quality means nothing; its size,
article shapes and word statistics are those of news. It is built once (real encoder, real spaCy) and kept under
.qa/benchmarks/.

    .venv/bin/python -m benchmarks.query_path [--sentences 30000] [--questions 60]

"Plain" is what a bare retrieval script does: encode, faiss.IndexFlatIP.search, and nothing else, timed two ways
in the same run: with the same loaded ONNX Runtime encoder as ask() (so the ratio is what the question path adds
to encoding and searching), and with sentence-transformers' model.encode at torch's default threads (the plain
script the project is measured against). Writes benchmarks/results/query_path.md and query_path.json.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

from benchmarks.report import markdown, save_results
from qa.evaluation.cases import load_question_set
from qa.ingest.articles import Article, read_articles
from qa.ingest.sentences import split_sentences
from qa.library import Library

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "data" / "news-dev"
CACHE = ROOT / ".qa" / "benchmarks"
_NAME = re.compile(r"(?<=[a-z,;] )[A-Z][a-z]{2,}")
_NUMBER = re.compile(r"\d+")


def synthetic_articles(sentences: int, seed: int = 0) -> list[Article]:
    """News-shaped articles of about `sentences` sentences in all, from the development articles' sentences."""
    rng = random.Random(seed)
    sources = read_articles(DEV / "articles")
    pool = [[a.text[s.start:s.end] for s in split_sentences(a.text)] for a in sources]
    names = sorted({m.group() for a in sources for m in _NAME.finditer(a.text)})
    articles, total = [], 0
    while total < sentences:
        template = pool[rng.randrange(len(pool))]
        swap = {name: rng.choice(names) for name in names if rng.random() < 0.3}
        body = [_NAME.sub(lambda m, swap=swap: swap.get(m.group(), m.group()), s) for s in template]
        body += [rng.choice(rng.choice(pool)) for _ in range(rng.randrange(3, 10))]  # a second story's lines
        body = [_NUMBER.sub(lambda m: str(rng.randrange(1, 10 ** len(m.group()))), s) for s in body]
        text = "\n\n".join(body)
        articles.append(Article(f"synthetic-{len(articles)}", body[0][:120], text, f"synthetic/{len(articles)}"))
        total += len(body)
    return articles


def large_library(sentences: int) -> Library:
    """The synthetic library of about `sentences` sentences, built once and kept (rebuilt for a new format)."""
    index_dir = CACHE / f"synthetic-{sentences}.idx"
    if (index_dir / "manifest.json").exists():
        try:
            return Library.open(index_dir)
        except ValueError:
            pass  # built by an older format: build it again
    shutil.rmtree(index_dir, ignore_errors=True)
    library = Library.create(index_dir)
    library.sync(synthetic_articles(sentences))
    return library


class CountingConnection:
    """A sqlite3 connection that counts the statements sent and times them to their last row."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db, self.statements, self.seconds = db, 0, 0.0

    def execute(self, sql: str, parameters=()):  # noqa: ANN001, ANN201
        started = time.perf_counter()
        rows = self.db.execute(sql, parameters).fetchall()
        self.seconds += time.perf_counter() - started
        self.statements += 1
        return _Rows(rows)

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self.db, name)


class _Rows(list):
    def fetchone(self):  # noqa: ANN201
        return self[0] if self else None

    def fetchall(self):  # noqa: ANN201
        return list(self)


def measure(library: Library, questions: list[str], repeats: int, torch_model) -> dict:  # noqa: ANN001
    """p50 of ask() and of plain encode + search over the same vectors; statements and SQLite ms per ask."""
    ids, matrix = library.store.all_vectors(library.encoder.dim)
    plain_index = faiss.IndexFlatIP(library.encoder.dim)
    plain_index.add(matrix)
    encoder = library.encoder
    for question in questions[:5]:  # warm every path
        library.ask(question)
        plain_index.search(encoder.encode([question]), 10)
        plain_index.search(torch_model.encode([question], normalize_embeddings=True), 10)
    ask_times, plain_times, torch_times = [], [], []
    for _ in range(repeats):
        for question in questions:
            started = time.perf_counter()
            plain_index.search(torch_model.encode([question], normalize_embeddings=True), 10)
            torch_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            plain_index.search(encoder.encode([question]), 10)
            plain_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            library.ask(question)
            ask_times.append(time.perf_counter() - started)
    real_db = library.store._db()
    statements, sqlite_ms = [], []
    for question in questions:
        counting = CountingConnection(real_db)
        library.store._local.db = counting
        try:
            library.ask(question)
        finally:
            library.store._local.db = real_db
        statements.append(counting.statements)
        sqlite_ms.append(1000 * counting.seconds)
    return {"sentences": len(ids), "questions": len(questions), "runs": len(ask_times),
            "ask_p50_ms": 1000 * statistics.median(ask_times), "plain_p50_ms": 1000 * statistics.median(plain_times),
            "torch_p50_ms": 1000 * statistics.median(torch_times),
            "ask_p95_ms": 1000 * float(np.percentile(ask_times, 95)),
            "plain_p95_ms": 1000 * float(np.percentile(plain_times, 95)),
            "statements_median": statistics.median(statements), "statements_max": max(statements),
            "sqlite_ms_median": statistics.median(sqlite_ms)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sentences", type=int, default=30000, help="size of the synthetic library")
    parser.add_argument("--questions", type=int, default=60, help="development questions asked, each --repeats times")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    questions = [case.question for case in load_question_set(DEV / "questions.jsonl").cases][:args.questions]
    from sentence_transformers import SentenceTransformer

    from embeddings.encoder import resolve_model

    torch_model = SentenceTransformer(resolve_model("all-MiniLM-L6-v2")[0], device="cpu")
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        seeds = Library.build(ROOT / "seeds", Path(folder) / "seeds.idx")
        seed_questions = [case.question for case in load_question_set(ROOT / "seeds" / "questions.jsonl").cases]
        rows.append({"library": "seeds", **measure(seeds, seed_questions, args.repeats, torch_model)})
    rows.append({"library": f"synthetic news ({args.sentences:,} sentences wanted)",
                 **measure(large_library(args.sentences), questions, args.repeats, torch_model)})
    table = markdown([{
        "library": r["library"], "sentences": f"{r['sentences']:,}", "ask() p50 ms": f"{r['ask_p50_ms']:.2f}",
        "plain encode + search p50 ms": f"{r['plain_p50_ms']:.2f}",
        "× plain": f"{r['ask_p50_ms'] / r['plain_p50_ms']:.2f}",
        "plain sentence-transformers encode + search p50 ms": f"{r['torch_p50_ms']:.2f}",
        "× plain sentence-transformers": f"{r['ask_p50_ms'] / r['torch_p50_ms']:.2f}",
        "ask() p95 ms": f"{r['ask_p95_ms']:.2f}", "plain p95 ms": f"{r['plain_p95_ms']:.2f}",
        "SQL statements per ask (median / max)": f"{r['statements_median']:.0f} / {r['statements_max']}",
        "SQLite ms per ask (median)": f"{r['sqlite_ms_median']:.2f}"} for r in rows],
        ["library", "sentences", "ask() p50 ms", "plain encode + search p50 ms", "× plain",
         "plain sentence-transformers encode + search p50 ms", "× plain sentence-transformers", "ask() p95 ms",
         "plain p95 ms", "SQL statements per ask (median / max)", "SQLite ms per ask (median)"])
    save_results("query_path", table, {"rows": rows})


if __name__ == "__main__":
    main()
