"""Gradio web UI: a chat over the articles with cited sentences, the whole article a click away, uploads.

A thin shell over qa: it formats and displays, and never searches itself. Article text is untrusted, so every
piece of it is escaped here before it becomes HTML, and no Markdown renderer ever sees it.
"""

from __future__ import annotations

import argparse
import dataclasses
import html
import logging
import os
from pathlib import Path

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # read when gradio is imported: send no usage reports

import gradio as gr  # noqa: E402

from qa.answer import Answer, Citation  # noqa: E402
from qa.articles import ARTICLE_SUFFIXES, Article, parse_article, read_articles  # noqa: E402
from qa.chat import Chat, Turn  # noqa: E402
from qa.library import Library  # noqa: E402

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_UPLOAD_FILES = 10
UPLOAD_ID_PREFIX = "upload/"  # uploads never replace an indexed article of the same name
DEFAULT_TOP_K, MAX_TOP_K = 3, 10
CONTEXT_CHARS = 110
# Questions run in parallel (readers never block each other); uploads one at a time (one writer).
QUESTION_CONCURRENCY = 4
QUEUE_MAX_SIZE = 100
SESSION_SECONDS = 2 * 3600  # a conversation idle this long is forgotten
EXAMPLES = ("Who co-chaired the Israel dialogue?", "When did it take place?",
            "Where was the Japan dialogue held?", "And the Israel one?")
# gr.HTML evaluates its template as a JavaScript template string: escape its syntax in untrusted text too.
_TEMPLATE_SYNTAX = str.maketrans({"$": "&#36;", "{": "&#123;", "}": "&#125;", "`": "&#96;"})

# A click on a citation sends which sentence it is (the server checks it against the index); a new answer
# scrolls the transcript to the start of the newest question.
TRANSCRIPT_JS = """
element.addEventListener('click', (event) => {
  const cite = event.target.closest('.qa-cite');
  if (!cite || !element.contains(cite)) return;
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
watch('value', () => {
  const cited = element.querySelector('.qa-cited');
  const box = element.querySelector('.qa-article-text');
  if (!cited || !box) return;
  box.scrollTop += cited.getBoundingClientRect().top - box.getBoundingClientRect().top - box.clientHeight / 4;
  const top = element.getBoundingClientRect().top;
  if (top < 0 || top > window.innerHeight / 2) element.scrollIntoView({block: 'start', behavior: 'smooth'});
});
"""
TRANSCRIPT_CSS = """
.qa-empty { color: var(--body-text-color-subdued); padding: 1.5em 0.5em; }
.qa-turn { margin: 0 0 1.2em; }
.qa-question { margin-left: auto; max-width: 85%; width: fit-content; background: var(--color-accent-soft);
  border-radius: 12px; padding: 0.5em 0.8em; }
.qa-answer { border-left: 4px solid var(--color-accent); background: var(--background-fill-secondary);
  border-radius: 8px; padding: 0.6em 0.9em; margin-top: 0.5em; }
.qa-answer.qa-not-found { border-left-color: #d97706; }
.qa-label { font-weight: 600; }
.qa-meta { font-size: 0.85em; color: var(--body-text-color-subdued); margin-bottom: 0.3em; }
.qa-citations { list-style: none; padding: 0; margin: 0.5em 0 0; }
.qa-cite { display: block; width: 100%; text-align: left; background: var(--background-fill-primary);
  border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 0.5em 0.7em; margin: 0.4em 0;
  cursor: pointer; font: inherit; color: inherit; line-height: 1.45; }
.qa-cite:hover, .qa-cite:focus-visible { border-color: var(--color-accent); }
.qa-title { display: block; font-size: 0.85em; font-weight: 600; color: var(--body-text-color-subdued);
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.qa-context { color: var(--body-text-color-subdued); }
.qa-sentence mark, .qa-answer-words mark { background: #fde68a; color: #1f2937; border-radius: 3px; }
.qa-not-found .qa-cite { opacity: 0.8; }
"""
ARTICLE_CSS = """
.qa-article-empty { color: var(--body-text-color-subdued); }
.qa-article-text { white-space: pre-wrap; overflow-wrap: anywhere; max-height: 60vh; overflow-y: auto;
  line-height: 1.5; }
.qa-cited { background: #fde68a; color: #1f2937; border-radius: 3px; padding: 0 2px; }
"""


