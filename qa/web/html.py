"""The chat's answers as HTML: questions, answers, numbered citations with their answer words marked, articles.

Article text is untrusted, so every piece of it is escaped here before it becomes HTML, and no Markdown renderer
ever sees it. The web UI (app.py) shows these strings as they are.
"""

from __future__ import annotations

import html

from qa.answer import Citation
from qa.chat import Chat, Turn
from qa.index.store import StoredArticle
from qa.library import Library
from qa.web.conversations import turn_markdown

CONTEXT_CHARS = 110
EMPTY_ARTICLE = "<p class='qa-article-empty'>Click a citation to read its whole article here.</p>"
# gr.HTML evaluates its template as a JavaScript template string: escape its syntax in untrusted text too.
_TEMPLATE_SYNTAX = str.maketrans({"$": "&#36;", "{": "&#123;", "}": "&#125;", "`": "&#96;"})

TRANSCRIPT_CSS = """
.qa-empty { color: var(--body-text-color-subdued); padding: 1.5em 0.5em; }
.qa-live { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.qa-turn { margin: 0 0 1.2em; }
.qa-question { margin-left: auto; max-width: 85%; width: fit-content; background: var(--color-accent-soft);
  border-radius: 12px; padding: 0.5em 0.8em; }
.qa-answer { border-left: 4px solid var(--color-accent); background: var(--background-fill-secondary);
  border-radius: 8px; padding: 0.6em 0.9em; margin-top: 0.5em; }
/* Slate, not a second orange: a "not found" must not pass for an answer at a glance (#d97706 beside the accent
   #f97316 did). */
.qa-answer { position: relative; }
.qa-copy { position: absolute; top: 0.4em; right: 0.5em; font: inherit; font-size: 0.8em; cursor: pointer;
  background: var(--background-fill-primary); color: var(--body-text-color); border: 1px solid
  var(--border-color-primary); border-radius: 6px; padding: 0.1em 0.6em; }
.qa-copy:hover, .qa-copy:focus-visible { border-color: var(--color-accent); }
.qa-answer.qa-not-found { border-left-color: #64748b; }
.qa-label { font-weight: 600; }
.qa-meta { font-size: 0.85em; color: var(--body-text-color-subdued); margin-bottom: 0.3em; }
.qa-citations { list-style: none; padding: 0; margin: 0.5em 0 0; }
.qa-cite { display: block; width: 100%; text-align: left; background: var(--background-fill-primary);
  border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 0.5em 0.7em; margin: 0.4em 0;
  cursor: pointer; font: inherit; color: inherit; line-height: 1.45; }
.qa-cite:hover, .qa-cite:focus-visible { border-color: var(--color-accent); }
.qa-title { display: block; font-size: 0.85em; font-weight: 600; color: var(--body-text-color-subdued);
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.qa-cite-source { font-size: 0.85em; margin: -0.2em 0 0.4em 0.7em; display: inline-block; }
.qa-context { color: var(--body-text-color-subdued); }
.qa-sentence mark, .qa-answer-words mark { background: #fde68a; color: #1f2937; border-radius: 3px; }
.qa-not-found .qa-cite { border-style: dashed; }  /* closest, not an answer: set apart, as readable */
"""
ARTICLE_CSS = """
.qa-article-empty { color: var(--body-text-color-subdued); }
.qa-article-text { white-space: pre-wrap; overflow-wrap: anywhere; max-height: 60vh; overflow-y: auto;
  line-height: 1.5; }
.qa-back { font: inherit; cursor: pointer; background: none; border: 1px solid var(--border-color-primary);
  border-radius: 6px; padding: 0.2em 0.7em; margin-bottom: 0.4em; color: var(--body-text-color); }
.qa-cited { background: #fde68a; color: #1f2937; border-radius: 3px; padding: 0 2px; }
"""


def escape(text: str) -> str:
    """Escape untrusted text for our own HTML markup."""
    return html.escape(text, quote=True).translate(_TEMPLATE_SYNTAX)


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
    # Cut at a space, so the context never starts or ends in the middle of a word ("…sing international").
    before = ("…" + before[-CONTEXT_CHARS:].split(" ", 1)[-1]) if len(before) > CONTEXT_CHARS else before
    after = (after[:CONTEXT_CHARS].rsplit(" ", 1)[0] + "…") if len(after) > CONTEXT_CHARS else after
    source = _link(citation.url, "Source page ↗", "qa-cite-source")
    return (f'<li><button type="button" class="qa-cite" data-article="{escape(citation.article_id)}" '
            f'data-start="{citation.start}" data-end="{citation.end}" title="Show the whole article">'
            f'<span class="qa-title">[{citation.rank}] {escape(citation.title)}{_published(citation)}</span>'
            f'<span class="qa-context">{escape(before)} </span><span class="qa-sentence">{format_sentence(citation)}'
            f'</span><span class="qa-context"> {escape(after)}</span></button>{source}</li>')


