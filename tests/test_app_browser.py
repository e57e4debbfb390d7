"""The web UI in a real browser: Debian's Chromium driven by Playwright, against a server on a free port.

Screenshots (laptop 1366x768, phone 390x844) are written to screenshots/ for a person to look at.
"""

from __future__ import annotations

import re
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from embeddings.encoder import Encoder
from qa.library import Library

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "screenshots"
LAPTOP, PHONE = {"width": 1366, "height": 768}, {"width": 390, "height": 844}
ANSWER_TIMEOUT_MS = 30_000
HOSTILE_TEXT = """Hostile Test Gazette

The harbour authority of Zanzibaria opened a new lighthouse <script>alert(1)</script> on Monday.

The lighthouse keeper <img src=x onerror=alert(1)> was named Omari Pwani.

Read more [x](javascript:alert(1)) about ${alert(1)} and {{7*7}} in the gazette.
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> Iterator[str]:
    """The app over a copy of the seed articles, so uploads never touch the real index."""
    from qa.web import app

    folder = tmp_path_factory.mktemp("browser")
    shutil.copytree(ROOT / "seeds", folder / "articles", ignore=shutil.ignore_patterns("*.jsonl"))
    library = Library.build(folder / "articles", folder / "index.idx", encoder)
    port = _free_port()
    demo = app.serve(library, port=port)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package (never `playwright install`)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield chromium
        chromium.close()


@pytest.fixture
def dialogs() -> list[str]:
    return []


@pytest.fixture
def page(browser, server_url: str, dialogs: list[str]) -> Iterator:
    page = browser.new_page(viewport=LAPTOP)
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(server_url)
    page.locator("#qa-question textarea").wait_for()
    yield page
    page.close()


def _ask(page, question: str) -> None:
    """Type a question, press Enter, and wait for its answer to appear."""
    turns = page.locator(".qa-turn").count()
    page.locator("#qa-question textarea").fill(question)
    page.keyboard.press("Enter")
    page.locator(".qa-turn").nth(turns).locator(".qa-answer").wait_for(timeout=ANSWER_TIMEOUT_MS)


def _upload(page, path: Path) -> str:
    """Upload a file through the "Add articles" panel and return the message that comes back."""
    page.locator("#qa-add").get_by_text("Add articles").click()
    page.locator("#qa-upload input[type=file]").set_input_files(str(path))
    status = page.locator("#qa-upload-status textarea")
    page.wait_for_function("el => el.value.length > 0", arg=status.element_handle(), timeout=ANSWER_TIMEOUT_MS)
    return status.input_value()


def _screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def test_co_chair_question_shows_both_names_and_the_citation(page) -> None:
    _ask(page, "Who co-chaired the Israel dialogue?")
    answer = page.locator(".qa-turn").first
    assert "Hoàng Xuân Chiến" in answer.inner_text()
    assert "Amir Eshel" in answer.inner_text()
    first = answer.locator(".qa-cite").first
    assert "[1]" in first.inner_text()
    assert "Việt Nam-Israel Defence Policy Dialogue" in first.locator(".qa-title").inner_text()
    assert first.locator(".qa-sentence mark").all_inner_texts() == ["Hoàng Xuân Chiến", "Amir Eshel"]
    _screenshot(page, "answer-laptop")



# The kinds of text in an answer; WCAG 2 (AA) asks a contrast of 4.5:1 with the background for each.
_ANSWER_TEXT = (".qa-label", ".qa-meta", ".qa-title", ".qa-context", ".qa-sentence")
_WCAG_AA_CONTRAST = 4.5
_SETTLED_JS = """
() => {
  let opacity = 1;
  for (let up = document.querySelector('.qa-answer'); up; up = up.parentElement) {
    opacity *= Number(getComputedStyle(up).opacity);
  }
  return opacity === 1;
}
"""
_COLOURS_JS = """
selector => {
  const el = document.querySelector('.qa-answer ' + selector);
  let box = el, background = 'rgb(255, 255, 255)', opacity = 1;
  for (let up = el; up; up = up.parentElement) opacity *= Number(getComputedStyle(up).opacity);
  while (box) {
    const colour = getComputedStyle(box).backgroundColor;
    if (colour !== 'rgba(0, 0, 0, 0)' && colour !== 'transparent') { background = colour; break; }
    box = box.parentElement;
  }
  return [getComputedStyle(el).color, background, opacity];
}
"""


def _contrast(foreground: str, background: str, opacity: float = 1.0) -> float:
    """WCAG 2 contrast ratio of two CSS rgb()/rgba() colours, the foreground (faded by `opacity`) blended over the
    background."""
    def channels(colour: str) -> list[float]:
        values = [float(v) for v in re.findall(r"[\d.]+", colour)]
        return values + [1.0] * (4 - len(values))

    *back, _ = channels(background)
    *fore, alpha = channels(foreground)
    alpha *= opacity
    fore = [alpha * f + (1 - alpha) * b for f, b in zip(fore, back, strict=True)]

    def luminance(rgb: list[float]) -> float:
        linear = [c / 255 / 12.92 if c / 255 <= 0.04045 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    lighter, darker = sorted((luminance(fore), luminance(back)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


@pytest.mark.parametrize("question", ["Who co-chaired the Israel dialogue?", "What is the population of Lima, Peru?"])
def test_answer_text_has_the_contrast_wcag_asks_for(page, question: str) -> None:
    _ask(page, question)  # an answer, and a "not found" with its closest sentences
    page.wait_for_function(_SETTLED_JS, timeout=ANSWER_TIMEOUT_MS)  # Gradio fades an output while it updates
    ratios = {selector: round(_contrast(*page.evaluate(_COLOURS_JS, selector)), 2) for selector in _ANSWER_TEXT}
    box = "document.querySelector('#qa-question textarea')"
    placeholder = page.evaluate(f"getComputedStyle({box}, '::placeholder').color")
    ratios["placeholder"] = round(_contrast(placeholder, page.evaluate(f"getComputedStyle({box}).backgroundColor")), 2)
    assert min(ratios.values()) >= _WCAG_AA_CONTRAST, ratios

def test_follow_up_is_resolved_and_shows_what_was_searched(page) -> None:
    _ask(page, "Who co-chaired the Israel dialogue?")
    _ask(page, "When did it take place?")
    follow_up = page.locator(".qa-turn").nth(1)
    assert "Searched for: When did the Israel dialogue take place?" in follow_up.inner_text()
    assert "took place in Hà Nội on Thursday" in follow_up.locator(".qa-cite").first.inner_text()


def test_click_on_a_citation_shows_the_article_with_the_sentence_marked(page) -> None:
    _ask(page, "What challenges did the Vietnamese officer mention?")
    citation = page.locator(".qa-cite").first
    sentence = citation.locator(".qa-sentence").inner_text()
    citation.click()
    marked = page.locator("#qa-article mark.qa-cited")
    marked.wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert marked.inner_text() == sentence
    article = page.locator("#qa-article .qa-article-text").inner_text()
    assert "maintain information sharing between the two defence ministries" in article  # the whole article
    _screenshot(page, "article-laptop")


def test_phone_layout_answers_and_shows_the_article(browser, server_url: str) -> None:
    page = browser.new_page(viewport=PHONE)
    try:
        page.goto(server_url)
        _ask(page, "Who co-chaired the Israel dialogue?")
        _screenshot(page, "answer-phone")
        page.locator(".qa-cite").first.click()
        page.locator("#qa-article mark.qa-cited").wait_for(timeout=ANSWER_TIMEOUT_MS)
        page.wait_for_timeout(600)  # the smooth scroll to the cited sentence
        assert page.locator("#qa-article mark.qa-cited").is_visible()
        _screenshot(page, "article-phone")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], "the page scrolls sideways on a phone"
    finally:
        page.close()


def test_not_found_answer_looks_different(page) -> None:
    _ask(page, "What is the population of Lima, Peru?")
    answer = page.locator(".qa-turn").first.locator(".qa-answer")
    assert "qa-not-found" in answer.get_attribute("class")
    assert "Not found" in answer.inner_text()
    _screenshot(page, "not-found-laptop")


def test_uploaded_article_is_answerable_at_once(page, tmp_path: Path) -> None:
    article = tmp_path / "lighthouse-news.txt"
    article.write_text("Coastal Times\n\nThe new Kilwa lighthouse was designed by the architect Neema Mwakyusa. "
                       "It opened to visitors in March.\n", encoding="utf-8")
    assert "Added 1 article" in _upload(page, article)
    _ask(page, "Who designed the Kilwa lighthouse?")
    first = page.locator(".qa-turn").first.locator(".qa-cite").first
    assert "Neema Mwakyusa" in first.inner_text()
    assert "Coastal Times" in first.locator(".qa-title").inner_text()


def test_upload_of_the_wrong_type_or_size_is_refused_with_the_reason(page, tmp_path: Path) -> None:
    pdf, good, big = tmp_path / "report.pdf", tmp_path / "tide-news.txt", tmp_path / "big.txt"
    pdf.write_bytes(b"%PDF-1.4 not an article")
    good.write_text("Tide news\n\nThe Bagamoyo tide gauge recorded a 4.1 metre spring tide.", encoding="utf-8")
    big.write_text("A long article.\n" + "word " * 500_000, encoding="utf-8")  # 2.5 MB
    page.locator("#qa-add").get_by_text("Add articles").click()
    upload = page.locator("#qa-upload input[type=file]")
    status = page.locator("#qa-upload-status textarea")
    # A wrong type among good files: that file alone is refused, and the message says why, beside what was added.
    upload.set_input_files([str(pdf), str(good)])
    page.wait_for_function("el => el.value.includes('Refused')", arg=status.element_handle(),
                           timeout=ANSWER_TIMEOUT_MS)
    message = status.input_value()
    assert "Added 1 article" in message and "report.pdf (not an article file; use .txt" in message
    # Too big: the browser refuses it before it is sent, and the last upload's message is gone, not left standing.
    page.locator("#qa-upload input[type=file]").wait_for(state="attached")  # the box empties after an upload
    upload.set_input_files(str(big))
    page.get_by_text("exceed the maximum allowed size of 2.0 Mb").wait_for(timeout=ANSWER_TIMEOUT_MS)
    page.wait_for_function("el => el.value === ''", arg=status.element_handle(), timeout=ANSWER_TIMEOUT_MS)


def test_hostile_article_text_is_shown_literally_and_never_runs(page, dialogs: list[str], tmp_path: Path) -> None:
    hostile = tmp_path / "hostile.txt"  # plain text is kept as written (Markdown would be rendered to its text)
    hostile.write_text(HOSTILE_TEXT, encoding="utf-8")
    assert "Added 1 article" in _upload(page, hostile)
    _ask(page, "Who was the lighthouse keeper in Zanzibaria?")
    transcript = page.locator("#qa-transcript")
    page.locator(".qa-cite").first.click()
    article = page.locator("#qa-article .qa-article-text")
    article.wait_for(timeout=ANSWER_TIMEOUT_MS)
    page.wait_for_timeout(1000)  # time for an injected handler to fire, if one ever got in
    text = article.inner_text()
    for literal in ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))",
                    "${alert(1)}", "{{7*7}}"):
        assert literal in text
    assert "<img src=x onerror=alert(1)>" in transcript.inner_text()
    for box in (transcript, page.locator("#qa-article")):
        assert box.locator("script, img, a[href^='javascript']").count() == 0
    assert dialogs == []
    _screenshot(page, "hostile-laptop")


def test_a_new_conversation_forgets_the_previous_turns(page) -> None:
    _ask(page, "Who co-chaired the Israel dialogue?")
    page.locator("#qa-new").click()
    page.locator(".qa-empty").wait_for(timeout=ANSWER_TIMEOUT_MS)
    _ask(page, "When did it take place?")
    assert "Searched for" not in page.locator(".qa-turn").first.inner_text()


def test_every_example_stands_alone_and_is_answered_and_settings_show_the_index(page) -> None:
    examples = page.locator(".qa-example:visible")
    texts = examples.all_inner_texts()
    assert len(texts) == 4 and "When did it take place?" not in texts  # no follow-up before any question
    for n in range(len(texts)):  # clicked first, each one: never a "not found"
        page.locator("#qa-new").click()
        examples.nth(n).click()
        page.locator(".qa-turn").first.locator(".qa-answer").wait_for(timeout=ANSWER_TIMEOUT_MS)
        assert "qa-found" in page.locator(".qa-turn .qa-answer").first.get_attribute("class"), texts[n]
    page.locator("#qa-settings").get_by_text("Settings").click()
    info = page.locator("#qa-index-info")
    info.wait_for()
    assert "index.idx" in info.inner_text() and "articles" in info.inner_text()


def test_the_question_box_has_a_name_and_new_answers_are_announced(page) -> None:
    assert page.get_by_role("textbox", name="Your question about the articles").count() == 1
    _ask(page, "Who co-chaired the Israel dialogue?")
    live = page.locator("#qa-transcript [role=status][aria-live=polite]")
    assert live.count() == 1 and "Amir Eshel" in live.inner_text()
    assert page.locator(".qa-turn .qa-marker").first.inner_text() == "[1]"


def test_enter_enter_ask_asks_once(page) -> None:
    page.locator("#qa-question textarea").fill("Who co-chaired the Israel dialogue?")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    page.locator("#qa-ask").click()
    page.locator(".qa-turn .qa-answer").first.wait_for(timeout=ANSWER_TIMEOUT_MS)
    page.wait_for_timeout(3000)  # time for a second turn to arrive, if one was asked
    assert page.locator(".qa-turn").count() == 1


def test_a_question_of_punctuation_only_says_it_is_empty(page) -> None:
    page.locator("#qa-question textarea").fill("   ?  ")
    page.keyboard.press("Enter")
    page.get_by_text("The question is empty").first.wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert page.locator(".qa-turn").count() == 0


def test_a_new_conversation_also_closes_the_open_article(page) -> None:
    _ask(page, "Who co-chaired the Israel dialogue?")
    page.locator(".qa-cite").first.click()
    page.locator("#qa-article .qa-article-text").wait_for(timeout=ANSWER_TIMEOUT_MS)
    page.locator("#qa-new").click()
    page.locator("#qa-article .qa-article-empty").wait_for(timeout=ANSWER_TIMEOUT_MS)


def _article_count(page, expected: int | None = None) -> int:
    """The library panel's article count, once it shows one (and `expected`, if given)."""
    wanted = rf"^{expected} articles" if expected is not None else r"^\d+ articles"
    page.wait_for_function(f"() => /{wanted}/.test(document.querySelector('#qa-library-count').innerText.trim())",
                           timeout=ANSWER_TIMEOUT_MS)
    return int(page.locator("#qa-library-count").inner_text().split()[0])


