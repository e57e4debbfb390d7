"""`qa eval`: the command-line face of qa.evaluation (being written in this session)."""

from __future__ import annotations

import argparse


def add_eval_command(commands: argparse._SubParsersAction) -> None:
    """Register `qa eval` and its flags."""
    commands.add_parser("eval", help="score the bot on a question set (not yet available)")


def run_eval(args: argparse.Namespace) -> int:
    raise NotImplementedError("qa eval is not written yet")