def escape(text: str) -> str:
    """Escape untrusted text for our own HTML markup."""
    return html.escape(text, quote=True).translate(_TEMPLATE_SYNTAX)


def answer_to_dict(answer: Answer) -> dict:
    """The answer as JSON-ready data: the API's reply."""
    return dataclasses.asdict(answer)


def format_sentence(citation: Citation) -> str:
    """The cited sentence, escaped, with the words that answer the question marked."""
    parts, cursor = [], 0
    for start, end in sorted(citation.highlights):
        start, end = max(start - citation.start, cursor), min(end - citation.start, len(citation.sentence))
        if start < end:
            parts += [escape(citation.sentence[cursor:start]), f"<mark>{escape(citation.sentence[start:end])}</mark>"]
            cursor = end
    return "".join([*parts, escape(citation.sentence[cursor:])])


def format_citation(citation: Citation) -> str:
    """One numbered citation: title, a little context around the sentence, and the sentence, clickable."""
    where = citation.context.find(citation.sentence)
    before = citation.context[:where].strip() if where >= 0 else ""
    after = citation.context[where + len(citation.sentence):].strip() if where >= 0 else ""
    before = ("…" + before[-CONTEXT_CHARS:]) if len(before) > CONTEXT_CHARS else before
    after = (after[:CONTEXT_CHARS] + "…") if len(after) > CONTEXT_CHARS else after
    return (f'<li><button type="button" class="qa-cite" data-article="{escape(citation.article_id)}" '
            f'data-start="{citation.start}" data-end="{citation.end}" title="Show the whole article">'
            f'<span class="qa-title">[{citation.rank}] {escape(citation.title)}</span>'
            f'<span class="qa-context">{escape(before)} </span><span class="qa-sentence">{format_sentence(citation)}'
            f'</span><span class="qa-context"> {escape(after)}</span></button></li>')


def format_turn(turn: Turn, titles: dict[str, str]) -> str:
    """A question and its answer: the answer, its confidence, what was searched, and the citations."""
    answer = turn.answer
    meta = []
    if answer.searched_for and answer.searched_for != answer.question:
        meta.append(f"Searched for: {escape(answer.searched_for)}")
    kept = [titles[a] for a in turn.resolution.prefer_article_ids if a in titles]
    if len(kept) == 1:
        meta.append(f"Follow-up, kept to “{escape(kept[0])}”")
    meta_html = "".join(f'<div class="qa-meta">{line}</div>' for line in meta)
    confidence = f'<div class="qa-meta">Confidence {answer.confidence:.0%}</div>'
    if answer.found:
        # The headline is the whole cited sentence with its answer words marked, never the marks alone:
        # who-question marks are right 58% of the time (benchmarks/highlights.py).
        headline = format_sentence(answer.citations[0])
        body = (f'<div class="qa-label">Answer</div><div class="qa-answer-words">{headline}</div>'
                f'{confidence}<ol class="qa-citations">{"".join(map(format_citation, answer.citations))}</ol>')
        kind = "qa-found"
    else:
        closest = "".join(map(format_citation, answer.closest))
        body = (f'<div class="qa-label">Not found</div><div>{escape(answer.text)}</div>{confidence}'
                + (f'<div class="qa-meta">Closest sentences, not an answer:</div><ol class="qa-citations">'
                   f'{closest}</ol>' if closest else ""))
        kind = "qa-not-found"
    return (f'<div class="qa-turn"><div class="qa-question">{escape(answer.question)}</div>'
            f'<div class="qa-answer {kind}">{meta_html}{body}</div></div>')


