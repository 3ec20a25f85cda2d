"""Zero-shot label scoring: the shared prompt prefix (media encoded once per record) vs one full prompt per label.

    uv run python benchmarks/zero_shot.py [--model PATH] [--records 8] [--labels 8] [--frames 8] [--batch 4]

Both methods score the same video records (generated MPEG-4 clips, decoded by the processor as in `hf-behavior
eval`) against the same labels in the same run; prints records/s of each, the largest score difference and the
ratio (target >= 4x with 8 labels). Without `--model`, a tiny random BehaviorLlava (`hf_behavior.tiny`).
"""

import argparse
import tempfile
import time
from pathlib import Path

import torch

from hf_behavior.evaluation.scoring import continuation_logprobs, label_logprobs, load_chat_model
from hf_behavior.synthetic_media import write_scene_video
from hf_behavior.tiny import build_tiny_model_and_processor

LABELS = ["amusement", "anger", "awe", "contentment", "disgust", "excitement", "fear", "sadness", "joy", "surprise",
          "trust", "anticipation"]  # fmt: skip
COLOURS = [(200, 30, 30), (30, 200, 30), (30, 30, 200), (220, 220, 40), (40, 220, 220), (220, 40, 220)]


def per_label_logprobs(model, processor, conversations, labels) -> torch.Tensor:
    """The method this replaces: every (record, label) pair is a full prompt, media decoded and encoded each time."""
    rows = [conversation for conversation in conversations for _ in labels]
    continuations = [[(" " + label, True)] for _ in conversations for label in labels]
    scores = continuation_logprobs(model, processor, rows, continuations)
    return torch.stack([score.sum() for score in scores]).view(len(conversations), len(labels))


def measure(score, conversations, batch: int) -> tuple[float, torch.Tensor]:
    start = time.perf_counter()
    scores = torch.cat([score(conversations[i : i + batch]) for i in range(0, len(conversations), batch)])
    return len(conversations) / (time.perf_counter() - start), scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model folder (default: a tiny random BehaviorLlava)")
    parser.add_argument("--records", type=int, default=8)
    parser.add_argument("--labels", type=int, default=8)
    parser.add_argument("--frames", type=int, default=8, help="frames sampled per video")
    parser.add_argument("--batch", type=int, default=4, help="records per batch (as `hf-behavior eval --batch-size`)")
    parser.add_argument("--device", default=None)
    args = parser.parse_args()
    torch.manual_seed(0)
    if args.model:
        model, processor = load_chat_model(args.model, args.device)
    else:
        model, processor = build_tiny_model_and_processor(seed=0)
        model = model.to(args.device or "cpu").eval()
    processor.video_processor.num_frames = args.frames
    labels = LABELS[: args.labels]
    prompt = f"What emotion does this video evoke in its viewers? Answer with one word from: {', '.join(labels)}."
    with tempfile.TemporaryDirectory() as tmp:
        conversations = []
        for i in range(args.records):
            path = write_scene_video(Path(tmp) / f"clip{i}.mp4", seconds_per_scene=2, fps=8,
                                     colours=[COLOURS[(i + k) % len(COLOURS)] for k in range(3)])
            conversations.append([{"role": "user", "content": [{"type": "video", "path": str(path)},
                                                               {"type": "text", "text": prompt}]}])
        shared_score = lambda batch: label_logprobs(model, processor, batch, labels)  # noqa: E731
        per_label_score = lambda batch: per_label_logprobs(model, processor, batch, labels)  # noqa: E731
        measure(shared_score, conversations[:1], 1)  # warm-up (first-call allocations, lazy imports)
        shared, shared_scores = measure(shared_score, conversations, args.batch)
        per_label, per_label_scores = measure(per_label_score, conversations, args.batch)
    print(f"{args.records} video records x {len(labels)} labels, {args.frames} frames each, batch {args.batch}, "
          f"model {args.model or 'tiny random BehaviorLlava'} on {model.device}")
    print(f"shared prefix (media once per record): {shared:8.2f} records/s")
    print(f"per-label prompts:                     {per_label:8.2f} records/s")
    print(f"largest score difference: {(shared_scores - per_label_scores).abs().max().item():.2e}")
    print(f"ratio shared/per-label: {shared / per_label:.2f}x (target >= 4x with 8 labels)")


if __name__ == "__main__":
    main()
