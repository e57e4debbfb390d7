"""The Gradio web UI: a chat over the articles with cited sentences, the whole article a click away, uploads.

A thin shell over qa: it displays, and never searches itself. Article text is untrusted: qa/web/html.py
escapes every piece of it before it becomes HTML, and no Markdown renderer ever sees it.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import time
from pathlib import Path

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # read when gradio is imported: send no usage reports

import gradio as gr  # noqa: E402
from starlette.middleware import Middleware  # noqa: E402

from qa.answer import Answer  # noqa: E402
from qa.chat import Chat  # noqa: E402
from qa.ingest.articles import ARTICLE_SUFFIXES  # noqa: E402
from qa.library import Library  # noqa: E402
from qa.search.question import check_top_k, clean_question  # noqa: E402
from qa.search.scope import MAX_WITHIN  # noqa: E402
from qa.web.conversation_panel import conversation_panel  # noqa: E402
from qa.web.errors import user_error  # noqa: E402
from qa.web.examples import MAX_EXAMPLES, example_questions
from qa.web.html import (  # noqa: E402
    ARTICLE_CSS,
    EMPTY_ARTICLE,
    TRANSCRIPT_CSS,
    format_article,
    format_index_info,
    format_transcript,
)
from qa.web.library_panel import library_panel, within_choices
from qa.web.library_panel import refresh as refresh_panel
from qa.web.request_guard import RequestGuard  # noqa: E402
from qa.web.uploads import MAX_UPLOAD_BYTES, add_uploads  # noqa: E402

DEFAULT_TOP_K, MAX_TOP_K = 3, 10
# Questions run in parallel (readers never block each other); uploads one at a time (one writer).
QUESTION_CONCURRENCY = 4
DOUBLE_SUBMIT_SECONDS = 1.0
QUEUE_MAX_SIZE = 100
SESSION_SECONDS = 3600  # a conversation idle this long is forgotten
# At most this many conversations are kept (the oldest go first): about 55 KB each, so a server that many
# visitors open stays within about 30 MB of session state instead of growing for hours.
MAX_SESSIONS = 500
# Gradio keeps every file posted to its upload route in its cache; the app reads uploads and deletes them at
# once, and Gradio's cache cleaner removes any other file (posted to the raw route, never used) after 10 minutes.
CACHE_CLEANING = (300, 600)  # (every s, older than s)
# Gradio's default theme loads Source Sans Pro and IBM Plex Mono at weights 400 and 600, but the SemiBold files it
# bundles are subsets of 55 and 75 glyphs: every semibold heading, label and title was drawn in two fonts ("News Q"
# in a fallback, "A" in Source Sans). Their Regular and Bold files are complete (Vietnamese letters included), and
# the browser draws 600 with the 700 face when no 600 face is declared.
TEXT_FONT = gr.themes.LocalFont("Source Sans Pro", weights=(400, 700))
CODE_FONT = gr.themes.LocalFont("IBM Plex Mono", weights=(400, 700))
# Its subdued text (citation titles, context, confidence) and placeholders are neutral-400, 1.9:1 on white; WCAG 2
# AA asks 4.5:1 for text. Neutral-600 gives 7.5:1 on the answer's grey and stays lighter than the body text; a
# placeholder, neutral-500 (4.7:1), stays lighter than what is typed over it.
THEME = gr.themes.Default(font=[TEXT_FONT, "ui-sans-serif", "system-ui", "sans-serif"],
                          font_mono=[CODE_FONT, "ui-monospace", "monospace"]).set(
    body_text_color_subdued="*neutral_600", input_placeholder_color="*neutral_500")

# A button beside a labelled field sits level with the field's box, at the field's height, not stretched to the
# height of the label and box together.
PAGE_CSS = ".qa-beside-field { align-self: flex-end; margin-bottom: var(--block-padding); min-height: 42px; }"

# A click on a citation sends which sentence it is (the server checks it against the index); a new answer
# scrolls the transcript to the start of the newest question.
# A copy button puts the answer and its sources on the clipboard (navigator.clipboard needs a secure context:
# localhost is one, a plain-http address on a network is not, so the old execCommand route stands in there).
# Opening an article from a citation is a step in the browser's history, so a phone's Back returns to the answer
# that was tapped (the article is below the transcript there) instead of leaving the app.
TRANSCRIPT_JS = """
const copyText = async (text) => {
  try { await navigator.clipboard.writeText(text); return; } catch (error) { /* not a secure context */ }
  const area = document.createElement('textarea');
  area.value = text;
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.appendChild(area);
  area.select();
  document.execCommand('copy');
  area.remove();
};
window.qaBackToAnswer = () => {
  const last = window.qaLastCite;
  if (!last) return;
  const turn = element.querySelectorAll('.qa-turn')[last.turn];
  const cite = turn && [...turn.querySelectorAll('.qa-cite')].find(
    (c) => c.dataset.article === last.article && c.dataset.start === last.start);
  if (!cite) return;
  cite.scrollIntoView({block: 'center'});
  cite.focus({preventScroll: true});
};
window.addEventListener('popstate', (event) => {
  if (!(event.state && event.state.qaArticle)) window.qaBackToAnswer();
});
element.addEventListener('click', (event) => {
  const copy = event.target.closest('.qa-copy');
  if (copy && element.contains(copy)) {
    copyText(copy.dataset.copy).then(() => {
      copy.textContent = 'Copied';
      setTimeout(() => { copy.textContent = 'Copy'; }, 1500);
    });
    return;
  }
  const cite = event.target.closest('.qa-cite');
  if (!cite || !element.contains(cite)) return;
  const turns = [...element.querySelectorAll('.qa-turn')];
  window.qaLastCite = {turn: turns.indexOf(cite.closest('.qa-turn')), article: cite.dataset.article,
                       start: cite.dataset.start};
  if (history.state && history.state.qaArticle) history.replaceState({qaArticle: true}, '');
  else history.pushState({qaArticle: true}, '');
  trigger('click', {article_id: cite.dataset.article, start: Number(cite.dataset.start),
                    end: Number(cite.dataset.end)});
});
watch('value', () => {
  const turns = element.querySelectorAll('.qa-turn');
  if (!turns.length) return;
  const newest = turns[turns.length - 1];
  let box = element.parentElement;
  while (box && box !== document.body && !['auto', 'scroll'].includes(getComputedStyle(box).overflowY)) {
    box = box.parentElement;
  }
  if (box && box !== document.body) {
    box.scrollTop += newest.getBoundingClientRect().top - box.getBoundingClientRect().top - 8;
  } else {
    newest.scrollIntoView({block: 'start'});
  }
});
"""
# Scroll the article (not the page) to the cited sentence; bring the panel into view if it is off screen (phone).
SCROLL_TO_CITED_JS = """
element.addEventListener('click', (event) => {
  if (!event.target.closest('.qa-back')) return;
  if (history.state && history.state.qaArticle) history.back();  // the popstate returns to the answer
  else if (window.qaBackToAnswer) window.qaBackToAnswer();
});
watch('value', () => {
  const cited = element.querySelector('.qa-cited');
  const box = element.querySelector('.qa-article-text');
  if (!cited || !box) return;
  box.scrollTop += cited.getBoundingClientRect().top - box.getBoundingClientRect().top - box.clientHeight / 4;
  const top = element.getBoundingClientRect().top;
  if (top < 0 || top > window.innerHeight / 2) element.scrollIntoView({block: 'start', behavior: 'smooth'});
});
"""


UPLOAD_RESET_JS = """
document.addEventListener('change', (event) => {
  if (event.target.matches && event.target.matches('#qa-upload input[type=file]')) trigger('click', {});
}, true);
"""
def answer_to_dict(answer: Answer) -> dict:
    """The answer as JSON-ready data: the API's reply."""
    return dataclasses.asdict(answer)