def format_transcript(chat: Chat | None) -> str:
    """The whole conversation as HTML, oldest turn first."""
    if chat is None or not chat.turns:
        return ('<div class="qa-empty">Ask a question about the news articles. Every answer cites the sentences '
                'it comes from; click one to read it in its article.</div>')
    titles = {}
    for turn in chat.turns:
        for article_id in turn.resolution.prefer_article_ids[:1]:
            stored = chat.library.store.article(article_id)
            titles[article_id] = stored.title if stored else article_id
    return "".join(format_turn(turn, titles) for turn in chat.turns)


def format_article(library: Library, article_id: object, start: object, end: object) -> str:
    """The whole article with the cited sentence marked in place (offsets checked against the text)."""
    stored = library.store.article(article_id) if isinstance(article_id, str) else None
    if stored is None:
        return '<p class="qa-article-empty">That article is no longer in the index.</p>'
    text = stored.text
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
        start = end = 0
    return (f'<h3>{escape(stored.title)}</h3><div class="qa-article-text">{escape(text[:start])}'
            f'<mark class="qa-cited">{escape(text[start:end])}</mark>{escape(text[end:])}</div>')


def format_index_info(library: Library) -> str:
    articles, sentences = library.counts()
    return (f"<p>Index <b>{escape(library.index_dir.name)}</b>: {articles} articles, {sentences} sentences "
            f"(model {escape(library.encoder.name)})</p>")


def read_upload(path: Path) -> list[Article]:
    """Read one uploaded file into articles; ValueError saying why when it is refused."""
    if path.suffix.lower() not in ARTICLE_SUFFIXES:
        raise ValueError(f"not an article file; use {', '.join(ARTICLE_SUFFIXES)}")
    size = path.stat().st_size
    if size > MAX_UPLOAD_BYTES:
        raise ValueError(f"{size / 1_048_576:.1f} MB; the limit is {MAX_UPLOAD_BYTES // 1_048_576} MB")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError("not UTF-8 text") from error
    if "\0" in text:
        raise ValueError("binary file")
    if path.suffix.lower() == ".jsonl":
        articles = read_articles(path)  # one article per line; bad lines are skipped with a warning
        if not articles:
            raise ValueError("no article records; each line needs a JSON object with 'id' and 'text'")
    else:
        articles = [parse_article(text, path, path.stem)]
    return [dataclasses.replace(a, article_id=UPLOAD_ID_PREFIX + a.article_id, path=f"upload:{path.name}")
            for a in articles]


def add_uploads(library: Library, paths: list[str] | None) -> str:
    """Index uploaded files at once; return a message naming what was added and what was refused, and why."""
    paths = paths or []
    articles, refused = [], []
    for number, name in enumerate(paths):
        path = Path(name)
        try:
            if number >= MAX_UPLOAD_FILES:
                raise ValueError(f"at most {MAX_UPLOAD_FILES} files at a time")
            articles += read_upload(path)
        except (OSError, ValueError) as error:
            refused.append(f"{path.name} ({error})")
        finally:
            path.unlink(missing_ok=True)  # the upload lives on in the index only; it is never served back
    added = library.add_articles(articles) if articles else 0
    lines = []
    if articles:
        lines.append(f"Added {len(articles)} article(s) ({added} new or changed): "
                     + ", ".join(a.title for a in articles[:5]) + ("…" if len(articles) > 5 else ""))
    if refused:
        lines.append("Refused: " + "; ".join(refused))
    return "\n".join(lines) or "No file received."


