"""Chat: follow-up questions resolved against the previous turn, by rules rather than a language model.

A follow-up is rewritten into a query that stands on its own and searched; Answer.searched_for shows it:
- "And the Israel one?" / "What about Japan?" repeat the previous query with the new name in place of the
  name that picked out the previous article;
- "When did it take place?" puts the previous query's topic ("the Israel dialogue") in place of "it";
- "What challenges did he mention?" keeps "he": news copy names a person once and says "he" after, so the
  name would only pull the search back to the sentence already cited. It is kept to the article of the
  previous answer instead, as is every pronoun follow-up.
A question that leans on nothing is searched as asked, so a new topic is never polluted by the old one.
"""

from __future__ import annotations

import dataclasses
import re
import threading
import time
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from qa.answer import Answer, answer_from_dict
from qa.library import Library
from qa.search.question import NAME_PATTERN, check_top_k, clean_question, names_in
from qa.search.scope import SearchScope
from qa.text import STOPWORDS, content_words, fold, words

MAX_TURNS_KEPT = 50
MAX_PHRASE_SENTENCES = 500  # a name in more sentences than this is too common to pick out articles

_QUESTION_WORDS = frozenset({"what", "who", "whom", "whose", "when", "where", "which", "why", "how", "did", "does",
                             "do", "is", "are", "was", "were", "can", "could", "will", "would", "has", "have",
                             "had", "should", "may", "might"})
_PERSON_PRONOUNS = frozenset({"he", "she", "him", "his", "her", "hers", "himself", "herself"})
_SINGULAR_PRONOUNS = frozenset({"it", "its"})
_PLURAL_PRONOUNS = frozenset({"they", "them", "their", "theirs", "these", "those"})
_DEMONSTRATIVES = frozenset({"that", "this", "there"})  # only as the question's last word: "When was that?"
_CONTINUATION_WORDS = frozenset({"else", "also", "too"})  # "What else did he say?"
_MORE_WORDS = frozenset({"else", "more"})  # "What else...?", "Tell me more": not what was already answered
# "And the Israel one?", "What about Japan?", "How about the second dialogue?"
_ELLIPSIS = re.compile(r"^(?:(?:and|but|so)\s+)?(?:(?:what|how)\s+about\s+)?(?P<rest>.+?)$", re.IGNORECASE)
_STOPWORD_PATTERN = "|".join(sorted(STOPWORDS))
# A name with the noun phrase around it: "the Israel dialogue", "the previous Vietnam-Japan dialogue",
# "Vietnam and Israel"; a trailing noun only after "the", so "Vietnam and Israel agree" stops at "Israel".
_TOPIC = re.compile(rf"(?P<the>\bthe\s+(?:[a-z]+\s+)?)?(?P<name>{NAME_PATTERN}(?:\s+and\s+{NAME_PATTERN})?)"
                    rf"(?(the)(?:\s+(?!(?:{_STOPWORD_PATTERN})\b)[a-z]+)?)")
_POSSESSIVE = re.compile(r"[’']s$")
_BARE_FOLLOW_UP = re.compile(r"^(?P<bare>[^()]+?) \((?P<topic>.+)\)$")


@dataclass(frozen=True)
class Resolution:
    """How a question is searched: the query, and the articles a follow-up is kept to (if any)."""

    query: str
    prefer_article_ids: tuple[str, ...] = ()
    skip_answered: bool = False  # "What else did they agree?": leave out the sentences already given as answers
    continue_previous: bool = False  # "What else did he say?", "Tell me more": read on after the previous answer


@dataclass(frozen=True)
class Turn:
    """One question and answer of a conversation, with how the question was resolved."""

    answer: Answer
    resolution: Resolution
    answered_at: float = 0.0  # time.monotonic() when its answer was ready
    top_k: int = 3
    within: tuple[str, ...] = ()  # the articles it was asked within (none: the whole library)

    def to_dict(self) -> dict:
        """The turn as JSON-ready data, to save a conversation and resume it later (Chat.resumed)."""
        return {"answer": dataclasses.asdict(self.answer), "resolution": dataclasses.asdict(self.resolution),
                "top_k": self.top_k, "within": list(self.within)}

    @classmethod
    def from_dict(cls, record: object) -> Turn:
        """A turn saved by to_dict; ValueError when the record is not one."""
        try:
            if not isinstance(record.get("within", []), list):
                raise TypeError("within is not a list")
            resolution = Resolution(**{**record["resolution"], "prefer_article_ids": tuple(
                record["resolution"]["prefer_article_ids"])})
            turn = cls(answer_from_dict(record["answer"]), resolution, 0.0, int(record["top_k"]),
                       tuple(record.get("within", ())))
        except (TypeError, KeyError, AttributeError, OverflowError) as error:
            raise ValueError(f"not a saved turn: {error}") from error
        if not isinstance(resolution.query, str) or not all(isinstance(i, str) for i in
                                                            (*resolution.prefer_article_ids, *turn.within)):
            raise ValueError("not a saved turn: a field has the wrong type")
        return turn


