"""What every benchmark does last: a markdown table, printed and written with its data under benchmarks/results/."""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def markdown(rows: list[dict], columns: list[str]) -> str:
    """A markdown table of `rows`, one column per key in `columns`; floats to 3 decimals."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = [f"{row[c]:.3f}" if isinstance(row[c], float) else str(row[c]) for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def save_results(name: str, text: str, data: object) -> None:
    """Print the table and write benchmarks/results/<name>.md and <name>.json."""
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.md").write_text(text + "\n", encoding="utf-8")
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
