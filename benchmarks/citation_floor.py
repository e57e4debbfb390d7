"""Which citations are worth showing? The relevance floor, measured held out by article.

A citation after the first is shown only when its ranking score is within a margin of the first one's
(qa.answer.CITATION_MARGIN): the ranker's scores are listwise logits, so a margin m keeps the sentences the ranker
finds at least exp(-m) times as likely to be the answer as the first. Every question of the training data
(news-dev, seeds, team questions and conversation turns) is ranked by a ranker fitted without its article (5-fold
GroupKFold, training/fit_ranker.py); for each margin this counts, at top_k=10:

- citations shown per question;
- the expected sentence kept, where it is cited 2nd-10th (the citations a floor can drop): a floor must keep it;
- shown citations 2-10 from another article than the expected one (for answerable questions: likely unrelated).

The margin is chosen on four folds' held-out rankings and scored on the fifth, in turn; the table also gives
each margin over all folds. Near-duplicate collapsing is left out here (it drops a few citations either way).

    .venv/bin/python -m benchmarks.citation_floor
"""

from __future__ import annotations

import numpy as np

from benchmarks.report import save_results
from training.examples import gather, training_library
from training.fit_ranker import FOLDS, fit_ranker, folds_of

TOP_K = 10
MARGINS = (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, float("inf"))
KEEP_EXPECTED = 0.95  # the chosen margin is the smallest that keeps this share of expected sentences cited 2nd-10th


def held_out_rankings() -> list[tuple[np.ndarray, np.ndarray, list[str], str, int]]:
    """Per question: the top-10 logits, which are expected, their articles, the expected article, the fold."""
    library = training_library()
    examples = gather(library)
    folds = folds_of(examples)
    ranked = []
    for number in range(FOLDS):
        ranker = fit_ranker([e for e, f in zip(examples, folds, strict=True) if f != number])
        for k in np.flatnonzero(folds == number):
            example = examples[k]
            if not len(example.candidates.ids):
                continue
            logits = ranker.logits(example.candidates.features)
            order = np.argsort(-logits, kind="stable")[:TOP_K]
            rows = example.candidates.rows
            ranked.append((logits[order], example.labels[order],
                           [rows[example.candidates.ids[i]].article_id for i in order],
                           example.case.article_id if example.case.answerable else "", int(number)))
    return ranked


def measure(ranked: list, margin: float) -> dict[str, float]:
    shown, expected_later, expected_kept, later_shown, other_article = 0, 0, 0, 0, 0
    for logits, labels, articles, expected_article, _ in ranked:
        keep = logits >= logits[0] - margin
        keep[0] = True
        shown += int(keep.sum())
        later = np.flatnonzero(labels[1:]) + 1
        if len(later) and not labels[0]:
            expected_later += 1
            expected_kept += bool(keep[later].any())
        if expected_article:
            later_shown += int(keep[1:].sum())
            other_article += sum(1 for k in np.flatnonzero(keep[1:]) + 1 if articles[k] != expected_article)
    return {"citations shown per question": shown / len(ranked),
            "expected sentence kept (cited 2nd-10th)": expected_kept / max(expected_later, 1),
            "questions with the expected sentence 2nd-10th": expected_later,
            "shown 2nd-10th from another article": other_article / max(later_shown, 1)}


def choose(ranked: list) -> float:
    """The smallest margin that keeps KEEP_EXPECTED of the expected sentences cited 2nd-10th."""
    return next(m for m in MARGINS if measure(ranked, m)["expected sentence kept (cited 2nd-10th)"] >= KEEP_EXPECTED)


def main() -> None:
    ranked = held_out_rankings()
    lines = ["| margin (logits) | citations shown per question (top_k 10) | expected sentence kept, where cited "
             "2nd-10th | shown 2nd-10th from another article |", "|---|---|---|---|"]
    for margin in MARGINS:
        row = measure(ranked, margin)
        lines.append(f"| {margin:g} | {row['citations shown per question']:.2f} | "
                     f"{row['expected sentence kept (cited 2nd-10th)']:.3f} | "
                     f"{row['shown 2nd-10th from another article']:.3f} |")
    lines += ["", "| fold | margin chosen on the other folds | citations shown | expected kept (2nd-10th) |",
              "|---|---|---|---|"]
    for fold in range(FOLDS):
        margin = choose([r for r in ranked if r[4] != fold])
        row = measure([r for r in ranked if r[4] == fold], margin)
        lines.append(f"| {fold} | {margin:g} | {row['citations shown per question']:.2f} | "
                     f"{row['expected sentence kept (cited 2nd-10th)']:.3f} "
                     f"({row['questions with the expected sentence 2nd-10th']}) |")
    text = "\n".join([f"{len(ranked)} questions, each ranked by a ranker fitted without its article.", "", *lines])
    save_results("citation_floor", text, {str(m): measure(ranked, m) for m in MARGINS})


if __name__ == "__main__":
    main()