class Chat:
    """A conversation over a library. One per user: two chats never see each other's turns."""

    def __init__(self, library: Library | None = None, conversation_id: str | None = None) -> None:
        if library is None:
            from qa.defaults import default_library

            library = default_library()
        self.library = library
        # Names the conversation where it is saved (the web chat keeps several per browser): a new one by default.
        self.conversation_id = conversation_id or uuid.uuid4().hex[:12]
        self._turns: list[Turn] = []
        self._lock = threading.Lock()
        self._asking = threading.Lock()

    @classmethod
    def resumed(cls, library: Library, turns: Sequence[Turn], conversation_id: str | None = None) -> Chat:
        """A conversation that goes on from saved turns (Turn.from_dict): follow-ups lean on the last of them."""
        chat = cls(library, conversation_id)
        chat._turns = list(turns)[-MAX_TURNS_KEPT:]
        return chat

    @property
    def turns(self) -> tuple[Turn, ...]:
        """The turns so far, oldest first."""
        with self._lock:
            return tuple(self._turns)

    def reset(self) -> None:
        """Forget every turn: the next question starts a new conversation."""
        with self._lock:
            self._turns.clear()

    def ask(self, question: str, top_k: int = 3, within: Collection[str] = ()) -> Answer:
        """Answer a question, resolving it against the previous turn when it is a follow-up; ValueError for a
        question that is not usable text or a top_k that is not a whole number in range.

        A conversation answers one question at a time, so its turns keep the order they were asked in. The same
        question sent again before its answer was ready (Enter pressed twice, Enter then Ask) gets that answer
        back without a second turn; asked again after it ("What else did he say?" twice), it is a new turn.
        `within`: answer only from these articles (Library.ask), follow-ups included."""
        arrived = time.monotonic()
        question, top_k = clean_question(question), check_top_k(top_k)
        within = self.library.checked_within(within) if within else ()
        with self._asking:
            with self._lock:
                last = self._turns[-1] if self._turns else None
                answered = {(c.article_id, c.start) for turn in self._turns if turn.answer.found
                            for c in turn.answer.citations[:1]}
            if last is not None and last.answer.question == question and last.top_k == top_k \
                    and last.within == within and last.answered_at >= arrived:
                return last.answer
            previous = last.answer if last is not None else None
            resolution = resolve(question, previous, self.articles_with)
            if resolution.continue_previous and previous is not None and previous.found:
                answer = self.library.read_on(question, previous, answered)
            else:
                # `within` was checked above: it goes in the scope, not through Library.ask's check again.
                answer = self.library.ask(question, top_k=top_k, scope=SearchScope(
                    resolution.query, resolution.prefer_article_ids,
                    frozenset(answered) if resolution.skip_answered else frozenset(), within))
            with self._lock:
                turn = Turn(answer, resolution, time.monotonic(), top_k, within)
                self._turns = [*self._turns[-(MAX_TURNS_KEPT - 1):], turn]
            return answer

    def articles_with(self, phrase: str) -> frozenset[str] | None:
        """Return the ids of the articles that hold a phrase, or None if too many sentences do to list them."""
        return self.library.articles_holding(phrase, MAX_PHRASE_SENTENCES)


def resolve(question: str, previous: Answer | None,
            articles_with: Callable[[str], frozenset[str] | None] = lambda phrase: None) -> Resolution:
    """Rewrite a follow-up of `previous` into a query that stands alone; leave any other question as it is.

    `articles_with(phrase)` names the articles holding a phrase (None: too many to say).
    """
    question = " ".join(question.split())
    if previous is None or not question:
        return Resolution(question)
    previous_query = previous.searched_for or previous.question
    elided = _elided_subject(question)
    if elided is not None:
        query, subject = _swap_name(previous_query, elided, articles_with)
        # The new name is all the question says, so the answer lies in an article that holds it.
        holders = articles_with(subject) if subject else None
        return Resolution(query, tuple(sorted(holders or ())))
    tokens = words(question)
    pronoun = _topic_pronoun(tokens)
    person = any(t in _PERSON_PRONOUNS for t in tokens)
    own_words = [w for w in content_words(question) if w not in _CONTINUATION_WORDS]
    if not (pronoun or person or not own_words or any(t in _CONTINUATION_WORDS for t in tokens)):
        return Resolution(question)
    query = question
    if pronoun and not names_in(question):
        topic = _topic_phrase(previous_query, articles_with, plural=pronoun in _PLURAL_PRONOUNS)
        query = _replace_word(question, pronoun, topic) if topic else question
    elif not own_words and not person:  # "Why?", "Tell me more": the previous query says what about
        query = f"{question} ({_unwrapped(previous_query)})"
    # Only an answer the user was given sets the topic; "closest" sentences are often off topic.
    prefer = (previous.citations[0].article_id,) if previous.found and previous.citations else ()
    if prefer and not all(prefer[0] in (articles_with(m.group()) or prefer) for m in names_in(question)):
        prefer = ()  # the question names what the previous article never mentions: a new topic
    more = any(t in _MORE_WORDS for t in tokens)
    return Resolution(query, prefer, skip_answered=more, continue_previous=more and not own_words)


