"""Run one task over a dataset: batched, with a progress bar, resumable, every skipped record counted.

Per-record predictions are appended to `<output_dir>/<task>/predictions.jsonl` as each batch finishes; a rerun
with the same model, data and task skips the records already there (retrying failed ones), and recomputes the
metrics from the file.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import asdict
from pathlib import Path

from tqdm.auto import tqdm

from . import metrics
from .judge import judge_captions, judge_metrics
from .parsing import comment_spans, parse_replay
from .reports import strict_json
from .scoring import generate_answers, label_logprobs, span_nlls
from .tasks import TaskConfig

logger = logging.getLogger(__name__)
RECORD_ERRORS = (OSError, ValueError, RuntimeError, KeyError)


def predict_batch(
    model, processor, task: TaskConfig, records: list[dict], data_dir: Path | None, judge=None
) -> list[dict]:
    """One prediction dict per record (what the metric needs, plus the reference); `judge` = (model, processor)."""
    if getattr(task, "has_own_scoring", False):  # the paper's benchmark kinds (evaluation/benchmarks/kinds.py)
        return task.predict_records(model, processor, records, data_dir, judge)
    conversations = [task.conversation(record, data_dir) for record in records]
    if task.kind == "zero_shot":
        references = [_label(task, record) for record in records]
        scores = label_logprobs(model, processor, conversations, task.labels, task.length_normalize)
        return [
            {"prediction": task.labels[int(row.argmax())], "scores": dict(zip(task.labels, row.tolist())),
             "reference": reference}
            for row, reference in zip(scores, references)
        ]
    if task.kind == "perplexity":
        answers = [task.reference_answer(record) for record in records]
        nlls = span_nlls(model, processor, conversations, answers, [comment_spans(answer) for answer in answers])
        return [{"nlls": values} for values in nlls]
    if task.kind in ("likes_r2", "replay"):  # before generating: a record without a target fails now, counted
        references = [_target(task, record) for record in records]
    answers = generate_answers(model, processor, conversations, task.max_new_tokens)
    if task.kind in ("likes_r2", "replay"):
        return [{"answer": a, "reference": ref} for a, ref in zip(answers, references)]
    if task.kind == "judge":
        media = [task.media_block(record, data_dir) for record in records]
        judged = judge_captions(*judge, media, answers, task.judge_criteria)
        return [{"answer": answer, **row} for answer, row in zip(answers, judged)]
    return [{"answer": a, "reference": task.reference_answer(r)} for a, r in zip(answers, records)]


def task_metrics(task: TaskConfig, predictions: list[dict]) -> dict:
    done = [p for p in predictions if "error" not in p]
    errors = Counter(p["error"].split(":", 1)[0] for p in predictions if "error" in p)
    if getattr(task, "has_own_scoring", False):
        result = task.metrics(done)
    elif task.kind == "zero_shot":
        result = metrics.classification_metrics(
            [p["reference"] for p in done], [p["prediction"] for p in done], task.labels
        )
    elif task.kind == "perplexity":
        result = metrics.perplexity([p["nlls"] for p in done])
    elif task.kind == "likes_r2":
        result = metrics.likes_r2([p["answer"] for p in done], [p["reference"] for p in done])
    elif task.kind == "judge":
        result = judge_metrics(done, task.judge_criteria)
    elif task.kind == "replay":
        result = metrics.replay_metrics([parse_replay(p["answer"]) for p in done], [p["reference"] for p in done])
    else:
        result = metrics.generation_metrics([p["answer"] for p in done], [p["reference"] for p in done])
    return {**result, "n_failed": len(predictions) - len(done), "failures": dict(errors)}


def run_task(
    model,
    processor,
    task: TaskConfig,
    dataset,
    output_dir: Path,
    data_dir: Path | None = None,
    batch_size: int = 8,
    fingerprint: dict | None = None,
    judge=None,
) -> dict:
    """Predict every record not yet in `predictions.jsonl`, then score them all; returns the metrics."""
    task_dir = output_dir / task.name
    task_dir.mkdir(parents=True, exist_ok=True)
    run_file, predictions_file = task_dir / "run.json", task_dir / "predictions.jsonl"
    fingerprint = {**(fingerprint or {}), "task": {k: v for k, v in asdict(task).items() if k != "source"}}
    if run_file.exists() and json.loads(run_file.read_text()) != fingerprint:
        raise ValueError(
            f"{task_dir} holds a run with a different model, data or task definition; "
            "choose another --output-dir or pass --overwrite"
        )
    run_file.write_text(json.dumps(fingerprint, indent=2, default=str))

    done = _read_predictions(predictions_file)
    todo = [index for index in range(len(dataset)) if index not in done]
    if done:
        logger.info("task %s: resuming, %d of %d records already predicted", task.name, len(done), len(dataset))
    model.eval()
    with predictions_file.open("a") as sink:
        if predictions_file.stat().st_size and not predictions_file.read_bytes().endswith(b"\n"):
            sink.write("\n")  # close a line an interrupted run left half-written
        for start in tqdm(range(0, len(todo), batch_size), desc=task.name, unit="batch", disable=not todo):
            indices = todo[start : start + batch_size]
            predictions = predict_or_isolate(model, processor, task, dataset, indices, data_dir, judge)
            for index, prediction in zip(indices, predictions):
                done[index] = {"index": index, **prediction}
                sink.write(json.dumps(done[index]) + "\n")
            sink.flush()
    predictions = [done[index] for index in sorted(done)]
    if predictions and all("error" in prediction for prediction in predictions):
        raise ValueError(f"task {task.name}: every record failed; first error: {predictions[0]['error']}")
    result = task_metrics(task, predictions)
    (task_dir / "metrics.json").write_text(strict_json(result))
    return result


def predict_or_isolate(
    model, processor, task, dataset, indices: list[int], data_dir: Path | None = None, judge=None
) -> list[dict]:
    """Predict a batch; if it fails, retry record by record so the error names the bad record and the rest survive."""
    records = [dataset[index] for index in indices]
    if len(records) > 1:
        try:
            return predict_batch(model, processor, task, records, data_dir, judge)
        except RECORD_ERRORS:
            pass
    predictions = []
    for index, record in zip(indices, records):
        try:
            predictions += predict_batch(model, processor, task, [record], data_dir, judge)
        except RECORD_ERRORS as error:
            logger.warning("task %s: skipping record %d: %s: %s", task.name, index, type(error).__name__, error)
            predictions.append({"error": f"{type(error).__name__}: {error}"})
    return predictions


def _read_predictions(path: Path) -> dict[int, dict]:
    if not path.exists():
        return {}
    predictions = {}
    for line in path.read_text().splitlines():
        try:
            prediction = json.loads(line)
        except json.JSONDecodeError:  # a line cut short by an interrupted run: predict that record again
            continue
        if "error" not in prediction:  # failed records are tried again on resume
            predictions[prediction["index"]] = prediction
    return predictions


def _label(task: TaskConfig, record: dict) -> str:
    value = record[task.label_column]
    if isinstance(value, int) and not isinstance(value, bool):
        return task.labels[value]
    if value not in task.labels:
        raise ValueError(f"task {task.name}: label {value!r} is not one of {task.labels}")
    return value


def _target(task: TaskConfig, record: dict) -> float | list[float]:
    """The like percentage, or the replay value per scene (a list, or Listing-1 text to parse)."""
    value = record.get(task.target_column)
    if value is None or isinstance(value, list) and not value:
        raise ValueError(f"task {task.name}: record has no `{task.target_column}` value")
    if task.kind == "likes_r2":
        return float(value)
    return parse_replay(value) if isinstance(value, str) else [float(v) for v in value]
