"""Held-out ranking and confidence on the news development set and the seed questions, by question type, and an
ablation of the ranker's features (each removed in turn), all cross-validated by article as
training/fit_ranker.py fits them.

    .venv/bin/python -m benchmarks.ranking [--no-ablation]

Writes benchmarks/results/ranking.md and ranking.json.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from benchmarks.report import markdown, save_results
from qa.search.retrieval import FEATURES
from training.examples import gather, training_library
from training.fit_ranker import FOLDS, NOT_FOUND_THRESHOLD, HeldOut, cross_validate, held_out_conversations, summary

# The development set's own question types (its README), finer than qa eval's: how much, why and how (other)
# fail differently from how many and what.
TYPE_OPENERS = (("how many", "how many"), ("how much", "how much"), ("how", "how (other)"), ("who", "who"),
                ("whom", "who"), ("whose", "who"), ("what", "what"), ("which", "which"), ("where", "where"),
                ("when", "when"), ("why", "why"))


def question_type(question: str) -> str:
    """The development set's type of a question: its first wh-word ("how many", "how much", "how (other)")."""
    words = question.lower().replace("?", " ").split()
    for n in range(len(words)):
        for opener, kind in TYPE_OPENERS:
            parts = opener.split()
            if words[n:n + len(parts)] == parts:
                return kind
    return "other"


def by_type(held: Sequence[HeldOut], threshold: float) -> list[dict]:
    """The summary figures of each question type, answerable and unanswerable questions together."""
    kinds: dict[str, list[HeldOut]] = {}
    for item in held:
        kinds.setdefault(question_type(item.example.case.question), []).append(item)
    return [{"type": kind, **summary(items, threshold)} for kind, items in sorted(kinds.items())]


def ablation(library, examples) -> list[dict]:
    """Held-out hit@1 and hit@5 of the ranker with each feature removed in turn (no confidence: it is fitted on
    the full ranker's evidence)."""
    rows = []
    for removed in (None, *FEATURES):
        columns = [k for k, name in enumerate(FEATURES) if name != removed]
        held = cross_validate(library, examples, columns, with_confidence=False).held
        answerable = [h for h in held if h.example.case.answerable]
        hit1 = sum(h.hit_rank == 1 for h in answerable) / len(answerable)
        hit5 = sum(h.hit_rank is not None and h.hit_rank <= 5 for h in answerable) / len(answerable)
        rows.append({"removed": removed or "(none: all features)", "hit_at_1": hit1, "hit_at_5": hit5})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-ablation", action="store_true", help="skip the ablation (one cross-validation per "
                                                                     "feature)")
    args = parser.parse_args(argv)
    library = training_library()
    examples = gather(library)
    validation = cross_validate(library, examples)
    held = validation.held
    threshold = NOT_FOUND_THRESHOLD
    sources = [{"questions from": name, **summary([h for h in held if h.example.source == name], threshold)}
               for name in dict.fromkeys(h.example.source for h in held)]
    sources.append({"questions from": "all", **summary(held, threshold)})
    columns = ["hit_at_1", "hit_at_5", "answered_right", "answerable_answered", "unanswerable_not_found",
               "wrong_at_90", "expected_calibration_error"]
    parts = [f"Held out, {FOLDS}-fold cross-validation by article; not-found threshold {threshold:.3f} (fixed: "
             "answer when likelier right than wrong).", "",
             markdown(sources, ["questions from", "questions", *columns]), "",
             markdown(by_type(held, threshold), ["type", "questions", "answerable", *columns])]
    conversations = held_out_conversations(library, examples, validation)
    passing = [{"conversations from": source, "conversations": sum(1 for c in conversations if c.source == source),
                "passing": sum(c.passed for c in conversations if c.source == source)}
               for source in dict.fromkeys(c.source for c in conversations)]
    trade_off = [{"threshold": t, **summary(held, t)} for t in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)]
    parts += ["", "Conversations through qa.chat.Chat, each with the models of the fold that held its articles out "
              "(every turn right):", "", markdown(passing, ["conversations from", "conversations", "passing"]), "",
              "The not-found threshold, held out (all questions and turns):", "",
              markdown(trade_off, ["threshold", "answered_right", "answerable_answered", "unanswerable_not_found",
                                   "wrong_at_90"])]
    results = {"threshold": threshold, "sources": sources, "by_type": by_type(held, threshold),
               "conversations": passing, "threshold_trade_off": trade_off}
    if not args.no_ablation:
        results["ablation"] = ablation(library, examples)
        parts += ["", "Ablation (ranker only, each feature removed in turn):", "",
                  markdown(results["ablation"], ["removed", "hit_at_1", "hit_at_5"])]
    save_results("ranking", "\n".join(parts), results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
