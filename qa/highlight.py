"""Mark the words of a cited sentence that answer a who / when / how-many question.

Rule-based and deliberately narrow: it marks only what its question type asks for (names, dates, numbers)
and only words the question does not already contain. Precision is measured by benchmarks/retrieval.py.
"""

from __future__ import annotations

import re

from qa.ingest.entities import Entity
from qa.search.answer_type import asked_kind, new_entities
from qa.text import STOPWORDS, fold, words

_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_DAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
_DATE = re.compile(
    rf"\b(?:(?:{_MONTHS})(?: \d{{1,2}}(?:, \d{{4}})?| \d{{4}})?|\d{{1,2}} (?:{_MONTHS})(?: \d{{4}})?"
    rf"|(?:{_DAYS})|(?:1[89]|20)\d\d(?:s)?|(?:last|next|this) (?:year|month|week))\b"
)
_NUMBER = re.compile(r"\b\d[\d,.]*(?: (?:million|billion|thousand|hundred|percent))?\b|\b(?:one|two|three|four"
                     r"|five|six|seven|eight|nine|ten|eleven|twelve|hundreds?|thousands?|millions?)\b")
_NAME_WORD = r"[A-ZÀ-ỸĐ][\wÀ-ỹ'’\-]*"
_NAME = re.compile(rf"{_NAME_WORD}(?: {_NAME_WORD})*")
# Ranks and offices that precede a person's name in news copy: "Sen. Lt. Gen. Nguyen Chi Vinh".
_RANKS = frozenset(fold(w) for w in """Sen Lt Gen Col Maj Major General Deputy Minister President Prime Director
    Vice Chairman Chair Secretary Mr Mrs Ms Dr Prof Ambassador Senator Governor King Queen Prince Head Chief
    Commander Admiral Colonel Captain Retired""".split())
# Words that open a capitalised run without being part of a name.
_TITLE_WORDS = _RANKS | frozenset(fold(w) for w in """Ministry Defence Defense National Vietnamese Japanese Israeli
    American The He She They It His Her In On At During According Later Government Policy Dialogue Foreign
    Affairs Army Navy Air Force Department Office""".split())
_QUESTION_TYPES = (("who", "name"), ("whom", "name"), ("whose", "name"), ("when", "date"), ("what year", "date"),
                   ("which year", "date"), ("what date", "date"), ("what day", "date"), ("how many", "number"),
                   ("how much", "number"))


def question_kind(question: str) -> str | None:
    """Return "name", "date" or "number" for questions that ask for one, else None."""
    folded = " ".join(words(question))
    for opener, kind in _QUESTION_TYPES:
        if re.search(rf"\b{opener}\b", folded):
            return kind
    return None


def answer_highlights(question: str, sentence: str, offset: int = 0, entities: tuple[Entity, ...] = ()
                      ) -> tuple[tuple[int, int], ...]:
    """Return (start, end) offsets (plus `offset`) of the sentence's words that answer the question.

    `entities` (offsets into the article, as stored: the sentence starts at `offset`) are the recogniser's: where
    the question asks for a kind of entity (who, when, where, which club, how many, how much) and the sentence
    holds new ones of that kind, those are the candidates; otherwise the rules below find names, dates and numbers.
    """
    asked = set(words(question))
    labels = asked_kind(question).labels
    typed = [(e.start - offset, e.end - offset) for e in
             new_entities(entities, sentence, offset, labels, frozenset(asked))] if labels else []
    kind = question_kind(question)
    if typed:
        spans = typed
        kind = "name" if labels & {"PERSON", "ORG"} and kind == "name" else "entity"
    elif kind is None:
        return ()
    elif kind == "date":
        spans = [m.span() for m in _DATE.finditer(sentence)]
    elif kind == "number":
        spans = [m.span() for m in _NUMBER.finditer(sentence)]
    elif kind == "name":
        spans = [span for m in _NAME.finditer(sentence) for span in _name_spans(sentence, *m.span())]
    fresh = [(start, end) for start, end in spans if not set(words(sentence[start:end])) <= asked]
    if kind == "name":
        # News copy puts a rank or office before a person's name: prefer those names when there are any.
        fresh = [span for span in fresh if _after_title(sentence, span[0])] or fresh
    if len(fresh) > 1:
        nearest = _nearest_to_question_words(sentence, fresh, asked)
        fresh = _coordinated(sentence, fresh, nearest, asked) if kind == "name" else [nearest]
    return tuple((start + offset, end + offset) for start, end in fresh)


