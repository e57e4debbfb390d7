"""Where a question is searched: what a conversation adds to a single question."""

from __future__ import annotations

from dataclasses import dataclass, field

# Articles a question can be asked within at once: every sentence of 20 news-length articles (25 sentences) is a
# candidate (MAX_ARTICLE_CANDIDATES in retrieval.py); a bigger choice is the whole library's job.
MAX_WITHIN = 20


@dataclass(frozen=True)
class SearchScope:
    """A follow-up's search: the query it was rewritten into, the articles it stays in, the sentences already
    given that it leaves out; and the articles a user asks within.

    The default scope is a question on its own: the whole library, nothing left out."""

    query: str = ""  # what to search instead of the question as asked ("When did the Israel dialogue take place?")
    articles: tuple[str, ...] = ()  # article ids: only their sentences are ranked, when there are any
    skip: frozenset[tuple[str, int]] = field(default_factory=frozenset)  # (article_id, start) of sentences given
    # The user's choice of articles to ask within (kotaemon's "search in selected files"): only their sentences
    # are ranked, even when none of them answers (then it is "not found"). Empty: every article.
    within: tuple[str, ...] = ()


WHOLE_LIBRARY = SearchScope()  # a question on its own (frozen, so safe as a default argument)
