"""Marked answer words: which names, dates and numbers of a cited sentence answer the question."""

from __future__ import annotations

import pytest

from qa.highlight import answer_highlights

JAPAN_LEAD = ("Hanoi (VNA) – Vietnam and Japan held the 7th defence policy dialogue in Hanoi on November 25 under the "
              "chair of Vietnamese Deputy Defence Minister Sen. Lt. Gen. Nguyen Chi Vinh and Japanese Deputy Defence "
              "Minister Nishida Yasunori.")
RECEPTION = ("Later the same day, Vietnamese Minister of National Defence Gen. Ngo Xuan Lich hosted a reception for "
             "Nishida Yasunori during which Lich highlighted the annual defence policy dialogue.")


def _marked(question: str, sentence: str) -> list[str]:
    return [sentence[start:end] for start, end in answer_highlights(question, sentence)]


@pytest.mark.parametrize("question,marked", [
    # Names joined by "and", each after an office, hold the same role: both answer.
    ("Who chaired the Vietnam-Japan dialogue?", ["Nguyen Chi Vinh", "Nishida Yasunori"]),
    # Unless the question picks one out by its office.
    ("Who chaired the dialogue on the Vietnamese side?", ["Nguyen Chi Vinh"]),
    ("Who led the Japanese side at the 7th dialogue?", ["Nishida Yasunori"]),
    ("When was the Vietnam-Japan dialogue held?", ["November 25"]),
])
def test_coordinated_names_are_marked_together_unless_the_question_tells_them_apart(question: str,
                                                                                      marked: list[str]) -> None:
    assert _marked(question, JAPAN_LEAD) == marked


def test_a_name_not_joined_by_and_is_not_marked_with_the_answer() -> None:
    assert _marked("Who hosted a reception?", RECEPTION) == ["Ngo Xuan Lich"]


def test_names_the_question_already_uses_are_not_marked() -> None:
    assert _marked("Who hosted Nishida Yasunori?", RECEPTION) == ["Ngo Xuan Lich"]
