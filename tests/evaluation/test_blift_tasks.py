"""The shipped BLIFT tasks run on a `hf-behavior build-blift` folder as it is, and bad inputs fail before loading."""

import json
from dataclasses import replace

import pytest
from datasets import Dataset
from data.dumps import cli_args, write_all

from hf_behavior.cli import main
from hf_behavior.evaluation import runner, scoring
from hf_behavior.evaluation.tasks import load_task
from hf_behavior.synthetic_media import write_scene_video


def strict_json(text: str):
    """json.loads that refuses the bare NaN / Infinity the standard does not have."""
    return json.loads(text, parse_constant=lambda constant: pytest.fail(f"bare {constant} in JSON"))


@pytest.fixture(scope="module")
def blift(tmp_path_factory):
    """A BLIFT build (configs `blift` and `blift_likes`) from the data tests' raw dumps, their videos made real."""
    root = tmp_path_factory.mktemp("blift")
    paths = write_all(root / "raw")
    for i, video in enumerate(sorted((root / "raw").rglob("*.mp4"))):
        write_scene_video(video, seconds_per_scene=1, fps=2, colours=[(20 + 30 * i, 200, 90), (90, 20 + 30 * i, 200)])
    out = root / "out"
    assert main(cli_args(paths, out, "--configs", "blift", "blift_likes", "--max-error-rate", "0.9")) == 0
    return out


@pytest.fixture
def loads(monkeypatch):
    """Every model load, recorded (the real loader still runs)."""
    calls = []
    real = scoring.load_chat_model
    monkeypatch.setattr(scoring, "load_chat_model", lambda *args: calls.append(args) or real(*args))
    return calls


def test_shipped_blift_tasks_run_on_a_build_folder(blift, tiny_path, tmp_path, loads, capsys):
    out = tmp_path / "run"
    assert main(["eval", "--model", str(tiny_path), "--task", "likes-r2", "replay", "comment-perplexity",
                 "--data", str(blift), "--batch-size", "5", "--max-new-tokens", "8", "--output-dir", str(out)]) == 0
    assert len(loads) == 1
    results = strict_json((out / "results.json").read_text())
    runs, tasks = results["runs"], results["tasks"]
    assert json.loads((out / "likes-r2" / "run.json").read_text())["task"]["max_new_tokens"] == 8
    assert {run["config"] for run in runs.values()} == {"blift"}  # the tasks' default config of the folder's two
    likes = tasks["likes-r2"]
    assert likes["n"] + likes["n_failed"] == 5 and likes["n_parsed"] + likes["n_unparsable"] == likes["n"]
    replay = tasks["replay"]  # one record of five (the YouTube ad) has a replay graph
    assert replay["n"] == 1 and replay["n_without_target"] == 4
    assert replay["replay_spearman"] is None  # undefined on one record: null, not a bare NaN
    assert strict_json((out / "replay" / "metrics.json").read_text())["replay_spearman"] is None
    ppl = tasks["comment-perplexity"]
    assert ppl["n"] == 5 and ppl["n_without_span"] == 0 and ppl["perplexity"] > 1
    predictions = [json.loads(line) for line in (out / "replay" / "predictions.jsonl").read_text().splitlines()]
    assert [p["reference"] for p in predictions] == [[1.0, pytest.approx(0.3679, abs=1e-3)]]

    # --config picks another config; one the folder lacks is a one-line error
    assert main(["eval", "--model", str(tiny_path), "--task", "comment-perplexity", "--data", str(blift),
                 "--config", "blift_likes", "--output-dir", str(tmp_path / "likes")]) == 0
    likes_run = strict_json((tmp_path / "likes" / "results.json").read_text())
    assert likes_run["runs"]["comment-perplexity"]["config"] == "blift_likes"
    assert likes_run["tasks"]["comment-perplexity"]["n_without_span"] == 5  # that config asks for no comments
    assert likes_run["tasks"]["comment-perplexity"]["perplexity"] is None
    capsys.readouterr()
    assert main(["eval", "--compare", str(out), str(tmp_path / "likes"), "--names", "blift", "likes",
                 "--output-dir", str(tmp_path / "cmp")]) == 0  # null scores read back as undefined, not a crash
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("| comment-perplexity | perplexity |"))
    assert row.endswith("| n/a | n/a |")
    with pytest.raises(SystemExit, match="--config nope: --data .* has configs blift, blift_likes"):
        main(["eval", "--model", str(tiny_path), "--task", "likes-r2", "--data", str(blift), "--config", "nope"])
    with pytest.raises(SystemExit, match=r"several configs \(blift, blift_likes\): choose one with --config"):
        main(["eval", "--model", str(tiny_path), "--task", "image-emotion-8", "--data", str(blift)])
    assert len(loads) == 2


