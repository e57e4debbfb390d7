"""Where a question is searched: what a conversation adds to a single question."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SearchScope:
    """A follow-up's search: the query it was rewritten into, the articles it stays in, the sentences already
    given that it leaves out. The default scope is a question on its own: the whole library, nothing left out."""

    query: str = ""  # what to search instead of the question as asked ("When did the Israel dialogue take place?")
    articles: tuple[str, ...] = ()  # article ids: only their sentences are ranked, when there are any
    skip: frozenset[tuple[str, int]] = field(default_factory=frozenset)  # (article_id, start) of sentences given


WHOLE_LIBRARY = SearchScope()  # a question on its own (frozen, so safe as a default argument)
