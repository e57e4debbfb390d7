"""Conversations kept in the browser: several per browser, named, resumed after a reload or a server restart,
exported as Markdown or JSON.

They live in the page's localStorage (Gradio's BrowserState), not on the server: a conversation is the user's,
the server keeps none of it past the session, and it survives the server. What comes back from the browser is
untrusted: each saved turn is read back with Turn.from_dict, and a conversation that does not read is dropped.
The value kept is plain JSON: {"current": id, "conversations": [{"id", "name", "updated", "turns": [...]}]}.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from datetime import UTC, datetime

from qa.answer import Answer, Citation
from qa.chat import Chat, Turn
from qa.library import Library

logger = logging.getLogger(__name__)

STORAGE_KEY = "news-qa-conversations"
# BrowserState encrypts with a key it sends to the page, so the key protects nothing the page cannot read; a
# fixed one (Gradio draws a new one at each server start) lets a conversation outlive a server restart.
STORAGE_SECRET = "news-qa-conversations-v1"
MAX_CONVERSATIONS = 20  # the least recently used go first
# localStorage holds about 5 MB an origin, counted in UTF-16 (2 bytes a character). BrowserState stores the JSON
# encrypted, as base64 of its UTF-8 bytes: 4 characters for 3 bytes. 1.5 MB of UTF-8 is then 2 million
# characters, 4 MB, and keeps about 150 turns with 10 citations (10 KB each); past it the least recently used
# conversations, then the oldest turns of the one left, are dropped: a save over the quota fails silently.
MAX_SAVED_BYTES = 1_500_000
MAX_NAME_CHARS = 80
EMPTY: dict = {"current": "", "conversations": []}


@dataclasses.dataclass(frozen=True)
class Conversation:
    """One saved conversation."""

    conversation_id: str
    name: str
    turns: tuple[Turn, ...]
    updated: float  # time.time() of its last question or rename: the list shows the newest first


def read(saved: object) -> tuple[str, list[Conversation]]:
    """The current conversation's id and every saved conversation that reads back, newest first."""
    if not isinstance(saved, dict) or not isinstance(saved.get("conversations"), list):
        return "", []
    conversations = []
    for record in saved["conversations"][:MAX_CONVERSATIONS]:
        try:
            turns = tuple(Turn.from_dict(t) for t in record["turns"])
            if not isinstance(record["id"], str) or not record["id"]:
                raise ValueError("no conversation id")
            conversations.append(Conversation(record["id"], str(record["name"])[:MAX_NAME_CHARS], turns,
                                              float(record.get("updated", 0.0))))
        except (TypeError, KeyError, ValueError, OverflowError) as error:
            logger.info("Dropped a saved conversation that does not read back: %s", error)
    current = saved.get("current")
    return (current if isinstance(current, str) else ""), sorted(conversations, key=lambda c: -c.updated)


def write(current: str, conversations: list[Conversation]) -> dict:
    """The value to keep in the browser, within MAX_CONVERSATIONS and MAX_SAVED_BYTES."""
    kept = sorted(conversations, key=lambda c: -c.updated)[:MAX_CONVERSATIONS]
    while True:
        value = {"current": current, "conversations": [
            {"id": c.conversation_id, "name": c.name, "updated": c.updated, "turns": [t.to_dict() for t in c.turns]}
            for c in kept]}
        if len(json.dumps(value, ensure_ascii=False).encode("utf-8")) <= MAX_SAVED_BYTES or not kept \
                or not kept[-1].turns:
            return value
        kept = kept[:-1] if len(kept) > 1 else [dataclasses.replace(kept[0], turns=kept[0].turns[1:])]


def name_for(turns: tuple[Turn, ...]) -> str:
    """A new conversation is named after its first question."""
    first = turns[0].answer.question if turns else "New conversation"
    return first if len(first) <= MAX_NAME_CHARS else first[:MAX_NAME_CHARS - 1].rsplit(" ", 1)[0] + "…"


