"""Captions and headlines: sentences that describe the photo or sum up the story, and the questions that ask
about them. Each answers questions about itself and only restates the story otherwise, where the story's own
sentence says it with the details ("Signing ceremony ... in Hà Nội on Thursday" under the lead that says who
met; "Vietnam, Japan hold 7th defence policy dialogue" above the lead that says where and when)."""

from __future__ import annotations

from qa.index.store import SentenceRow
from qa.ingest.sentences import MARKDOWN_HEADING

PHOTO_WORDS = frozenset({"photo", "photos", "photograph", "picture", "pictures", "pictured", "image", "images",
                         "caption"})
HEADLINE_WORDS = frozenset({"headline", "headlines"})
# "title" alone is ambiguous in news ("won the league title"): it asks for the headline only beside these.
TITLE_OF = frozenset({"article", "articles", "story", "stories", "report"})


def role_score(row: SentenceRow, question_words: frozenset[str]) -> float:
    """+1 for a caption or headline that the question asks about, -1 for one it does not, 0 for the story."""
    if row.caption:
        return 1.0 if PHOTO_WORDS & question_words else -1.0
    if is_headline(row):
        return 1.0 if asks_about_headline(question_words) else -1.0
    return 0.0


def asks_about_headline(question_words: frozenset[str]) -> bool:
    """"What is the headline...?", "What is the title of the article?"."""
    return bool(HEADLINE_WORDS & question_words) or ("title" in question_words and bool(TITLE_OF & question_words))


def is_headline(row: SentenceRow) -> bool:
    """The article's first sentence when it is its title and reads as a headline: an article without a headline
    line has its lead sentence as title, and a lead sentence ends with a full stop."""
    text = MARKDOWN_HEADING.sub("", row.text).strip()  # a Markdown heading's title is read without its "#"
    return row.position == 0 and text == row.title and not text.endswith((".", "!", "?"))
