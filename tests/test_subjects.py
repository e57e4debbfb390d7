"""subject_positions: which earlier sentence introduced the person a sentence is about."""

from qa.ingest.subjects import subject_positions


def test_pronouns_descriptions_and_surnames_point_to_where_the_person_was_introduced() -> None:
    sentences = [
        "The dialogue took place in Hà Nội on Thursday.",
        "It was co-chaired by Deputy Minister Sen. Lt. Gen. Hoàng Xuân Chiến and Gen. Amir Eshel.",
        "They compared notes on regional security.",
        "Chiến showed his joy at Israel's success.",
        "Later, Minister of National Defence Gen. Ngo Xuan Lich hosted a reception.",
        "He urged the two sides to act.",
        "According to the Vietnamese officer, maritime security poses challenges.",
        "Hoang Xuan Chien also spoke of training.",
    ]
    assert subject_positions(sentences) == [None, None, 1, 1, None, 4, 4, 1]


def test_names_without_a_rank_or_office_introduce_no_one() -> None:
    assert subject_positions(["The White Paper was published.", "He presented the White Paper."]) == [None, None]
