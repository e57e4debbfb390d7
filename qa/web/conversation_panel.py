"""The conversation panel of the web chat: the list of saved conversations, a new one, rename, export as Markdown
or JSON (downloaded by the browser: no file on the server) and delete with a confirmation.

The conversation shown is the session's Chat (the app's chat state), named by its conversation_id; every
conversation is kept in the browser (qa/web/conversations.py), so a reload or a server restart resumes it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import gradio as gr

from qa.chat import Chat
from qa.library import Library
from qa.web import conversations
from qa.web.errors import user_error
from qa.web.html import EMPTY_ARTICLE, format_transcript

# An export arrives as {"filename", "content"}: the browser saves it as a file.
DOWNLOAD_JS = """
(exported) => {
  const {filename, content} = JSON.parse(exported);
  const type = filename.endsWith('.json') ? 'application/json' : 'text/markdown';
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([content], {type: type + ';charset=utf-8'}));
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  setTimeout(() => { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
}
"""


def file_name(name: str) -> str:
    """A conversation's name as a safe file name: letters, digits and dashes."""
    return "-".join(re.findall(r"\w+", name))[:60].strip("-") or "conversation"


@dataclass(frozen=True)
class ConversationPanel:
    """The panel's components and the two events the app chains: a page opened, an answer given. The
    conversation shown is the session's Chat; it carries its own id (Chat.conversation_id), so an answer that
    arrives after the user switched conversations is saved in the conversation it belongs to."""

    saved: gr.BrowserState
    choice: gr.Dropdown
    library: Library

    def list_update(self, saved: object, chat: Chat | None, written: bool = False) -> dict:
        """The conversation list, showing the chat's; `written`: `saved` comes from conversations.write()."""
        listed = conversations.listing(saved) if written else conversations.choices(saved)
        shown = chat.conversation_id if chat is not None else ""
        return gr.update(choices=listed, value=shown if any(i == shown for _, i in listed) else None)

    def opened_page(self, saved: object, chat: Chat | None) -> tuple:
        """(chat, transcript, list) for a page just opened: the conversation the browser kept."""
        if chat is not None and chat.turns:  # a question asked before the page finished loading: keep it
            return gr.skip(), gr.skip(), gr.skip()
        current = conversations.read(saved)[0]
        chat = conversations.resumed(saved, current, self.library) if current else None
        return chat, format_transcript(chat), self.list_update(saved, chat)

    def saved_after_answer(self, chat: Chat | None, saved: object) -> tuple:
        """(saved, list) with the chat's newest turn kept in the browser."""
        saved = conversations.saved_with(saved, chat)
        return saved, self.list_update(saved, chat, written=True)  # after every answer: parsed once, not twice


def conversation_panel(library: Library, chat_state: gr.State, shown: list) -> ConversationPanel:
    """Build the panel inside the current Blocks layout and wire its own events. `shown`: the transcript, the
    question box and the article view, which a switch of conversation empties or fills."""
    saved = gr.BrowserState(conversations.EMPTY, storage_key=conversations.STORAGE_KEY,
                            secret=conversations.STORAGE_SECRET)
    with gr.Row(equal_height=False):
        choice = gr.Dropdown([], label="Conversation", elem_id="qa-conversation", scale=3)
        new_button = gr.Button("New conversation", size="sm", elem_id="qa-new", scale=1, min_width=90,
                               elem_classes="qa-beside-field")
    with gr.Accordion("Rename, export or delete this conversation", open=False, elem_id="qa-conversation-tools"):
        with gr.Row(equal_height=False):
            new_name = gr.Textbox(label="New name", max_lines=1, elem_id="qa-rename-text", scale=3,
                                  max_length=conversations.MAX_NAME_CHARS)
            rename_button = gr.Button("Rename", size="sm", elem_id="qa-rename", scale=1, min_width=70,
                                      elem_classes="qa-beside-field")
        with gr.Row():
            export_md = gr.Button("Export Markdown", size="sm", elem_id="qa-export-md")
            export_json = gr.Button("Export JSON", size="sm", elem_id="qa-export-json")
            delete_button = gr.Button("Delete…", size="sm", elem_id="qa-delete")
            delete_confirm = gr.Button("Delete for good", size="sm", variant="stop", visible=False,
                                       elem_id="qa-delete-confirm")
            delete_cancel = gr.Button("Cancel", size="sm", visible=False, elem_id="qa-delete-cancel")
        exported = gr.Textbox(visible=False)
    panel = ConversationPanel(saved, choice, library)
    private = {"api_visibility": "private", "show_progress": "hidden"}
    empty_view = (format_transcript(None), "", EMPTY_ARTICLE)

    def switched(chosen: str | None, saved_value: object) -> tuple:
        chat = conversations.resumed(saved_value, chosen or "", library) if chosen else None
        saved_value = conversations.with_current(saved_value, chat.conversation_id if chat is not None else "")
        return chat, saved_value, format_transcript(chat), "", EMPTY_ARTICLE

    def started_new(saved_value: object) -> tuple:
        saved_value = conversations.with_current(saved_value, "")
        return None, saved_value, *empty_view, panel.list_update(saved_value, None)

    def rename(name: str, saved_value: object, chat: Chat | None) -> tuple:
        try:
            saved_value = conversations.renamed(saved_value, chat.conversation_id if chat else "", name)
        except ValueError as error:
            raise user_error(str(error)) from error
        return saved_value, panel.list_update(saved_value, chat), ""

    def delete(saved_value: object, chat: Chat | None) -> tuple:
        if chat is not None:
            saved_value = conversations.deleted(saved_value, chat.conversation_id)
        return (None, saved_value, *empty_view, panel.list_update(saved_value, None),
                gr.update(visible=False), gr.update(visible=False))

    def export(kind: str, chat: Chat | None, saved_value: object) -> str:
        turns = chat.turns if chat is not None else ()
        if not turns:
            raise user_error("Nothing to export yet: ask a question first.")
        name = next((n for n, i in conversations.choices(saved_value) if i == chat.conversation_id),
                    conversations.name_for(turns))
        write = conversations.to_markdown if kind == "md" else conversations.to_json
        return json.dumps({"filename": f"{file_name(name)}.{kind}",
                           "content": write(name, turns, library.index_dir.name)})

    view = [chat_state, saved, *shown]
    new_button.click(started_new, saved, [*view, choice], **private)
    choice.input(switched, [choice, saved], view, **private)
    for trigger in (rename_button.click, new_name.submit):
        trigger(rename, [new_name, saved, chat_state], [saved, choice, new_name], **private)
    for button, kind in ((export_md, "md"), (export_json, "json")):
        button.click(lambda c, s, kind=kind: export(kind, c, s), [chat_state, saved], exported,
                     **private).success(None, exported, None, js=DOWNLOAD_JS)
    confirming = [delete_confirm, delete_cancel]
    delete_button.click(lambda: (gr.update(visible=True),) * 2, None, confirming, **private)
    delete_cancel.click(lambda: (gr.update(visible=False),) * 2, None, confirming, **private)
    delete_confirm.click(delete, [saved, chat_state], [*view, choice, *confirming], **private)
    return panel
