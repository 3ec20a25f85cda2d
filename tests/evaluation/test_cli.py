"""`hf-behavior eval` end to end on a tiny model and tiny generated datasets: JSON + Markdown, resume, --compare."""

import json

import pytest
from conftest import ANSWER, frames
from datasets import Dataset
from PIL import Image

from hf_behavior.cli import main
from hf_behavior.evaluation.prompts import behavior_messages
from hf_behavior.evaluation.reports import relative_improvement
from hf_behavior.synthetic_media import write_scene_video
from hf_behavior.tiny import build_tiny_model_and_processor

EMOTIONS = ["amusement", "anger", "awe", "contentment", "disgust", "excitement", "fear", "sadness"]


@pytest.fixture(scope="module")
def image_data(tmp_path_factory):
    """Five images with emotion labels as parquet; the fifth points at a file that does not exist."""
    root = tmp_path_factory.mktemp("image_emotion")
    (root / "images").mkdir()
    records = []
    for i in range(4):
        Image.fromarray(frames(1, seed=i)[0]).save(root / "images" / f"{i}.png")
        records.append({"image": f"images/{i}.png", "label": EMOTIONS[i], "question": "Is it sunny?"})
    records.append({"image": "images/missing.png", "label": "fear", "question": "Is it sunny?"})
    Dataset.from_list(records).to_parquet(root / "test.parquet")
    return root / "test.parquet"


def eval_cli(*args):
    return main(["eval", *map(str, args)])


