"""`hf-behavior quickstart`: the whole loop on a tiny random model, offline, in under a minute on a CPU.

build (tiny model + processor + a generated video and image) -> train 2 steps with transformers' Trainer ->
save_pretrained -> reload through AutoModelForCausalLM / AutoProcessor -> generate.
"""

import argparse
import tempfile
from pathlib import Path

import av
import numpy as np
from PIL import Image

SCENE_COLOURS = [(220, 30, 30), (30, 60, 220), (40, 180, 60)]


def write_scene_video(
    path: Path, seconds_per_scene: int = 2, fps: int = 8, size: tuple[int, int] = (64, 48), colours=SCENE_COLOURS
) -> Path:
    """A small MPEG-4 clip of solid-colour scenes with hard cuts (one colour per scene)."""
    width, height = size
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for colour in colours:
            frame = np.empty((height, width, 3), dtype=np.uint8)
            frame[:] = colour
            for _ in range(seconds_per_scene * fps):
                container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    return path


def training_samples(video_path: Path, image_path: Path) -> list[dict]:
    """Two behaviour-style chat samples: one video, one image."""
    video_turn = [
        {"type": "text", "text": 'The video is titled "Colour cuts". What percentage of viewers would like it?'},
        {"type": "video", "path": str(video_path)},
    ]
    image_turn = [{"type": "image", "path": str(image_path)}, {"type": "text", "text": "What would people comment?"}]
    return [
        {"messages": [
            {"role": "user", "content": video_turn},
            {"role": "assistant", "content": [{"type": "text", "text": "The video will be liked by 2.5% of viewers."}]},
        ]},
        {"messages": [
            {"role": "user", "content": image_turn},
            {"role": "assistant", "content": [{"type": "text", "text": '1. "so cool"'}]},
        ]},
    ]


def run_quickstart(output_dir: Path, steps: int = 2) -> dict:
    """Runs every stage, printing what it did; returns what a test needs to check the result."""
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoProcessor, Trainer, TrainingArguments

    import hf_behavior  # noqa: F401  (registers the Auto classes)
    from hf_behavior.tiny import build_tiny_model_and_processor
    from hf_behavior.training.collator import BehaviorLlavaCollator

    output_dir.mkdir(parents=True, exist_ok=True)
    model, processor = build_tiny_model_and_processor(seed=0)
    print(f"[1/5] built a tiny random BehaviorLlava ({model.num_parameters():,} parameters) and its processor")

    video_path = write_scene_video(output_dir / "sample_video.mp4")
    image_path = output_dir / "sample_image.png"
    Image.fromarray(np.full((48, 64, 3), SCENE_COLOURS[0], dtype=np.uint8)).save(image_path)
    dataset = Dataset.from_list(training_samples(video_path, image_path))
    print(f"[2/5] generated {video_path.name} ({len(SCENE_COLOURS)} scenes) and {image_path.name}: {len(dataset)} samples")

    args = TrainingArguments(
        output_dir=str(output_dir / "trainer"),
        max_steps=steps,
        per_device_train_batch_size=2,
        learning_rate=1e-3,
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        remove_unused_columns=False,
        use_cpu=not torch.cuda.is_available(),
        disable_tqdm=True,
    )
    trainer = Trainer(model=model, args=args, train_dataset=dataset, data_collator=BehaviorLlavaCollator(processor))
    result = trainer.train()
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    print(f"[3/5] trained {result.global_step} steps with transformers.Trainer; losses: {[round(x, 4) for x in losses]}")

    model_dir = output_dir / "behavior-llava-tiny"
    trainer.model.save_pretrained(model_dir)
    processor.save_pretrained(model_dir)
    print(f"[4/5] saved safetensors + processor to {model_dir}: {sorted(p.name for p in model_dir.iterdir())}")

    reloaded = AutoModelForCausalLM.from_pretrained(model_dir)
    reloaded_processor = AutoProcessor.from_pretrained(model_dir)
    prompt = [{"role": "user", "content": training_samples(video_path, image_path)[0]["messages"][0]["content"]}]
    inputs = reloaded_processor.apply_chat_template(
        prompt, add_generation_prompt=True, tokenize=True, return_dict=True, return_tensors="pt"
    )
    generated = reloaded.generate(**inputs, max_new_tokens=12, do_sample=False)
    new_tokens = generated[0, inputs["input_ids"].shape[1] :]
    text = reloaded_processor.decode(new_tokens, skip_special_tokens=True)
    print(
        f"[5/5] reloaded {type(reloaded).__name__} + {type(reloaded_processor).__name__} through the Auto classes; "
        f"the video prompt used {int(inputs['video_frame_counts'][0])} frames and generated {len(new_tokens)} tokens: "
        f"{text!r} (random weights: the text is noise)"
    )
    return {"losses": losses, "model_dir": model_dir, "model": reloaded, "new_tokens": new_tokens.tolist()}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output-dir", type=Path, default=None, help="where to write the run (default: a temp dir)")
    parser.add_argument("--steps", type=int, default=2, help="training steps")


def run(args: argparse.Namespace) -> int:
    if args.output_dir is not None:
        run_quickstart(args.output_dir, args.steps)
    else:
        with tempfile.TemporaryDirectory(prefix="hf-behavior-quickstart-") as tmp:
            run_quickstart(Path(tmp), args.steps)
    print("quickstart finished: build -> train -> save -> reload (Auto classes) -> generate")
    return 0
