"""The web UI in a real browser: Debian's Chromium driven by Playwright, against a server on a free port.

Screenshots (laptop 1366x768, phone 390x844) are written to screenshots/ for a person to look at.
"""

from __future__ import annotations

import json
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
    page.locator("#qa-library").get_by_text("Library").first.click()  # its count shows when an upload is done
    before = _article_count(page)
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
    _article_count(page, before + 1)  # the upload's follow-up (counts, lists, an emptied file box) has run
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


def test_the_conversation_comes_back_after_a_reload_and_the_list_keeps_each_one(page) -> None:
    _ask(page, "Who co-chaired the Israel dialogue?")
    _ask(page, "When did it take place?")
    conversation = page.locator("#qa-conversation input")
    page.wait_for_function("() => document.querySelector('#qa-conversation input').value.includes('co-chaired')",
                           timeout=ANSWER_TIMEOUT_MS)
    page.reload()
    page.locator(".qa-turn").nth(1).wait_for(timeout=ANSWER_TIMEOUT_MS)  # both turns, as they were
    assert "Amir Eshel" in page.locator(".qa-turn").first.inner_text()
    # The restored conversation goes on: a follow-up still leans on its last turn.
    _ask(page, "Who led the Japanese side?")
    assert page.locator(".qa-turn").count() == 3
    # A new conversation starts empty; the first one stays in the list and comes back when chosen.
    page.locator("#qa-new").click()
    page.locator(".qa-empty").wait_for(timeout=ANSWER_TIMEOUT_MS)
    _ask(page, "What is the population of Lima, Peru?")
    page.wait_for_function("() => document.querySelector('#qa-conversation input').value.includes('Lima')",
                           timeout=ANSWER_TIMEOUT_MS)
    conversation.click()
    page.get_by_role("option", name="Who co-chaired the Israel dialogue?").click()
    page.locator(".qa-turn").nth(2).wait_for(timeout=ANSWER_TIMEOUT_MS)
    # Renamed, it keeps its new name across a reload.
    page.locator("#qa-conversation-tools").get_by_text("Rename, export or delete").click()
    page.locator("#qa-rename-text input, #qa-rename-text textarea").first.fill("Israel dialogue")
    page.locator("#qa-rename").click()
    page.wait_for_function("() => document.querySelector('#qa-conversation input').value === 'Israel dialogue'",
                           timeout=ANSWER_TIMEOUT_MS)
    page.reload()
    page.locator(".qa-turn").nth(2).wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert conversation.input_value() == "Israel dialogue"
    _screenshot(page, "conversation-restored-laptop")
    # Deleted after a confirmation: gone from the list, and the page shows a new, empty conversation.
    page.locator("#qa-conversation-tools").get_by_text("Rename, export or delete").click()
    page.locator("#qa-delete").click()
    page.locator("#qa-delete-confirm").click()
    page.locator(".qa-empty").wait_for(timeout=ANSWER_TIMEOUT_MS)
    conversation.click()
    names = page.get_by_role("option").all_inner_texts()
    assert "Israel dialogue" not in names and any("Lima" in n for n in names)


def test_a_conversation_exports_as_markdown_and_json(page) -> None:
    _ask(page, "Who co-chaired the Israel dialogue?")
    page.locator("#qa-conversation-tools").get_by_text("Rename, export or delete").click()
    with page.expect_download(timeout=ANSWER_TIMEOUT_MS) as download:
        page.locator("#qa-export-md").click()
    assert download.value.suggested_filename == "Who-co-chaired-the-Israel-dialogue.md"
    markdown = Path(download.value.path()).read_text(encoding="utf-8")
    assert "**Q:** Who co-chaired the Israel dialogue?" in markdown and "Amir Eshel" in markdown
    assert "(article 004_e8ce38fb4ece313b, characters" in markdown
    with page.expect_download(timeout=ANSWER_TIMEOUT_MS) as download:
        page.locator("#qa-export-json").click()
    exported = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    first = exported["turns"][0]["answer"]
    assert first["found"] and "Amir Eshel" in first["citations"][0]["sentence"]