def _unwrapped(query: str) -> str:
    """The topic inside a query that this rule wrote ("Why? (Who co-chaired the dialogue?)"), so that "Why?" after
    "Why?" asks about the same topic instead of nesting it again, growing by a turn each time."""
    while (match := _BARE_FOLLOW_UP.match(query)) and not content_words(match.group("bare")):
        query = match.group("topic")
    return query


def _elided_subject(question: str) -> str | None:
    """Return X of "And the X one?" / "What about X?"; None for a full question ("And what did he say?")."""
    stripped = question.strip().rstrip("?.! ")
    match = _ELLIPSIS.match(stripped)
    if match is None or match.group("rest") == stripped:
        return None
    first = words(match.group("rest"))[:1]
    return None if not first or first[0] in _QUESTION_WORDS else match.group("rest")


def _swap_name(previous_query: str, elided: str, articles_with: Callable[[str], frozenset[str] | None]
               ) -> tuple[str, str]:
    """Put the elided subject's new words in place of the previous query's most distinguishing name.

    Return the new query and the new subject ("" if the elided phrase adds nothing).
    """
    asked_before = set(words(previous_query))
    tokens = [_POSSESSIVE.sub("", token) for token in re.findall(r"[\wÀ-ỹ’'\-]+", elided)]
    new = [t for t in tokens if len(t) > 1 and fold(t) not in STOPWORDS and fold(t) not in asked_before]
    if not new:
        return previous_query, ""
    subject = " ".join(new)
    names = names_in(previous_query)
    if not names:
        return f"{previous_query} {subject}", subject
    # The rarest name is the one that picked out the previous article: "Israel", not "Vietnamese".
    rarest = _rarest(names, lambda m: m.group(), articles_with)
    return previous_query[:rarest.start()] + subject + previous_query[rarest.end():], subject


def _topic_pronoun(tokens: list[str]) -> str | None:
    pronoun = next((t for t in tokens if t in _SINGULAR_PRONOUNS or t in _PLURAL_PRONOUNS), None)
    if pronoun is None and tokens and tokens[-1] in _DEMONSTRATIVES:
        pronoun = tokens[-1]
    return pronoun


def _topic_phrase(previous_query: str, articles_with: Callable[[str], frozenset[str] | None],
                  plural: bool) -> str:
    """What the previous query was about: "the Israel dialogue"; for "they", "Vietnam and Israel"."""
    phrases = [m for m in _TOPIC.finditer(previous_query) if m.start() > 0 or m.group("the")]
    # A bare run of capitalised words is most often a person ("Ngo Xuan Lich"), which "it" never is; a bare name
    # before a word of its own phrase describes that word ("his Japanese visitor"): "it" is not "Japanese".
    things = [m for m in phrases if (" and " in m.group("name")) == plural
              and (m.group("the") or plural
                   or (len(m.group("name").split()) == 1 and not _modifies_next_word(previous_query, m.end())))]
    if not things:
        return ""
    rarest = _rarest(things, lambda m: m.group("name"), articles_with)
    return _POSSESSIVE.sub("", rarest.group().strip())


def _modifies_next_word(text: str, end: int) -> bool:
    """True when the word after `end` continues the phrase: a lower-case word that is not a stop word."""
    following = re.match(r"\s+([a-z]+)\b", text[end:])
    return following is not None and following.group(1) not in STOPWORDS


def _rarest(matches: list[re.Match[str]], name: Callable[[re.Match[str]], str],
            articles_with: Callable[[str], frozenset[str] | None]) -> re.Match[str]:
    """The match whose name is in the fewest articles; the last one among equals."""
    def frequency(match: re.Match[str]) -> float:
        holders = articles_with(_POSSESSIVE.sub("", name(match)))
        return float("inf") if holders is None else len(holders)

    return min(reversed(matches), key=frequency)


def _replace_word(text: str, word: str, replacement: str) -> str:
    if word in ("its", "their", "theirs"):
        replacement = f"{replacement}’s"
    if word == "there":
        replacement = f"at {replacement}"
    return re.sub(rf"\b{re.escape(word)}\b", lambda _: replacement, text, count=1, flags=re.IGNORECASE)