def test_bad_inputs_fail_in_one_line_before_the_model_loads(blift, tiny_path, tmp_path, loads, capsys):
    def fails(*args):
        with pytest.raises(SystemExit) as error:
            main(["eval", *map(str, args)])
        return str(error.value)

    assert fails("--model", tmp_path / "no_model", "--task", "likes-r2", "--data", blift) == (
        f"--model {tmp_path / 'no_model'}: no such model folder")
    assert "no config.json" in fails("--model", tmp_path, "--task", "likes-r2", "--data", blift)
    assert fails("--model", tiny_path, "--task", "likes-r2", "--data", tmp_path / "missing.parquet") == (
        f"--data {tmp_path / 'missing.parquet'}: no such file or folder")
    fails("--model", tiny_path, "--task", "likes-r2", "--data", blift, "--limit", 0)
    assert "--limit: must be at least 1, got 0" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="has no column 'image'"):
        main(["eval", "--model", str(tiny_path), "--task", "image-emotion-8", "--data", str(blift),
              "--config", "blift"])
    no_replay = tmp_path / "no_replay.parquet"
    Dataset.from_dict({"messages": ["[]", "[]"], "replay": [[], []]}).to_parquet(no_replay)
    assert fails("--model", tiny_path, "--task", "replay", "--data", no_replay) == (
        f"task replay: --data {no_replay} [train] has no records with a `replay` value to evaluate")
    empty = tmp_path / "empty.parquet"
    Dataset.from_dict({"messages": []}).to_parquet(empty)
    error = fails("--model", tiny_path, "--task", "comment-perplexity", "--data", empty)
    assert error.startswith(f"--data {empty}: cannot be read: ValueError") and "\n" not in error
    Dataset.from_dict({"messages": []}).save_to_disk(tmp_path / "saved_empty")
    error = fails("--model", tiny_path, "--task", "comment-perplexity", "--data", tmp_path / "saved_empty")
    assert error.startswith(f"--data {tmp_path / 'saved_empty'}: ") and "\n" not in error
    (tmp_path / "empty.jsonl").write_text("")
    assert fails("--model", tiny_path, "--task", "comment-perplexity", "--data", tmp_path / "empty.jsonl") == (
        f"--data {tmp_path / 'empty.jsonl'}: the file is empty")
    assert loads == []


def test_a_record_without_a_target_is_counted_before_generating(tiny, monkeypatch):
    """The training callback scores BLIFT rows through the runner without the CLI's filter: a row without
    `like_percent` is a counted failure, found before any generation, not a crash."""
    model, processor = tiny
    generated = []
    real = runner.generate_answers
    monkeypatch.setattr(runner, "generate_answers", lambda *args: generated.append(len(args[2])) or real(*args))
    task = replace(load_task("likes-r2"), max_new_tokens=2)
    chat = [{"role": "user", "content": [{"type": "text", "text": "What percentage of viewers would like this?"}]}]
    rows = [{"messages": chat, "like_percent": 4.0}, {"messages": chat, "like_percent": None}]
    predictions = runner.predict_or_isolate(model, processor, task, rows, [0, 1])
    assert predictions[0]["reference"] == 4.0 and "answer" in predictions[0]
    assert predictions[1] == {"error": "ValueError: task likes-r2: record has no `like_percent` value"}
    assert generated == [1]  # the batch failed before generating; then record 0 alone
    assert runner.task_metrics(task, predictions)["failures"] == {"ValueError": 1}
