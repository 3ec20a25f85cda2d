"""lmms-eval runs BehaviorLlava through our entry point: `lmms-eval --model behavior_llava` on a local task YAML over
a tiny local dataset (an image and a video), offline; its answers are the ones `hf-behavior eval` generates."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from benchmark_fixtures import image, video
from PIL import Image

pytest.importorskip("lmms_eval", reason="the lmms-eval extra is not installed (uv sync --extra lmms-eval)")

TASK = """task: tiny_describe
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: generate_until
doc_to_visual: !function utils.doc_to_visual
doc_to_text: "Describe it in one word."
doc_to_target: "caption"
generation_kwargs:
  max_new_tokens: 5
  until: ["\\n\\n"]
metric_list:
  - metric: exact_match
"""
UTILS = """from PIL import Image


def doc_to_visual(doc):
    if doc["media"].endswith(".mp4"):
        return [doc["media"]]
    return [Image.open(doc["media"]).convert("RGB")]
"""


def conversation(media: str) -> list[dict]:
    block = {"type": "video", "path": media} if media.endswith(".mp4") else {
        "type": "image", "image": Image.open(media).convert("RGB")}
    return [{"role": "user", "content": [block, {"type": "text", "text": "Describe it in one word."}]}]


@pytest.mark.slow
def test_lmms_eval_cli_runs_a_local_task(tiny_path, tiny, tmp_path):
    from hf_behavior.evaluation.scoring import generate_answers

    records = [{"media": str(image(tmp_path / "data" / "sun.png", 1)), "caption": "sun"},
               {"media": str(video(tmp_path / "data" / "rain.mp4", 2)), "caption": "rain"}]
    (tmp_path / "data" / "test.jsonl").write_text("".join(json.dumps(record) + "\n" for record in records))
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "utils.py").write_text(UTILS)
    (tmp_path / "tasks" / "tiny_describe.yaml").write_text(TASK.format(data=tmp_path / "data" / "test.jsonl"))
    command = [str(Path(sys.executable).parent / "lmms-eval"), "--model", "behavior_llava",
               "--model_args", f"pretrained={tiny_path},device=cpu", "--tasks", "tiny_describe",
               "--include_path", str(tmp_path / "tasks"), "--output_path", str(tmp_path / "out"), "--log_samples"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "WANDB_MODE": "disabled"}
    run = subprocess.run(command, check=False, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads(next((tmp_path / "out").rglob("*_results.json")).read_text())
    assert results["results"]["tiny_describe"]["exact_match,none"] == 0.0  # a random model names nothing right
    samples = [json.loads(line) for line in next((tmp_path / "out").rglob("*_samples_tiny_describe.jsonl")).open()]
    assert [sample["doc_id"] for sample in samples] == [0, 1]

    model, processor = tiny  # the same answers as hf-behavior's own generation, cut at the task's stop string
    for sample, record in zip(samples, records):
        expected = generate_answers(model, processor, [conversation(record["media"])], 5)[0].split("\n\n")[0]
        assert sample["filtered_resps"] == expected


def test_loglikelihood_matches_zero_shot_label_scores(tiny_path, tiny, tmp_path):
    from lmms_eval.api.instance import Instance
    from lmms_eval.models import get_model

    from hf_behavior.evaluation.scoring import encode_prompts, label_logprobs

    lmm = get_model("behavior_llava")(pretrained=str(tiny_path), device="cpu")
    path = str(image(tmp_path / "sun.png", 3))
    lmm.task_dict = {"t": {"test": [{"media": path}]}}
    model, processor = tiny
    labels = ["sunny", "definitely not this"]

    def visual(doc):
        return [Image.open(doc["media"]).convert("RGB")]

    requests = [Instance("loglikelihood", ("Describe it in one word.", label, visual, 0, "t", "test"), i,
                         {"task": "t", "doc_id": 0, "repeats": 1}) for i, label in enumerate(labels)]
    scores = lmm.loglikelihood(requests)
    expected = label_logprobs(model, processor, [conversation(path)], labels)[0].tolist()
    assert [score for score, _ in scores] == pytest.approx(expected, abs=1e-4)
    assert [is_greedy for _, is_greedy in scores] == [False, False]  # a random model's next tokens are neither
    batch = encode_prompts(processor, [conversation(path)])
    own = model.generate(**batch, max_new_tokens=2, do_sample=False)[0, -2:].tolist()
    assert lmm._is_greedy(conversation(path), processor.tokenizer.decode(own))  # its own greedy tokens are
    with pytest.raises(ValueError, match="unknown --model_args"):
        get_model("behavior_llava")(pretrained=str(tiny_path), dtype="float16")
