"""Funnel report: every item that enters the build is either kept or dropped at a named stage for a reason.

The invariant `input == kept + dropped` holds per unit ("posts", "comments"), which is what the tests check and
what the dataset card shows, like Figure 13 of the paper. Bad input (unreadable lines, missing fields, missing
media, failed verbalization) is also counted as an *error*, with the first file:line examples kept, so
`--max-error-rate` can stop a build fed with the wrong files.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

UNITS = ("posts", "comments")
# Stage order of the funnel (the order the pipeline applies them in).
STAGES = (
    "read",
    "post filters",
    "media",
    "duplicate media",
    "verbalization",
    "comment filters",
    "post dropped",
    "comment dedup",
    "top-k",
    "post comments",
)
MAX_EXAMPLES = 5


class Funnel:
    def __init__(self) -> None:
        self.inputs: Counter = Counter()
        self.dropped: dict[str, dict[str, Counter]] = {unit: defaultdict(Counter) for unit in UNITS}
        self.errors: Counter = Counter()  # unit -> number of bad-input drops
        self.examples: dict[str, list[str]] = defaultdict(list)  # "stage: reason" -> ["file:line", ...]
        self.error_reasons: set[str] = set()  # the "stage: reason" keys that are bad input
        self.truncated: dict[str, list] = {}  # a compressed file that ends early -> [lines read before, why]

    def add_input(self, unit: str, n: int = 1) -> None:
        self.inputs[unit] += n

    def drop(self, unit: str, stage: str, reason: str, n: int = 1, where: str | None = None, error: bool = False):
        if n <= 0:
            return
        self.dropped[unit][stage][reason] += n
        if error:
            self.errors[unit] += n
            self.error_reasons.add(f"{stage}: {reason}")
        if where is not None:
            examples = self.examples[f"{stage}: {reason}"]
            if len(examples) < MAX_EXAMPLES:
                examples.append(where)

    def kept(self, unit: str) -> int:
        return self.inputs[unit] - sum(sum(c.values()) for c in self.dropped[unit].values())

    def error_rates(self) -> dict[str, float]:
        """The fraction of bad input per unit: posts and comments apart, as a dump holds many comments a post (5 posts
        without media among 1,200 comments are all the posts)."""
        return {unit: self.errors[unit] / self.inputs[unit] if self.inputs[unit] else 0.0 for unit in UNITS}

    def merge(self, other: Funnel) -> Funnel:
        self.inputs.update(other.inputs)
        self.errors.update(other.errors)
        self.error_reasons |= other.error_reasons
        self.truncated.update(other.truncated)
        for unit in UNITS:
            for stage, reasons in other.dropped[unit].items():
                self.dropped[unit][stage].update(reasons)
        for key, examples in other.examples.items():
            self.examples[key] = (self.examples[key] + examples)[:MAX_EXAMPLES]
        return self

    def to_dict(self) -> dict:
        return {
            "inputs": dict(self.inputs),
            "kept": {unit: self.kept(unit) for unit in UNITS},
            "errors": dict(self.errors),
            "dropped": {unit: {s: dict(r) for s, r in self.dropped[unit].items()} for unit in UNITS},
            "examples": dict(self.examples),
            "error_reasons": sorted(self.error_reasons),
            "truncated": self.truncated,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Funnel:
        funnel = cls()
        funnel.inputs.update(data.get("inputs", {}))
        funnel.errors.update(data.get("errors", {}))
        funnel.error_reasons.update(data.get("error_reasons", []))
        funnel.truncated.update(data.get("truncated", {}))
        for unit, stages in data.get("dropped", {}).items():
            for stage, reasons in stages.items():
                funnel.dropped[unit][stage].update(reasons)
        for key, examples in data.get("examples", {}).items():
            funnel.examples[key] = list(examples)
        return funnel

    def remaining_by_stage(self, unit: str) -> list[tuple[str, int]]:
        """Items left after each stage, in pipeline order (the funnel's bars)."""
        left, rows = self.inputs[unit], [("input", self.inputs[unit])]
        for stage in self._stages(unit):
            left -= sum(self.dropped[unit][stage].values())
            rows.append((stage, left))
        return rows

    def _stages(self, unit: str) -> list[str]:
        extra = sorted(set(self.dropped[unit]) - set(STAGES))
        return [s for s in STAGES if s in self.dropped[unit]] + extra

    def table(self) -> str:
        """Markdown table: one row per (unit, stage, reason) with the count and the items left after the stage."""
        lines = ["| unit | stage | reason | dropped | left after stage |", "|---|---|---|---:|---:|"]
        for unit in UNITS:
            lines.append(f"| {unit} | input | | | {self.inputs[unit]:,} |")
            left = self.inputs[unit]
            for stage in self._stages(unit):
                reasons = self.dropped[unit][stage]
                left -= sum(reasons.values())
                for i, (reason, count) in enumerate(reasons.most_common()):
                    after = f"{left:,}" if i == len(reasons) - 1 else ""
                    lines.append(f"| {unit} | {stage} | {reason.replace('|', '/')} | {count:,} | {after} |")
            lines.append(f"| {unit} | **kept** | | | **{self.kept(unit):,}** |")
        return "\n".join(lines)

    def plot(self, path: str | Path) -> None:
        """Horizontal funnel bars (items left after each stage) for posts and comments, saved as PNG. A bare
        `Figure` draws with Agg and leaves pyplot (half a second to import, global state) out of the build."""
        from matplotlib.figure import Figure

        fig = Figure(figsize=(12, 4.5))
        axes = fig.subplots(1, len(UNITS))
        for ax, unit in zip(axes, UNITS):
            rows = self.remaining_by_stage(unit)
            labels, values = [r[0] for r in rows], [r[1] for r in rows]
            bars = ax.barh(range(len(rows)), values, color="#4c72b0")
            ax.set_yticks(range(len(rows)), labels)
            ax.invert_yaxis()
            ax.bar_label(bars, labels=[f"{v:,}" for v in values], padding=3, fontsize=8)
            ax.set_title(f"{unit}: {self.inputs[unit]:,} in, {self.kept(unit):,} kept")
            ax.set_xlim(0, max(values + [1]) * 1.25)
        fig.suptitle("BLIFT build funnel")
        fig.tight_layout()
        fig.savefig(path, dpi=100)

    def save(self, folder: str | Path) -> None:
        """`funnel.json` and `funnel.md` in `folder` (`plot` draws `funnel.png`)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "funnel.json").write_text(json.dumps(self.to_dict(), indent=2))
        (folder / "funnel.md").write_text(self.table() + "\n")

    def error_examples(self, most: int = 5) -> list[str]:
        """"stage: reason: file:line; ..." for the bad-input reasons, most frequent first."""
        counts = Counter({key: 0 for key in self.error_reasons})
        for unit in UNITS:
            for stage, reasons in self.dropped[unit].items():
                counts.update({f"{stage}: {r}": c for r, c in reasons.items() if f"{stage}: {r}" in self.error_reasons})
        return [f"{key} ({n:,}): {'; '.join(self.examples.get(key, [])[:3])}" for key, n in counts.most_common(most)]

    def summary(self) -> str:
        """A few lines a person reads at the end of a build."""
        lines = []
        for unit in UNITS:
            lines.append(f"{unit}: {self.inputs[unit]:,} read, {self.kept(unit):,} kept, {self.errors[unit]:,} bad input")
            top = Counter({f"{s}: {r}": c for s, rs in self.dropped[unit].items() for r, c in rs.items()})
            lines += [f"  - {reason}: {count:,}" for reason, count in top.most_common(8)]
        for path, (read, why) in self.truncated.items():
            lines.append(f"truncated input {path}: {why}; the {read:,} lines before it were read")
        return "\n".join(lines)