def titled_names(sentence: str) -> list[tuple[int, int]]:
    """Spans of the people a sentence names with a rank or office ("Gen. Ngo Xuan Lich")."""
    return [span for m in _NAME.finditer(sentence) for span in _name_spans(sentence, *m.span())
            if _after_title(sentence, span[0])]


def _nearest_to_question_words(sentence: str, spans: list[tuple[int, int]], asked: set[str]) -> tuple[int, int]:
    """Of several candidates, keep the one closest to where the sentence repeats the question's words:
    marking every name or number in a sentence was measured to be right only a third of the time."""
    anchors = [m.start() for m in re.finditer(r"\w+", sentence) if words(m.group()) and words(m.group())[0] in asked
               and words(m.group())[0] not in STOPWORDS]
    if not anchors:
        return spans[0]
    return min(spans, key=lambda span: min(min(abs(a - span[0]), abs(a - span[1])) for a in anchors))


def _coordinated(sentence: str, spans: list[tuple[int, int]], chosen: tuple[int, int], asked: set[str]
                 ) -> list[tuple[int, int]]:
    """The chosen name and the names joined to it by "and", each after its own rank or office: the two co-chairs
    in "... Sen. Lt. Gen. Hoàng Xuân Chiến, and Major General (retired) Amir Eshel" answer "Who co-chaired?".
    Where the question tells them apart by their offices ("Who led the Japanese side?"), only the names whose
    office holds the most of its words are kept."""
    group = [chosen]
    for span in sorted(spans):
        if span[0] > group[-1][1] and _joins(sentence[group[-1][1]:span[0]]):
            group.append(span)
    for span in sorted(spans, reverse=True):
        if span[1] < group[0][0] and _joins(sentence[span[1]:group[0][0]]):
            group.insert(0, span)
    # The office of each name: the rank and office words since the previous name (at most eight words back).
    floors = [0] + [span[1] for span in group[:-1]]
    offices = [{fold(w) for w in re.findall(r"[\wÀ-ỹ]+", sentence[floor:span[0]])[-8:]} & _TITLE_WORDS & asked
               for floor, span in zip(floors, group, strict=True)]
    most = max(len(office) for office in offices)
    return [span for span, office in zip(group, offices, strict=True) if len(office) == most]


def _joins(gap: str) -> bool:
    """True for the text between two coordinated names: "and", with commas, parentheses and rank or office words
    (", and Major General (retired) ")."""
    tokens = [fold(token) for token in re.findall(r"[^\s,()]+", gap)]
    return tokens.count("and") == 1 and all(t == "and" or t.strip(".") in _TITLE_WORDS for t in tokens)


def _after_title(sentence: str, start: int) -> bool:
    """True when one of the three words before `start` is a rank or office ("Gen.", "General (retired)")."""
    before = re.findall(r"[\wÀ-ỹ]+", sentence[max(0, start - 40):start])[-3:]
    return any(fold(word) in _RANKS and word[0].isupper() for word in before)


def _name_spans(sentence: str, start: int, end: int) -> list[tuple[int, int]]:
    """Drop leading rank and office words; keep what remains if it looks like a name of two or more words."""
    tokens = [(m.start() + start, m.end() + start) for m in re.finditer(r"\S+", sentence[start:end])]
    while tokens and fold(sentence[tokens[0][0]:tokens[0][1]]).strip(".") in _TITLE_WORDS:
        tokens.pop(0)
    if len(tokens) < 2 or any(fold(sentence[s:e]).strip(".") in _TITLE_WORDS for s, e in tokens):
        return []
    return [(tokens[0][0], tokens[-1][1])]
