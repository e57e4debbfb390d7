"""The library panel of the web chat: what is indexed (title, date, source, sentences), a filter, an article
opened from its row, removal with a confirmation, and counts that are read again after every change."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from qa.index.store import ArticleListing
from qa.library import Library
from qa.web.html import escape, format_article

COLUMNS = ["Title", "Date", "Source", "Sentences", "ID"]


@dataclass(frozen=True)
class LibraryPanel:
    """The panel's components that other events refresh (after an upload, say)."""

    summary: gr.HTML
    table: gr.Dataframe
    filter: gr.Textbox
    to_remove: gr.Dropdown
    removal: gr.events.Dependency  # the confirmed removal: the app chains what else a change refreshes

    @property
    def outputs(self) -> list:
        return [self.summary, self.table, self.to_remove]


# Articles a list on the page shows at most (the table, "Articles to remove", "Ask within"): every page load sends
# them, and an archive of 40,000 articles would be megabytes a visitor. The filter narrows all three.
MAX_LISTED = 500


def summary_html(library: Library, text: str = "") -> str:
    articles, sentences = library.counts()
    matching = len(listed(library, text, everything=True))
    shown = (f" (showing {MAX_LISTED} of {matching}{' matching' if (text or '').strip() else ''}: filter to narrow)"
             if matching > MAX_LISTED else "")
    return f"<p class='qa-library-count'>{articles} articles, {sentences} sentences{shown}</p>"


def listed(library: Library, text: str = "", everything: bool = False) -> list[ArticleListing]:
    """The articles whose title, date, source or id hold `text` (any case): at most MAX_LISTED, or all."""
    wanted = (text or "").strip().lower()
    matching = [a for a in library.articles()
                if not wanted or wanted in " ".join((a.title, a.date, a.source, a.article_id)).lower()]
    return matching if everything else matching[:MAX_LISTED]


def rows(library: Library, text: str = "") -> list[list]:
    """The table's rows: the listed articles."""
    return [[a.title, a.date, a.source, a.sentences, a.article_id] for a in listed(library, text)]


def within_choices(library: Library, text: str = "") -> dict:
    """The articles a question can be asked within: title (and date) shown, id sent."""
    return gr.update(choices=[(f"{a.title[:70]}{' · ' + a.date if a.date else ''}", a.article_id)
                              for a in listed(library, text)])


def library_panel(library: Library, article_view: gr.HTML) -> LibraryPanel:
    """Build the panel inside the current Blocks layout and wire its own events."""
    summary = gr.HTML(summary_html(library), elem_id="qa-library-count")
    text_filter = gr.Textbox(label="Filter the articles", placeholder="title, date, source or id",
                             elem_id="qa-library-filter", max_lines=1)
    # Widths set: a long title took the panel's width and pushed date, source and id out of sight.
    table = gr.Dataframe(rows(library), headers=COLUMNS, interactive=False, elem_id="qa-library-table",
                         wrap=True, max_height=300, column_widths=["44%", "16%", "16%", "10%", "14%"])
    to_remove = gr.Dropdown([a.article_id for a in library.articles()], multiselect=True,
                            label="Articles to remove", elem_id="qa-remove-choice")
    with gr.Row():
        remove = gr.Button("Remove…", size="sm", elem_id="qa-remove")
        confirm = gr.Button("Confirm removal", size="sm", variant="stop", visible=False, elem_id="qa-remove-confirm")
        cancel = gr.Button("Cancel", size="sm", visible=False, elem_id="qa-remove-cancel")
    status = gr.HTML("", elem_id="qa-remove-status")
    private = {"api_visibility": "private", "show_progress": "hidden"}

    def ask_to_confirm(chosen: list[str]) -> tuple:
        if not chosen:
            return gr.update(visible=False), gr.update(visible=False), "<p>Choose the articles to remove first.</p>"
        return (gr.update(visible=True, value=f"Remove {len(chosen)} article(s) for good"), gr.update(visible=True),
                f"<p>Remove {', '.join(escape(i) for i in chosen)}? This cannot be undone.</p>")

    def removed(chosen: list[str], text: str) -> tuple:
        try:
            count = library.remove(chosen or [])
            message = f"<p>Removed {count} article(s).</p>"
        except ValueError as error:
            message = f"<p>Nothing removed: {escape(str(error))}</p>"
        return (*refresh(library, text), gr.update(visible=False), gr.update(visible=False), message)

    def opened(text: str, event: gr.SelectData) -> str:
        shown = rows(library, text)
        row = event.index[0] if isinstance(event.index, list | tuple) else event.index
        return format_article(library, shown[row][-1] if 0 <= row < len(shown) else None, 0, 0)

    text_filter.change(lambda text: refresh(library, text), text_filter, [summary, table, to_remove], **private)
    remove.click(ask_to_confirm, to_remove, [confirm, cancel, status], **private)
    cancel.click(lambda: (gr.update(visible=False), gr.update(visible=False), ""), None, [confirm, cancel, status],
                 **private)
    removal = confirm.click(removed, [to_remove, text_filter], [summary, table, to_remove, confirm, cancel, status],
                            concurrency_limit=1, **private)
    table.select(opened, text_filter, article_view, **private)
    return LibraryPanel(summary, table, text_filter, to_remove, removal)


def refresh(library: Library, text: str = "") -> tuple:
    """New values for LibraryPanel.outputs: after an upload, on page load, as the filter changes."""
    ids = [a.article_id for a in listed(library, text)]
    return summary_html(library, text), rows(library, text), gr.update(choices=ids, value=[])
