"""Show and save an evaluation Report: terminal and Markdown tables, summary.json, results.csv, PNG plots."""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from qa.evaluation.evaluate import TOP_CITATIONS_SHOWN, ModeReport, Report
from qa.evaluation.metrics import MAX_RANK, QUESTION_TYPES, hit_at

if TYPE_CHECKING:
    from matplotlib.figure import Figure

Table = tuple[list[str], list[list[str]]]
CSV_COLUMNS = ["mode", "conversation_id", "turn", "line", "question", "question_type", "answerable",
               "expected", "hit_rank", "confidence", "found", "latency_ms",
               *(f"citation_{n}" for n in range(1, TOP_CITATIONS_SHOWN + 1))]


def _number(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def metrics_table(report: Report) -> Table:
    """One row per metric, one column per mode: the modes side by side."""
    rows: list[tuple[str, Callable[[ModeReport], str]]] = [
        ("questions asked", lambda m: str(len(m.results))),
        ("answerable", lambda m: str(m.retrieval.answerable)),
        ("unanswerable", lambda m: str(m.not_found.unanswerable)),
        ("hit@1", lambda m: _number(m.retrieval.hit_at_1)),
        ("hit@3", lambda m: _number(m.retrieval.hit_at_3)),
        ("hit@5", lambda m: _number(m.retrieval.hit_at_5)),
        ("hit@10", lambda m: _number(m.retrieval.hit_at_10)),
        ("MRR@10", lambda m: _number(m.retrieval.mrr_at_10)),
        ('said "not found"', lambda m: str(m.not_found.predicted_not_found)),
        ("not found: precision", lambda m: _number(m.not_found.precision)),
        ("not found: recall", lambda m: _number(m.not_found.recall)),
        ("not found: F1", lambda m: _number(m.not_found.f1)),
        ("  at threshold", lambda m: _number(m.not_found.threshold)),
        ("best threshold", lambda m: _number(m.not_found.best_threshold)),
        ("  its F1", lambda m: _number(m.not_found.best_f1)),
        ("answered right (found, hit@1)", lambda m: _number(m.answers.answered_right)),
        ("calibration error (ECE)", lambda m: _number(m.calibration.expected_calibration_error)),
        ("wrong at confidence >= 0.9", lambda m: _number(m.calibration.wrong_at_90)),
        ("conversations passing", lambda m: f"{m.answers.conversations_passing} / {m.answers.conversations}"
                                            if m.answers.conversations else "n/a"),
        ("latency p50 ms", lambda m: _number(m.latency.p50_ms, 1)),
        ("latency p95 ms", lambda m: _number(m.latency.p95_ms, 1)),
    ]
    header = ["metric"] + [m.mode for m in report.modes]
    return header, [[name] + [cell(m) for m in report.modes] for name, cell in rows]


def type_table(report: Report) -> Table:
    """Question counts and hit@1 per question type, a hit@1 column per mode."""
    header = ["question type", "questions", "answerable"] + [f"hit@1 {m.mode}" for m in report.modes]
    rows = []
    for kind in QUESTION_TYPES:
        per_mode = [next((t for t in m.by_type if t.question_type == kind), None) for m in report.modes]
        # Counts agree between modes, but for conversations, which are asked in one mode only.
        most = max((t for t in per_mode if t is not None), key=lambda t: t.questions, default=None)
        if most is not None:
            rows.append([kind, str(most.questions), str(most.answerable)]
                        + [_number(t.hit_at_1 if t else None) for t in per_mode])
    return header, rows


def format_text(table: Table) -> str:
    """Align a table in columns for the terminal."""
    header, rows = table
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    # Labels left-aligned, numbers right-aligned so their decimal points line up.
    lines = []
    for row in [header, *rows]:
        numbers = [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        lines.append("  ".join([row[0].ljust(widths[0]), *numbers]))
    return "\n".join(lines)


def format_markdown(table: Table) -> str:
    """Render a table as Markdown."""
    header, rows = table
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def format_summary(report: Report, title: str) -> str:
    """The terminal summary: what was asked, both tables, and what was skipped."""
    state = " (INTERRUPTED: partial results)" if report.interrupted else ""
    parts = [f"{title}{state}", format_text(metrics_table(report)), format_text(type_table(report))]
    if report.skipped:
        parts.append(f"Skipped {len(report.skipped)}:\n" + "\n".join(f"  {s}" for s in report.skipped))
    return "\n\n".join(parts)


def hit_curve(mode: ModeReport) -> list[float | None]:
    """hit@k for k = 1..10 on the answerable questions."""
    ranks = [r.hit_rank for r in mode.results if r.answerable]
    return [hit_at(ranks, k) for k in range(1, MAX_RANK + 1)]


def write_report(report: Report, out_dir: Path, title: str, context: dict[str, str]) -> list[Path]:
    """Write summary.json, results.csv, report.md and the plots into out_dir; return the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    modes = {m.mode: {"questions_asked": len(m.results), "retrieval": dataclasses.asdict(m.retrieval),
                      "not_found": dataclasses.asdict(m.not_found),
                      "answers": dataclasses.asdict(m.answers), "calibration": dataclasses.asdict(m.calibration),
                      "latency": dataclasses.asdict(m.latency),
                      "by_type": [dataclasses.asdict(t) for t in m.by_type], "hit_at_k": hit_curve(m)}
             for m in report.modes}
    summary = {**context, "interrupted": report.interrupted, "questions": report.questions,
               "skipped": list(report.skipped), "modes": modes}
    paths = [out_dir / "summary.json", out_dir / "results.csv", out_dir / "report.md"]
    paths[0].write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    _write_csv(report, paths[1])
    plots = _plot(report, out_dir)
    markdown = [f"# {title}", "", *(f"- {k}: {v}" for k, v in context.items()), "",
                "**Interrupted: partial results.**\n" if report.interrupted else "",
                "## Metrics", "", format_markdown(metrics_table(report)), "",
                "## By question type", "", format_markdown(type_table(report)), "",
                "## Plots", "", *(f"![{p.stem}]({p.name})" for p in plots)]
    if report.skipped:
        markdown += ["", "## Skipped", "", *(f"- {s}" for s in report.skipped)]
    paths[2].write_text("\n".join(markdown) + "\n", encoding="utf-8")
    return paths + plots


def _write_csv(report: Report, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for mode in report.modes:
            for r in mode.results:
                citations = list(r.top_citations) + [""] * (TOP_CITATIONS_SHOWN - len(r.top_citations))
                writer.writerow([r.mode, r.conversation_id, r.turn or "", r.line or "", r.question,
                                 r.question_type, r.answerable, r.expected,
                                 "" if r.hit_rank is None else r.hit_rank, f"{r.confidence:.4f}", r.found,
                                 f"{1000 * r.latency_s:.1f}", *citations])


def _plot(report: Report, out_dir: Path) -> list[Path]:
    # Figure without pyplot: no global state and no GUI backend; savefig renders PNG with Agg.
    from matplotlib.figure import Figure

    plots = [(out_dir / "hit_at_k.png", _plot_hits, (6, 4)),
             (out_dir / "confidence.png", _plot_confidence, (4.5 * len(report.modes), 3.6)),
             (out_dir / "reliability.png", _plot_reliability, (4.5 * len(report.modes), 4.2)),
             (out_dir / "latency.png", _plot_latency, (6, 4))]
    for path, draw, size in plots:
        figure = Figure(figsize=size, layout="constrained")
        draw(figure, report)
        figure.savefig(path, dpi=120)
    return [path for path, _, _ in plots]


def _plot_hits(figure: Figure, report: Report) -> None:
    axes = figure.subplots()
    for mode in report.modes:
        curve = hit_curve(mode)
        if curve[0] is not None:
            axes.plot(range(1, MAX_RANK + 1), curve, marker="o", label=mode.mode)
    axes.set(xlabel="k (cited sentences)", ylabel="hit@k (answerable questions)", ylim=(0, 1.02),
             xticks=range(1, MAX_RANK + 1), title="Right sentence within the top k")
    axes.grid(alpha=0.3)
    if axes.lines:
        axes.legend(loc="lower right")


def _plot_confidence(figure: Figure, report: Report) -> None:
    from matplotlib.ticker import MaxNLocator

    bins = [i / 20 for i in range(21)]
    for axes, mode in zip(figure.subplots(1, len(report.modes), squeeze=False)[0], report.modes, strict=True):
        for answerable, label in ((True, "answerable"), (False, "unanswerable")):
            confidences = [r.confidence for r in mode.results if r.answerable is answerable]
            if confidences:
                axes.hist(confidences, bins=bins, alpha=0.6, label=label)
        axes.axvline(mode.not_found.threshold, color="black", linestyle="--", label="threshold")
        if mode.not_found.best_threshold is not None:
            axes.axvline(mode.not_found.best_threshold, color="green", linestyle=":",
                         label="best-F1 threshold")
        axes.set(xlabel="confidence", ylabel="questions", title=f"Confidence ({mode.mode})", xlim=(0, 1))
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.legend(fontsize="small")


def _plot_reliability(figure: Figure, report: Report) -> None:
    """The reliability diagram: in each confidence bin, how often the first citation was right. A calibrated
    confidence lies on the diagonal."""
    for axes, mode in zip(figure.subplots(1, len(report.modes), squeeze=False)[0], report.modes, strict=True):
        filled = [b for b in mode.calibration.bins if b.questions]
        axes.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="calibrated")
        if filled:
            axes.plot([b.mean_confidence for b in filled], [b.share_right for b in filled], marker="o",
                      label="first citation right")
            for b in filled:
                axes.annotate(str(b.questions), (b.mean_confidence, b.share_right), textcoords="offset points",
                              xytext=(4, -10), fontsize="x-small")
        error = _number(mode.calibration.expected_calibration_error)
        axes.set(xlabel="confidence (bin mean; labels: questions)", ylabel="share right", xlim=(0, 1),
                 ylim=(0, 1.02), title=f"Reliability ({mode.mode}, ECE {error})")
        axes.grid(alpha=0.3)
        axes.legend(fontsize="small", loc="upper left")


def _plot_latency(figure: Figure, report: Report) -> None:
    from matplotlib.ticker import MaxNLocator

    axes = figure.subplots()
    for mode in report.modes:
        if mode.results:
            latency = mode.latency
            label = f"{mode.mode} (p50 {_number(latency.p50_ms, 0)} ms, p95 {_number(latency.p95_ms, 0)})"
            axes.hist([1000 * r.latency_s for r in mode.results], bins=30, histtype="step", linewidth=1.5,
                      label=label)
    axes.set(xlabel="milliseconds per question", ylabel="questions", title="Latency")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    if axes.patches:
        axes.legend(fontsize="small")
