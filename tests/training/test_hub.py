"""Model card metadata and text; the push sends exactly the model's files (only the Hub's HTTP client replaced)."""

import pytest
from huggingface_hub import ModelCard
from transformers import SchedulerType

from hf_behavior.tiny import build_tiny_model_and_processor
from hf_behavior.training.hub import files_to_push, model_card, push_to_hub
from hub_fixtures import fake_hub

BASE = "YanweiLi/llama-vid-13b-full-224-video-fps-1"
MIXTURE = {"ratio": "1:1", "epochs": 2.2, "rows": {"instruct": 10, "reddit_images": 7, "youtube_videos": 4}}
HYPERPARAMETERS = {"learning_rate": 2e-5, "lr_scheduler_type": SchedulerType.COSINE, "warmup_ratio": 0.03,
                   "epochs": 2.2, "freeze": "finetune"}  # fmt: skip
METRICS = {"eval_loss": 1.25, "eval_comment_perplexity": 3.05, "eval_likes_r2": float("nan"), "eval_runtime": 3.2,
           "eval_samples_per_second": 9.1, "epoch": 1.0}  # fmt: skip


def card(tmp_path, **overrides):
    kwargs = dict(output_dir=tmp_path / "out", base_model=BASE, datasets=["me/blift", str(tmp_path)], mixture=MIXTURE,
                  hyperparameters=HYPERPARAMETERS, eval_metrics=METRICS, repo_id="me/behavior-llava-tiny")  # fmt: skip
    return model_card(**{**kwargs, **overrides})


def test_model_card_renders_with_valid_metadata(tmp_path):
    card(tmp_path).save(tmp_path / "README.md")
    loaded = ModelCard.load(tmp_path / "README.md")  # huggingface_hub's own parser, model-index included
    data = loaded.data
    assert (data.license, data.library_name, data.pipeline_tag) == ("other", "transformers", "image-text-to-text")
    assert data.tags == ["behavior-llava", "llama-vid", "trl", "sft"]
    assert data.base_model == BASE and data.datasets == ["me/blift"]  # the local dataset path is not metadata
    assert data.model_name == "behavior-llava-tiny"
    results = {r.metric_type: r.metric_value for r in data.eval_results}
    assert results == {"loss": 1.25, "comment_perplexity": 3.05}  # NaN R² and timings left out
    assert {(r.task_type, r.dataset_type) for r in data.eval_results} == {("image-text-to-text", "me/blift")}

    text = loaded.text
    assert "{{" not in text and "{%" not in text
    assert "ratio of\n**1:1** for **2.2** epochs" in text
    assert "| reddit_images | 7 |" in text and "| total | 21 |" in text
    assert "| lr_scheduler_type | cosine |" in text and "| comment_perplexity | 3.05 |" in text
    assert f'from_pretrained("me/behavior-llava-tiny"' in text and f"**Base model:** {BASE}" in text
    assert "## Limitations (paper, appendix F)" in text and "demographic skews, self-selection bias" in text


def test_model_card_without_metrics_or_hub_ids(tmp_path):
    local_base = tmp_path / "llama-vid"
    local_base.mkdir()
    unevaluated = card(tmp_path, base_model=str(local_base), datasets=[str(tmp_path)], eval_metrics={}, repo_id=None)
    metadata = unevaluated.data.to_dict()
    assert "model-index" not in metadata and "base_model" not in metadata and "datasets" not in metadata
    assert f"**Base model:** {local_base}" in unevaluated.text and "No evaluation was run" in unevaluated.text
    assert f'from_pretrained("{tmp_path / "out"}"' in unevaluated.text


@pytest.fixture
def trained_output(tmp_path):
    """A real save_pretrained of the tiny model (sharded) and processor, its card, and what training leaves beside."""
    out = tmp_path / "out"
    model, processor = build_tiny_model_and_processor(seed=0)
    model.save_pretrained(out, max_shard_size="400KB")
    processor.save_pretrained(out)
    card(tmp_path).save(out / "README.md")
    junk = ["training_args.bin", "trainer_state.json", "all_results.json", "runs/Jan01_00-00-00/events.out.tfevents.1",
            "checkpoint-1/model.safetensors", "checkpoint-1/config.json", "checkpoint-1/optimizer.pt",
            "checkpoint-1/scheduler.pt", "checkpoint-1/rng_state.pth", "checkpoint-1/tokenizer.json", "notes/vocab.txt/x"]
    for name in junk:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(b"junk")
    return out


def test_push_sends_exactly_the_model_files(trained_output):
    shards = sorted(p.name for p in trained_output.glob("model-*-of-*.safetensors"))
    assert len(shards) > 1
    expected = sorted(shards + [
        "model.safetensors.index.json", "config.json", "generation_config.json", "README.md",
        "configuration_behavior_llava.py", "modeling_behavior_llava.py", "processing_behavior_llava.py",
        "video_processing_behavior_llava.py", "processor_config.json", "chat_template.jinja", "tokenizer.json",
        "tokenizer_config.json", "qformer_tokenizer/tokenizer.json", "qformer_tokenizer/tokenizer_config.json",
    ])  # fmt: skip
    assert files_to_push(trained_output) == expected
    with fake_hub("me/behavior-llava-tiny") as hub:
        url = push_to_hub(trained_output, "me/behavior-llava-tiny", token="hf_test", private=True)
    assert url == "https://huggingface.co/me/behavior-llava-tiny/commit/abc"
    assert hub.requests[0] == ("POST", "/api/repos/create")
    assert hub.committed == expected
    assert hub.validated_cards == [(trained_output / "README.md").read_text()]  # the card, checked by the Hub first


def test_push_refuses_a_folder_without_saved_weights(tmp_path):
    (tmp_path / "checkpoint-1").mkdir()
    (tmp_path / "checkpoint-1" / "model.safetensors").write_bytes(b"junk")
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(FileNotFoundError, match="no safetensors weights and config.json at its top: save_pretrained"):
        push_to_hub(tmp_path, "me/nothing")
