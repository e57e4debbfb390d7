"""How reliable are the marked answer words? Measured on SQuAD's gold answer spans.

For every question whose first citation is a hit, counts the marked spans that overlap a gold answer (precision)
and the questions where some gold answer is marked (recall): marked by the rules alone, and by the named entities
stored at index time (what the bot does), on the same citations.

    .venv/bin/python -m benchmarks.highlights
"""

from __future__ import annotations

import json
import tempfile
from collections import defaultdict
from pathlib import Path

from benchmarks.retrieval import DEFAULT_DATA, RESULTS
from qa.evaluation.cases import load_squad
from qa.evaluation.metrics import question_type
from qa.highlight import answer_highlights
from qa.library import Library

ROOT = Path(__file__).resolve().parent.parent



def main() -> None:
    squad = json.loads(DEFAULT_DATA.read_text(encoding="utf-8"))
    question_set = load_squad(squad)
    gold: dict[str, list[tuple[int, int]]] = {}
    for topic in squad["data"]:
        for paragraph in topic["paragraphs"]:
            for qa in paragraph["qas"]:
                gold[qa["question"]] = [(a["answer_start"], a["answer_start"] + len(a["text"]))
                                        for a in qa["answers"]]
    library = Library.create(Path(tempfile.mkdtemp(prefix="qa-highlights-")) / "squad.idx")
    library.sync(question_set.articles)
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for case in question_set.cases:
        (top,) = library.search(case.question, top_k=1)
        if not case.is_hit(top):
            continue
        row = library.store.sentences([sid for sid in library.store.sentence_ids_of([top.article_id])]).values()
        entities = next(r.entities for r in row if r.start == top.start)
        kind = question_type(case.question)
        # The same cited sentence marked two ways: the rules alone (before) and the recogniser's entities.
        for method, marks in (("rules", answer_highlights(case.question, top.sentence, top.start)),
                              ("entities", answer_highlights(case.question, top.sentence, top.start, entities))):
            tally = counts[(kind, method)]
            tally["questions"] += 1
            spans = gold[case.question]
            overlapping = [h for h in marks if any(h[0] < end and start < h[1] for start, end in spans)]
            tally["marked spans"] += len(marks)
            tally["spans on a gold answer"] += len(overlapping)
            tally["questions with a mark"] += bool(marks)
            tally["questions with the answer marked"] += bool(overlapping)
    lines = ["| question type | marked by | questions (top-1 hit) | with a mark | precision of marks | answer marked "
             "(recall) |", "|---|---|---|---|---|---|"]
    for (kind, method), row in sorted(counts.items()):
        precision = row["spans on a gold answer"] / row["marked spans"] if row["marked spans"] else 0.0
        recall = row["questions with the answer marked"] / row["questions"]
        lines.append(f"| {kind} | {method} | {row['questions']} | {row['questions with a mark']} | {precision:.3f} "
                     f"| {recall:.3f} |")
    text = "\n".join(lines)
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "highlights.md").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
