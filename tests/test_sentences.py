from pathlib import Path

import pytest

from qa.ingest.sentences import MAX_SENTENCE_CHARS, is_photo_caption, split_sentences

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def sentences_of(text: str) -> list[str]:
    return [text[s.start:s.end] for s in split_sentences(text)]


@pytest.mark.parametrize("name", ["000_455ed2948e93ac7b.txt", "004_e8ce38fb4ece313b.txt"])
def test_seed_offsets_round_trip(name: str) -> None:
    text = (SEEDS / name).read_text(encoding="utf-8")
    spans = split_sentences(text)
    assert spans
    for span in spans:
        sentence = text[span.start:span.end]
        assert sentence == sentence.strip() and sentence


def test_abbreviated_ranks_do_not_end_a_sentence() -> None:
    text = (SEEDS / "000_455ed2948e93ac7b.txt").read_text(encoding="utf-8")
    first = next(s for s in sentences_of(text) if "Nguyen Chi Vinh" in s)
    assert first == ("Vietnam and Japan held the 7th defence policy dialogue in Hanoi on November 25 under the "
                     "chair of Vietnamese Deputy Defence Minister Sen. Lt. Gen. Nguyen Chi Vinh and Japanese "
                     "Deputy Defence Minister Nishida Yasunori.")


def test_dateline_and_retired_rank_stay_in_one_sentence() -> None:
    text = (SEEDS / "004_e8ce38fb4ece313b.txt").read_text(encoding="utf-8")
    sentence = next(s for s in sentences_of(text) if "Amir Eshel" in s)
    assert sentence.startswith("The 2nd Việt Nam – Israel Defence Policy Dialogue")  # "HÀ NỘI — " dropped
    assert "Major General (retired) Amir Eshel, Director General of the Israeli Ministry of Defence." in sentence


def test_wire_trailers_are_not_sentences() -> None:
    japan = sentences_of((SEEDS / "000_455ed2948e93ac7b.txt").read_text(encoding="utf-8"))
    israel = sentences_of((SEEDS / "004_e8ce38fb4ece313b.txt").read_text(encoding="utf-8"))
    assert japan[-1] == "He took the occasion to present his Japanese guest with the newly-published 2019 White " \
                        "Paper on Vietnam National Defence."
    assert israel[-1].endswith("between the two defence ministries.")
    for junk in ("/.", "VNA", "— VNS", "VIETNAM, June 2 -", "— VNA/VNS Photo"):
        assert junk not in japan + israel
    assert not any(s.startswith("Hanoi (VNA)") for s in japan)


def test_glued_photo_caption_is_split_from_the_title() -> None:
    japan = sentences_of((SEEDS / "000_455ed2948e93ac7b.txt").read_text(encoding="utf-8"))
    assert japan[0] == "Vietnam, Japan hold 7th defence policy dialogue"
    assert japan[1].startswith("The\xa07th defemce policy dialogue") and japan[1].endswith("(Photo: qdnd.vn)")


def test_photo_captions_are_recognised_by_their_credit() -> None:
    text = ("Vietnam, Japan hold talks hinh anh 1The talks in Hanoi (Photo: qdnd.vn)\n\n"
            "Signing ceremony in Hà Nội on Thursday. — VNA/VNS Photo\n\nThe two sides met. He spoke of photos.")
    captions = [text[s.start:s.end] for s in split_sentences(text) if is_photo_caption(text, s)]
    assert captions == ["The talks in Hanoi (Photo: qdnd.vn)", "Signing ceremony in Hà Nội on Thursday."]


def test_common_abbreviations_and_quotes() -> None:
    text = 'The U.S. Army met Sen. Lt. Gen. Nguyen Chi Vinh on Monday. He said "Yes." Then he left.'
    assert sentences_of(text) == ["The U.S. Army met Sen. Lt. Gen. Nguyen Chi Vinh on Monday.", 'He said "Yes."',
                                  "Then he left."]


def test_run_on_text_is_cut_at_spaces() -> None:
    text = "word " * 1000
    spans = split_sentences(text)
    assert len(spans) > 1
    assert all(s.end - s.start <= MAX_SENTENCE_CHARS for s in spans)
    assert all(text[s.start:s.end] == text[s.start:s.end].strip() for s in spans)


def test_empty_text_has_no_sentences() -> None:
    assert split_sentences("") == [] and split_sentences(" \n\n ") == []
