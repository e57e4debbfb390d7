"""Which sentences are captions or headlines, and which questions ask about them (no model needed)."""

import pytest

from qa.index.store import SentenceRow
from qa.ingest.captions import asks_about_headline, is_headline
from qa.text import words


@pytest.mark.parametrize(("question", "asks"), [
    ("What is the headline of the story about the Vietnam-Japan talks?", True),
    ("What is the title of the article?", True),
    ("Who won the league title?", False),
    ("Which title does Amir Eshel hold?", False),
])
def test_a_question_asks_for_the_headline(question: str, asks: bool) -> None:
    assert asks_about_headline(frozenset(words(question))) == asks


def _first_sentence(text: str, title: str) -> SentenceRow:
    return SentenceRow(id=1, article_id="a", title=title, position=0, start=0, end=len(text), text=text,
                       article_rowid=1, subject=None, caption=False)


@pytest.mark.parametrize(("text", "title", "headline"), [
    ("Vietnam, Japan hold 7th defence policy dialogue", "Vietnam, Japan hold 7th defence policy dialogue", True),
    ("## Rain returns to Hanoi", "Rain returns to Hanoi", True),
    ("#MeToo reaches the newsroom", "#MeToo reaches the newsroom", True),
    ("Floods cut the road to Hue for a week.", "Floods cut the road to Hue for a week.", False),
    ("Vietnam, Japan hold talks", "Another title", False),
])
def test_a_headline_is_the_first_sentence_when_it_is_the_title(text: str, title: str, headline: bool) -> None:
    assert is_headline(_first_sentence(text, title)) == headline
