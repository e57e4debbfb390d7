"""Conversations kept in the browser (qa/web/conversations.py): what is saved reads back, what is damaged is
dropped, the saved value stays within its budget, and exports hold every question, answer and source."""

from __future__ import annotations

import dataclasses
import json

import pytest

from qa.answer import Answer, Citation, answer_from_dict
from qa.chat import Chat, Resolution, Turn
from qa.web import conversations

CITATION = Citation(rank=1, article_id="harbour", title="Harbour news", sentence="The ferry carried 312 people.",
                    start=10, end=39, score=3.2, context="It sailed at dawn. The ferry carried 312 people.",
                    highlights=((28, 31),), date="2026-03-01", source="Coast Times", url="https://example.org/h")


def _turn(question: str, found: bool = True) -> Turn:
    answer = Answer(question, f"{CITATION.sentence} [1]" if found else "The articles do not say.", found,
                    0.93 if found else 0.1, (CITATION,) if found else (), question, () if found else (CITATION,))
    return Turn(answer, Resolution(question, ("harbour",)), 0.0, 3, ("harbour",))


class _Chat:
    """Stands in for a Chat: only its turns and id are read."""

    def __init__(self, turns: tuple[Turn, ...], conversation_id: str) -> None:
        self.turns, self.conversation_id = turns, conversation_id


def test_a_turn_reads_back_as_it_was_saved() -> None:
    turn = _turn("How many people did the ferry carry?")
    again = Turn.from_dict(json.loads(json.dumps(turn.to_dict())))
    assert again.answer == turn.answer and again.resolution == turn.resolution and again.within == ("harbour",)
    assert answer_from_dict(dataclasses.asdict(turn.answer)) == turn.answer


@pytest.mark.parametrize("damage", [
    lambda r: r.pop("answer"),
    lambda r: r["answer"].update(found="yes"),
    lambda r: r["answer"]["citations"][0].update(start="ten"),
    lambda r: r["answer"].update(extra=1),
    lambda r: r["resolution"].update(prefer_article_ids=[1]),
    lambda r: r.update(within="harbour"),
    lambda r: r["answer"].update(citations=[]),  # "found" with nothing cited
    lambda r: r.update(top_k=float("inf")),
])
def test_a_damaged_turn_is_refused(damage) -> None:
    record = json.loads(json.dumps(_turn("How many people did the ferry carry?").to_dict()))
    damage(record)
    with pytest.raises(ValueError):
        Turn.from_dict(record)


def test_saving_naming_renaming_and_deleting() -> None:
    saved = conversations.saved_with(conversations.EMPTY, _Chat((_turn("How many people did the ferry carry?"),),
                                                                "one"))
    saved = conversations.saved_with(saved, _Chat((_turn("Who built the new pier?"),), "two"))
    assert saved["current"] == "two"
    assert conversations.choices(saved) == [("Who built the new pier?", "two"),
                                            ("How many people did the ferry carry?", "one")]
    saved = conversations.renamed(saved, "one", "  Ferry   questions ")
    assert conversations.choices(saved)[0] == ("Ferry questions", "one")  # renamed: now the newest
    with pytest.raises(ValueError, match="name"):
        conversations.renamed(saved, "one", "   ")
    with pytest.raises(ValueError, match="Ask a question first"):
        conversations.renamed(saved, "never-saved", "x")
    saved = conversations.deleted(saved, "one")
    assert [i for _, i in conversations.choices(saved)] == ["two"] and saved["current"] == ""
    assert conversations.with_current(saved, "two")["current"] == "two"
    # An empty chat saves nothing; a damaged conversation, or one without an id, is dropped; the others are kept.
    assert conversations.saved_with(saved, None)["conversations"] == saved["conversations"]
    good = saved["conversations"][0]
    broken = {**saved, "conversations": [*saved["conversations"], {"id": "bad", "name": "x", "turns": [{}]},
                                         {**good, "id": ""}, {**good, "id": "huge", "updated": 10 ** 400}]}
    assert [i for _, i in conversations.choices(broken)] == ["two"]
    assert conversations.read("not a dict") == ("", [])
    with pytest.raises(ValueError):
        Turn.from_dict("not a dict")


def test_resumed_chat_goes_on_from_the_saved_turns() -> None:
    saved = conversations.saved_with(conversations.EMPTY, _Chat((_turn("Who built the pier?"),
                                                                _turn("When?", found=False)), "c"))
    chat = conversations.resumed(saved, "c", library=object())
    assert isinstance(chat, Chat) and [t.answer.question for t in chat.turns] == ["Who built the pier?", "When?"]
    assert chat.conversation_id == "c"  # its answers are saved in the conversation they belong to
    assert conversations.resumed(saved, "other", library=object()) is None


def test_the_saved_value_stays_within_its_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conversations, "MAX_SAVED_BYTES", 6_000)
    saved = conversations.EMPTY
    for n in range(6):
        saved = conversations.saved_with(saved, _Chat(tuple(_turn(f"Question {n}.{k}?") for k in range(2)), f"c{n}"))
    assert len(json.dumps(saved, ensure_ascii=False).encode("utf-8")) <= 6_000
    kept = [i for _, i in conversations.choices(saved)]
    assert kept[0] == "c5" and len(kept) < 6  # the least recently used went first
    # One conversation too long for the budget keeps its newest turns.
    long = conversations.saved_with(conversations.EMPTY, _Chat(tuple(_turn(f"Q{k}?") for k in range(20)), "long"))
    turns = long["conversations"][0]["turns"]
    assert len(json.dumps(long)) <= 6_000 and turns[-1]["answer"]["question"] == "Q19?" and len(turns) < 20


def test_exports_hold_each_question_answer_and_source() -> None:
    turns = (_turn("How many people did the ferry carry?"), _turn("Who owns the ferry?", found=False))
    markdown = conversations.to_markdown("Ferry", turns, "news.idx")
    assert markdown.startswith("# Ferry\n")
    assert "**Q:** How many people did the ferry carry?" in markdown
    assert "**A:** The ferry carried 312 people. [1] (confidence 93%)" in markdown
    assert ("1. “The ferry carried 312 people.” — Harbour news · 2026-03-01 · Coast Times · https://example.org/h "
            "(article harbour, characters 10–39)") in markdown
    assert "**A:** Not found. The articles do not say." in markdown and "Closest sentences, not an answer" in markdown
    exported = json.loads(conversations.to_json("Ferry", turns, "news.idx"))
    assert exported["name"] == "Ferry" and exported["library"] == "news.idx"
    assert [answer_from_dict(t["answer"]) for t in exported["turns"]] == [t.answer for t in turns]


def test_the_listing_of_a_written_value_is_its_choices() -> None:
    saved = conversations.saved_with(conversations.EMPTY, _Chat((_turn("Who built the pier?"),), "a"))
    saved = conversations.saved_with(saved, _Chat((_turn("When did it open?"),), "b"))
    assert conversations.listing(saved) == conversations.choices(saved) == [("When did it open?", "b"),
                                                                             ("Who built the pier?", "a")]
