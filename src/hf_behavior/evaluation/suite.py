"""`hf-behavior eval --suite paper --data-map FILE`: every benchmark of the paper that the data map gives a folder.

The data map is a YAML mapping of benchmark (or family: `lvu`, `hvu`, `ads`, `imdb`) to the local folder holding its
published files::

    videoemotion8: /data/VideoEmotion8
    lvu: /data/lvu            # all nine LVU tasks
    msvd-qa: /data/MSVD-QA

Every folder is read by its adapter before the model loads, so a wrong path or a broken annotation file fails in
seconds. Each task runs through the runner (`predictions.jsonl` per task): a rerun resumes where it stopped.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from .benchmarks import BENCHMARKS, FAMILIES, load_benchmark


def read_data_map(path: str | Path) -> dict[str, Path]:
    """benchmark name -> folder, families expanded; unknown names and missing folders are errors naming them."""
    path = Path(path)
    if not path.is_file():
        raise SystemExit(f"--data-map {path}: file not found")
    entries = yaml.safe_load(path.read_text()) or {}
    if not isinstance(entries, dict):
        raise SystemExit(f"--data-map {path}: expected a mapping of benchmark -> folder")
    data_map = {}
    for name, folder in entries.items():
        names = FAMILIES.get(name, [name])
        unknown = [n for n in names if n not in BENCHMARKS]
        if unknown:
            raise SystemExit(f"--data-map {path}: unknown benchmark {name!r}; known: "
                             f"{', '.join([*FAMILIES, *BENCHMARKS])}")
        folder = (path.parent / str(folder)).resolve() if not Path(str(folder)).is_absolute() else Path(folder)
        if not folder.is_dir():
            raise SystemExit(f"--data-map {path}: {name}: folder {folder} does not exist")
        data_map.update(dict.fromkeys(names, folder))
    if not data_map:
        raise SystemExit(f"--data-map {path}: no benchmark given")
    return data_map


def prepare(data_map: dict[str, Path], limit: int | None = None, max_new_tokens: int | None = None) -> list[tuple]:
    """(task, records, folder) per benchmark, in the registry's (the paper's) order."""
    prepared = []
    for name in (name for name in BENCHMARKS if name in data_map):
        task, records = load_benchmark(name, data_map[name])
        if max_new_tokens is not None:
            task.max_new_tokens = max_new_tokens
        prepared.append((task, records[:limit] if limit is not None else records, data_map[name]))
    return prepared


def run_suite(args) -> int:
    import torch
    from datasets import Dataset

    from .cli import check_model_source, write_run_summary
    from .reports import strict_json
    from .runner import run_task
    from .scoring import load_chat_model

    if args.suite != "paper":
        raise SystemExit(f"--suite {args.suite}: the only suite is 'paper'")
    if not args.model or not args.data_map:
        raise SystemExit("hf-behavior eval --suite paper needs --model and --data-map")
    # every adapter reads its folder before the model loads: a wrong path fails in seconds
    prepared = prepare(read_data_map(args.data_map), args.limit, args.max_new_tokens)
    judged = [task for task, _, _ in prepared if task.needs_judge]
    if judged and not args.judge_model:
        raise SystemExit(f"benchmark {judged[0].name} is graded by a judge: pass --judge-model PATH")
    check_model_source(args.model)

    output_dir = args.output_dir or Path("eval_results") / Path(args.model.rstrip("/")).name
    output_dir.mkdir(parents=True, exist_ok=True)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    model, processor = load_chat_model(args.model, device)
    judge = load_chat_model(args.judge_model, device) if judged else None

    results_file = output_dir / "results.json"
    results = json.loads(results_file.read_text()) if results_file.exists() else {"tasks": {}, "runs": {}}
    results.update(model=args.model, suite="paper")
    for task, records, folder in prepared:
        if args.overwrite and (output_dir / task.name).exists():
            shutil.rmtree(output_dir / task.name)
        fingerprint = {"model": args.model, "data": str(folder), "suite": "paper", "limit": args.limit}
        if task.needs_judge:
            fingerprint["judge_model"] = args.judge_model
        print(f"== {task.name} ({task.kind}) on {folder}, {len(records)} records")
        results["tasks"][task.name] = run_task(model, processor, task, Dataset.from_list(records), output_dir,
                                               None, args.batch_size, fingerprint, judge)
        results["runs"][task.name] = fingerprint
        results_file.write_text(strict_json(results))  # after every task: nothing finished is lost
    return write_run_summary(results, output_dir, args.model)
