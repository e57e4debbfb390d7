"""ask() on the seed articles, with the real model: quality on seeds/questions.jsonl, and bad input."""

from pathlib import Path

import pytest

from qa import ask
from qa.evaluation.cases import load_question_set
from qa.library import Library
from qa.search.confidence import CONFIDENCE_FEATURES, confidence_features

SEED_QUESTIONS = load_question_set(Path(__file__).resolve().parent.parent / "seeds" / "questions.jsonl")


def test_question_file_is_well_formed() -> None:
    answerable = [c for c in SEED_QUESTIONS.cases if c.answerable]
    assert not SEED_QUESTIONS.errors and len(SEED_QUESTIONS.cases) >= 40 and len(answerable) < 50


# The seed questions are part of the fitted ranker's training data (training/fit_ranker.py), so these guard the
# shipped model's in-sample figures: 32/42 answered (found) with the expected sentence first, 36/42 ranked first,
# 32/42 answered right among 54 unrelated articles. Held out by article, 35/42 rank first (BENCHMARKS.md). The
# hand-set weights this model replaced, fitted on these questions, had 38, 39 and 33, and 0.52 answered right on
# the news development set, where the fitted model has 0.55 held out.
SEED_ANSWERED_RIGHT = 32
SEED_RANKED_FIRST = 36
SEED_ANSWERED_RIGHT_AMONG_UNRELATED = 32


ANSWERABLE = [c for c in SEED_QUESTIONS.cases if c.answerable]


def _not_answered_right(library: Library) -> list[str]:
    """The answerable seed questions that ask() does not answer with the expected sentence first."""
    misses = []
    for case in ANSWERABLE:
        answer = library.ask(case.question)
        if not (answer.found and case.is_hit(answer.citations[0])):
            misses.append(case.question)
    return misses


def _unanswerable_found(library: Library) -> list[str]:
    return [c.question for c in SEED_QUESTIONS.cases if not c.answerable and library.ask(c.question).found]


def test_seed_questions_are_answered_with_the_expected_sentence_first(seed_library: Library) -> None:
    """A "not found" answer presents no citation, so the expected sentence must also be answered, not only ranked."""
    misses = _not_answered_right(seed_library)
    assert len(ANSWERABLE) - len(misses) >= SEED_ANSWERED_RIGHT, misses


def test_seed_questions_rank_the_expected_sentence_first_in_search(seed_library: Library) -> None:
    misses = [c.question for c in ANSWERABLE if not c.is_hit(seed_library.search(c.question, top_k=1)[0])]
    assert len(ANSWERABLE) - len(misses) >= SEED_RANKED_FIRST, misses


def test_every_unanswerable_question_is_not_found(seed_library: Library) -> None:
    assert _unanswerable_found(seed_library) == []


def test_unrelated_articles_do_not_make_unanswerable_questions_answerable(
        seeds_among_unrelated_articles: Library) -> None:
    assert _unanswerable_found(seeds_among_unrelated_articles) == []


def test_seed_questions_are_answered_among_unrelated_articles(seeds_among_unrelated_articles: Library) -> None:
    assert seeds_among_unrelated_articles.counts() == (56, 241)
    misses = _not_answered_right(seeds_among_unrelated_articles)
    assert len(ANSWERABLE) - len(misses) >= SEED_ANSWERED_RIGHT_AMONG_UNRELATED, misses


def test_the_story_is_cited_before_the_headline_that_sums_it_up(seeds_among_unrelated_articles: Library) -> None:
    where = seeds_among_unrelated_articles.ask("Where was the 7th Vietnam-Japan dialogue held?").citations[0]
    assert where.sentence.startswith("Vietnam and Japan held the 7th defence policy dialogue in Hanoi")
    headline = seeds_among_unrelated_articles.ask("What is the headline of the story about the Vietnam-Japan talks?")
    assert headline.found and headline.citations[0].sentence == "Vietnam, Japan hold 7th defence policy dialogue"


@pytest.mark.slow
@pytest.mark.parametrize("library_name", ["seed_library", "seeds_among_unrelated_articles"])
def test_a_question_about_words_the_article_never_uses_is_not_found(library_name: str,
                                                                    request: pytest.FixtureRequest) -> None:
    library = request.getfixturevalue(library_name)
    question = "What weapons did Vietnam buy from Israel?"
    ranked, candidates = library.retriever.rank(question, 1)
    logits = library.settings.models().ranker.logits(candidates.features)
    evidence = confidence_features(question, candidates, logits, ranked[0][0])
    absent = evidence[CONFIDENCE_FEATURES.index("absent_share")]
    # "weapons" and "buy": most of the question's weight, whatever else the library holds.
    assert absent > 0.6
    answer = library.ask(question)
    # The Israel lead is the closest sentence (same countries, defence), but it does not say.
    assert not answer.found and answer.closest[0].article_id == "004_e8ce38fb4ece313b"