def saved_with(saved: object, chat: Chat | None) -> dict:
    """The saved value with the chat's turns as its conversation (added if new), made the current one."""
    current, conversations = read(saved)
    turns = chat.turns if chat is not None else ()
    if not turns:
        return write(current, conversations)
    current = chat.conversation_id
    old = next((c for c in conversations if c.conversation_id == current), None)
    name = old.name if old is not None else name_for(turns)
    others = [c for c in conversations if c.conversation_id != current]
    return write(current, [Conversation(current, name, turns, time.time()), *others])


def renamed(saved: object, conversation_id: str, name: str) -> dict:
    """The saved value with a conversation renamed; ValueError for an empty name or an unsaved conversation."""
    name = " ".join((name or "").split())
    if not name:
        raise ValueError("Give the conversation a name.")
    current, conversations = read(saved)
    if not any(c.conversation_id == conversation_id for c in conversations):
        raise ValueError("Ask a question first: a conversation is saved with its first answer.")
    return write(current, [dataclasses.replace(c, name=name[:MAX_NAME_CHARS], updated=time.time())
                           if c.conversation_id == conversation_id else c for c in conversations])


def deleted(saved: object, conversation_id: str) -> dict:
    """The saved value without a conversation; none is current (the next question starts a new one)."""
    _, conversations = read(saved)
    return write("", [c for c in conversations if c.conversation_id != conversation_id])


def with_current(saved: object, conversation_id: str) -> dict:
    """The saved value with another conversation current ("": a new one, not saved until its first answer)."""
    return write(conversation_id, read(saved)[1])


def resumed(saved: object, conversation_id: str, library: Library) -> Chat | None:
    """The chat of a saved conversation, going on from its last turn (None for an unsaved one)."""
    _, conversations = read(saved)
    found = next((c for c in conversations if c.conversation_id == conversation_id), None)
    return Chat.resumed(library, found.turns, conversation_id) if found is not None else None


def choices(saved: object) -> list[tuple[str, str]]:
    """(name, id) of each saved conversation, newest first, for the conversation list."""
    return [(c.name, c.conversation_id) for c in read(saved)[1]]


def listing(written: dict) -> list[tuple[str, str]]:
    """choices() of a value write() just made: already read and ordered, so not parsed again."""
    return [(c["name"], c["id"]) for c in written["conversations"]]


def _citation_line(citation: Citation) -> str:
    known = " · ".join(x for x in (citation.title, citation.date, citation.source, citation.url) if x)
    return (f"{citation.rank}. “{citation.sentence}” — {known} (article {citation.article_id}, characters "
            f"{citation.start}–{citation.end})")


def to_markdown(name: str, turns: tuple[Turn, ...], library_name: str) -> str:
    """The conversation as Markdown: each question, its answer and its numbered sources."""
    exported = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"# {name}", "", f"Exported {exported} from News QA (library {library_name}).", ""]
    return "\n".join([*lines, *(turn_markdown(turn.answer) + "\n" for turn in turns)])


def turn_markdown(answer: Answer) -> str:
    """One question and its answer with numbered sources, as Markdown (an export, the copy button)."""
    lines = [f"**Q:** {answer.question}", ""]
    if answer.searched_for and answer.searched_for != answer.question:
        lines += [f"*Searched for: {answer.searched_for}*", ""]
    if answer.found:
        lines += [f"**A:** {answer.text} (confidence {answer.confidence:.0%})", "", "Sources:", ""]
        lines += [_citation_line(c) for c in answer.citations]
    else:
        lines += [f"**A:** Not found. {answer.text}"]
        if answer.closest:
            lines += ["", "Closest sentences, not an answer:", ""] + [_citation_line(c) for c in answer.closest]
    return "\n".join(lines)


def to_json(name: str, turns: tuple[Turn, ...], library_name: str) -> str:
    """The conversation as JSON: its name, the library, and each turn's full answer (as ask() returns it)."""
    return json.dumps({"name": name, "library": library_name, "exported": datetime.now(UTC).isoformat(),
                       "turns": [{"question": t.answer.question, "top_k": t.top_k, "within": list(t.within),
                                  "answer": dataclasses.asdict(t.answer)} for t in turns]},
                      ensure_ascii=False, indent=2)