def build_app(library: Library) -> gr.Blocks:
    """Build the web UI over a library; each browser session gets its own Chat."""

    def ask(question: str, top_k: float, chat: Chat | None) -> tuple[dict, Chat]:
        chat = chat or Chat(library)
        try:
            answer = chat.ask(question or "", top_k=min(max(int(top_k or DEFAULT_TOP_K), 1), MAX_TOP_K))
        except ValueError as error:
            raise gr.Error(str(error)) from error
        return answer_to_dict(answer), chat

    def show_article(event: gr.EventData) -> str:
        return format_article(library, getattr(event, "article_id", None), getattr(event, "start", None),
                              getattr(event, "end", None))

    def upload(paths: list[str] | None) -> str:
        return add_uploads(library, paths)

    with gr.Blocks(title="News QA: answers with cited sentences", analytics_enabled=False) as demo:
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
                    question = gr.Textbox(placeholder="Ask about the articles…", show_label=False, scale=5,
                                          max_lines=3, elem_id="qa-question", max_length=1000)
                    ask_button = gr.Button("Ask", variant="primary", scale=1, min_width=70, elem_id="qa-ask")
                with gr.Row():
                    example_buttons = [gr.Button(text, size="sm", elem_classes="qa-example") for text in EXAMPLES]
                clear_button = gr.Button("Clear conversation", size="sm", elem_id="qa-clear")
            with gr.Column(scale=2, min_width=300):
                article = gr.HTML("<p class='qa-article-empty'>Click a citation to read its whole article here."
                                  "</p>", js_on_load=SCROLL_TO_CITED_JS, css_template=ARTICLE_CSS,
                                  elem_id="qa-article", label="Article")
                with gr.Accordion("Add articles", open=False, elem_id="qa-add"):
                    files = gr.File(label=f"Articles (.txt, .md, .html, .jsonl; up to "
                                    f"{MAX_UPLOAD_BYTES // 1_048_576} MB each)", file_count="multiple",
                                    file_types=list(ARTICLE_SUFFIXES), elem_id="qa-upload")
                    upload_status = gr.Textbox(label="Upload result", interactive=False, lines=2,
                                               elem_id="qa-upload-status")
                with gr.Accordion("Settings", open=False, elem_id="qa-settings"):
                    top_k = gr.Slider(1, MAX_TOP_K, value=DEFAULT_TOP_K, step=1, label="Number of citations")
                    index_info = gr.HTML(format_index_info(library), elem_id="qa-index-info")

        asking = {"fn": ask, "inputs": [question, top_k, chat_state], "outputs": [answer_json, chat_state],
                  "show_progress": "minimal", "show_progress_on": transcript}
        private = {"api_visibility": "private", "show_progress": "hidden"}

        def answered(event: gr.events.Dependency) -> None:
            event.success(lambda chat: (format_transcript(chat), ""), chat_state, [transcript, question], **private)

        answered(question.submit(**asking, api_name="ask"))
        answered(ask_button.click(**asking, api_visibility="private"))
        for button, text in zip(example_buttons, EXAMPLES, strict=True):
            answered(button.click(lambda text=text: text, None, question, **private).success(
                **asking, api_visibility="private"))
        clear_button.click(lambda: (None, format_transcript(None), ""), None, [chat_state, transcript, question],
                           **private)
        transcript.click(show_article, None, article, api_visibility="private", show_progress="minimal")
        files.upload(upload, files, upload_status, api_name="upload", concurrency_limit=1).then(
            lambda: (format_index_info(library), None), None, [index_info, files], **private)
    return demo.queue(default_concurrency_limit=QUESTION_CONCURRENCY, max_size=QUEUE_MAX_SIZE)


def serve(library: Library, host: str = "127.0.0.1", port: int = 7860) -> gr.Blocks:
    """Start the web UI in background threads and return it; close() stops it. No share link."""
    demo = build_app(library)
    # Gradio refuses bigger files before they reach disk; read_upload says why to API callers too.
    demo.launch(server_name=host, server_port=port, share=False, max_file_size=MAX_UPLOAD_BYTES,
                prevent_thread_lock=True, quiet=True)
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
