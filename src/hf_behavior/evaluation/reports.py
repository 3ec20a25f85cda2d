"""Results as Markdown tables, side-by-side comparisons with relative improvement, and a bar plot."""

from __future__ import annotations

import json
import math
from pathlib import Path

from .metrics import LOWER_IS_BETTER

# Counts and flags travel in the JSON; tables show the scores.
NOT_SCORES = {"n", "n_failed", "n_parsed", "n_unparsable", "n_tokens", "n_without_span", "n_without_target",
              "n_length_mismatch", "n_scenes_scored", "failures", "meteor_synonyms"}


def scores(task_result: dict) -> dict[str, float | None]:
    """The task's scores; None is an undefined score (NaN in memory, null in the JSON files)."""
    return {key: value for key, value in task_result.items() if key not in NOT_SCORES and (
        value is None or isinstance(value, (int, float)) and not isinstance(value, bool))}


def strict_json(value) -> str:
    """JSON with every NaN or infinity written as null: the standard has no NaN (`json.dumps` writes a bare `NaN`
    that strict parsers such as `jq` or JavaScript refuse)."""
    return json.dumps(_finite(value), indent=2, allow_nan=False)


def _finite(value):
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def _fmt(value: float) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.4f}"


def results_markdown(results: dict) -> str:
    lines = [f"# Evaluation of `{results['model']}`", "", "| Task | Metric | Value | n | Unparsable / failed |",
             "|---|---|---|---|---|"]
    for task, result in results["tasks"].items():
        dropped = f"{result.get('n_unparsable', 0)} / {result.get('n_failed', 0)}"
        for metric, value in scores(result).items():
            lines.append(f"| {task} | {metric} | {_fmt(value)} | {result.get('n', '')} | {dropped} |")
    return "\n".join(lines) + "\n"


def relative_improvement(metric: str, baseline: float, value: float) -> float:
    """Percent improvement over the baseline, positive when better (sign flipped for lower-is-better metrics)."""
    if baseline is None or value is None or baseline == 0 or math.isnan(baseline) or math.isnan(value):
        return math.nan
    change = (value - baseline) / abs(baseline) * 100.0
    return -change if metric in LOWER_IS_BETTER else change


def compare_rows(runs: list[dict]) -> list[dict]:
    """One row per (task, metric) present in the first run, with every run's value and its gain over the first."""
    baseline = runs[0]
    rows = []
    for task, result in baseline["tasks"].items():
        for metric, base_value in scores(result).items():
            values = [run["tasks"].get(task, {}).get(metric, math.nan) for run in runs]
            gains = [relative_improvement(metric, base_value, value) for value in values[1:]]
            rows.append({"task": task, "metric": metric, "values": values, "improvements": gains})
    return rows


def compare_markdown(runs: list[dict], names: list[str]) -> str:
    header = ["Task", "Metric", *names, *(f"{name} vs {names[0]} (%)" for name in names[1:])]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in compare_rows(runs):
        gains = ["n/a" if math.isnan(gain) else f"{gain:+.2f}%" for gain in row["improvements"]]
        lines.append("| " + " | ".join([row["task"], row["metric"], *map(_fmt, row["values"]), *gains]) + " |")
    return "\n".join(lines) + "\n"


def bar_plot(runs: list[dict], names: list[str], path: Path) -> Path:
    """Grouped bars: one group per (task, metric), one bar per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    rows = compare_rows(runs)
    positions = np.arange(len(rows))
    width = 0.8 / len(runs)
    figure, axis = plt.subplots(figsize=(max(6, 1.2 * len(rows) * len(runs)), 4))
    for i, name in enumerate(names):
        values = [row["values"][i] for row in rows]
        axis.bar(positions + i * width, [0 if v is None or math.isnan(v) else v for v in values], width, label=name)
    axis.set_xticks(positions + width * (len(runs) - 1) / 2)
    axis.set_xticklabels([f"{row['task']}\n{row['metric']}" for row in rows], fontsize=8)
    axis.legend()
    axis.set_title("hf-behavior eval")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def load_results(path: str | Path) -> dict:
    """A `results.json`, or a run folder holding one."""
    path = Path(path)
    path = path / "results.json" if path.is_dir() else path
    if not path.is_file():
        raise FileNotFoundError(f"no results at {path} (expected a results.json or a folder holding one)")
    return json.loads(path.read_text())
