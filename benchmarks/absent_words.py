"""Does the encoder know what an absent question word means? The test behind the "not found" blocker.

A question word that the cited article never uses ("give" when it says "present") counts against answering
(qa/search/confidence.py). That evidence could be softened for a word whose meaning the article carries in other words.
For each seed question and conversation turn whose top sentence's article lacks some of its words, this finds
each absent word's best match among the article's words by the encoder's contextual token vectors (the word as
used in the question against every word piece as used in the article), and takes the weakest of the question's
absent words. Softening works only if answerable questions score above unanswerable ones.

    .venv/bin/python -m benchmarks.absent_words [--model NAME_OR_PATH]
"""

from __future__ import annotations

import argparse
import json
import re
from functools import cache
from pathlib import Path

import numpy as np

from benchmarks.retrieval import RESULTS
from embeddings.encoder import Encoder
from qa.answer import Answer
from qa.chat import Chat
from qa.defaults import SEEDS_DIR, default_library
from qa.evaluation.cases import load_question_set
from qa.library import Library
from qa.search.confidence import absent_terms
from qa.text import fold

ROOT = Path(__file__).resolve().parent.parent



def seed_cases(library: Library) -> list[tuple[str, bool, Answer]]:
    """(question as searched, answerable, answer) for seeds/questions.jsonl and every conversation turn; an
    answerable one only where its top sentence is in the expected article."""
    asked = [(case, library.ask(case.question)) for case in load_question_set(SEEDS_DIR / "questions.jsonl").cases]
    for conversation in load_question_set(SEEDS_DIR / "conversations.jsonl").conversations:
        chat = Chat(library)
        asked.extend((turn, chat.ask(turn.question)) for turn in conversation.turns)
    kept = []
    for case, answer in asked:
        top = (answer.citations or answer.closest)[:1]
        if top and (not case.answerable or top[0].article_id == case.article_id):
            kept.append((answer.searched_for, case.answerable, answer))
    return kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="sentence encoder to test (default: the project's)")
    args = parser.parse_args()
    library = default_library()
    encoder = Encoder(args.model) if args.model else library.retriever.encoder
    store = library.store

    @cache
    def article_pieces(article_id: str) -> tuple[np.ndarray, list[str]]:
        rows = store.sentences(store.sentence_ids_of([article_id])).values()
        encoded = [(encoder.token_vectors(row.text), row.text) for row in rows]
        vectors = np.vstack([vectors for (vectors, _), _ in encoded])
        pieces = [text[start:end] for (_, spans), text in encoded for start, end in spans]
        return vectors, pieces

    rows = []
    asked = set()
    for query, answerable, answer in seed_cases(library):
        if (query, answerable) in asked:
            continue
        asked.add((query, answerable))
        top = (answer.citations or answer.closest)[0]
        candidates = library.retriever.candidates(query, library.settings, [top.article_id])
        row = next(r for r in candidates.rows.values() if r.article_id == top.article_id and r.start == top.start)
        absent = absent_terms(candidates.evidence, list(candidates.term_idf), row)
        # A number the article never mentions is decisive evidence of its own ("the 8th dialogue").
        if not absent or any(term[0].isdigit() for term in absent):
            continue
        folded = fold(query)
        question_vectors, spans = encoder.token_vectors(folded)
        vectors, pieces = article_pieces(top.article_id)
        matches = []
        for word in absent:
            found = re.search(rf"\b{re.escape(word)}\b", folded)
            inside = [k for k, (start, end) in enumerate(spans) if found and start >= found.start()
                      and end <= found.end()]
            if not inside:
                continue
            word_vector = question_vectors[inside].mean(axis=0)
            similarities = vectors @ (word_vector / np.linalg.norm(word_vector))
            best = int(np.argmax(similarities))
            matches.append((word, pieces[best], float(similarities[best])))
        if matches:
            weakest = min(matches, key=lambda m: m[2])
            rows.append({"question": query, "answerable": answerable, "score": round(weakest[2], 3),
                         "matches": [f"{w}~{p} {s:.2f}" for w, p, s in matches]})
    rows.sort(key=lambda r: -r["score"])
    highest_unanswerable = max((r["score"] for r in rows if not r["answerable"]), default=-1.0)
    answerable = [r for r in rows if r["answerable"]]
    rescued = [r for r in answerable if r["score"] > highest_unanswerable]
    lines = [f"# Absent question words: their best contextual match in the article ({encoder.name})", "",
             "| question | answerable | weakest match | absent words, best match, cosine |", "|---|---|---|---|"]
    lines += [f"| {r['question']} | {'yes' if r['answerable'] else '**no**'} | {r['score']:.2f} | "
              f"{'; '.join(r['matches'])} |" for r in rows]
    lines += ["", f"Answerable questions with absent words: {len(answerable)}; unanswerable: "
                  f"{len(rows) - len(answerable)}. Highest unanswerable: {highest_unanswerable:.2f}. Answerable above "
                  f"it (softening could rescue them without answering an unanswerable one): {len(rescued)}."]
    report = "\n".join(lines) + "\n"
    print(report)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "absent_words.md").write_text(report, encoding="utf-8")
    (RESULTS / "absent_words.json").write_text(json.dumps(rows, indent=1, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
