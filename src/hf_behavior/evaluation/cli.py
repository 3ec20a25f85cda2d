"""`hf-behavior eval`: score a model on YAML-defined tasks, or compare finished runs side by side.

    hf-behavior eval --model PATH --task image-emotion-8 --data PATH_OR_HUB_ID [--split test] [--limit 250]
    hf-behavior eval --model PATH --task likes-r2 replay comment-perplexity --data BUILD_BLIFT_FOLDER [--config blift]
    hf-behavior eval --compare runs/llama-vid runs/behavior-llava
    hf-behavior eval --model PATH --suite paper --data-map benchmarks.yaml [--judge-model PATH]
    hf-behavior eval --suite paper --compare runs/llama-vid runs/behavior-llava

The inputs (model folder, data, config, the columns each task reads) are checked before the model loads.

A run writes `<output-dir>/results.json`, `results.md` and `results.png`, plus per task `predictions.jsonl` (which
makes reruns resume) and `metrics.json`. `--compare` prints every model's scores and their relative improvement over
the first model, the way the paper's tables read, and writes `compare.md` and `compare.png`.
"""

from __future__ import annotations

import argparse
import json
import shutil
from dataclasses import replace
from pathlib import Path

from .tasks import load_task, shipped_tasks


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help="model folder or Hub id (any BehaviorLlava / chat VLM checkpoint)")
    parser.add_argument("--task", nargs="+", default=[],
                        help=f"shipped task name ({', '.join(shipped_tasks())}) or a task YAML file")
    parser.add_argument("--data", help="dataset folder (parquet / save_to_disk), data file, or Hub id")
    parser.add_argument("--config", help="config of a dataset with several (e.g. a `hf-behavior build-blift` folder; "
                        "default: the only one, else the task's `config`)")
    parser.add_argument("--split", help="split to evaluate (default: the task's, else 'test', else the only split)")
    parser.add_argument("--limit", type=_positive_int, help="evaluate only the first N records")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=_positive_int, help="cap on generated tokens of every generating task or benchmark (default: each task's)")
    parser.add_argument("--output-dir", type=Path, help="where results go (default: eval_results/<model name>)")
    parser.add_argument("--overwrite", action="store_true", help="discard earlier predictions for these tasks")
    parser.add_argument("--device", default=None, help="torch device (default: cuda if available, else cpu)")
    parser.add_argument("--judge-model", help="chat VLM grading captions for `kind: judge` tasks (Listings 2-4)")
    parser.add_argument("--compare", nargs="+", metavar="RUN", help="results.json files or run folders to compare")
    parser.add_argument("--names", nargs="+", help="column names for --compare (default: each run's model)")
    parser.add_argument("--suite", choices=["paper"],
                        help="run the paper's benchmarks given in --data-map (with --compare: paper-style tables)")
    parser.add_argument("--data-map", type=Path, help="YAML: benchmark (or lvu / hvu / ads / imdb) -> local data folder")


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
    # Everything that can be wrong with the inputs is reported (one line each) before the model loads.
    tasks = [load_task(name) for name in args.task]
    if args.max_new_tokens is not None:
        tasks = [replace(task, max_new_tokens=args.max_new_tokens) for task in tasks]
    check_model_source(args.model)
    prepared = [prepare_task_data(task, args) for task in tasks]

    import torch

    from .reports import strict_json
    from .runner import run_task
    from .scoring import load_chat_model

    output_dir = args.output_dir or Path("eval_results") / Path(args.model.rstrip("/")).name
    output_dir.mkdir(parents=True, exist_ok=True)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    judge = None
    judge_tasks = [task for task in tasks if task.kind == "judge"]
    if judge_tasks:
        judge_path = args.judge_model or judge_tasks[0].judge_model
        if judge_path is None:
            raise SystemExit(f"task {judge_tasks[0].name}: pass --judge-model (or set `judge_model` in the task)")
    model, processor = load_chat_model(args.model, device)
    if judge_tasks:
        from .judge import load_judge

        judge = load_judge(judge_path, device)

    results_file = output_dir / "results.json"
    results = json.loads(results_file.read_text()) if results_file.exists() else {"tasks": {}, "runs": {}}
    results["model"] = args.model
    for task, (dataset, data_dir, fingerprint, n_without_target) in zip(tasks, prepared):
        if args.overwrite and (output_dir / task.name).exists():
            shutil.rmtree(output_dir / task.name)
        if task.kind == "judge":
            fingerprint["judge_model"] = args.judge_model or task.judge_model
        print(f"== {task.name} ({task.kind}) on {fingerprint['data']} [{fingerprint['split']}], {len(dataset)} records"
              + (f" ({n_without_target} without `{task.target_column}` left out)" if n_without_target else ""))
        result = run_task(model, processor, task, dataset, output_dir, data_dir, args.batch_size, fingerprint, judge)
        results["tasks"][task.name] = {**result, **({"n_without_target": n_without_target} if n_without_target else {})}
        results["runs"][task.name] = fingerprint
        results_file.write_text(strict_json(results))  # after every task: nothing finished is lost
    return write_run_summary(results, output_dir, args.model)


