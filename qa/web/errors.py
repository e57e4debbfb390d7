"""A user's mistake in the web chat: shown to them, logged in one line, never a traceback in the server's log."""

from __future__ import annotations

import logging

import gradio as gr

logger = logging.getLogger(__name__)


def user_error(message: str) -> gr.Error:
    """An error the user made (an empty question, a bad top_k, an unknown article id), to raise from an event."""
    logger.info("Refused a request: %s", message)
    return gr.Error(message, print_exception=False)