def test_the_story_is_cited_before_a_photo_caption_that_restates_it(seed_library: Library) -> None:
    # Ranked, not answered: "Where was the Israel dialogue held?" is answered "not found" (confidence below 0.5).
    where = seed_library.search("Where was the Israel dialogue held?")[0]
    assert where.sentence.startswith("The 2nd Việt Nam – Israel Defence Policy Dialogue took place in Hà Nội")
    photo = seed_library.search("What does the photo in the Israel article show?")[0]
    assert photo.sentence.startswith("Signing ceremony for the minutes of the second")


def test_co_chairs_answer_is_cited_with_exact_offsets(seed_library: Library) -> None:
    answer = seed_library.ask("Who co-chaired the Israel dialogue?")
    assert answer.found and 0 < answer.confidence <= 1
    top = answer.citations[0]
    assert top.article_id == "004_e8ce38fb4ece313b" and "Amir Eshel" in top.sentence
    text = seed_library.store.article(top.article_id).text
    assert text[top.start:top.end] == top.sentence
    assert top.sentence in top.context
    marked = [text[s:e] for s, e in top.highlights]
    assert marked == ["Hoàng Xuân Chiến", "Amir Eshel"]  # the co-chairs, joined by "and", each after their office
    assert [c.rank for c in answer.citations] == list(range(1, len(answer.citations) + 1))


def test_not_found_says_so_plainly_without_citations(seed_library: Library) -> None:
    answer = seed_library.ask("What is the population of Tokyo?")
    assert not answer.found and answer.citations == () and "do not say" in answer.text


@pytest.mark.parametrize("query,expected", [("Hoang Xuan Chien", "Hoàng Xuân Chiến"), ("Ha Noi", "Hà Nội")])
def test_lexical_search_ignores_case_and_diacritics(seed_library: Library, query: str, expected: str) -> None:
    from qa.search.question import fts_query_for

    ids = seed_library.store.lexical_search(fts_query_for(query), 5)
    assert any(expected in row.text for row in seed_library.store.sentences(ids).values())


@pytest.mark.parametrize("question", ["", "   \n\t "])
def test_empty_question_is_a_value_error(seed_library: Library, question: str) -> None:
    with pytest.raises(ValueError, match="empty"):
        seed_library.ask(question)


def test_huge_question_is_refused_quickly_with_the_limit(seed_library: Library) -> None:
    with pytest.raises(ValueError, match="limit is 1000"):
        seed_library.ask("x" * 1_000_000)


@pytest.mark.parametrize("question,cleaned", [
    ("Who\x00 co-chaired\x1b[31m the Israel dialogue?", "Who co-chaired the Israel dialogue?"),
    ("Who \ud800chaired?", "Who ?chaired?"),
    (b"Who chaired \xff\xfe?".decode("utf-8", "surrogateescape"), "Who chaired ???")])
def test_control_characters_and_surrogates_are_cleaned_not_crashed_on(seed_library: Library, question: str,
                                                                       cleaned: str) -> None:
    assert seed_library.ask(question).question == cleaned


@pytest.mark.parametrize("question", ['"Israel', "Israel*", "Israel AND", "(Israel"])
def test_fts_syntax_is_read_as_plain_words(seed_library: Library, question: str) -> None:
    citations = seed_library.search(question, top_k=3)
    assert [c.article_id for c in citations] == ["004_e8ce38fb4ece313b"] * 3  # the Israel article's


def test_a_question_of_fts_operators_only_is_searched_as_words(seed_library: Library) -> None:
    assert len(seed_library.search('NEAR(a b) OR "x" NOT y:', top_k=3)) == 3


def test_top_k_larger_than_the_corpus_gives_every_sentence_once(seed_library: Library) -> None:
    citations = seed_library.search("defence", top_k=100)
    assert len(citations) == len({c.sentence for c in citations}) == seed_library.counts()[1] == 21


@pytest.mark.slow
def test_default_library_answers_from_the_seeds() -> None:
    answer = ask("Where was the 7th Vietnam-Japan dialogue held?")
    assert answer.found and answer.citations[0].article_id == "000_455ed2948e93ac7b"