def test_the_copy_button_puts_the_answer_and_its_sources_on_the_clipboard(browser, server_url: str) -> None:
    context = browser.new_context(viewport=LAPTOP, permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    try:
        page.goto(server_url)
        _ask(page, "Who co-chaired the Israel dialogue?")
        copy = page.get_by_role("button", name="Copy this answer and its sources")
        copy.click()
        page.wait_for_function("() => document.querySelector('.qa-copy').textContent === 'Copied'",
                               timeout=ANSWER_TIMEOUT_MS)
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied.startswith("**Q:** Who co-chaired the Israel dialogue?") and "Amir Eshel" in copied
        assert "Sources:" in copied and "1. “" in copied
    finally:
        context.close()


def test_back_on_a_phone_returns_from_the_article_to_the_answer(browser, server_url: str) -> None:
    page = browser.new_page(viewport=PHONE)
    try:
        page.goto(server_url)
        _ask(page, "Who co-chaired the Israel dialogue?")
        citation = page.locator(".qa-cite").first
        citation.click()
        page.locator("#qa-article mark.qa-cited").wait_for(timeout=ANSWER_TIMEOUT_MS)
        page.wait_for_timeout(800)  # the smooth scroll down to the article
        assert not _in_viewport(page, ".qa-cite")  # on a phone the article is a screen of its own
        page.go_back()  # the browser's Back: still the app, back at the citation that was tapped
        page.wait_for_function(f"() => {_IN_VIEWPORT_JS}('.qa-cite')", timeout=ANSWER_TIMEOUT_MS)
        assert page.url == server_url
        _screenshot(page, "back-to-answer-phone")
        # The visible button does the same.
        citation.click()
        page.wait_for_timeout(800)
        page.locator("#qa-article .qa-back").click()
        page.wait_for_function(f"() => {_IN_VIEWPORT_JS}('.qa-cite')", timeout=ANSWER_TIMEOUT_MS)
        assert page.url == server_url
    finally:
        page.close()


_IN_VIEWPORT_JS = """((selector) => { const box = document.querySelector(selector).getBoundingClientRect();
  return box.top >= 0 && box.bottom <= window.innerHeight; })"""


def _in_viewport(page, selector: str) -> bool:
    return page.evaluate(f"{_IN_VIEWPORT_JS}('{selector}')")


def test_a_question_asked_within_one_article_cites_only_it(page) -> None:
    page.locator("#qa-within input").click()
    page.get_by_role("option", name=re.compile("Vietnam, Japan hold 7th defence policy dialogue")).click()
    page.keyboard.press("Escape")
    _ask(page, "Who co-chaired the Israel dialogue?")
    turn = page.locator(".qa-turn").first
    assert "Asked within: “Vietnam, Japan hold 7th defence policy dialogue”" in turn.inner_text()
    articles = {c.get_attribute("data-article") for c in turn.locator(".qa-cite").all()}
    assert articles == {"000_455ed2948e93ac7b"}
    _screenshot(page, "asked-within-laptop")


def test_the_page_reads_well_to_a_screen_reader(page) -> None:
    _ask(page, "Who co-chaired the Israel dialogue?")
    snapshot = page.locator("body").aria_snapshot()
    for expected in ('textbox "Your question about the articles"', 'button "Ask"', "- status:",
                     'button "Copy this answer and its sources"', 'button "New conversation"'):
        assert expected in snapshot, expected
    assert "Amir Eshel" in page.locator("#qa-transcript [role=status]").aria_snapshot()


@pytest.mark.parametrize("viewport", ["laptop", "phone"])
def test_screenshots_of_each_state(browser, server_url: str, viewport: str) -> None:
    """Each state of the page at laptop and phone width, for a person to look at (screenshots/, git-ignored);
    the page never scrolls sideways."""
    page = browser.new_page(viewport=LAPTOP if viewport == "laptop" else PHONE)
    try:
        page.goto(server_url)
        page.locator("#qa-question textarea").wait_for()
        _screenshot(page, f"state-empty-{viewport}")
        _ask(page, "Who co-chaired the Israel dialogue?")
        _screenshot(page, f"state-answer-{viewport}")
        _ask(page, "What is the population of Lima, Peru?")
        _screenshot(page, f"state-not-found-{viewport}")
        page.locator(".qa-cite").first.click()
        page.locator("#qa-article .qa-article-text").wait_for(timeout=ANSWER_TIMEOUT_MS)
        page.wait_for_timeout(800)
        _screenshot(page, f"state-article-{viewport}")
        page.locator("#qa-library").get_by_text("Library").first.click()
        page.locator("#qa-library-table").scroll_into_view_if_needed()
        _screenshot(page, f"state-library-{viewport}")
        page.locator("#qa-conversation-tools").get_by_text("Rename, export or delete").click()
        page.locator("#qa-conversation-tools").scroll_into_view_if_needed()
        _screenshot(page, f"state-conversation-tools-{viewport}")
        assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    finally:
        page.close()
