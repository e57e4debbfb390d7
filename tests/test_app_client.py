"""The app's API through gradio_client, against a server on a free port; its upload checks and HTML escaping."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from embeddings.encoder import Encoder
from qa.answer import Answer, Citation
from qa.library import Library
from qa.web import app, uploads
from qa.web import html as answer_html

ROOT = Path(__file__).resolve().parent.parent
CO_CHAIRS = "Who co-chaired the Israel dialogue?"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> Library:
    """A copy of the seed articles, so uploads never touch the real index."""
    folder = tmp_path_factory.mktemp("client")
    shutil.copytree(ROOT / "seeds", folder / "articles", ignore=shutil.ignore_patterns("*.jsonl"))
    return Library.build(folder / "articles", folder / "index.idx", encoder)


@pytest.fixture(scope="module")
def server_url(library: Library) -> Iterator[str]:
    port = _free_port()
    demo = app.serve(library, port=port)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


@pytest.fixture
def client(server_url: str):
    from gradio_client import Client

    return Client(server_url, verbose=False)


@pytest.mark.slow
def test_ask_returns_the_answer_with_its_citations(client, library: Library) -> None:
    reply = client.predict(CO_CHAIRS, 3, api_name="/ask")
    json.dumps(reply)  # plain JSON data
    assert reply["found"] and reply["question"] == CO_CHAIRS
    assert 1 <= len(reply["citations"]) <= 3
    first = reply["citations"][0]
    assert "Hoàng Xuân Chiến" in first["sentence"] and "Amir Eshel" in first["sentence"]
    text = library.store.article(first["article_id"]).text
    assert text[first["start"]:first["end"]] == first["sentence"]
    assert "Hoàng Xuân Chiến" in {text[s:e] for s, e in first["highlights"]}


@pytest.mark.slow
def test_top_k_is_optional_and_bounded(client) -> None:
    # top_k is an upper bound: a citation far below the first is not shown (RetrievalSettings.citation_margin).
    broad = "What did Vietnam and Japan agree at the dialogue?"
    assert 2 <= len(client.predict(broad, api_name="/ask")["citations"]) <= app.DEFAULT_TOP_K
    assert len(client.predict(broad, 1, api_name="/ask")["citations"]) == 1
    within = client.predict(CO_CHAIRS, 3, ["004_e8ce38fb4ece313b"], api_name="/ask")["citations"]
    assert {c["article_id"] for c in within} == {"004_e8ce38fb4ece313b"}


@pytest.mark.slow
def test_follow_up_in_one_client_session_is_resolved(client) -> None:
    client.predict(CO_CHAIRS, api_name="/ask")
    reply = client.predict("When did it take place?", api_name="/ask")
    assert reply["searched_for"] == "When did the Israel dialogue take place?"
    assert "took place in Hà Nội on Thursday" in reply["citations"][0]["sentence"]


@pytest.mark.slow
def test_two_clients_do_not_share_a_conversation(server_url: str) -> None:
    from gradio_client import Client

    first, second = Client(server_url, verbose=False), Client(server_url, verbose=False)
    first.predict(CO_CHAIRS, api_name="/ask")
    assert second.predict("When did it take place?", api_name="/ask")["searched_for"] == "When did it take place?"


@pytest.mark.slow
def test_empty_question_is_an_error_with_the_reason(client) -> None:
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="empty"):
        client.predict("   ", api_name="/ask")


@pytest.mark.slow
def test_uploaded_article_is_answerable_through_the_api(client, tmp_path: Path) -> None:
    from gradio_client import handle_file

    article = tmp_path / "ferry.txt"
    article.write_text("Lake Gazette\n\nThe new Mwanza ferry is captained by Rehema Lusekelo.\n", encoding="utf-8")
    assert client.predict([handle_file(str(article))], api_name="/upload").startswith("Added 1 article")
    reply = client.predict("Who captains the Mwanza ferry?", api_name="/ask")
    assert reply["citations"][0]["article_id"] == "upload/ferry"


def _upload_file(tmp_path: Path, name: str, content: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


@pytest.mark.parametrize("name,content,reason", [
    ("report.pdf", b"%PDF-1.4", "not an article file"),
    ("big.txt", b"word " * 500_000, "2.4 MB; the limit is 2 MB"),
    ("binary.md", b"title\x00\x01", "binary"),
    ("records.jsonl", b'{"question": "not an article"}\n', "no article records"),
])
def test_refused_upload_says_why_and_is_not_kept(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    path = _upload_file(tmp_path, name, content)
    message = uploads.add_uploads(library=None, paths=[path])  # nothing is added, so no library is needed
    assert message.startswith(f"Refused: {name} (") and reason in message
    assert not Path(path).exists()  # uploads are deleted once read: never served back


def test_an_upload_in_a_legacy_encoding_is_read(tmp_path: Path) -> None:
    path = Path(_upload_file(tmp_path, "latin1.txt", "Café news\n\nThe café in Zürich reopened.".encode("cp1252")))
    (article,) = uploads.read_upload(path)
    assert article.text == "Café news\n\nThe café in Zürich reopened." and article.title == "Café news"


def test_upload_ids_are_prefixed_so_an_upload_never_replaces_an_indexed_article(tmp_path: Path) -> None:
    path = Path(_upload_file(tmp_path, "004_e8ce38fb4ece313b.txt", b"A title\n\nA sentence."))
    assert [a.article_id for a in uploads.read_upload(path)] == ["upload/004_e8ce38fb4ece313b"]
    lines = b'{"id": "a1", "text": "One."}\n{"id": "a2", "text": "Two."}\n'
    records = Path(_upload_file(tmp_path, "batch.jsonl", lines))
    assert [a.article_id for a in uploads.read_upload(records)] == ["upload/a1", "upload/a2"]


HOSTILE = '<script>alert(1)</script> <img src=x onerror=alert(1)> [x](javascript:alert(1)) ${alert(1)} {{7*7}} `x`'


def _citation(sentence: str, highlights: tuple[tuple[int, int], ...] = ()) -> Citation:
    return Citation(rank=1, article_id='id" onclick="alert(1)', title="<b>title</b>", sentence=sentence, start=100,
                    end=100 + len(sentence), score=1.0, context=f"before {sentence} after", highlights=highlights)


def test_every_piece_of_article_text_is_escaped() -> None:
    markup = answer_html.format_citation(_citation(HOSTILE, ((100, 108),)))
    for dangerous in ("<script", "<img", "<b>", '" onclick', "${", "{{", "`"):
        assert dangerous not in markup
    assert "<mark>&lt;script&gt;</mark>alert(1)&lt;/script&gt;" in markup
    assert "&lt;img src=x onerror=alert(1)&gt;" in markup


def test_highlights_mark_the_answer_words_inside_the_sentence() -> None:
    sentence = "Chaired by Amir Eshel and Hoàng Xuân Chiến."
    markup = answer_html.format_sentence(_citation(sentence, ((111, 121), (126, 142))))
    assert markup == "Chaired by <mark>Amir Eshel</mark> and <mark>Hoàng Xuân Chiến</mark>."



def test_context_around_a_citation_is_cut_between_words() -> None:
    words = " ".join(f"word{n}" for n in range(60))
    citation = dataclasses.replace(_citation("The cited sentence."), context=f"{words} The cited sentence. {words}")
    markup = answer_html.format_citation(citation)
    before, after = re.findall(r'<span class="qa-context">([^<]*)</span>', markup)
    assert before.startswith("…") and before.endswith("word59 ") and after.startswith(" word0 ")
    assert after.endswith("…")
    shown = before.strip("… ").split() + after.strip("… ").split()
    assert len(shown) > 20 and set(shown) <= set(words.split())  # whole words only


def test_not_found_answer_is_formatted_differently() -> None:
    found = Answer("q", "s [1]", True, 0.9, (_citation("s"),), "q")
    not_found = Answer("q", "The articles do not say.", False, 0.1, (), "q", (_citation("s"),))
    shown = answer_html.format_turn(_turn(found), {})
    assert "qa-found" in shown and "Confidence 90%" in shown and '<sup class="qa-marker">[1]</sup>' in shown
    formatted = answer_html.format_turn(_turn(not_found), {})
    assert "qa-not-found" in formatted and "Not found" in formatted and "not an answer" in formatted
    assert "Confidence" not in formatted  # a "not found" gives no confidence figure to misread


def _turn(answer: Answer):
    from qa.chat import Resolution, Turn

    return Turn(answer, Resolution(answer.question))


def test_every_font_file_the_ui_loads_has_every_letter_of_the_articles() -> None:
    # Gradio's bundled SemiBold files are subsets: a heading drawn with one mixed two fonts ("News Q" + "A").
    import gradio as gr
    from fontTools.ttLib import TTFont

    letters = {c for path in (ROOT / "seeds").glob("*.txt") for c in path.read_text(encoding="utf-8") if c.isalpha()}
    frontend = Path(gr.__file__).parent / "templates" / "frontend"
    files = [url for font in (app.TEXT_FONT, app.CODE_FONT)
             for url in re.findall(r"url\('([^']+)'\)", font.stylesheet()["css"])]
    assert len(files) == 4
    for url in files:
        covered = TTFont(frontend / url).getBestCmap()
        assert not sorted(c for c in letters if ord(c) not in covered), url


@pytest.mark.slow
def test_the_library_is_listed_and_articles_removed_over_http(client, library: Library, tmp_path: Path) -> None:
    from gradio_client import handle_file

    path = tmp_path / "ferry.jsonl"
    path.write_text(json.dumps({"id": "solveig", "title": "Ferry", "date": "2025-03-04", "source": "Fjord Herald",
                                "text": "The electric ferry Solveig carried 312 passengers on its first trip."}))
    client.predict([handle_file(str(path))], api_name="/upload")
    listed = {a["article_id"]: a for a in client.predict(api_name="/library")}
    assert listed["upload/solveig"] == {"article_id": "upload/solveig", "title": "Ferry", "date": "2025-03-04",
                                      "source": "Fjord Herald", "url": "", "sentences": 1}
    assert {"000_455ed2948e93ac7b", "004_e8ce38fb4ece313b"} <= set(listed)
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="not in the index: nope"):
        client.predict(["upload/solveig", "nope"], api_name="/remove")
    assert "upload/solveig" in {a["article_id"] for a in client.predict(api_name="/library")}
    assert client.predict(["upload/solveig"], api_name="/remove").startswith("Removed 1 article(s)")
    assert "upload/solveig" not in {a.article_id for a in library.articles()}


def test_article_view_shows_date_source_and_only_a_web_link(library: Library) -> None:
    citation = Citation(rank=1, article_id="a", title="Ferry", sentence="S.", start=0, end=2, score=1.0,
                        context="S.", date="2025-03-04", source="Fjord <Herald>")
    assert "[1] Ferry · 2025-03-04 · Fjord &lt;Herald&gt;</span>" in answer_html.format_citation(citation)
    assert "qa-cite-source" not in answer_html.format_citation(citation)  # no address, no link
    linked = answer_html.format_citation(dataclasses.replace(citation, url="https://x.example/ferry"))
    assert ('</button><a class="qa-cite-source" href="https://x.example/ferry" target="_blank" '
            'rel="noopener noreferrer">Source page ↗</a></li>') in linked
    assert "qa-cite-source" not in answer_html.format_citation(dataclasses.replace(citation, url="javascript:x"))
    assert answer_html._link("javascript:alert(1)") == ""
    assert answer_html._link("https://x.example/a?b=1&c=2") == (
        '<a class="qa-source-link" href="https://x.example/a?b=1&amp;c=2" target="_blank" '
        'rel="noopener noreferrer">https://x.example/a?b=1&amp;c=2</a>')


def _post_raw_upload(server_url: str, name: str, content: bytes, origin: str | None = None):  # noqa: ANN202
    import httpx

    headers = {"Origin": origin} if origin else {}
    return httpx.post(f"{server_url}gradio_api/upload", files={"files": (name, content)}, headers=headers,
                      timeout=30)


@pytest.mark.slow
def test_a_file_posted_to_the_raw_upload_route_is_never_served_back(server_url: str) -> None:
    import httpx

    posted = _post_raw_upload(server_url, "tool.exe", b"MZ\x90\x00 not really a program")
    assert posted.status_code == 200
    (stored,) = posted.json()
    fetched = httpx.get(f"{server_url}gradio_api/file={stored}", timeout=30)
    assert fetched.status_code in (403, 404) and b"not really a program" not in fetched.content


@pytest.mark.slow
def test_requests_from_another_origin_are_refused(server_url: str) -> None:
    import httpx

    own = server_url.rstrip("/")
    port = int(own.rsplit(":", 1)[1])
    for origin in ("https://evil.example", f"http://127.0.0.1:{port + 1}", f"http://localhost:{port}"):
        posted = _post_raw_upload(server_url, "a.txt", b"A title\n\nA sentence.", origin)
        assert posted.status_code == 403, origin
        # Refused, with nothing of the app's in the body. (Gradio's own CORS layer, outside the guard, still
        # labels the refusal readable by a localhost origin: it can read that it was refused, nothing more.)
        read = httpx.get(f"{server_url}gradio_api/info", headers={"Origin": origin}, timeout=30)
        assert read.status_code == 403 and read.text.startswith("Not served"), origin
    assert _post_raw_upload(server_url, "a.txt", b"A title\n\nA sentence.", own).status_code == 200
    assert httpx.get(f"{server_url}gradio_api/info", timeout=30).status_code == 200


@pytest.mark.slow
def test_the_same_file_sent_many_times_is_read_once_and_no_server_path_is_shown(library: Library,
                                                                               tmp_path: Path) -> None:
    path = _upload_file(tmp_path, "same.txt", b"Same news\n\nThe same story, sent eleven times.")
    message = uploads.add_uploads(library, [path] * 11)
    assert message.startswith("Added 1 article(s)") and "Refused" not in message
    missing = uploads.add_uploads(library, [str(tmp_path / "gone.txt")])
    assert missing == "Refused: gone.txt (could not be read: No such file or directory)"
    assert str(tmp_path) not in missing


@pytest.mark.slow
def test_examples_are_answered_questions_about_the_library(library: Library, tmp_path: Path) -> None:
    from qa.web.examples import SEED_EXAMPLES, example_questions

    chosen = example_questions(library)
    seeds = [q for questions in SEED_EXAMPLES.values() for q in questions]
    assert len(chosen) == 4 and set(chosen) <= set(seeds) | {f"What happened: {a.title}?" for a in library.articles()}
    assert all(library.ask(question).found for question in chosen)


def test_page_lists_are_capped_and_the_filter_narrows_them(library: Library,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from qa.web import library_panel

    total = library.counts()[0]
    assert total >= 2
    monkeypatch.setattr(library_panel, "MAX_LISTED", 1)
    assert len(library_panel.rows(library)) == 1 and len(library_panel.within_choices(library)["choices"]) == 1
    assert f"(showing 1 of {total}: filter to narrow)" in library_panel.summary_html(library)
    japan = library_panel.rows(library, "japan")
    assert len(japan) == 1 and "Japan" in japan[0][0]
    assert "showing" not in library_panel.summary_html(library, "japan")  # one match: all of it is shown
    summary, rows, to_remove = library_panel.refresh(library, "japan")
    assert rows == japan and to_remove["choices"] == [japan[0][-1]]
