"""Questions made safe to search, and the names they use."""

from __future__ import annotations

import pytest

from qa.search.question import name_units, names_in


@pytest.mark.parametrize("question,names", [
    ("Where was the Vietnam-Israel defence policy dialogue held?", ["Vietnam-Israel"]),
    ("What Denver player caused two fumbles?", ["Denver"]),  # the first word is capitalised as the start
    ("Who is Amir Eshel?", ["Amir Eshel"]),
    ("When did it take place?", []),
    ("Israel?", []),
])
def test_names_leave_out_the_question_s_first_word(question: str, names: list[str]) -> None:
    assert [m.group() for m in names_in(question)] == names


def test_name_units_split_joined_names_and_keep_a_person_whole() -> None:
    assert name_units("Where was the Vietnam-Israel dialogue held?") == [("vietnam",), ("israel",)]
    assert name_units("What did Hoàng Xuân Chiến say about Israel?") == [("hoang", "xuan", "chien"), ("israel",)]
    assert name_units("What did the Minister Of Defence say?") == [("minister", "defence")]  # no stop words
    assert name_units("what did vietnam consult japan about") == []  # no capitals, no names


@pytest.mark.parametrize("margin", [-1.0, float("nan")])
def test_a_citation_margin_that_would_cut_every_answer_is_refused(margin: float) -> None:
    from qa.search.retrieval import RetrievalSettings

    with pytest.raises(ValueError, match="citation_margin must be 0 or more"):
        RetrievalSettings(citation_margin=margin)