@pytest.mark.parametrize("question", [
    "Who co-chaired the Israel dialogue?",
    "What did the Vietnamese and Japanese defence officials, meeting in Tokyo for the seventh policy dialogue, "
    "agree about training, peacekeeping, military medicine, cyber security, defence industry and rescue?"])
def test_a_question_sends_a_fixed_handful_of_sql_statements(seed_library: Library, question: str) -> None:
    """The evidence of every candidate comes from one bulk read, whatever the question's length (qa/search/evidence.py):
    the searched words' sentence counts and the full-text candidates (on the full-text thread), the rows, the
    articles, their word counts, the library's, the threshold."""
    # The full-text search runs on a pool thread with its own connection: trace every connection the store hands out.
    statements: list[str] = []
    traced: list = []
    store_type, plain_db = type(seed_library.store), type(seed_library.store)._db

    def tracing_db(store):  # noqa: ANN001, ANN202
        db = plain_db(store)
        db.set_trace_callback(statements.append)
        traced.append(db)
        return db

    store_type._db = tracing_db
    try:
        answer = seed_library.ask(question, top_k=5)
    finally:
        store_type._db = plain_db
        for db in traced:
            db.set_trace_callback(None)
    assert answer.citations or answer.closest
    # FTS5's own reads beneath a query start with "--"; those of its first query on a connection name 'main'.
    sent = [sql for sql in statements if not sql.startswith("--") and "'main'." not in sql]
    assert len(sent) == 7, sent


JAPAN_SEED, ISRAEL_SEED = "000_455ed2948e93ac7b", "004_e8ce38fb4ece313b"


def test_ask_within_answers_only_from_the_chosen_articles(seeds_among_unrelated_articles: Library) -> None:
    library = seeds_among_unrelated_articles
    question = "Who co-chaired the Israel dialogue?"
    whole = library.ask(question)
    assert whole.found and whole.citations[0].article_id == ISRAEL_SEED
    # Within the Israel seed: the same answer, every citation from it.
    within = library.ask(question, top_k=5, within=[ISRAEL_SEED])
    assert within.found and within.citations[0].sentence == whole.citations[0].sentence
    assert {c.article_id for c in within.citations} == {ISRAEL_SEED}
    # Within the Japan seed only: nothing there answers it, and no other article is cited, not even as closest.
    elsewhere = library.ask(question, top_k=5, within=[JAPAN_SEED])
    assert {c.article_id for c in (*elsewhere.citations, *elsewhere.closest)} == {JAPAN_SEED}


def test_ask_within_refuses_what_is_not_a_choice_of_articles(seed_library: Library) -> None:
    with pytest.raises(ValueError, match="not in the library: nope"):
        seed_library.ask("Who co-chaired the Israel dialogue?", within=[ISRAEL_SEED, "nope"])
    with pytest.raises(ValueError, match="list of article ids"):
        seed_library.ask("Who co-chaired the Israel dialogue?", within=ISRAEL_SEED)
    with pytest.raises(ValueError, match="at most 20 articles"):
        seed_library.ask("Who co-chaired the Israel dialogue?", within=[f"a{n}" for n in range(21)])
    # The public ask() and a chat take the same choice; a follow-up stays within it.
    assert ask("Who co-chaired the Israel dialogue?", library=seed_library, within=[JAPAN_SEED]).citations[:1] != \
        ask("Who co-chaired the Israel dialogue?", library=seed_library).citations[:1]


def test_citations_far_below_the_first_are_not_shown(seeds_among_unrelated_articles: Library) -> None:
    library = seeds_among_unrelated_articles
    margin = library.settings.citation_margin
    # A sharp question: its answer stands far above every other sentence, so ten asked for are not ten shown.
    sharp = library.ask("Who co-chaired the Israel dialogue?", top_k=10)
    ranked = library.search("Who co-chaired the Israel dialogue?", top_k=10)  # search() ranks top_k, no floor
    assert sharp.found and len(ranked) == 10 and 1 <= len(sharp.citations) < 10
    assert [c.sentence for c in sharp.citations] == [c.sentence for c in ranked[:len(sharp.citations)]]
    assert all(sharp.citations[0].score - c.score <= margin for c in sharp.citations)
    assert ranked[len(sharp.citations)].score < sharp.citations[0].score - margin
    # A "not found" keeps its closest sentences to the same floor.
    lima = library.ask("What is the population of Lima, Peru?", top_k=10)
    assert not lima.found and all(lima.closest[0].score - c.score <= margin for c in lima.closest)