def test_the_library_panel_lists_filters_opens_and_removes_articles(page, tmp_path: Path) -> None:
    page.locator("#qa-library").get_by_text("Library").first.click()
    table = page.locator("#qa-library-table")
    table.get_by_text("Vietnam, Japan hold 7th defence policy dialogue").wait_for(timeout=ANSWER_TIMEOUT_MS)
    before = _article_count(page)  # earlier tests of this module may have uploaded articles
    upload = tmp_path / "ferry-news.txt"
    upload.write_text("Ferry news\n\nThe electric ferry Solveig carried 312 passengers on its maiden trip.",
                      encoding="utf-8")
    assert "Added 1 article" in _upload(page, upload)
    table.get_by_text("upload/ferry-news").wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert _article_count(page, before + 1) == before + 1
    page.locator("#qa-library-filter textarea, #qa-library-filter input").first.fill("ferry")
    page.wait_for_function("() => !document.querySelector('#qa-library-table').innerText.includes('Japan')",
                           timeout=ANSWER_TIMEOUT_MS)
    table.get_by_text("Ferry news").locator("visible=true").first.click()
    page.locator("#qa-article h3").get_by_text("Ferry news").wait_for(timeout=ANSWER_TIMEOUT_MS)
    choice = page.locator("#qa-remove-choice input").first
    choice.click()
    choice.fill("upload/ferry-news")
    page.keyboard.press("Enter")
    page.locator("#qa-remove").click()
    page.locator("#qa-remove-confirm").click()
    page.locator("#qa-remove-status").get_by_text("Removed 1 article(s).").wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert _article_count(page, before) == before
    page.locator("#qa-article .qa-article-empty").wait_for(timeout=ANSWER_TIMEOUT_MS)  # the removed one closed
    _screenshot(page, "library-laptop")
