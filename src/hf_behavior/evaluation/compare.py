"""Paper-style comparison of suite runs: one table per paper table, rows = models, columns = datasets, and a row per
later model with its improvement in % over the first (the paper's "Improvement of Behavior-LLaVA over LLaMA-Vid").

    hf-behavior eval --suite paper --compare runs/llama-vid runs/behavior-llava --names LLaMA-Vid Behavior-LLaVA

writes `compare_paper.md` and `compare_paper.png` (one panel per table) and prints the Markdown.
"""

from __future__ import annotations

import math
from pathlib import Path

from .benchmarks import BENCHMARKS
from .reports import _fmt, relative_improvement


def paper_tables(runs: list[dict]) -> dict[str, dict]:
    """{table title: {"columns": [(benchmark, metric, header)], "values": [[value per column] per run]}} for
    every paper table of which any run holds a benchmark; a benchmark a run lacks is NaN (shown as n/a)."""
    tables: dict[str, dict] = {}
    for name, benchmark in BENCHMARKS.items():
        if not any(name in run.get("tasks", {}) for run in runs):
            continue
        table = tables.setdefault(benchmark.table, {"columns": [], "values": [[] for _ in runs]})
        for metric in benchmark.metrics:
            header = benchmark.column if len(benchmark.metrics) == 1 else f"{benchmark.column} {metric}"
            table["columns"].append((name, metric, header))
            for row, run in zip(table["values"], runs):
                value = run.get("tasks", {}).get(name, {}).get(metric)
                row.append(math.nan if value is None else float(value))
    return tables


def paper_markdown(runs: list[dict], names: list[str]) -> str:
    sections = []
    for title, table in paper_tables(runs).items():
        headers = [header for _, _, header in table["columns"]]
        lines = [f"### {title}", "", "| Model | " + " | ".join(headers) + " |", "|---" * (len(headers) + 1) + "|"]
        for name, values in zip(names, table["values"]):
            lines.append(f"| {name} | " + " | ".join(map(_fmt, values)) + " |")
        for name, values in zip(names[1:], table["values"][1:]):
            gains = [relative_improvement(metric, base, value)
                     for (_, metric, _), base, value in zip(table["columns"], table["values"][0], values)]
            cells = ["n/a" if math.isnan(gain) else f"{gain:+.2f}%" for gain in gains]
            lines.append(f"| Improvement of {name} over {names[0]} | " + " | ".join(cells) + " |")
        sections.append("\n".join(lines))
    return "\n\n".join(sections) + "\n"


def paper_figure(runs: list[dict], names: list[str], path: Path) -> Path:
    """One panel per paper table: grouped bars, one group per dataset column, one bar per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    tables = paper_tables(runs)
    figure, axes = plt.subplots(len(tables), 1, figsize=(10, 3.2 * len(tables)), squeeze=False)
    width = 0.8 / len(runs)
    for axis, (title, table) in zip(axes[:, 0], tables.items()):
        positions = np.arange(len(table["columns"]))
        for i, (name, values) in enumerate(zip(names, table["values"])):
            axis.bar(positions + i * width, [0 if math.isnan(v) else v for v in values], width, label=name)
        axis.set_xticks(positions + width * (len(runs) - 1) / 2)
        axis.set_xticklabels([header for _, _, header in table["columns"]], fontsize=8, rotation=20)
        axis.set_title(title)
        axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def run_paper_compare(args) -> int:
    from .cli import compare_inputs

    runs, names, output_dir = compare_inputs(args)
    if not paper_tables(runs):
        raise SystemExit("--suite paper --compare: none of the runs holds a benchmark of the paper suite")
    markdown = paper_markdown(runs, names)
    (output_dir / "compare_paper.md").write_text(markdown)
    paper_figure(runs, names, output_dir / "compare_paper.png")
    print(markdown)
    print(f"wrote {output_dir / 'compare_paper.md'} and {output_dir / 'compare_paper.png'}")
    return 0