def _double_submit(chat: Chat, question: object, top_k: int, within: list[str] | None) -> Answer | None:
    """The previous answer, when the same question comes again within DOUBLE_SUBMIT_SECONDS of it: Enter, Enter,
    Ask on a fast answer sends it three times before the box is cleared. Nobody reads an answer and asks the same
    again that fast; a Python or HTTP caller that means to can wait a second."""
    last = chat.turns[-1] if chat.turns else None
    if last is None or last.top_k != top_k or not isinstance(question, str) \
            or last.within != tuple(dict.fromkeys(within or ())):
        return None
    same = last.answer.question == clean_question(question)
    return last.answer if same and time.monotonic() - last.answered_at < DOUBLE_SUBMIT_SECONDS else None


def _whole_number(top_k: object) -> object:
    """The slider sends floats (3.0): a whole one becomes an int, anything else goes on to be refused by name."""
    if isinstance(top_k, float) and top_k.is_integer():
        return int(top_k)
    return DEFAULT_TOP_K if top_k is None else top_k


def build_app(library: Library) -> gr.Blocks:
    """Build the web UI over a library; each browser session gets its own Chat."""

    def ask(question: str, top_k: float, within: list[str] | None, chat: Chat | None) -> tuple[dict, Chat]:
        chat = chat or Chat(library)
        try:
            top_k = check_top_k(_whole_number(top_k), MAX_TOP_K)
            if (repeated := _double_submit(chat, question, top_k, within)) is not None:
                return answer_to_dict(repeated), chat
            answer = chat.ask(question or "", top_k=top_k, within=within or ())
        except ValueError as error:
            raise user_error(str(error)) from error
        return answer_to_dict(answer), chat


    def show_article(event: gr.EventData) -> str:
        return format_article(library, getattr(event, "article_id", None), getattr(event, "start", None),
                              getattr(event, "end", None))

    def upload(paths: list[str] | None) -> str:
        return add_uploads(library, paths)

    def example_updates() -> list:
        chosen = example_questions(library)
        return [gr.update(value=chosen[n] if n < len(chosen) else "", visible=n < len(chosen))
                for n in range(MAX_EXAMPLES)]

    def list_library() -> list[dict]:
        """Every indexed article: article_id, title, date, source, url, sentences (no server paths)."""
        return [{key: value for key, value in dataclasses.asdict(article).items() if key != "path"}
                for article in library.articles()]

    def remove_articles(article_ids: list[str]) -> str:
        """Remove articles by id; an unknown id is an error, and then nothing is removed."""
        if not isinstance(article_ids, list) or not all(isinstance(i, str) for i in article_ids) or not article_ids:
            raise user_error("article_ids must be a non-empty list of article ids (see /library)")
        try:
            removed = library.remove(article_ids)
        except ValueError as error:
            raise user_error(str(error)) from error
        return f"Removed {removed} article(s); {library.counts()[0]} left"

    with gr.Blocks(title="News QA: answers with cited sentences", analytics_enabled=False,
                   delete_cache=CACHE_CLEANING) as demo:
        chat_state = gr.State(None, time_to_live=SESSION_SECONDS)
        gr.HTML("<h2 style='margin:0.2em 0'>News QA</h2><p style='margin:0'>Answers from the news articles, "
                "each with the sentences it comes from.</p>", padding=False)
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=340):
                transcript = gr.HTML(format_transcript(None), js_on_load=TRANSCRIPT_JS,
                                     css_template=TRANSCRIPT_CSS, elem_id="qa-transcript",
                                     min_height=200, max_height=540)
                answer_json = gr.JSON(visible=False)
                with gr.Row():
                    question = gr.Textbox(label="Your question about the articles", show_label=False,
                                          placeholder="Ask about the articles…", scale=5, max_lines=3,
                                          elem_id="qa-question", max_length=1000)
                    ask_button = gr.Button("Ask", variant="primary", scale=1, min_width=70, elem_id="qa-ask")
                # allow_custom_value: the choices change with the library (set again on every page load), and
                # an API caller sends ids without a page; Library.checked_within refuses an unknown one by name.
                within = gr.Dropdown(within_choices(library)["choices"], multiselect=True,
                                     max_choices=MAX_WITHIN, allow_custom_value=True, elem_id="qa-within",
                                     label=f"Ask within these articles (up to {MAX_WITHIN}; none chosen: all of them)")
                with gr.Row():
                    examples = example_questions(library)
                    example_buttons = [gr.Button(examples[n] if n < len(examples) else "", size="sm",
                                                 elem_classes="qa-example", visible=n < len(examples))
                                       for n in range(MAX_EXAMPLES)]
                conversation_slot = gr.Column()
            with gr.Column(scale=2, min_width=300):
                article = gr.HTML(EMPTY_ARTICLE, js_on_load=SCROLL_TO_CITED_JS, css_template=ARTICLE_CSS,
                                  elem_id="qa-article", label="Article")
                with gr.Accordion("Library", open=False, elem_id="qa-library"):
                    panel = library_panel(library, article)
                with gr.Accordion("Add articles", open=False, elem_id="qa-add"):
                    # No file_types: Gradio refuses a whole upload for one file of another type, and in the browser
                    # before the app hears of it (the result box kept its old message); read_upload refuses that
                    # file alone and says why, beside what was added.
                    files = gr.File(label=f"Articles ({', '.join(ARTICLE_SUFFIXES)}; up to "
                                    f"{MAX_UPLOAD_BYTES // 1_048_576} MB each)", file_count="multiple",
                                    elem_id="qa-upload")
                    upload_status = gr.Textbox(label="Upload result", interactive=False, lines=2,
                                               elem_id="qa-upload-status")
                    # Files chosen again clear the last result at once: a file the browser refuses itself (over
                    # the size limit) never reaches the app, and the box kept the previous upload's message.
                    upload_hint = gr.HTML("<p class='qa-upload-hint'>Each file's outcome is listed above: added, "
                                          "updated, kept under a new id, or refused and why.</p>",
                                          js_on_load=UPLOAD_RESET_JS, elem_id="qa-upload-hint", padding=False)
                with gr.Accordion("Answer settings", open=False, elem_id="qa-settings"):
                    top_k = gr.Slider(1, MAX_TOP_K, value=DEFAULT_TOP_K, step=1, label="Number of citations")
                    index_info = gr.HTML(format_index_info(library), elem_id="qa-index-info")
        with conversation_slot:  # under the question, built now that the article view it empties exists
            chats = conversation_panel(library, chat_state, [transcript, question, article])

        asking = {"fn": ask, "inputs": [question, top_k, within, chat_state], "outputs": [answer_json, chat_state],
                  "show_progress": "minimal", "show_progress_on": transcript}
        private = {"api_visibility": "private", "show_progress": "hidden"}

        def answered(event: gr.events.Dependency) -> None:
            event.success(lambda chat: (format_transcript(chat), ""), chat_state, [transcript, question],
                          **private).then(chats.saved_after_answer, [chat_state, chats.saved],
                                          [chats.saved, chats.choice], **private)

        # Enter and the Ask button are one event, run once at a time: Enter, Enter, Ask asks once.
        answered(gr.on([question.submit, ask_button.click], **asking, api_name="ask", trigger_mode="once"))
        for button in example_buttons:  # a button's text is what it asks: the examples change with the library
            answered(button.click(lambda text: text, button, question, **private).success(
                **asking, api_visibility="private"))
        transcript.click(show_article, None, article, api_visibility="private", show_progress="minimal")
        upload_hint.click(lambda: "", None, upload_status, **private)
        files.upload(upload, files, upload_status, api_name="upload", concurrency_limit=1).then(
            lambda text: (format_index_info(library), None, *refresh_panel(library, text),
                          within_choices(library, text), *example_updates()),
            panel.filter, [index_info, files, *panel.outputs, within, *example_buttons], **private)
        # After a removal the open article may be gone, and the examples may ask about it.
        panel.removal.then(lambda text: (EMPTY_ARTICLE, within_choices(library, text), *example_updates()),
                           panel.filter, [article, within, *example_buttons], **private)
        # The library's filter narrows the "Ask within" list too (both show at most MAX_LISTED articles).
        panel.filter.change(lambda text: within_choices(library, text), panel.filter, within, **private)
        # Counts, lists and examples are read when a page opens: a page never shows the library as it was at start;
        # the conversation the browser kept comes back.
        demo.load(lambda: (format_index_info(library), *refresh_panel(library), within_choices(library),
                           *example_updates()), None,
                  [index_info, *panel.outputs, within, *example_buttons], **private)
        demo.load(chats.opened_page, [chats.saved, chat_state], [chat_state, transcript, chats.choice], **private)
        # The library on the HTTP API (the page shows it in the web chat's own issue): list and remove.
        gr.api(list_library, api_name="library")
        gr.api(remove_articles, api_name="remove", concurrency_limit=1)
    return demo.queue(default_concurrency_limit=QUESTION_CONCURRENCY, max_size=QUEUE_MAX_SIZE)


