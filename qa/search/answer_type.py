"""What kind of answer a question asks for, and whether a sentence holds one it does not already name.

The question side is read from its wh-word and head noun (questions are short and formulaic: "How many
passengers...", "Which club...", "Where..."); the sentence side is the named entities that spaCy found when the
article was indexed (qa/ingest/entities.py), so "Who opened the festival?" prefers the sentence naming a person to the
lead that only names the festival.
"""

from __future__ import annotations

from dataclasses import dataclass

from qa.ingest.entities import Entity
from qa.text import STOPWORDS, words

PERSON_OR_GROUP = frozenset({"PERSON", "ORG", "NORP"})
TIME = frozenset({"DATE", "TIME"})
PLACE = frozenset({"GPE", "LOC", "FAC"})
COUNT = frozenset({"CARDINAL", "QUANTITY"})
AMOUNT = frozenset({"MONEY", "QUANTITY", "PERCENT", "CARDINAL"})
SPAN = frozenset({"DATE", "TIME", "QUANTITY", "CARDINAL"})  # how long / far / high / fast / old
PERCENT = frozenset({"PERCENT"})
MONEY = frozenset({"MONEY"})
ORG = frozenset({"ORG"})
PERSON = frozenset({"PERSON"})

# The head noun of "which/what X" and the entity labels an answer of that kind carries.
_HEAD_NOUNS: dict[str, frozenset[str]] = {}
for _labels, _nouns in (
    (ORG, "company firm club team party agency group university organisation organization union court bank "
          "ministry side operator airline brand manufacturer maker shipyard newspaper broadcaster body council "
          "committee institute school hospital carrier contractor consortium developer insurer lab laboratory"),
    (PLACE, "country city town province region state village district county island port venue place capital "
            "river lake sea mountain site location area neighbourhood neighborhood street station airport "
            "stadium"),
    (TIME, "year month day date time week season decade century hour"),
    (PERSON, "player person man woman minister official leader coach judge prosecutor lawyer candidate president "
             "mayor chairman chair director scientist spokesman spokeswoman spokesperson driver rider runner "
             "winner captain manager teacher doctor nurse witness striker goalkeeper economist engineer"),
    (PERCENT, "percentage percent share proportion rate"),
    (MONEY, "price cost amount fee fine salary budget sum value bill wage"),
    (COUNT, "number"),
):
    for _noun in _nouns.split():
        _HEAD_NOUNS[_noun] = _labels
_MONEY_WORDS = frozenset("money cost costs costing pay paid pays spend spent price priced worth earn earned "
                         "raise raised fund funding invest invested budget fine fined salary".split())
_SPAN_WORDS = frozenset("long far high fast old big large tall deep wide heavy often soon early late".split())


@dataclass(frozen=True)
class AskedKind:
    """The entity labels that answer a question, and the unit a "how many / how much" asks in, if any."""

    labels: frozenset[str] = frozenset()
    unit: str = ""  # folded: "passengers" in "How many passengers can the ferry carry?"
    why: bool = False  # a why-question wants a reason, not an entity


def asked_kind(question: str) -> AskedKind:
    """Read the kind of answer a question wants from its wh-word and head noun."""
    tokens = words(question)
    for position, token in enumerate(tokens):
        following = tokens[position + 1:]
        if token in ("who", "whom", "whose"):
            return AskedKind(PERSON_OR_GROUP)
        if token == "when":
            return AskedKind(TIME)
        if token == "where":
            return AskedKind(PLACE)
        if token == "why":
            return AskedKind(why=True)
        if token == "how" and following:
            if following[0] in ("many", "much"):
                unit = next((w for w in following[1:3] if w not in STOPWORDS), "")
                labels = COUNT if following[0] == "many" else AMOUNT
                if following[0] == "much" and _MONEY_WORDS & set(tokens):
                    labels = MONEY  # "How much did the repairs cost?"
                return AskedKind(labels, _stem(unit))
            if following[0] in _SPAN_WORDS:
                return AskedKind(SPAN)
            return AskedKind()
        if token in ("what", "which"):
            head = next((w for w in following[:3] if w in _HEAD_NOUNS), "")
            return AskedKind(_HEAD_NOUNS.get(head, frozenset()))
    return AskedKind()


def new_entities(entities: tuple[Entity, ...], sentence: str, sentence_start: int, labels: frozenset[str],
                 question_words: frozenset[str]) -> list[Entity]:
    """The entities (article offsets) of a sentence with one of `labels` whose words the question does not
    already use: "Who is Amir Eshel?" is not answered by naming him."""
    return [e for e in entities if e.label in labels
            and not set(words(sentence[e.start - sentence_start:e.end - sentence_start])) <= question_words]


def holds_unit(sentence: str, unit: str) -> bool:
    """True when the sentence uses the asked unit's word ("passengers", "passenger")."""
    return bool(unit) and any(_stem(w) == unit for w in words(sentence))


def _stem(word: str) -> str:
    """A crude plural fold, enough to match "passenger" with "passengers" and "fishermen" with "fisherman"."""
    for suffix, replacement in (("ies", "y"), ("men", "man"), ("es", "e"), ("s", "")):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            return word[: -len(suffix)] + replacement
    return word
