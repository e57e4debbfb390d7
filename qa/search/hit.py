"""What search returns: ranked sentences, each with the text around it. The answer layer turns them into
citations (qa/answer.py)."""

from __future__ import annotations

from dataclasses import dataclass

from qa.index.store import SentenceRow


@dataclass(frozen=True)
class Hit:
    """A ranked sentence: its stored row, its fused score, and its context (the previous sentence to the next)."""

    row: SentenceRow
    score: float
    context: str