def _published(article: Citation | StoredArticle) -> str:
    """" · 2025-03-04 · Fjord Herald" where the article's date or source is known."""
    known = [escape(x) for x in (article.date, article.source) if x]
    return "".join(f" · {x}" for x in known)


def _link(url: str, label: str = "", css_class: str = "qa-source-link") -> str:
    """A link to the article's web address (its text: the address, or `label`); only http(s), so a stored address
    can never run script. A citation's link sits beside its button, not inside: a link in a button is invalid
    HTML, and the button opens the article here."""
    if not url.lower().startswith(("http://", "https://")):
        return ""
    return (f'<a class="{css_class}" href="{escape(url)}" target="_blank" rel="noopener noreferrer">'
            f'{escape(label or url)}</a>')


def format_turn(turn: Turn, titles: dict[str, str]) -> str:
    """A question and its answer: the answer, its confidence, what was searched, and the citations."""
    answer = turn.answer
    meta = []
    if answer.searched_for and answer.searched_for != answer.question:
        meta.append(f"Searched for: {escape(answer.searched_for)}")
    kept = [titles[a] for a in turn.resolution.prefer_article_ids if a in titles]
    if len(kept) == 1:
        meta.append(f"Follow-up, kept to “{escape(kept[0])}”")
    if turn.within:
        meta.append("Asked within: " + ", ".join(f"“{escape(titles.get(i, i))}”" for i in turn.within))
    meta_html = "".join(f'<div class="qa-meta">{line}</div>' for line in meta)
    confidence = f'<div class="qa-meta">Confidence {answer.confidence:.0%}</div>'
    if answer.found:
        # The headline is the whole cited sentence with its answer words marked, never the marks alone:
        # who-question marks are right 58% of the time (benchmarks/highlights.py).
        headline = format_sentence(answer.citations[0])
        body = (f'<div class="qa-label">Answer</div><div class="qa-answer-words">{headline} '
                f'<sup class="qa-marker">[1]</sup></div>'
                f'{confidence}<ol class="qa-citations">{"".join(map(format_citation, answer.citations))}</ol>')
        kind = "qa-found"
    else:
        closest = "".join(map(format_citation, answer.closest))
        # No confidence line: "Confidence 4%" beside "Not found" reads as a verdict on the answer it did not give.
        body = (f'<div class="qa-label">Not found</div><div>{escape(answer.text)}</div>'
                + (f'<div class="qa-meta">Closest sentences, not an answer:</div><ol class="qa-citations">'
                   f'{closest}</ol>' if closest else ""))
        kind = "qa-not-found"
    copy = (f'<button type="button" class="qa-copy" data-copy="{escape(turn_markdown(answer))}" '
            f'aria-label="Copy this answer and its sources">Copy</button>')
    return (f'<div class="qa-turn"><div class="qa-question">{escape(answer.question)}</div>'
            f'<div class="qa-answer {kind}">{copy}{meta_html}{body}</div></div>')


def format_transcript(chat: Chat | None) -> str:
    """The whole conversation as HTML, oldest turn first."""
    if chat is None or not chat.turns:
        return ('<div class="qa-empty">Ask a question about the news articles. Every answer cites the sentences '
                'it comes from; click one to read it in its article.</div>')
    titles = {}
    for turn in chat.turns:
        for article_id in (*turn.resolution.prefer_article_ids[:1], *turn.within):
            if article_id in titles:  # read each article once a render, however many turns name it
                continue
            stored = chat.library.article(article_id)
            titles[article_id] = stored.title if stored else article_id
    # A live region that holds only the newest answer: a screen reader announces each answer as it comes.
    newest = chat.turns[-1].answer
    announced = newest.text if newest.found else f"Not found. {newest.text}"
    return "".join(format_turn(turn, titles) for turn in chat.turns) + (
        f'<div class="qa-live" role="status" aria-live="polite">{escape(announced)}</div>')


def format_article(library: Library, article_id: object, start: object, end: object) -> str:
    """The whole article with the cited sentence marked in place (offsets checked against the text)."""
    stored = library.article(article_id) if isinstance(article_id, str) else None
    if stored is None:
        return '<p class="qa-article-empty">That article is no longer in the index.</p>'
    text = stored.text
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
        start = end = 0
    published = _published(stored).removeprefix(" · ")
    meta = " · ".join(x for x in (published, _link(stored.url)) if x)
    # Opened from a citation: on a phone the article is a screen of its own, and this (or the browser's Back)
    # returns to the answer that cited it.
    back = '<button type="button" class="qa-back">← Back to the answer</button>' if start < end else ""
    return back + (f'<h3>{escape(stored.title)}</h3>' + (f'<div class="qa-published">{meta}</div>' if meta else "")
            + f'<div class="qa-article-text">{escape(text[:start])}'
            f'<mark class="qa-cited">{escape(text[start:end])}</mark>{escape(text[end:])}</div>')


def format_index_info(library: Library) -> str:
    articles, sentences = library.counts()
    return (f"<p>Index <b>{escape(library.index_dir.name)}</b>: {articles} articles, {sentences} sentences "
            f"(model {escape(library.encoder.name)})</p>")