def write_run_summary(results: dict, output_dir: Path, model: str) -> int:
    """results.md and results.png beside a run's results.json, and the table printed."""
    from .reports import bar_plot, results_markdown

    markdown = results_markdown(results)
    (output_dir / "results.md").write_text(markdown)
    bar_plot([results], [Path(model.rstrip("/")).name], output_dir / "results.png")
    print(markdown)
    print(f"wrote {output_dir / 'results.json'}, {output_dir / 'results.md'} and {output_dir / 'results.png'}")
    return 0


def prepare_task_data(task, args: argparse.Namespace):
    """(dataset, data folder, run fingerprint, records left out for lacking the target) for one task; a one-line
    error for a missing source, a config or column the task needs that the data lacks, or nothing left to score."""
    source = args.data or task.data
    if source is None:
        raise SystemExit(f"task {task.name}: no --data given and the task file names no `data`")
    config = choose_config(source, args.config, task.config)
    dataset, data_dir, split = load_eval_data(source, args.split or task.split, config)
    where = f"--data {source}" + (f" [{config}/{split}]" if config else f" [{split}]")
    missing = [column for column in task.required_columns() if column not in dataset.column_names]
    if missing:
        raise SystemExit(f"task {task.name}: {where} has no column {', '.join(map(repr, missing))} "
                         f"(columns: {', '.join(dataset.column_names)})")
    n_without_target = 0
    if task.target_column is not None:  # BLIFT leaves `replay` empty where there is no replay graph
        keep = [i for i, value in enumerate(dataset[task.target_column]) if value is not None and value != []]
        n_without_target = len(dataset) - len(keep)
        if n_without_target:
            dataset = dataset.select(keep)
    if args.limit is not None:
        dataset = dataset.select(range(min(args.limit, len(dataset))))
    if len(dataset) == 0:
        lacking = f" with a `{task.target_column}` value" if n_without_target else ""
        raise SystemExit(f"task {task.name}: {where} has no records{lacking} to evaluate")
    fingerprint = {"model": args.model, "data": source, "split": split, "limit": args.limit}
    if config is not None:
        fingerprint["config"] = config
    return dataset, data_dir, fingerprint, n_without_target


def check_model_source(model: str) -> None:
    """A one-line error when `model` is neither a saved model folder nor a Hub id that could be loaded."""
    path = Path(model).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise SystemExit(f"--model {model}: the folder has no config.json (not a saved model)")
        return
    if path.exists() or not _is_hub_id(model):
        raise SystemExit(f"--model {model}: no such model folder")
    from huggingface_hub import constants, try_to_load_from_cache

    if constants.HF_HUB_OFFLINE and not isinstance(try_to_load_from_cache(model, "config.json"), str):
        raise SystemExit(f"--model {model}: no such folder, and not a Hub model in the local cache (HF_HUB_OFFLINE=1)")


def run_compare(args: argparse.Namespace) -> int:
    from .reports import bar_plot, compare_markdown

    if len(args.compare) < 2:
        raise SystemExit("hf-behavior eval --compare needs at least two runs")
    runs, names, output_dir = compare_inputs(args)
    markdown = compare_markdown(runs, names)
    (output_dir / "compare.md").write_text(markdown)
    bar_plot(runs, names, output_dir / "compare.png")
    print(markdown)
    print(f"wrote {output_dir / 'compare.md'} and {output_dir / 'compare.png'}")
    return 0