def serve(library: Library, host: str = "127.0.0.1", port: int = 7860) -> gr.Blocks:
    """Start the web UI in background threads and return it; close() stops it. No share link."""
    demo = build_app(library)
    # Gradio refuses bigger files before they reach disk; read_upload says why to API callers too.
    demo.launch(server_name=host, server_port=port, share=False, max_file_size=MAX_UPLOAD_BYTES,
                prevent_thread_lock=True, quiet=True, theme=THEME, css=PAGE_CSS, state_session_capacity=MAX_SESSIONS,
                app_kwargs={"middleware": [Middleware(RequestGuard)]})
    return demo


def launch(library: Library, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Serve the web UI until interrupted."""
    demo = serve(library, host, port)
    print(f"Serving on http://{host}:{port}/ (Ctrl-C stops)", flush=True)
    demo.block_thread()


def main(argv: list[str] | None = None) -> None:
    """Start the web UI from the command line: python app.py [--host H] [--port P] [--index DIR]."""
    parser = argparse.ArgumentParser(description="Web chat over news articles, with cited sentences.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine)")
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    parser.add_argument("--index", type=Path, default=None, help="index folder (default: the seed articles')")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="app: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request
    from qa.defaults import default_library

    launch(Library.open(args.index) if args.index else default_library(), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
