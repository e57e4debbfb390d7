"""Who a sentence is about. News copy names a person once in full ("Sen. Lt. Gen. Hoàng Xuân Chiến") and then
writes "He affirmed...", "According to the Vietnamese officer..." or "Chiến showed...": those sentences answer
questions that name the person, so retrieval reads them together with the sentence that introduced him."""

from __future__ import annotations

from collections.abc import Sequence

from qa.highlight import titled_names
from qa.text import words


def subject_positions(sentences: Sequence[str]) -> list[int | None]:
    """For each sentence of one article, the position of the sentence that introduced the person it is about.

    None for a sentence that introduces someone itself, and for sentences before anyone is introduced. A later
    mention of a known name ("Chiến") switches the subject to that person; any other sentence keeps the last one.
    """
    introduced_at: dict[str, int] = {}  # a word of a person's name -> where the person was introduced
    current: int | None = None
    subjects: list[int | None] = []
    for position, sentence in enumerate(sentences):
        names = [word for start, end in titled_names(sentence) for word in words(sentence[start:end])]
        if names:
            for word in names:
                introduced_at.setdefault(word, position)
            current = position
            subjects.append(None)
            continue
        known = [introduced_at[word] for word in words(sentence) if word in introduced_at]
        if known:
            current = known[0]
        subjects.append(current)
    return subjects
