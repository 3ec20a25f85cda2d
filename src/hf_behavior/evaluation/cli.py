"""`hf-behavior eval`: score a model on YAML-defined tasks, or compare finished runs side by side.

    hf-behavior eval --model PATH --task image-emotion-8 --data PATH_OR_HUB_ID [--split test] [--limit 250]
    hf-behavior eval --compare runs/llama-vid runs/behavior-llava
    hf-behavior eval --model PATH --suite paper --data-map benchmarks.yaml [--judge-model PATH]
    hf-behavior eval --suite paper --compare runs/llama-vid runs/behavior-llava

A run writes `<output-dir>/results.json`, `results.md` and `results.png`, plus per task `predictions.jsonl` (which
makes reruns resume) and `metrics.json`. `--compare` prints every model's scores and their relative improvement over
the first model, the way the paper's tables read, and writes `compare.md` and `compare.png`.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from .tasks import load_task, shipped_tasks


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help="model folder or Hub id (any BehaviorLlava / chat VLM checkpoint)")
    parser.add_argument("--task", nargs="+", default=[],
                        help=f"shipped task name ({', '.join(shipped_tasks())}) or a task YAML file")
    parser.add_argument("--data", help="dataset folder (parquet / save_to_disk), data file, or Hub id")
    parser.add_argument("--split", help="split to evaluate (default: the task's, else 'test', else the only split)")
    parser.add_argument("--limit", type=int, help="evaluate only the first N records")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--output-dir", type=Path, help="where results go (default: eval_results/<model name>)")
    parser.add_argument("--overwrite", action="store_true", help="discard earlier predictions for these tasks")
    parser.add_argument("--device", default=None, help="torch device (default: cuda if available, else cpu)")
    parser.add_argument("--judge-model", help="chat VLM grading captions for `kind: judge` tasks (Listings 2-4)")
    parser.add_argument("--compare", nargs="+", metavar="RUN", help="results.json files or run folders to compare")
    parser.add_argument("--names", nargs="+", help="column names for --compare (default: each run's model)")
    parser.add_argument("--suite", choices=["paper"],
                        help="run the paper's benchmarks given in --data-map (with --compare: paper-style tables)")
    parser.add_argument("--data-map", type=Path, help="YAML: benchmark (or lvu / hvu / ads) -> local data folder")
    parser.add_argument("--max-new-tokens", type=int,
                        help="with --suite: cap the answer length of the generating benchmarks (QA, captions, LVU)")


def run(args: argparse.Namespace) -> int:
    if args.suite:
        from .compare import run_paper_compare
        from .suite import run_suite

        return run_paper_compare(args) if args.compare else run_suite(args)
    if args.compare:
        return run_compare(args)
    if not args.model or not args.task:
        raise SystemExit("hf-behavior eval: --model and --task are required (or use --compare RUN RUN ...)")
    return run_eval(args)


def run_eval(args: argparse.Namespace) -> int:
    import torch

    from .reports import bar_plot, results_markdown
    from .runner import run_task
    from .scoring import load_chat_model

    tasks = [load_task(name) for name in args.task]  # fail on a bad task file before loading anything heavy
    output_dir = args.output_dir or Path("eval_results") / Path(args.model.rstrip("/")).name
    output_dir.mkdir(parents=True, exist_ok=True)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    model, processor = load_chat_model(args.model, device)
    judge = None
    judge_tasks = [task for task in tasks if task.kind == "judge"]
    if judge_tasks:
        from .judge import load_judge

        judge_path = args.judge_model or judge_tasks[0].judge_model
        if judge_path is None:
            raise SystemExit(f"task {judge_tasks[0].name}: pass --judge-model (or set `judge_model` in the task)")
        judge = load_judge(judge_path, device)

    results_file = output_dir / "results.json"
    results = json.loads(results_file.read_text()) if results_file.exists() else {"tasks": {}, "runs": {}}
    results["model"] = args.model
    for task in tasks:
        source = args.data or task.data
        if source is None:
            raise SystemExit(f"task {task.name}: no --data given and the task file names no `data`")
        dataset, data_dir, split = load_eval_data(source, args.split or task.split)
        if args.limit is not None:
            dataset = dataset.select(range(min(args.limit, len(dataset))))
        if args.overwrite and (output_dir / task.name).exists():
            shutil.rmtree(output_dir / task.name)
        fingerprint = {"model": args.model, "data": source, "split": split, "limit": args.limit}
        if task.kind == "judge":
            fingerprint["judge_model"] = args.judge_model or task.judge_model
        print(f"== {task.name} ({task.kind}) on {source} [{split}], {len(dataset)} records")
        results["tasks"][task.name] = run_task(
            model, processor, task, dataset, output_dir, data_dir, args.batch_size, fingerprint, judge
        )
        results["runs"][task.name] = fingerprint
        results_file.write_text(json.dumps(results, indent=2))  # after every task: nothing finished is lost

    markdown = results_markdown(results)
    (output_dir / "results.md").write_text(markdown)
    bar_plot([results], [Path(args.model.rstrip("/")).name], output_dir / "results.png")
    print(markdown)
    print(f"wrote {results_file}, {output_dir / 'results.md'} and {output_dir / 'results.png'}")
    return 0


def run_compare(args: argparse.Namespace) -> int:
    from .reports import bar_plot, compare_markdown, load_results

    if len(args.compare) < 2:
        raise SystemExit("hf-behavior eval --compare needs at least two runs")
    runs = [load_results(path) for path in args.compare]
    names = args.names or [Path(str(run.get("model", path)).rstrip("/")).name for run, path in zip(runs, args.compare)]
    if len(names) != len(runs):
        raise SystemExit(f"--names gives {len(names)} names for {len(runs)} runs")
    output_dir = args.output_dir or Path("eval_results") / "compare"
    output_dir.mkdir(parents=True, exist_ok=True)
    markdown = compare_markdown(runs, names)
    (output_dir / "compare.md").write_text(markdown)
    bar_plot(runs, names, output_dir / "compare.png")
    print(markdown)
    print(f"wrote {output_dir / 'compare.md'} and {output_dir / 'compare.png'}")
    return 0


def load_eval_data(source: str, split: str | None):
    """(dataset, folder that relative media paths are resolved against, split name) for a folder, file or Hub id."""
    from datasets import DatasetDict, load_dataset, load_from_disk

    path = Path(source)
    data_dir = path if path.is_dir() else path.parent if path.is_file() else None
    if path.is_dir() and ((path / "dataset_dict.json").exists() or (path / "state.json").exists()):
        data = load_from_disk(str(path))
    elif path.is_file():
        builder = {".parquet": "parquet", ".jsonl": "json", ".json": "json", ".csv": "csv"}.get(path.suffix)
        if builder is None:
            raise SystemExit(f"--data {source}: unsupported file type {path.suffix!r} (parquet, jsonl, json, csv)")
        data = load_dataset(builder, data_files=str(path))
    else:
        data = load_dataset(source)
    if not isinstance(data, DatasetDict):
        return data, data_dir, split or "train"
    if split is None:
        split = "test" if "test" in data else next(iter(data)) if len(data) == 1 else None
    if split not in data:
        raise SystemExit(f"--data {source}: choose a split with --split, one of {list(data)}")
    return data[split], data_dir, split