def compare_inputs(args: argparse.Namespace) -> tuple[list[dict], list[str], Path]:
    """(the runs of --compare, their names: --names or each run's model folder, the output folder, created)."""
    from .reports import load_results

    runs = [load_results(path) for path in args.compare]
    names = args.names or [Path(str(run.get("model", path)).rstrip("/")).name for run, path in zip(runs, args.compare)]
    if len(names) != len(runs):
        raise SystemExit(f"--names gives {len(names)} names for {len(runs)} runs")
    output_dir = args.output_dir or Path("eval_results") / "compare"
    output_dir.mkdir(parents=True, exist_ok=True)
    return runs, names, output_dir


def choose_config(source: str, config: str | None, task_config: str | None) -> str | None:
    """The config to load from a folder or Hub id with `configs` (None for files and `save_to_disk` folders): the
    one asked for, else the only one, else the task's own (the BLIFT tasks name `blift`)."""
    path = Path(source)
    if path.is_file() or (path / "dataset_dict.json").exists() or (path / "state.json").exists():
        if config is not None:
            raise SystemExit(f"--config {config}: --data {source} is a single dataset, not one with configs")
        return None
    _check_source_exists(source)
    from datasets import get_dataset_config_names

    try:
        names = get_dataset_config_names(source)
    except (OSError, ValueError) as error:
        raise SystemExit(f"--data {source}: {type(error).__name__}: {error}") from None
    if config is not None:
        if config not in names:
            raise SystemExit(f"--config {config}: --data {source} has configs {', '.join(names)}")
        return config
    if len(names) == 1:
        return None
    if task_config in names:
        return task_config
    raise SystemExit(f"--data {source} has several configs ({', '.join(names)}): choose one with --config")


def load_eval_data(source: str, split: str | None, config: str | None = None):
    """(dataset, folder that relative media paths are resolved against, split name) for a folder, file or Hub id."""
    from datasets import DatasetDict, load_dataset, load_from_disk

    _check_source_exists(source)
    path = Path(source)
    data_dir = path if path.is_dir() else path.parent if path.is_file() else None
    try:
        if path.is_dir() and ((path / "dataset_dict.json").exists() or (path / "state.json").exists()):
            data = load_from_disk(str(path))
        elif path.is_file():
            builder = {".parquet": "parquet", ".jsonl": "json", ".json": "json", ".csv": "csv"}.get(path.suffix)
            if builder is None:
                raise SystemExit(f"--data {source}: unsupported file type {path.suffix!r} (parquet, jsonl, json, csv)")
            if path.stat().st_size == 0:
                raise SystemExit(f"--data {source}: the file is empty")
            data = load_dataset(builder, data_files=str(path))
        else:
            data = load_dataset(source, config)
    except (OSError, ValueError, IndexError) as error:  # a parquet file or saved dataset with no rows, a Hub id offline
        raise SystemExit(f"--data {source}: cannot be read: {type(error).__name__}: {error}") from None
    if not isinstance(data, DatasetDict):
        return data, data_dir, split or "train"
    if split is None:
        split = "test" if "test" in data else next(iter(data)) if len(data) == 1 else None
    if split not in data:
        raise SystemExit(f"--data {source}: choose a split with --split, one of {list(data)}")
    return data[split], data_dir, split


def _check_source_exists(source: str) -> None:
    if not Path(source).exists() and (not _is_hub_id(source) or Path(source).suffix in DATA_SUFFIXES):
        raise SystemExit(f"--data {source}: no such file or folder")


DATA_SUFFIXES = (".parquet", ".jsonl", ".json", ".csv", ".arrow")


def _is_hub_id(name: str) -> bool:
    """`name` could be a Hub repo id ("user/name" or "name"), not a path to a local file or folder."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    if name.startswith((".", "/", "~")):
        return False
    try:
        validate_repo_id(name)
    except HFValidationError:
        return False
    return True


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value
