"""`hf-behavior quickstart`: the whole loop on a tiny random model, offline, in a few minutes on a 2-core CPU.

build (BLIFT from generated YouTube dumps through the real pipeline, a LLaVA-JSON instruct set, a tiny random
model) -> train with `recipes/sft_blift.py` + `tiny_cpu.yaml` (TRL SFTTrainer) -> save -> reload through
AutoModelForCausalLM / AutoProcessor -> generate.
"""

import argparse
import tempfile
from contextlib import contextmanager
from pathlib import Path


def run_quickstart(output_dir: Path, steps: int = 4) -> dict:
    """Runs every stage, printing what it did; returns what a test needs to check the result."""
    import json
    import runpy
    import sys

    from transformers import AutoModelForCausalLM, AutoProcessor

    import hf_behavior  # noqa: F401  (registers the Auto classes)
    from hf_behavior.resources import resource_path
    from hf_behavior.training.tiny_data import write_tiny_sft_data

    output_dir.mkdir(parents=True, exist_ok=True)
    data = write_tiny_sft_data(output_dir / "tiny_data")
    print(f"[1/5] built BLIFT from generated YouTube dumps ({data['blift']}), a LLaVA-JSON instruct set and a tiny "
          f"random BehaviorLlava ({data['model']})")  # fmt: skip

    model_dir = output_dir / "behavior-llava-tiny"
    argv = ["sft_blift.py", "--config", str(resource_path("recipes/behavior_llava/tiny_cpu.yaml")),
            "--model_name_or_path", str(data["model"]), "--dataset_name", str(data["blift"]),
            "--instruct_data", str(data["instruct"]), "--instruct_media_root", str(data["media_root"]),
            "--output_dir", str(model_dir), "--max_steps", str(steps), "--eval_steps", str(steps),
            "--save_strategy", "no", "--use_cpu", "true"]  # fmt: skip
    recipe, saved_argv = resource_path("recipes/sft_blift.py"), sys.argv
    print(f"[2/5] training with {recipe.name} (TRL SFTTrainer, 1:1 behaviour:instruct mixture) for {steps} steps")
    try:
        sys.argv = argv
        runpy.run_path(str(recipe), run_name="__main__")
    finally:
        sys.argv = saved_argv
    log = json.loads((model_dir / "trainer_state.json").read_text())["log_history"]
    losses = [entry["loss"] for entry in log if "loss" in entry]
    evaluation = next(entry for entry in reversed(log) if "eval_comment_perplexity" in entry)
    print(f"[3/5] losses: {[round(x, 3) for x in losses]}; held-out comment perplexity "
          f"{evaluation['eval_comment_perplexity']:.1f}")  # fmt: skip
    print(f"[4/5] saved safetensors + processor + model card to {model_dir}: {sorted(p.name for p in model_dir.iterdir())}")

    reloaded = AutoModelForCausalLM.from_pretrained(model_dir)
    reloaded_processor = AutoProcessor.from_pretrained(model_dir)
    video = next(Path(data["blift"]).parent.glob("raw/youtube/*.mp4"))
    prompt = [{"role": "user", "content": [
        {"type": "video", "path": str(video)},
        {"type": "text", "text": "What percentage of viewers would like this video?"},
    ]}]  # fmt: skip
    inputs = reloaded_processor.apply_chat_template(
        prompt, add_generation_prompt=True, tokenize=True, return_dict=True, return_tensors="pt"
    )
    generated = reloaded.generate(**inputs, max_new_tokens=12, do_sample=False)
    new_tokens = generated[0, inputs["input_ids"].shape[1] :]
    text = reloaded_processor.decode(new_tokens, skip_special_tokens=True)
    print(
        f"[5/5] reloaded {type(reloaded).__name__} + {type(reloaded_processor).__name__} through the Auto classes; "
        f"the video prompt used {int(inputs['num_frames_per_video'][0])} frames and generated {len(new_tokens)} tokens: "
        f"{text!r} (random weights: the text is noise)"
    )
    return {"losses": losses, "model_dir": model_dir, "model": reloaded, "new_tokens": new_tokens.tolist()}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output-dir", type=Path, default=None, help="where to write the run (default: a temp dir)")
    parser.add_argument("--steps", type=int, default=4, help="training steps")


@contextmanager
def _datasets_cache_in(folder: Path):
    """datasets' cache inside the quickstart's temporary folder. In the user's cache an entry would outlive the media
    its rows point at, and datasets keys a local folder's entry on the folder's name and the data's sizes only: the
    next quickstart's identical build was served those rows and failed on the deleted files."""
    import datasets

    saved = datasets.config.HF_DATASETS_CACHE
    datasets.config.HF_DATASETS_CACHE = folder / "datasets-cache"
    try:
        yield
    finally:
        datasets.config.HF_DATASETS_CACHE = saved


def run(args: argparse.Namespace) -> int:
    if args.output_dir is not None:
        run_quickstart(args.output_dir, args.steps)
    else:
        with tempfile.TemporaryDirectory(prefix="hf-behavior-quickstart-") as tmp, _datasets_cache_in(Path(tmp)):
            run_quickstart(Path(tmp), args.steps)
    print("quickstart finished: build -> train -> save -> reload (Auto classes) -> generate")
    return 0
