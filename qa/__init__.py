"""Answer questions about news articles with cited sentences."""

from __future__ import annotations

from collections.abc import Collection

from qa.answer import Answer, Citation
from qa.chat import Chat
from qa.evaluation.evaluate import evaluate
from qa.library import Library
from qa.search.retrieval import RetrievalSettings


def ask(question: str, top_k: int = 3, library: Library | None = None, within: Collection[str] = ()) -> Answer:
    """Answer a question from the default library (the seed articles) or the one given; only from the articles
    `within` names, when it names any."""
    from qa.defaults import default_library

    return (library or default_library()).ask(question, top_k=top_k, within=within)


__all__ = ["Answer", "Chat", "Citation", "Library", "RetrievalSettings", "ask", "evaluate"]
