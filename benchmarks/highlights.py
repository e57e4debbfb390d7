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
    text = "\n".join(lines) + "\n\n" + short_answer_table(library, question_set.cases, gold)
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "highlights.md").write_text(text + "\n", encoding="utf-8")


def short_answer_table(library: Library, cases: list, gold: dict[str, list[tuple[int, int]]]) -> str:
    """The short answer phrase as the web chat would show it: the first citation's marked words, for questions
    answered (found). Right when the citation is a hit and a marked span overlaps a gold answer. The question
    kinds whose phrase is shown (qa.web.html.SHORT_ANSWER_KINDS) are chosen on the even-numbered questions and
    checked on the odd-numbered ones."""
    tally: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])  # answered, with a phrase, right
    for number, case in enumerate(cases):
        answer = library.ask(case.question)
        if not answer.found:
            continue
        top = answer.citations[0]
        right = bool(top.highlights) and case.is_hit(top) and any(
            h[0] < end and start < h[1] for h in top.highlights for start, end in gold[case.question])
        for confident in ("all", ">= 0.9")[:1 + (answer.confidence >= 0.9)]:
            row = tally[(question_type(case.question), "even" if number % 2 == 0 else "odd", confident)]
            row[0] += 1
            row[1] += bool(top.highlights)
            row[2] += right
    lines = ["| question type | half | confidence | answered | with a phrase | phrase right (share of phrases) |",
             "|---|---|---|---|---|---|"]
    for (kind, half, confident), (answered, shown, right) in sorted(tally.items()):
        lines.append(f"| {kind} | {half} | {confident} | {answered} | {shown} | "
                     f"{right / shown if shown else 0:.3f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