def test_eval_writes_json_markdown_and_resumes(tiny_path, image_data, tmp_path, capsys):
    out = tmp_path / "run"
    assert eval_cli("--model", tiny_path, "--task", "image-emotion-8", "--data", image_data,
                    "--batch-size", 3, "--output-dir", out) == 0
    results = json.loads((out / "results.json").read_text())
    result = results["tasks"]["image-emotion-8"]
    predictions_file = out / "image-emotion-8" / "predictions.jsonl"
    predictions = [json.loads(line) for line in predictions_file.read_text().splitlines()]
    scored = [p for p in predictions if "error" not in p]
    assert len(predictions) == 5 and len(scored) == 4
    assert result["n"] == 4 and result["n_failed"] == 1 and result["failures"] == {"FileNotFoundError": 1}
    assert result["accuracy"] == pytest.approx(sum(p["prediction"] == p["reference"] for p in scored) / 4)
    assert {p["prediction"] for p in scored} <= set(EMOTIONS)
    for p in scored:  # every label's log-probability is kept, the prediction its argmax
        assert list(p["scores"]) == EMOTIONS and p["prediction"] == max(p["scores"], key=p["scores"].get)
    markdown = (out / "results.md").read_text()
    assert "| image-emotion-8 | accuracy |" in markdown and "| image-emotion-8 | macro_f1 |" in markdown
    assert (out / "results.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # An interrupted run: two predictions kept, a half-written line. The rerun predicts only what is missing.
    lines = (out / "image-emotion-8" / "predictions.jsonl").read_text().splitlines()
    (out / "image-emotion-8" / "predictions.jsonl").write_text("\n".join(lines[:2]) + '\n{"index": 2, "predi')
    capsys.readouterr()
    assert eval_cli("--model", tiny_path, "--task", "image-emotion-8", "--data", image_data,
                    "--output-dir", out) == 0
    resumed = json.loads((out / "results.json").read_text())["tasks"]["image-emotion-8"]
    assert resumed == result
    rewritten = (out / "image-emotion-8" / "predictions.jsonl").read_text().splitlines()
    assert len(rewritten) == 2 + 1 + 3  # kept, the broken line, records 2-4 predicted again

    # A different model in the same folder is refused rather than mixed in.
    with pytest.raises(ValueError, match="different model"):
        eval_cli("--model", str(tiny_path) + "/", "--task", "image-emotion-8", "--data", image_data,
                 "--output-dir", out, "--limit", 2)


def test_user_yaml_task_and_compare(tiny_path, image_data, tmp_path, capsys):
    task_file = tmp_path / "sunny.yaml"
    task_file.write_text(
        "kind: zero_shot\nmedia_column: image\nprompt: \"{{ question }} Answer {{ labels | join(' or ') }}.\"\n"
        "labels: ['yes', 'no']\nlabel_column: answer\n"
    )
    data = Dataset.from_parquet(str(image_data)).select(range(4))
    data = data.add_column("answer", ["yes", "no", "yes", "no"])
    data.save_to_disk(tmp_path / "sunny_data")
    for image in (image_data.parent / "images").iterdir():  # media paths stay relative to the data folder
        (tmp_path / "sunny_data" / "images").mkdir(exist_ok=True)
        (tmp_path / "sunny_data" / "images" / image.name).write_bytes(image.read_bytes())

    other_model, other_processor = build_tiny_model_and_processor(seed=1)
    other_path = tmp_path / "other_model"
    other_model.save_pretrained(other_path)
    other_processor.save_pretrained(other_path)
    runs = []
    for model_path in (tiny_path, other_path):
        runs.append(tmp_path / f"run_{model_path.name}")
        eval_cli("--model", model_path, "--task", task_file, "--data", tmp_path / "sunny_data",
                 "--output-dir", runs[-1])
    first, second = (json.loads((run / "results.json").read_text())["tasks"]["sunny"] for run in runs)
    assert first["n"] == second["n"] == 4 and first["n_failed"] == 0

    capsys.readouterr()
    assert eval_cli("--compare", *runs, "--names", "base", "behavior", "--output-dir", tmp_path / "cmp") == 0
    printed = capsys.readouterr().out
    assert "| Task | Metric | base | behavior | behavior vs base (%) |" in printed
    row = next(line for line in printed.splitlines() if line.startswith("| sunny | macro_f1 |"))
    gain = relative_improvement("macro_f1", first["macro_f1"], second["macro_f1"])
    assert row.split("|")[-2].strip() == ("n/a" if gain != gain else f"{gain:+.2f}%")
    assert (tmp_path / "cmp" / "compare.md").read_text().strip() in printed
    assert (tmp_path / "cmp" / "compare.png").stat().st_size > 0


def test_behaviour_tasks_on_video(tiny_path, tmp_path):
    """Shipped comment-perplexity on chat records; likes / replay / caption generation tasks (unparsable counted)."""
    video = write_scene_video(tmp_path / "clip.mp4", seconds_per_scene=1, fps=2)
    chat = behavior_messages({"type": "video", "path": "clip.mp4"}, "video", title="Colour cuts")
    chat.append({"role": "assistant", "content": [{"type": "text", "text": ANSWER}]})
    Dataset.from_list([
        {"messages": json.dumps(chat), "video": video.name, "title": "Colour cuts", "like_percent": 2.5,
         "replay": [0.8, 0.3]},
        {"messages": json.dumps(chat), "video": video.name, "title": "Colour cuts", "like_percent": 4.0,
         "replay": [0.1, 0.9]},
    ]).to_parquet(tmp_path / "behaviour.parquet")
    likes_task = tmp_path / "quick-likes.yaml"
    likes_task.write_text("kind: likes_r2\nmedia_column: video\nmedia_type: video\nprompt: listing1\n"
                          "title_column: title\ntarget_column: like_percent\nmax_new_tokens: 6\n")
    replay_task, caption_task = tmp_path / "quick-replay.yaml", tmp_path / "quick-caption.yaml"
    replay_task.write_text(likes_task.read_text().replace("likes_r2", "replay").replace("like_percent", "replay"))
    caption_task.write_text("kind: generation\nmedia_column: video\nmedia_type: video\nprompt: Give it a title.\n"
                            "answer_column: title\nmax_new_tokens: 4\n")
    out = tmp_path / "run"
    eval_cli("--model", tiny_path, "--task", "comment-perplexity", likes_task, replay_task, caption_task, "--data",
             tmp_path / "behaviour.parquet", "--output-dir", out)
    results = json.loads((out / "results.json").read_text())["tasks"]
    ppl = results["comment-perplexity"]
    assert ppl["n"] == 2 and ppl["n_without_span"] == 0 and ppl["perplexity"] > 1
    likes = results["quick-likes"]
    assert likes["n"] == 2 and likes["n_parsed"] + likes["n_unparsable"] == 2
    replay = results["quick-replay"]
    assert replay["n"] == 2 and replay["n_unparsable"] + replay["n_length_mismatch"] <= 2
    caption = results["quick-caption"]
    assert caption["n"] == 2 and 0 <= caption["bleu"] <= 1 and 0 <= caption["rougeL"] <= 1
    markdown = (out / "results.md").read_text()
    assert "| quick-likes | likes_r2 |" in markdown and "| quick-replay | replay_mae |" in markdown
    assert "| quick-caption | meteor |" in markdown


def test_bad_task_file_names_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: zero_shot\nprompt: hi\nlabels: [a, b]\ncolour: red\n")
    with pytest.raises(ValueError, match=r"bad\.yaml.*colour"):
        eval_cli("--model", "unused", "--task", bad, "--data", "unused")
    bad.write_text("kind: zero_shot\nprompt: hi\nlabels: [a]\n")
    with pytest.raises(ValueError, match="at least two"):
        eval_cli("--model", "unused", "--task", bad, "--data", "unused")


def test_judge_task_through_the_cli(tiny_path, image_data, tmp_path):
    """A `kind: judge` task: the model captions, a judge chat model (here the tiny one) grades; no score is counted."""
    task = tmp_path / "judged.yaml"
    task.write_text("kind: judge\nmedia_column: image\nprompt: Describe this image in detail.\nmax_new_tokens: 4\n"
                    "judge_criteria: [correctness, quality]\n")
    out = tmp_path / "run"
    eval_cli("--model", tiny_path, "--task", task, "--data", image_data, "--limit", 2, "--judge-model", tiny_path,
             "--output-dir", out)
    result = json.loads((out / "results.json").read_text())["tasks"]["judged"]
    predictions = [json.loads(line) for line in (out / "judged" / "predictions.jsonl").read_text().splitlines()]
    assert result["n"] == 2 and {"correctness", "quality"} <= set(result) and "detail" not in result
    scored = sum(p[c] is not None for p in predictions for c in ("correctness", "quality"))
    assert result["n_unparsable"] == 4 - scored
    assert all("correctness_answer" in p and "answer" in p for p in predictions)
