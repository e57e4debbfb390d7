"""Example questions for the web chat, drawn from the library: each stands alone (no "When did it take
place?" before any question) and each was answered when it was chosen, so a click never starts with a "not
found". Chosen again when the library changes."""

from __future__ import annotations

import threading

from qa.library import Library

MAX_EXAMPLES = 4
# Questions about the seed articles that stand alone, when those articles are in the library.
SEED_EXAMPLES = {
    "004_e8ce38fb4ece313b": ("Who co-chaired the Israel dialogue?", "When did the Israel dialogue take place?"),
    "000_455ed2948e93ac7b": ("Where was the 7th Vietnam-Japan dialogue held?",
                             "What gift did the Vietnamese defence minister give his Japanese visitor?"),
}
_chosen: dict[str, tuple[int, list[str]]] = {}  # index folder -> (generation, its examples)
_guard = threading.Lock()


def example_questions(library: Library) -> list[str]:
    """Up to MAX_EXAMPLES answered questions: the seed articles' own, then "What happened: TITLE?" for the
    other articles. Kept per library and generation, so a page load does not ask them again."""
    key, generation = str(library.index_dir), library.generation
    with _guard:
        if key in _chosen and _chosen[key][0] == generation:
            return _chosen[key][1]
    listing = library.articles()
    candidates = [q for a in listing for q in SEED_EXAMPLES.get(a.article_id, ())]
    candidates += [f"What happened: {a.title.rstrip('.?!')}?" for a in listing
                   if a.article_id not in SEED_EXAMPLES and a.title]
    chosen: list[str] = []
    for question in candidates:
        if len(chosen) == MAX_EXAMPLES:
            break
        try:
            if library.ask(question).found:
                chosen.append(question)
        except ValueError:  # a title too long to be a question, say
            continue
    with _guard:
        _chosen[key] = (generation, chosen)
    return chosen
