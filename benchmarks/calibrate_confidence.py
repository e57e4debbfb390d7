"""Fit the "not found" confidence: a logistic model of the top sentence's evidence.

Features: its cosine, the share of the question's words in its window (weighted within its article), whether
the question names a number its article never mentions, whether it asks about a photo or headline that the
sentence is, and the share of the question's words that its article never uses
(Retriever.confidence_features).

Positives: questions asked of the articles that answer them (seeds/questions.jsonl answerable, SQuAD on its own
paragraphs, and the seed questions asked of the seeds among the SQuAD paragraphs). Negatives: the seed file's
unanswerable questions (of the seeds alone, and of the seeds among the SQuAD paragraphs), SQuAD questions asked
of the seed articles and seed questions asked of the SQuAD paragraphs. Prints coefficients and F1 of "not found"
per threshold.

    .venv/bin/python benchmarks/calibrate_confidence.py
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.retrieval import DEFAULT_DATA  # noqa: E402
from qa.answer import DEFAULT_NOT_FOUND_THRESHOLD  # noqa: E402
from qa.cases import load_question_set, load_squad  # noqa: E402
from qa.confidence import (  # noqa: E402
    CONFIDENCE_ABSENT,
    CONFIDENCE_ASKED_FOR,
    CONFIDENCE_BIAS,
    CONFIDENCE_COSINE,
    CONFIDENCE_COVERAGE,
    CONFIDENCE_UNMATCHED_NUMBER,
)
from qa.library import Library  # noqa: E402
from qa.retrieval import RetrievalSettings  # noqa: E402


def features(library: Library, questions: list[str]) -> np.ndarray:
    rows = []
    for question in questions:
        ranked, candidates = library.retriever.rank(question, 1, RetrievalSettings())
        rows.append(library.retriever.confidence_features(candidates, ranked[0][0]))
    return np.array(rows)


def fit_logistic(x: np.ndarray, y: np.ndarray, steps: int = 3000, rate: float = 0.5) -> np.ndarray:
    """Plain gradient descent on the log loss, classes weighted equally."""
    design = np.column_stack([x, np.ones(len(x))])
    weights = np.zeros(design.shape[1])
    sample_weight = np.where(y == 1, 0.5 / y.mean(), 0.5 / (1 - y.mean()))
    for _ in range(steps):
        p = 1 / (1 + np.exp(-design @ weights))
        weights -= rate * design.T @ ((p - y) * sample_weight) / len(y)
    return weights


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="qa-calibrate-"))
    seeds = Library.build(ROOT / "seeds", workdir / "seeds.idx")
    squad_set = load_squad(json.loads(DEFAULT_DATA.read_text(encoding="utf-8")))
    squad = Library.create(workdir / "squad.idx", seeds.encoder)
    squad.sync(squad_set.articles)
    mixed = Library.build(ROOT / "seeds", workdir / "mixed.idx", seeds.encoder)
    mixed.add_articles(squad_set.articles)
    seed_cases = load_question_set(ROOT / "seeds" / "questions.jsonl").cases
    squad_questions = [c.question for c in squad_set.cases]
    groups = [
        (features(seeds, [c.question for c in seed_cases if c.answerable]), 1, "seeds answerable"),
        (features(seeds, [c.question for c in seed_cases if not c.answerable]), 0, "seeds unanswerable"),
        (features(squad, squad_questions), 1, "SQuAD on its paragraphs"),
        (features(seeds, squad_questions), 0, "SQuAD asked of the seeds"),
        (features(squad, [c.question for c in seed_cases]), 0, "seed questions asked of SQuAD"),
        (features(mixed, [c.question for c in seed_cases if c.answerable]), 1, "seeds among SQuAD answerable"),
        (features(mixed, [c.question for c in seed_cases if not c.answerable]), 0, "seeds among SQuAD unanswerable"),
    ]
    x = np.vstack([g[0] for g in groups])
    y = np.concatenate([np.full(len(g[0]), g[1]) for g in groups])
    weights = fit_logistic(x, y)
    shipped = np.array([CONFIDENCE_COSINE, CONFIDENCE_COVERAGE, CONFIDENCE_UNMATCHED_NUMBER,
                        CONFIDENCE_ASKED_FOR, CONFIDENCE_ABSENT, CONFIDENCE_BIAS])
    report_weights("fitted", weights, groups, x, y)
    report_weights("shipped (qa/confidence.py)", shipped, groups, x, y)


def report_weights(name: str, weights: np.ndarray, groups: list, x: np.ndarray, y: np.ndarray) -> None:
    print(f"\n{name}:")
    print(f"confidence = logistic({weights[0]:.2f} * cosine + {weights[1]:.2f} * coverage "
          f"+ {weights[2]:.2f} * unmatched_number + {weights[3]:.2f} * asked_for_caption_or_headline "
          f"+ {weights[4]:.2f} * absent + {weights[5]:.2f})")
    for matrix, label, name in groups:
        p = 1 / (1 + np.exp(-(np.column_stack([matrix, np.ones(len(matrix))]) @ weights)))
        right = float(((p >= DEFAULT_NOT_FOUND_THRESHOLD) == bool(label)).mean())
        print(f"  {name:32s} n={len(p):4d} label={label} mean confidence {p.mean():.3f} "
              f"min {p.min():.3f} max {p.max():.3f}  right at threshold {DEFAULT_NOT_FOUND_THRESHOLD}: {right:.3f}")
    scores = 1 / (1 + np.exp(-(np.column_stack([x, np.ones(len(x))]) @ weights)))
    print("threshold  not-found precision  recall  F1")
    for threshold in np.arange(0.3, 0.75, 0.05):
        predicted = scores < threshold
        actual = y == 0
        tp = (predicted & actual).sum()
        precision = tp / max(predicted.sum(), 1)
        recall = tp / max(actual.sum(), 1)
        f1 = 2 * precision * recall / max(precision + recall, 1e-9)
        print(f"  {threshold:.2f}      {precision:.3f}              {recall:.3f}   {f1:.3f}")


if __name__ == "__main__":
    main()
